"""Shared fixtures: one ``backend`` fixture parametrized over the installed backends.

Select backends with ``pytest --backend numba --backend numpy`` or
``DLCORE_TEST_BACKENDS=numpy,numba``. A backend whose library or device is
missing is still listed and skipped with the reason (so the GPU tests show up
as skipped on a machine without CUDA). Mark a test with
``@pytest.mark.skip_backends("jax", reason="...")`` to leave backends out.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import dlcore

#: Backends the suite runs on by default: the core ones always (a missing one is
#: skipped with the reason, so "cupy" shows up as skipped without a GPU), torch and
#: jax only where they are installed. Dask is exercised by its own tests.
DEFAULT_TEST_BACKENDS = ["numpy", "numba", "numba_parallel", "array_api_strict"]
DEFAULT_TEST_BACKENDS += [m for m in ("torch", "jax") if importlib.util.find_spec(m) is not None]
DEFAULT_TEST_BACKENDS += ["cupy"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        action="append",
        default=None,
        help="run backend-parametrized tests on this backend only (repeatable); "
        "default: $DLCORE_TEST_BACKENDS or every installed backend",
    )
    parser.addoption(
        "--fuzz",
        type=int,
        default=300,
        metavar="N",
        help="examples per file format in tests/test_hostile_fuzz.py (default 300; "
        "10000 for the full fuzz run)",
    )


def selected_backends(config: pytest.Config) -> list[str]:
    names = config.getoption("--backend")
    if not names:
        env = os.environ.get("DLCORE_TEST_BACKENDS", "").strip()
        names = [n for n in env.split(",") if n.strip()] if env else DEFAULT_TEST_BACKENDS
    return [n.strip().lower() for n in names]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", selected_backends(metafunc.config), indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Iterator[dlcore.Backend]:
    """The backend under test, active (``use_backend``) for the whole test."""
    name: str = request.param
    marker = request.node.get_closest_marker("skip_backends")
    if marker is not None and name in marker.args:
        pytest.skip(marker.kwargs.get("reason", f"not run on {name}"))
    status = dlcore.available_backends()
    if name not in status:
        pytest.fail(f"unknown backend {name!r} selected; valid: {sorted(status)}")
    ok, why = status[name]
    if not ok:
        pytest.skip(f"backend {name!r} unavailable: {why}")
    with dlcore.use_backend(name) as b:
        yield b


@pytest.fixture
def host_numpy() -> Iterator[dlcore.Backend]:
    """The numpy backend, active for the test whatever DLCORE_BACKEND says: for tests of
    host-side work (file formats, the Dask cluster) whose results are NumPy arrays."""
    with dlcore.use_backend("numpy") as b:
        yield b


@pytest.fixture
def xp(backend: dlcore.Backend) -> Any:
    """The Array-API namespace of the backend under test."""
    return backend.xp


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded host RNG: inputs are made with NumPy, then moved to the backend."""
    return np.random.default_rng(20261122)
