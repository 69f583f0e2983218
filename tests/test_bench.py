"""run_bench, its runners and its report: one engine call per configuration, table, JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from _book import forward

import dlcore
import dlcore.bench.run as bench_run
from dlcore.bench import BenchReport, make_runner, run_bench


def tiny_data(rng: np.random.Generator, n: int = 40):
    """A 12-8-6-4 network, n images, and labels of which exactly the first 30 are right.

    The right labels are the argmax of the book's forward pass in float64
    (tests/_book.py), so the expected accuracy (30 / n) does not come from the
    code under test.
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
    net64 = {k: v.astype(np.float64) for k, v in net.items()}
    right = np.argmax(forward(net64, x.astype(np.float64)), axis=1)
    labels = right.copy()
    labels[30:] = (right[30:] + 1) % 4
    return net, x, labels


def test_run_bench_api_errors():
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer, got 0"):
        run_bench(["numpy"], [0])
    with pytest.raises(ValueError, match="unknown peer 'numpy2'"):
        run_bench(["numpy"], peers=["numpy2"])
    with pytest.raises(ValueError, match="nothing selected"):
        run_bench(["numpy"], [], single=False)
    with pytest.raises(ValueError, match="nothing selected: no backend or peer"):
        run_bench([], peers=())
    with pytest.raises(ValueError, match="unknown backend 'nosuch'; valid names are: numpy"):
        run_bench(["nosuch"])
    with pytest.raises(ValueError, match="predict_dask"):
        run_bench(["dask"])
    with pytest.raises(ValueError, match="`budget` must be a positive number of seconds"):
        run_bench(["numpy"], budget=0)
    with pytest.raises(ValueError, match="`repeats` must be a positive integer, got 0"):
        run_bench(["numpy"], repeats=0)
    with pytest.raises(ValueError, match="`dtype` must be 'float32' or 'float64'"):
        run_bench(["numpy"], dtype="float16")


def test_unavailable_backend_is_a_backend_error():
    missing = [n for n, (ok, _) in dlcore.bench.bench_backends().items() if not ok]
    if not missing:
        pytest.skip("every backend is available here")
    with pytest.raises(dlcore.BackendError, match=r"is not available here: .*\(available: numpy"):
        run_bench([missing[0]])


def test_quick_bench_table_and_json(rng, tmp_path):
    net, x, labels = tiny_data(rng)
    report = run_bench(
        ["numpy"],
        [1, 7, 40],
        peers=["book"],
        budget=30.0,  # far more than 40 tiny images need: every round covers all of them
        repeats=3,
        progress=False,
        data=(net, x, labels),
    )
    rows = [(m.backend, m.mode, m.batch_size) for m in report.results]
    assert rows == [
        (name, mode, size)
        for mode, size in (("single", 1), ("batch", 1), ("batch", 7), ("batch", 40))
        for name in ("numpy", "book")
    ]
    for m in report.results:
        assert m.images == 40
        assert m.rounds == 3
        assert m.accuracy == pytest.approx(30 / 40)
        assert m.images_per_s == pytest.approx(m.images / m.seconds)
        assert m.latency_us == pytest.approx(m.seconds / m.images * 1e6)
        assert m.latency_min_us <= m.latency_q1_us <= m.latency_us <= m.latency_q3_us
        assert m.latency_q3_us <= m.latency_max_us
        assert m.vs_torch is None  # PyTorch was not measured
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
    assert data["meta"]["settings"]["rounds"] == 3
    assert "median" in data["meta"]["settings"]["statistic"]
    assert {"vs_book", "vs_torch", "latency_q1_us", "rounds"} <= set(data["results"][0])


def test_ratios_to_single_book_and_torch(rng):
    pytest.importorskip("torch", reason="PyTorch is not installed")
    net, x, labels = tiny_data(rng)
    report = run_bench(
        ["numpy"], [5], peers=["book", "pytorch"], budget=30.0, repeats=3, progress=False,
        data=(net, x, labels),
    )  # fmt: skip
    rate = {(m.backend, m.mode): m.images_per_s for m in report.results}
    for m in report.results:
        assert m.vs_book == pytest.approx(m.images_per_s / rate[("book", m.mode)])
        assert m.vs_torch == pytest.approx(m.images_per_s / rate[("pytorch", m.mode)])
        assert m.speedup == pytest.approx(m.images_per_s / rate[(m.backend, "single")])
    assert {m.accuracy for m in report.results} == {0.75}
    head, *rows = (line.split("|") for line in report.table().splitlines())
    col = [c.strip() for c in head].index("vs book")
    book_row = next(r for r in rows if r[1].strip() == "book (peer)")
    assert book_row[col].strip() == "1.00x"  # the book against itself


def test_one_engine_call_per_configuration_with_every_contender(rng, monkeypatch):
    net, x, labels = tiny_data(rng, n=20)
    calls: list[list[str]] = []
    real = bench_run.compare

    def recording(contenders, **kwargs):
        calls.append([c.name for c in contenders])
        return real(contenders, **kwargs)

    monkeypatch.setattr(bench_run, "compare", recording)
    run_bench(["numpy", "numba"], [4, 20], peers=["book"], quick=True, progress=False,
              data=(net, x, labels))  # fmt: skip
    assert calls == [["numpy", "numba", "book"]] * 3  # single, batch 4, batch 20


def test_book_peer_is_skipped_for_other_depths(rng):
    net = {"W1": rng.standard_normal((6, 3)), "b1": rng.standard_normal(3)}
    x, t = rng.random((10, 6)), rng.integers(0, 3, 10)
    report = run_bench("numpy", [10], peers="book", quick=True, progress=False, data=(net, x, t))
    assert [m.backend for m in report.results] == ["numpy", "numpy"]  # one name, not letters
    assert "three layers" in report.skipped["book"]
    assert report.table().splitlines()[-1].startswith("skipped book: ")


def test_infinite_budget_classifies_every_image_once_per_round(rng):
    net, x, labels = tiny_data(rng, n=23)
    report = run_bench(
        ["numpy"], [10], single=False, peers=(), budget=math.inf, repeats=2,
        progress=False, data=(net, x, labels),
    )  # fmt: skip
    (m,) = report.results
    assert (m.images, m.rounds) == (23, 2)
    assert report.meta["settings"]["budget_s"] is None


def test_runner_contender_covers_the_images_in_order(rng):
    net, x, _ = tiny_data(rng, n=10)
    runner = make_runner("numpy", net, x)
    c = runner.contender(4)
    assert c.max_iterations == 3
    with c.context():
        ys = [c.call(i) for i in range(3)]
    assert [dlcore.to_numpy(y).shape[0] for y in ys] == [4, 4, 2]  # the last batch is short
    np.testing.assert_array_equal(runner.labels_of(ys)[:8], forward(net, x).argmax(axis=1)[:8])
    assert runner.images(4, 3) == 10
    assert runner.images(None, 7) == 7


def test_plot_writes_a_png(rng, tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is not installed")
    net, x, labels = tiny_data(rng, n=20)
    report = run_bench(
        ["numpy"], [5], peers=None, quick=True, progress=False, data=(net, x, labels)
    )
    path = tmp_path / "bench.png"
    report.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_empty_report_table_lists_what_was_skipped():
    report = BenchReport(results=[], skipped={"cupy": "no GPU"})
    assert report.table().splitlines()[-1] == "skipped cupy: no GPU"
