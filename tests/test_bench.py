"""``dlcore bench`` / ``dlcore infer``: clear one-line errors, a table, valid JSON, a chart."""

from __future__ import annotations

import json

import numpy as np
import pytest

import dlcore
from dlcore.bench import book_predict, run_bench
from dlcore.cli import main


def tiny_data(rng: np.random.Generator, n: int = 40):
    """A 12-8-6-4 network, n images, and labels of which exactly the first 30 are right.

    The right labels are the argmax of a float64 forward pass written here, so
    the expected accuracy (30 / n) does not come from the code under test.
    """
    net = {
        "W1": rng.standard_normal((12, 8)).astype(np.float32),
        "b1": rng.standard_normal(8).astype(np.float32),
        "W2": rng.standard_normal((8, 6)).astype(np.float32),
        "b2": rng.standard_normal(6).astype(np.float32),
        "W3": rng.standard_normal((6, 4)).astype(np.float32) * 3,
        "b3": rng.standard_normal(4).astype(np.float32),
    }
    x = rng.random((n, 12)).astype(np.float32)
    z = x.astype(np.float64)
    for i in (1, 2):
        z = 1 / (1 + np.exp(-(z @ net[f"W{i}"] + net[f"b{i}"])))
    right = np.argmax(z @ net["W3"] + net["b3"], axis=1)
    labels = right.copy()
    labels[30:] = (right[30:] + 1) % 4
    return net, x, labels


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("command", ["bench", "infer"])
@pytest.mark.parametrize("size", ["0", "-3"])
def test_batch_size_below_one_is_a_clear_error(capsys, command, size):
    err = one_line_error(capsys, [command, "--batch-size", size])
    assert f"--batch-size must be a positive integer (images per call), got {size}" in err


@pytest.mark.parametrize("command", ["bench", "infer"])
def test_unknown_backend_is_a_clear_error(capsys, command):
    err = one_line_error(capsys, [command, "--backend", "nosuch"])
    assert "unknown backend 'nosuch'; valid names are:" in err
    assert "numpy" in err


def test_unavailable_backend_is_a_clear_error(capsys):
    missing = [n for n, (ok, _) in dlcore.available_backends().items() if not ok]
    if not missing:
        pytest.skip("every backend is available here")
    err = one_line_error(capsys, ["bench", "--backend", missing[0]])
    assert f"backend {missing[0]!r} is not available here:" in err
    assert "(available: numpy" in err


def test_lazy_dask_backend_is_refused(capsys):
    err = one_line_error(capsys, ["bench", "--backend", "dask", "--no-peers"])
    assert "predict_dask" in err


def test_nothing_selected_is_a_clear_error(capsys):
    err = one_line_error(capsys, ["bench", "--mode", "single", "--batch-size", "10"])
    assert "nothing selected" in err


def test_missing_output_folder_is_a_clear_error(capsys, tmp_path):
    err = one_line_error(capsys, ["bench", "--json", str(tmp_path / "no" / "out.json")])
    assert "does not exist" in err


def test_run_bench_api_errors():
    with pytest.raises(ValueError, match="batch size must be a positive integer, got 0"):
        run_bench(["numpy"], [0])
    with pytest.raises(ValueError, match="unknown peer 'numpy2'"):
        run_bench(["numpy"], peers=["numpy2"])
    with pytest.raises(ValueError, match="nothing selected"):
        run_bench(["numpy"], [], single=False)


def test_quick_bench_table_and_json(rng, tmp_path):
    net, x, labels = tiny_data(rng)
    report = run_bench(
        ["numpy"],
        [1, 7, 40],
        peers=["book"],
        budget=30.0,  # far more than 40 tiny images need: every run covers all of them
        repeats=1,
        progress=False,
        data=(net, x, labels),
    )
    rows = [(m.backend, m.mode, m.batch_size) for m in report.results]
    assert rows == [
        (name, mode, size)
        for name in ("numpy", "book")
        for mode, size in (("single", 1), ("batch", 1), ("batch", 7), ("batch", 40))
    ]
    for m in report.results:
        assert m.images == 40
        assert m.accuracy == pytest.approx(30 / 40)
        assert m.images_per_s == pytest.approx(m.images / m.seconds)
        assert m.latency_us == pytest.approx(m.seconds / m.images * 1e6)
    table = report.table().splitlines()
    assert table[0].split("|")[1].strip() == "backend"
    assert len(table) == 2 + len(report.results) + len(report.skipped)
    assert "book (peer)" in report.table()
    path = tmp_path / "bench.json"
    report.write_json(path)
    data = json.loads(path.read_text())
    assert [r["batch_size"] for r in data["results"]] == [m.batch_size for m in report.results]
    assert data["meta"]["network"].startswith("12-8-6-4 ")
    assert data["meta"]["settings"]["images"] == 40


def test_plot_writes_a_png(rng, tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is not installed")
    net, x, labels = tiny_data(rng, n=20)
    report = run_bench(
        ["numpy"], [5], peers=None, quick=True, progress=False, data=(net, x, labels)
    )
    path = tmp_path / "bench.png"
    report.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_book_predict_is_the_books_formula(rng):
    """The peer is the book's code: sigmoid hidden layers, softmax output (float64 check)."""
    net = {f"W{i}": rng.standard_normal((5, 5)) for i in (1, 2, 3)}
    net.update({f"b{i}": rng.standard_normal(5) for i in (1, 2, 3)})
    x = rng.standard_normal((3, 5))
    z = x
    for i in (1, 2):
        z = 1 / (1 + np.exp(-(z @ net[f"W{i}"] + net[f"b{i}"])))
    a = z @ net["W3"] + net["b3"]
    expected = np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(book_predict(net, x), expected, rtol=1e-12)


def shipped_network() -> bool:
    from importlib import resources

    return resources.files("dlcore.data").joinpath("sample_network.npz").is_file()


needs_shipped = pytest.mark.skipif(
    not shipped_network(), reason="the sample network is not shipped in this checkout"
)


@needs_shipped
def test_cli_quick_bench_on_shipped_data(capsys, tmp_path):
    """The README's main command, narrowed to one backend and two batch sizes."""
    path = tmp_path / "out.json"
    argv = ["bench", "--quick", "--backend", "numpy", "--batch-size", "100"]
    argv += ["--batch-size", "10000", "--no-peers", "--no-progress", "--json", str(path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "| backend" in out
    assert "| numpy" in out
    results = json.loads(path.read_text())["results"]
    assert [(r["mode"], r["batch_size"]) for r in results] == [
        ("single", 1),
        ("batch", 100),
        ("batch", 10000),
    ]
    assert results[-1]["images"] == 10000
    assert results[-1]["accuracy"] > 0.9  # the shipped network on the shipped test set


@needs_shipped
def test_cli_infer(capsys):
    assert main(["infer", "--backend", "numpy", "--batch-size", "1000"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("backend numpy, batch size 1000, float32: accuracy 0.9")
    assert "on 10000 images" in out
