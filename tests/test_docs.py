"""The docs build warning-free: the API reference and the gallery (examples in --quick mode)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_sphinx_builds_docs_and_gallery_without_warnings(tmp_path: Path) -> None:
    pytest.importorskip("sphinx_gallery", reason="the docs extra is not installed")
    env = {**os.environ, "DLCORE_DOCS_QUICK": "1", "DLCORE_DOCS_RERUN": "1"}
    env["DLCORE_DOCS_FIGURES"] = str(tmp_path / "figs")
    env.pop("DLCORE_BACKEND", None)
    out = tmp_path / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
           "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(out)]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    api = (out / "api.html").read_text(encoding="utf-8")
    for name in ("load_book_network", "softmax_jacobian", "PReLU", "mean_squared_error"):
        assert name in api
    figures = {
        "ch02_perceptron": 2,
        "ch03_activations": 4,
        "ch03_network": 1,
        "ch03_mnist": 2,
        "ch04_learning": 4,
        "ch05_backprop": 2,
    }
    for name, count in figures.items():
        page = (out / "gallery" / f"{name}.html").read_text(encoding="utf-8")
        shown = set(re.findall(rf"sphx_glr_{name}_\d+\.png", page))
        assert len(shown) == count, (name, shown)
        for png in shown:
            assert (out / "_images" / png).read_bytes()[:4] == b"\x89PNG"
    mnist = (out / "gallery" / "ch03_mnist.html").read_text(encoding="utf-8")
    assert "Accuracy:0.9352" in mnist  # the printed output is part of the page
