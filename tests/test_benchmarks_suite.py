"""The pytest-benchmark suite in benchmarks/ runs (untimed) without crashing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_inference_suite_runs_under_benchmark_disable():
    pytest.importorskip("pytest_benchmark", reason="pytest-benchmark is not installed")
    cmd = [sys.executable, "-m", "pytest", "benchmarks/bench_inference.py", "-q"]
    cmd += ["-p", "no:cacheprovider", "--benchmark-disable", "-k", "numpy and (single or 100)"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout
    assert "failed" not in done.stdout
