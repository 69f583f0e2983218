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


def _dense(shipped: Any) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """As many uniform random images in [0, 1) (seed 0); labels: the book's predictions."""
    from dlcore.bench import book_predict

    network, x, _ = shipped
    dense = np.random.default_rng(0).random(x.shape, dtype=np.float64).astype(np.float32)
    return network, dense, np.argmax(book_predict(network, dense), axis=-1)


_RUNNERS: dict[tuple[str, str], Any] = {}
_ACCURACY: dict[tuple[str, str], float] = {}
#: Median seconds per call by (group, batch size, name), for the ratio summary.
_MEDIANS: dict[tuple[str, int, str], float] = {}


@pytest.fixture
def runner(request: pytest.FixtureRequest, shipped: Any) -> Any:
    """The backend or peer named by the test's ``name`` parameter, or a skip with the reason."""
    name: str = request.node.callspec.params["name"]
    images: str = request.node.callspec.params.get("images", "mnist")
    status = {**bench_backends(), **peer_status()}
    if name not in status:
        pytest.fail(f"unknown backend or peer {name!r}; valid: {sorted(status)}")
    ok, why = status[name]
    if not ok:
        pytest.skip(f"{name} unavailable: {why}")
    key = (name, images)
    if key not in _RUNNERS:
        network, x, t = shipped if images == "mnist" else _dense(shipped)
        r = make_runner(name, network, x)
        with r.context():  # warm up (JIT) and measure the accuracy once, untimed
            n = r.n
            ys = [r.predict(r.x[i : min(i + 1000, n), ...]) for i in range(0, n, 1000)]
            r.sync(ys[-1])
            r.sync(r.predict(r.x[0, ...]))
        _ACCURACY[key] = float(np.mean(r.labels_of(ys) == t))
        _RUNNERS[key] = r
    return _RUNNERS[key]


@pytest.fixture
def info(request: pytest.FixtureRequest, runner: Any) -> dict[str, Any]:
    """What every benchmark records in ``extra_info``: backend, device, versions, accuracy.

    (``medians`` is where the benchmark leaves its median for the summary, not a record.)
    """
    images = request.node.callspec.params.get("images", "mnist")
    return {
        "images": images,
        "medians": _MEDIANS,
        "backend": runner.name,
        "kind": runner.kind,
        "device": runner.device,
        "dtype": "float32",
        "accuracy": _ACCURACY[(runner.name, images)],
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


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Each median's ratio to the book's and PyTorch's in the same group ("vs book", "vs torch")."""
    if not _MEDIANS:
        return
    terminalreporter.section("dlcore: median speed vs the peers (>1: faster than the peer)")
    for (group, size, name), median in sorted(_MEDIANS.items()):
        ratios = []
        for peer, label in (("book", "vs book"), ("pytorch", "vs torch")):
            base = _MEDIANS.get((group, size, peer))
            if base is not None and peer != name:
                ratios.append(f"{label} {base / median:6.2f}x")
        line = f"{group:>14} {size:>5} {name:<17} {size / median:>12,.0f} images/s  "
        terminalreporter.write_line(line + "  ".join(ratios))
