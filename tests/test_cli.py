"""The command line: info, demo and error handling."""

from __future__ import annotations

import subprocess
import sys

from dlcore.cli import main


def test_info_lists_backends(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "numpy" in out
    assert "cupy" in out


def test_demo_on_numpy(capsys):
    assert main(["demo", "--backend", "numpy"]) == 0
    out = capsys.readouterr().out
    assert "XOR truth table = [0, 1, 1, 0]" in out
    assert "[6. 8.]" in out


def test_demo_unknown_backend_is_one_line_error(capsys):
    assert main(["demo", "--backend", "nonsense"]) == 1
    err = capsys.readouterr().err
    assert "valid names" in err
    assert "Traceback" not in err


def test_python_dash_m_and_no_command():
    out = subprocess.run([sys.executable, "-m", "dlcore"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "COMMAND" in out.stdout


def test_env_nonsense_fails_with_valid_names():
    import os

    env = {**os.environ, "DLCORE_BACKEND": "nonsense"}
    r = subprocess.run(
        [sys.executable, "-c", "import dlcore; dlcore.get_backend()"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert r.returncode != 0
    assert "valid names are" in r.stderr
