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

Generic ``f`` with 1,000 float64 inputs (``test_generic_f``): the book's
``numerical_gradient`` loop and dlcore's generic loop, each with ``f``
uncompiled and compiled, against the numba kernel; the kernel's
``extra_info`` has its speedup over and max abs difference from each loop,
its compile times, the cost of one compiled call of ``f`` and each loop's
overhead per call of ``f`` (the two numbers that bound the speedup: about
``threads * (f + overhead) / f``).
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
from dlcore.bench import book

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


# -- the book's loop: its one transcription, dlcore.bench.book ---------------------
def _book_two_layer_net_gradient(params: dict, x: np.ndarray, t: np.ndarray) -> dict:
    """The book's ch04 ``TwoLayerNet.numerical_gradient`` on ``params`` (one-hot ``t``)."""
    net = book.TwoLayerNet(784, 50, 10)
    net.params = params
    return net.numerical_gradient(x, np.eye(10)[t])


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
    times = _fresh_process(code)
    return {"cold_first_call_s": times[0], "cold_compile_s": times[0] - min(times[1:])}


def _fresh_process(code: str) -> list[float]:
    """Run ``code`` in a new Python with an empty Numba cache; it prints a JSON list last."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
    times: list[float] = json.loads(out.stdout.strip().splitlines()[-1])
    return times


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


@numba.njit
def function_2(x: np.ndarray) -> float:
    """The book's ch04 ``function_2`` (``x[0]**2 + x[1]**2``) for any size: ``np.sum(x**2)``.

    Compiled as written, Numba's ``np.sum`` adds the 1,000 squares one after
    the other (each addition waits for the last: ~1.8 us a call here).
    """
    return np.sum(x**2)


@numba.njit(fastmath=True)
def function_2_fastmath(x: np.ndarray) -> float:
    """``function_2`` as a loop that Numba may reorder (``fastmath``): SIMD, ~0.13 us a call."""
    s = 0.0
    for i in range(x.size):
        s += x[i] * x[i]
    return s


GENERIC_FS = [least_squares, sin_x2, function_2, function_2_fastmath]
METHODS = [
    "book loop, uncompiled f",
    "book loop",
    "generic loop, uncompiled f",
    "generic loop",
    "njit kernel",
]


def _uncompiled(f: Any) -> Callable[[np.ndarray], Any]:
    """``f`` without Numba: its source (the book's NumPy ``function_2`` for both variants)."""
    return function_2.py_func if f is function_2_fastmath else f.py_func


def _tag(method: str) -> str:
    """``"generic loop, uncompiled f"`` -> ``"loop_uncompiled_f"`` (the keys of extra_info)."""
    return method.replace("generic loop", "loop").replace(", ", "_").replace(" ", "_")


@numba.njit
def _repeat_calls(f: Any, x: np.ndarray, k: int) -> float:
    s = 0.0
    for _ in range(k):
        x[0] += 1e-12  # not hoisted
        s += f(x)
    return s


def _compiled_call_s(f: Any, x: np.ndarray) -> float:
    """Seconds per call of the compiled ``f`` from compiled code (best of 5)."""
    x = x.copy()
    _repeat_calls(f, x, 1)
    k = 20_000
    return min(_seconds(lambda: _repeat_calls(f, x, k)) for _ in range(5)) / k


@numba.njit
def _first_element(x: np.ndarray) -> float:
    return x[0]


def _loop_overheads(x: np.ndarray) -> dict[str, float]:
    """Seconds per call of ``f`` that each loop adds, measured with an ``f`` that costs ~2 ns.

    Measured again for each ``f``, next to its own timings: this machine's
    speed drifts by up to 2x within a run.
    """
    f = _first_element
    runs = {
        "book loop": lambda: book.numerical_gradient(f, x.copy()),
        "generic loop": lambda: dlcore.numerical_gradient(f, x.copy()),
    }
    with dlcore.use_backend("numpy"):
        runs["generic loop"]()
        return {
            name: min(_seconds(run) for _ in range(5)) / (2 * x.size) for name, run in runs.items()
        }


def _seconds(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _cold_generic_compile(name: str) -> dict[str, float]:
    """Compile times of ``f`` and of the kernel around it, in a fresh process."""
    code = f"""
import json, sys, time, numpy as np, dlcore
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
from bench_numgrad import {name} as f
x = np.random.default_rng(4).standard_normal(1000)
with dlcore.use_backend("numba"):
    t0 = time.perf_counter(); f(x); t1 = time.perf_counter()
    dlcore.numerical_gradient(f, x); t2 = time.perf_counter()
    dlcore.numerical_gradient(f, x); t3 = time.perf_counter()
print(json.dumps([t1 - t0, t2 - t1, t3 - t2]))
"""
    f_compile, first, second = _fresh_process(code)
    return {
        "cold_f_compile_s": f_compile,
        "cold_first_call_s": first,
        "cold_compile_s": first - second,
    }


@pytest.mark.parametrize(
    ("f", "where"),
    [(f, w) for f in GENERIC_FS for w in METHODS],
    ids=lambda v: getattr(v, "__name__", v),
)
@pytest.mark.benchmark(group="numerical_gradient of an njit f, 1,000 inputs")
def test_generic_f(benchmark, f, where):
    """The book's loop and dlcore's generic loop (numpy backend) vs the numba kernel.

    "uncompiled f" runs ``f`` without Numba (``f.py_func``: NumPy calls from
    Python for ``sin_x2`` and ``function_2``, Python loops for
    ``least_squares``; the book's NumPy ``function_2`` for
    ``function_2_fastmath``): the book's setting, where ``f`` is ordinary
    Python. "book loop" is the book's ``numerical_gradient`` (``np.nditer``);
    the ratios of the kernel are against each loop, the differences against
    the book's loop with the uncompiled ``f``.
    """
    x = np.random.default_rng(4).standard_normal(1000)
    name = "numba" if where == "njit kernel" else "numpy"
    g = _uncompiled(f) if where.endswith("uncompiled f") else f
    first = second = 0.0
    with dlcore.use_backend(name):
        if where == "njit kernel":  # the first call compiles the loop around f
            t0 = time.perf_counter()
            dlcore.numerical_gradient(g, x.copy())
            first = time.perf_counter() - t0
            t1 = time.perf_counter()
            dlcore.numerical_gradient(g, x.copy())
            second = time.perf_counter() - t1

        if where.startswith("book loop"):

            def run() -> Any:
                return book.numerical_gradient(g, x.copy())
        else:

            def run() -> Any:
                return dlcore.numerical_gradient(g, x.copy())

        if where.endswith("uncompiled f"):  # up to seconds per gradient: two rounds
            grad = benchmark.pedantic(run, rounds=2, iterations=1)
        else:
            grad = benchmark(run)
    info = benchmark.extra_info
    info.update({"numba_threads": numba.get_num_threads(), "cpu_count": os.cpu_count()})
    key = f.__name__
    RESULTS[(key, where)] = (benchmark.stats.stats.min, grad)
    if (key, METHODS[0]) in RESULTS:
        book_grad = RESULTS[(key, METHODS[0])][1]
        info["max_abs_diff_vs_book_loop_uncompiled_f"] = float(np.max(np.abs(grad - book_grad)))
    if where != "njit kernel":
        return
    info["compile_s"] = first - second  # the kernel compiles per f (not cacheable)
    info.update(_cold_generic_compile(key))
    for loop in METHODS[:-1]:
        if (key, loop) in RESULTS:
            loop_time, loop_grad = RESULTS[(key, loop)]
            info[f"speedup_vs_{_tag(loop)}"] = loop_time / benchmark.stats.stats.min
            info[f"max_abs_diff_vs_{_tag(loop)}"] = float(np.max(np.abs(grad - loop_grad)))
    # the cost model: a loop costs 2n (f + its overhead per call), the kernel 2n f / threads,
    # so it is ~threads * (f + overhead) / f faster, and 20x needs f <= threads * overhead / 18
    f_s = _compiled_call_s(f, x)
    threads = numba.get_num_threads()
    info["f_call_compiled_us"] = f_s * 1e6
    for loop, overhead in _loop_overheads(x).items():
        tag = _tag(loop)
        info[f"{tag}_overhead_per_call_us"] = overhead * 1e6
        info[f"model_speedup_vs_{tag}"] = threads * (f_s + overhead) / f_s
        info[f"f_budget_for_20x_vs_{tag}_us"] = threads * overhead / (20 - threads) * 1e6
