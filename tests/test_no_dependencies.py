"""``import dlcore`` must not import the optional heavy libraries."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("env_backend", ["", "numba", "cupy"])
def test_import_does_not_pull_optional_libraries(env_backend):
    code = (
        "import sys, dlcore; "
        "bad = [m for m in ('numba', 'cupy', 'torch', 'jax', 'dask', 'matplotlib', 'tqdm') "
        "if m in sys.modules]; print(','.join(bad))"
    )
    import os

    env = {**os.environ, "DLCORE_BACKEND": env_backend}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == ""


def test_numba_is_imported_when_its_backend_is_used():
    pytest.importorskip("numba")
    code = "import sys, dlcore; dlcore.get_backend('numba'); print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
