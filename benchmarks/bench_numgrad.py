"""Numerical gradients: the book's loop against the fast methods, measured in one run.

Run (not collected by the default test run)::

    python -m pytest benchmarks/bench_numgrad.py --benchmark-only -p no:cacheprovider

``DLCORE_BENCH_SKIP_LOOP=1`` leaves out the two ~1-minute rounds of the
book's loop (the ratios are then not computed). Network: TwoLayerNet(784, 50,
10) as the book builds it (weights ``0.01 * N(0, 1)`` from
``np.random.default_rng(0)``, zero biases), float64, on the first 100 MNIST
test images (shipped with dlcore) or, without them, synthetic digit-like
images. Each fast method's result is compared with the book loop's (max abs
difference in ``extra_info``); compile time is the first call's time minus a
later call's, measured in a fresh process with an empty Numba cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import dlcore

numba = pytest.importorskip("numba")

SKIP_LOOP = os.environ.get("DLCORE_BENCH_SKIP_LOOP", "").strip() not in ("", "0")
RESULTS: dict[str, Any] = {}  # the loops' times and gradients, for ratios and differences


def _images(n: int) -> tuple[np.ndarray, np.ndarray, str]:
    load = getattr(dlcore, "load_mnist_test", None)
    if load is not None:
        with dlcore.use_backend("numpy"):
            x, t = load()
        return np.asarray(x[:n], dtype=np.float64), np.asarray(t[:n]), "MNIST t10k[:100]"
    rng = np.random.default_rng(1)  # digit-like rings: ~18% ink, a blank border
    yy, xx = np.mgrid[0:28, 0:28]
    imgs = np.zeros((n, 28, 28))
    for k in range(n):
        cy, cx = 14 + rng.normal(0, 1.0), 14 + rng.normal(0, 1.0)
        r = np.hypot((yy - cy) / rng.uniform(6, 9), (xx - cx) / rng.uniform(3, 7))
        ring = np.exp(-(((r - 1.0) / rng.uniform(0.15, 0.3)) ** 2))
        imgs[k] = np.round(np.where(ring > 0.2, np.minimum(1.0, 1.3 * ring), 0.0) * 255) / 255
    return imgs.reshape(n, 784), rng.integers(0, 10, n), "synthetic digit-like images"


@pytest.fixture(scope="module")
def problem() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    params = {
        "W1": 0.01 * rng.standard_normal((784, 50)),
        "b1": np.zeros(50),
        "W2": 0.01 * rng.standard_normal((50, 10)),
        "b2": np.zeros(10),
    }
    x, t, source = _images(100)
    return {
        "params": params,
        "x": x,
        "t": t,
        "info": {
            "images": source,
            "nonzero_pixels": float(np.mean(x != 0)),
            "always_zero_pixels": int(np.sum(~np.any(x != 0, axis=0))),
            "n_parameters": sum(int(v.size) for v in params.values()),
            "numba_threads": numba.get_num_threads(),
            "cpu_count": os.cpu_count(),
            "numpy": np.__version__,
            "numba": numba.__version__,
        },
    }


# -- the book's loop -----------------------------------------------------------
def _book_two_layer_net_gradient(params: dict, x: np.ndarray, t: np.ndarray) -> dict:
    """The book's ch04 TwoLayerNet.numerical_gradient, in plain NumPy (the reference)."""

    def sigmoid(a: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-a))

    def softmax(a: np.ndarray) -> np.ndarray:
        a = a - np.max(a, axis=-1, keepdims=True)
        return np.exp(a) / np.sum(np.exp(a), axis=-1, keepdims=True)

    def loss() -> float:
        z1 = sigmoid(x @ params["W1"] + params["b1"])
        y = softmax(z1 @ params["W2"] + params["b2"])
        return -np.sum(np.log(y[np.arange(y.shape[0]), t] + 1e-7)) / y.shape[0]

    def numerical_gradient(w: np.ndarray, h: float = 1e-4) -> np.ndarray:
        grad = np.zeros_like(w)
        it = np.nditer(w, flags=["multi_index"], op_flags=[["readwrite"]])
        while not it.finished:
            idx = it.multi_index
            tmp = w[idx]
            w[idx] = float(tmp) + h
            fxh1 = loss()
            w[idx] = tmp - h
            fxh2 = loss()
            grad[idx] = (fxh1 - fxh2) / (2 * h)
            w[idx] = tmp
            it.iternext()
        return grad

    return {k: numerical_gradient(params[k]) for k in ("W1", "b1", "W2", "b2")}


