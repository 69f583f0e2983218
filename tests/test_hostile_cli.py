"""The command line under careless use: bad output paths before any work, one-line errors,
tracebacks only for bugs, broken backend plugins and data folders."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _helpers import one_line_error

import dlcore
import dlcore.bench
from dlcore.cli import main


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if training or a benchmark starts: the error must come first."""

    def refuse(*args, **kwargs):
        raise AssertionError("the long work started before the error")

    monkeypatch.setattr(dlcore, "load_mnist", refuse)
    monkeypatch.setattr(dlcore, "train", refuse)
    monkeypatch.setattr(dlcore.bench, "run_bench", refuse)


def _paths(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "file.txt").write_text("x")
    os.mkfifo(tmp_path / "pipe")
    return {
        "missing-folder": str(tmp_path / "no" / "such" / "out"),
        "directory": str(tmp_path),
        "empty": "",
        "device": "/dev/null",
        "fifo": str(tmp_path / "pipe"),
        "inside-a-file": str(tmp_path / "file.txt" / "out"),
    }


FRAGMENTS = {
    "missing-folder": "does not exist",
    "directory": "is a directory",
    "empty": "the path is empty",
    "device": "is not a regular file",
    "fifo": "is not a regular file",
    "inside-a-file": "does not exist",
}


@pytest.mark.parametrize("kind", list(FRAGMENTS))
@pytest.mark.parametrize(
    ("command", "option", "suffix"),
    [
        ("train", "--save", ".npz"),
        ("train", "--plot", ".png"),
        ("bench", "--json", ".json"),
        ("bench", "--plot", ".png"),
    ],
)
def test_output_paths_are_checked_before_any_work(
    capsys, tmp_path, no_work, kind, command, option, suffix
):
    path = _paths(tmp_path)[kind]
    if kind in ("missing-folder", "inside-a-file"):
        path += suffix
    err = one_line_error(capsys, [command, option, path])
    assert option in err
    assert FRAGMENTS[kind] in err


@pytest.mark.parametrize("command", ["train", "bench"])
@pytest.mark.parametrize("name", ["curves", "c.txt", "chart.pdf", "out.png.bak"])
def test_a_chart_must_be_named_png(capsys, tmp_path, no_work, command, name):
    err = one_line_error(capsys, [command, "--plot", str(tmp_path / name)])
    assert "the chart is a PNG file; give a name ending in .png" in err
    assert not (tmp_path / name).exists()
    assert not (tmp_path / f"{name}.png").exists()


@pytest.mark.parametrize("name", ["c.png", "C.PNG"])
def test_a_png_name_passes_the_check(capsys, tmp_path, monkeypatch, name):
    from dlcore.cli._paths import check_plot

    assert check_plot(str(tmp_path / name)) == str(tmp_path / name)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["train", "--init", "big"], "--init must be a number, 'xavier' or 'he'"),
        (["train", "--weight-decay", "0.1"], "--weight-decay needs a MultiLayerNet"),
        (["bench", "--mode", "single", "--batch-size", "10"], "nothing selected"),
        (["bench", "--no-peers", "--peer", "book"], "contradict each other"),
        (["data", "fetch", "--no-network"], "leaves no source to try"),
        (["demo", "--backend", "nonsense"], "valid names"),
        (["gradcheck", "--backend", "nonsense"], "valid names"),
    ],
)
def test_contradictory_or_unknown_options_are_one_line(capsys, no_work, argv, fragment):
    assert fragment in one_line_error(capsys, argv)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["train", "--batch-size", "0"], "expected a positive integer"),
        (["train", "--iters", "-1"], "expected an integer >= 0"),
        (["train", "--hidden", "x"], "expected a positive integer"),
        (["train", "--lr", "fast"], "invalid float value"),
        (["bench", "--dtype", "int8"], "invalid choice"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_argparse_usage_errors_exit_2_without_traceback(capsys, argv, fragment):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err


def test_a_data_dir_that_is_a_file_is_one_line(capsys, tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("DLCORE_DATA_DIR", str(tmp_path / "afile"))
    err = one_line_error(capsys, ["data", "fetch", "--source-dir", str(tmp_path), "--no-network"])
    assert "is a file (or in one), not a folder; it comes from DLCORE_DATA_DIR" in err


def test_an_unwritable_data_dir_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DLCORE_DATA_DIR", str(tmp_path))
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if str(p) == str(tmp_path) else real(p, m))
    err = one_line_error(capsys, ["data", "fetch", "--source-dir", str(tmp_path), "--no-network"])
    assert "is not writable" in err


def test_a_missing_source_dir_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DLCORE_DATA_DIR", str(tmp_path / "cache"))
    argv = ["data", "fetch", "--source-dir", str(tmp_path / "nowhere"), "--no-network", "-q"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "is not a directory" in err


def test_keyboard_interrupt_exits_130_without_traceback(capsys, monkeypatch):
    import dlcore.cli.info as info

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(info, "_info", interrupted)
    assert main(["info"]) == 130
    assert capsys.readouterr().err == "dlcore info: interrupted\n"


@pytest.mark.parametrize("bug", [RuntimeError, AssertionError, KeyError, ZeroDivisionError])
def test_a_bug_keeps_its_traceback(monkeypatch, bug):
    import dlcore.cli.info as info

    def broken(args):
        raise bug("a bug, not a user error")

    monkeypatch.setattr(info, "_info", broken)
    with pytest.raises(bug):
        main(["info"])


# -- backend plugins that fail at import -------------------------------------------------------
@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A folder on PYTHONPATH with two dlcore.backends plugins: one raises, one sys.exit()s."""
    root = tmp_path_factory.mktemp("plugins")
    (root / "raising_plugin.py").write_text('raise RuntimeError("plugin is broken")\n')
    (root / "exiting_plugin.py").write_text('import sys\nsys.exit("plugin says bye")\n')
    info = root / "bad_plugins-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bad-plugins\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent("""\
            [dlcore.backends]
            broken = raising_plugin:Backend
            byebye = exiting_plugin:Backend
        """)
    )
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("DLCORE_BACKEND", None)
    return env


def _run(env: dict[str, str], *argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dlcore", *argv],
        capture_output=True, text=True, env={**env, **extra}, timeout=300,
    )  # fmt: skip


def test_info_lists_broken_plugins_and_still_shows_the_others(plugins):
    r = _run(plugins, "info")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert "backend plugin 'broken'" in r.stdout
    assert "RuntimeError: plugin is broken" in r.stdout
    assert "SystemExit: plugin says bye" in r.stdout
    assert "numpy              yes" in r.stdout


def test_demo_runs_the_working_backends_past_broken_plugins(plugins):
    r = _run(plugins, "demo")
    assert r.returncode == 0, r.stderr
    assert "[numpy] XOR truth table = [0, 1, 1, 0]" in r.stdout
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("argv", "extra", "fragment"),
    [
        (["demo", "--backend", "byebye"], {}, "SystemExit: plugin says bye"),
        (["demo", "--backend", "broken"], {}, "RuntimeError: plugin is broken"),
        (["infer"], {"DLCORE_BACKEND": "byebye"}, "SystemExit: plugin says bye"),
        (["infer", "--backend", "broken"], {}, "RuntimeError: plugin is broken"),
    ],
)
def test_asking_for_a_broken_plugin_is_one_line(plugins, argv, extra, fragment):
    r = _run(plugins, *argv, **extra)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1, r.stderr
    assert fragment in r.stderr
    assert "fix or uninstall the package that provides it" in r.stderr
