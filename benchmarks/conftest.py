"""Fixtures of the pytest-benchmark suite: the shipped data, dlcore.bench's runners, grouping."""

from __future__ import annotations

import platform
from typing import Any

import numpy as np
import pytest

import dlcore
from dlcore.bench import bench_backends, load_shipped, make_runner, peer_status


@pytest.fixture(scope="session")
def shipped() -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The sample network, the 10,000 test images (float32) and labels, on the host."""
    return load_shipped("float32")


_RUNNERS: dict[str, Any] = {}
_ACCURACY: dict[str, float] = {}


@pytest.fixture
def runner(request: pytest.FixtureRequest, shipped: Any) -> Any:
    """The backend or peer named by the test's ``name`` parameter, or a skip with the reason."""
    name: str = request.node.callspec.params["name"]
    status = {**bench_backends(), **peer_status()}
    if name not in status:
        pytest.fail(f"unknown backend or peer {name!r}; valid: {sorted(status)}")
    ok, why = status[name]
    if not ok:
        pytest.skip(f"{name} unavailable: {why}")
    if name not in _RUNNERS:
        network, x, t = shipped
        r = make_runner(name, network, x)
        with r.context():  # warm up (JIT) and measure the accuracy once, untimed
            n = r.n
            ys = [r.predict(r.x[i : min(i + 1000, n), ...]) for i in range(0, n, 1000)]
            r.sync(ys[-1])
            r.sync(r.predict(r.x[0, ...]))
        _ACCURACY[name] = float(np.mean(r.labels_of(ys) == t))
        _RUNNERS[name] = r
    return _RUNNERS[name]


@pytest.fixture
def info(runner: Any) -> dict[str, Any]:
    """What every benchmark records in ``extra_info``: backend, device, versions, accuracy."""
    return {
        "backend": runner.name,
        "kind": runner.kind,
        "device": runner.device,
        "dtype": "float32",
        "accuracy": _ACCURACY[runner.name],
        "versions": {"numpy": np.__version__, "dlcore": dlcore.__version__, **runner.versions},
        "python": platform.python_version(),
    }


def pytest_benchmark_group_stats(config: Any, benchmarks: list[Any], group_by: str) -> Any:
    """Group by the benchmark group, and by batch size within "batch" (one table per size)."""
    groups: dict[str, list[Any]] = {}
    for bench in benchmarks:
        key = bench["group"] or ""
        size = (bench.get("params") or {}).get("batch_size")
        if size is not None:
            key = f"{key} {size:>5}"
        groups.setdefault(key, []).append(bench)
    for members in groups.values():
        members.sort(key=lambda b: b["name"])
    return sorted(groups.items())