def _max_diff(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(np.asarray(a[k]) - b[k]))) for k in b)


def _once(benchmark: Any, fn: Callable[[], Any]) -> Any:
    return benchmark.pedantic(fn, rounds=1, iterations=1, warmup_rounds=0)


@pytest.mark.skipif(SKIP_LOOP, reason="DLCORE_BENCH_SKIP_LOOP is set")
@pytest.mark.benchmark(group="two-layer-net numerical gradient")
def test_book_loop_numpy(benchmark, problem):
    """The book's own code (one round: about a minute)."""
    params = {k: v.copy() for k, v in problem["params"].items()}
    x, t = problem["x"], problem["t"]
    grads = _once(benchmark, lambda: _book_two_layer_net_gradient(params, x, t))
    RESULTS["book"] = (benchmark.stats.stats.min, grads)
    benchmark.extra_info.update(problem["info"])


@pytest.mark.skipif(SKIP_LOOP, reason="DLCORE_BENCH_SKIP_LOOP is set")
@pytest.mark.benchmark(group="two-layer-net numerical gradient")
def test_dlcore_loop_numpy(benchmark, problem):
    """mlp_numerical_gradient(method="loop"): dlcore.numerical_gradient per parameter array."""
    p, x, t = problem["params"], problem["x"], problem["t"]
    with dlcore.use_backend("numpy"):
        grads = _once(benchmark, lambda: dlcore.mlp_numerical_gradient(p, x, t, method="loop"))
    _record(benchmark, problem, grads)


def _record(benchmark: Any, problem: dict, grads: dict) -> None:
    info = benchmark.extra_info
    info.update(problem["info"])
    if "book" in RESULTS:
        book_time, book_grads = RESULTS["book"]
        info["speedup_vs_book_loop"] = book_time / benchmark.stats.stats.min
        info["max_abs_diff_vs_book_loop"] = _max_diff(grads, book_grads)


def _cold_compile(method: str) -> dict[str, float]:
    """First and second call in a fresh process whose Numba cache is empty."""
    code = f"""
import json, time, numpy as np, dlcore
rng = np.random.default_rng(0)
p = {{"W1": 0.01 * rng.standard_normal((784, 50)), "b1": np.zeros(50),
     "W2": 0.01 * rng.standard_normal((50, 10)), "b2": np.zeros(10)}}
x = (rng.random((100, 784)) < 0.2) * rng.random((100, 784)); t = rng.integers(0, 10, 100)
times = []
with dlcore.use_backend("numba"):
    for _ in range(3):
        t0 = time.perf_counter()
        dlcore.mlp_numerical_gradient(p, x, t, method={method!r})
        times.append(time.perf_counter() - t0)
print(json.dumps(times))
"""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
    times = json.loads(out.stdout.strip().splitlines()[-1])
    return {"cold_first_call_s": times[0], "cold_compile_s": times[0] - min(times[1:])}


