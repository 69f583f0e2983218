"""``dlcore bench`` / ``dlcore infer``: one-line errors before any work, the table, JSON."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from _helpers import one_line_error

import dlcore
import dlcore.bench
from dlcore.cli import main


@pytest.fixture
def no_run(monkeypatch):
    """Fail the test if the benchmark starts: the error must come first."""

    def refuse(*args, **kwargs):
        raise AssertionError("run_bench was called")

    monkeypatch.setattr(dlcore.bench, "run_bench", refuse)


@pytest.mark.parametrize("command", ["bench", "infer"])
@pytest.mark.parametrize("size", ["0", "-3"])
def test_batch_size_below_one_is_a_clear_error(capsys, command, size):
    err = one_line_error(capsys, [command, "--batch-size", size])
    assert f"`batch_size` must be a positive integer, got {size}" in err


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


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--budget", "-1"], "`budget` must be a positive number of seconds"),
        (["--repeats", "0"], "`repeats` must be a positive integer, got 0"),
        (["--no-peers", "--peer", "book"], "contradict each other"),
        (["--peer", "jax"], "unknown peer 'jax'; valid peers are: book, pytorch"),
    ],
)
def test_bad_options_are_clear_errors(capsys, argv, match):
    assert match in one_line_error(capsys, ["bench", *argv])


def test_missing_output_folder_is_a_clear_error(capsys, tmp_path, no_run):
    err = one_line_error(capsys, ["bench", "--json", str(tmp_path / "no" / "out.json")])
    assert "does not exist" in err


@pytest.mark.parametrize("option", ["--json", "--plot"])
def test_output_path_is_checked_before_the_benchmark(capsys, tmp_path, no_run, option):
    err = one_line_error(capsys, ["bench", option, str(tmp_path)])  # a directory
    assert f"{option} {tmp_path}: is a directory" in err


def shipped_network() -> bool:
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
    assert "median of 3 interleaved rounds" in out.splitlines()[0]
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
