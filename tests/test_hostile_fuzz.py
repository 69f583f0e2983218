"""Fuzz the untrusted-file readers: mutated pickles, ``.npz`` and IDX files.

Each format runs in its own subprocess (``tests/_fuzz_worker.py``), so a crash
of the interpreter (a segfault in NumPy, an abort) fails the test instead of
pytest. Only the errors each reader documents may come out, nothing loaded may
exceed the size cap (lowered to 4 MiB there), and memory stays bounded.
``pytest --fuzz 10000`` runs the full 10,000 examples per format.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("_fuzz_worker.py")


@pytest.mark.parametrize("fmt", ["pickle", "npz", "idx"])
def test_mutated_files_give_only_documented_errors(request, fmt):
    examples = request.config.getoption("--fuzz")
    r = subprocess.run(
        [sys.executable, str(WORKER), fmt, str(examples), "20261202"],
        capture_output=True, text=True, timeout=max(300, examples // 5),
    )  # fmt: skip
    assert r.returncode == 0, f"the worker died (a crash?) with {r.returncode}:\n{r.stderr[-3000:]}"
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["failures"] == [], report["failures"]
    assert report["examples"] == examples
    assert not any(k.startswith("UNDOCUMENTED") for k in report["outcomes"]), report["outcomes"]
    assert report["outcomes"].get("loaded", 0) > 0  # the mutations keep some files valid
    assert report["max_rss_mib"] < 1024, report  # no load allocated what the file lied about