@pytest.mark.benchmark(group="two-layer-net numerical gradient")
def test_numba_network_kernel(benchmark, problem):
    p, x, t = problem["params"], problem["x"], problem["t"]
    with dlcore.use_backend("numba"):
        t0 = time.perf_counter()
        dlcore.mlp_numerical_gradient(p, x, t, method="kernel")  # compiles, or loads the cache
        first = time.perf_counter() - t0
        grads = benchmark(lambda: dlcore.mlp_numerical_gradient(p, x, t, method="kernel"))
    _record(benchmark, problem, grads)
    benchmark.extra_info["first_call_this_process_s"] = first
    benchmark.extra_info.update(_cold_compile("kernel"))


@pytest.mark.benchmark(group="two-layer-net numerical gradient")
def test_batched_array_api_numpy(benchmark, problem):
    p, x, t = problem["params"], problem["x"], problem["t"]
    with dlcore.use_backend("numpy"):
        grads = benchmark(lambda: dlcore.mlp_numerical_gradient(p, x, t, method="batched"))
    _record(benchmark, problem, grads)


# -- a generic njit f with 1,000 inputs ------------------------------------------
@numba.njit
def sin_x2(x: np.ndarray) -> float:
    """``sum(sin(x) * x**2)``: every call costs 1,000 sines."""
    return float(np.sum(np.sin(x) * x**2))


_A = np.random.default_rng(2).standard_normal((5, 1000))
_B = np.random.default_rng(3).standard_normal(5)


@numba.njit
def least_squares(w: np.ndarray) -> float:
    """``0.5 * ||A w - b||^2`` with a 5 x 1000 ``A``: cheap per call, like most losses."""
    s = 0.0
    for i in range(_A.shape[0]):
        r = -_B[i]
        for j in range(w.size):
            r += _A[i, j] * w[j]
        s += r * r
    return 0.5 * s


@pytest.mark.parametrize(
    ("f", "where"),
    [
        (f, w)
        for f in (least_squares, sin_x2)
        for w in ("generic loop, uncompiled f", "generic loop", "njit kernel")
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
@pytest.mark.benchmark(group="numerical_gradient of an njit f, 1,000 inputs")
def test_generic_f(benchmark, f, where):
    """The same f in the generic loop (numpy backend) and in the numba kernel.

    "uncompiled f" runs ``f.py_func``, the same source without Numba (NumPy
    calls from Python for ``sin_x2``, Python loops for ``least_squares``): the
    book's setting, where ``f`` is ordinary Python.
    """
    x = np.random.default_rng(4).standard_normal(1000)
    name = "numba" if where == "njit kernel" else "numpy"
    if where.endswith("uncompiled f"):
        f = f.py_func
    with dlcore.use_backend(name):
        first = second = 0.0
        if where == "njit kernel":  # the first call compiles the loop around f
            t0 = time.perf_counter()
            dlcore.numerical_gradient(f, x.copy())
            first = time.perf_counter() - t0
            t1 = time.perf_counter()
            dlcore.numerical_gradient(f, x.copy())
            second = time.perf_counter() - t1

        def run() -> Any:
            return dlcore.numerical_gradient(f, x.copy())

        if where.endswith("uncompiled f"):  # up to seconds per gradient: two rounds
            grad = benchmark.pedantic(run, rounds=2, iterations=1)
        else:
            grad = benchmark(run)
    info = benchmark.extra_info
    info.update({"numba_threads": numba.get_num_threads(), "cpu_count": os.cpu_count()})
    if where != "njit kernel":
        RESULTS[(f.__name__, where)] = (benchmark.stats.stats.min, grad)
        return
    info["compile_s"] = first - second  # the kernel compiles per f (not cacheable)
    for loop in ("generic loop", "generic loop, uncompiled f"):
        if (f.__name__, loop) in RESULTS:
            loop_time, loop_grad = RESULTS[(f.__name__, loop)]
            tag = loop.replace("generic loop", "loop").replace(", ", "_").replace(" ", "_")
            info[f"speedup_vs_{tag}"] = loop_time / benchmark.stats.stats.min
            info[f"max_abs_diff_vs_{tag}"] = float(np.max(np.abs(grad - loop_grad)))
