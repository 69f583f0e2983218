"""A batch's forward pass row by row, zero inputs skipped, over the CPU's cores.

For a sparse batch (MNIST images: about 80 % of pixels exactly 0) the
first layer's product needs only the rows of ``W1`` at each image's
nonzero pixels (:mod:`~dlcore.backends._numba_gather`). :func:`rows_into`
takes each image through every layer (positions, gathered rows, bias,
activation, softmax) in blocks of :data:`BLOCK_ROWS` rows whose activations
stay in cache, and :func:`rows_parallel` splits the batch into one block of
rows per Numba thread (the ``numba_parallel`` backend). No BLAS call runs
inside; but OpenBLAS's threads spin for a while after NumPy's own products,
and Numba's threads then share the cores with them (see
:class:`~dlcore.backends.numba_backend.NumbaParallelBackend`).

:func:`plan` says when this path gives the reference result and is the
faster one: every weight finite (a skipped ``0 * W[i, j]`` must be ``0``,
not NaN) and a sample of the rows sparse enough; other batches take BLAS's
products (:func:`~dlcore.backends._numba_predict.forward_batch`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import numba
import numpy as np
from numba import njit, prange, types
from numba.core.errors import TypingError
from numba.extending import overload

from ._numba_forward import bias_hidden_rows, bias_softmax_rows, check_arrays
from ._numba_gather import INDEX_SLACK, gather_rows, nonzero_index
from ._numba_math import jit

__all__ = [
    "DENSE_FRACTION",
    "PARALLEL_ROWS",
    "SERIAL_ROWS",
    "all_finite",
    "finite",
    "forward_rows",
    "plan",
    "rows_into",
    "sparse_product",
]

#: A batch whose sampled rows have more than this fraction of nonzero inputs takes BLAS.
DENSE_FRACTION = 0.3
#: Rows sampled by :func:`plan`, spread over the batch.
SAMPLED_ROWS = 4
#: Batches of at least this many rows per thread are split over the threads.
PARALLEL_ROWS = 16
#: On one thread, batches below this many rows take this path; larger ones, BLAS's
#: products on all cores (:func:`~dlcore.backends._numba_predict.forward_batch`).
SERIAL_ROWS = 64


def all_finite(a: Any) -> bool:  # pragma: no cover - replaced in compiled code
    """Whether every entry of the C-contiguous float array ``a`` is finite."""
    return bool(np.isfinite(a).all())


@overload(all_finite)
def _all_finite_impl(a: Any) -> Any:
    # The largest magnitude's bits, below the exponent of inf and NaN: an integer max,
    # which LLVM vectorises (a float test of each entry it does not).
    if not (isinstance(a, types.Array) and a.dtype in (types.float32, types.float64)):
        msg = f"all_finite takes a float32/float64 array, got {a}"
        raise TypingError(msg)
    if a.dtype == types.float32:
        uint, magnitude, inf = np.uint32, np.uint32(0x7FFFFFFF), np.uint32(0x7F800000)
    else:
        uint, magnitude, inf = (
            np.uint64,
            np.uint64(0x7FFFFFFFFFFFFFFF),
            np.uint64(0x7FF0000000000000),
        )

    def impl(a: Any) -> bool:
        bits = a.reshape(-1).view(uint)
        top = uint(0)
        for j in range(bits.shape[0]):
            top = max(top, bits[j] & magnitude)
        return top < inf

    return impl


@jit
def plan(x: Any, arrays: Any) -> bool:  # pragma: no cover - compiled
    """Whether :func:`forward_rows` should take the 2-D C-contiguous batch ``x``.

    True when every weight matrix is finite and the sampled rows of ``x``
    have at most :data:`DENSE_FRACTION` nonzero entries. ValueError when the
    layer shapes do not chain.
    """
    Ws, bs = arrays[0::2], arrays[1::2]
    check_arrays(x, Ws, bs)
    for k in range(len(Ws)):
        if not all_finite(Ws[k]):
            return False
    n, d = x.shape
    idx = np.empty(d + INDEX_SLACK, np.int32)
    samples = min(n, SAMPLED_ROWS)
    nonzero = 0
    for s in range(samples):
        nonzero += nonzero_index(x[s * n // samples], idx)
    return nonzero <= DENSE_FRACTION * samples * d


@jit
def finite(a: Any) -> bool:  # pragma: no cover - compiled
    """Whether every entry of the C-contiguous float array ``a`` is finite (:func:`all_finite`)."""
    return all_finite(a)


@jit
def sparse_product(a: Any, b: Any, out: Any) -> None:  # pragma: no cover - compiled
    """``out = a @ b`` for C-contiguous 2-D arrays, each row of ``a`` over its nonzero entries.

    .. math:: \\mathrm{out}_{r,:} = \\sum_{i:\\,a_{ri} \\ne 0} a_{ri}\\, b_{i,:}

    The dense product's result when ``b`` is finite (``0 * inf`` would be
    NaN there): the caller checks that. ValueError when the shapes do not
    match.
    """
    if a.shape[1] != b.shape[0] or out.shape[0] != a.shape[0] or out.shape[1] != b.shape[1]:
        raise ValueError("sparse_product: the shapes of a, b and out do not match")  # noqa: EM101
    idx = np.empty(a.shape[1] + INDEX_SLACK, np.int32)
    for r in range(a.shape[0]):
        v = a[r]
        gather_rows(v, idx, nonzero_index(v, idx), b, out[r])


#: Rows taken through the layers together: their activations stay in L1/L2, and the
#: bias, activation and softmax run over the block at once.
BLOCK_ROWS = 32


@jit
def rows_into(
    x: Any, arrays: Any, relu: bool, out: Any, lo: int, hi: int
) -> None:  # pragma: no cover - compiled
    """``out[lo:hi]`` = the forward pass of rows ``lo:hi`` of ``x``, zero inputs skipped.

    .. math:: z_0 = x_r,\\quad z_i = h(z_{i-1} W_i + b_i),\\quad
              y_r = \\mathrm{softmax}(z_{n-1} W_n + b_n)

    Blocks of :data:`BLOCK_ROWS` rows go through the layers together. Each
    product adds ``z[i] * W[i, :]`` over the nonzero ``z[i]`` only, so the
    caller makes sure every ``W`` is finite (:func:`plan`).
    """
    Ws, bs = arrays[0::2], arrays[1::2]
    check_arrays(x, Ws, bs)
    n_layers = len(Ws)
    widest = 1
    for k in range(n_layers):
        widest = max(widest, Ws[k].shape[1])
    if out.shape[0] != x.shape[0] or out.shape[1] != Ws[n_layers - 1].shape[1]:
        raise ValueError("the output does not match the batch and the last layer")  # noqa: EM101
    idx = np.empty(max(x.shape[1], widest) + INDEX_SLACK, np.int32)
    work = np.empty(2 * BLOCK_ROWS * widest, x.dtype)  # two layers' activations
    lo, hi = max(lo, 0), min(hi, x.shape[0])
    for start in range(lo, hi, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, hi)
        rows = stop - start
        h = x[start:stop]
        for k in range(n_layers):
            m = Ws[k].shape[1]
            last = k == n_layers - 1
            half = (k % 2) * BLOCK_ROWS * widest
            z = out[start:stop] if last else work[half : half + rows * m].reshape(rows, m)
            for r in range(rows):
                v = h[r]
                gather_rows(v, idx, nonzero_index(v, idx), Ws[k], z[r])
            if last:
                bias_softmax_rows(z, bs[k])
            else:
                bias_hidden_rows(z, bs[k], relu)
            h = z


@njit(cache=True, nogil=True, parallel=True)
def rows_parallel(
    x: Any, arrays: Any, relu: bool, out: Any, blocks: int
) -> None:  # pragma: no cover
    """:func:`rows_into` over ``blocks`` blocks of rows, one per Numba thread."""
    n = x.shape[0]
    for c in prange(blocks):
        rows_into(x, arrays, relu, out, c * n // blocks, (c + 1) * n // blocks)


_LOCK = threading.Lock()
_PARALLEL: dict[str, Any] = {"pid": None, "safe": False}


def thread_count() -> int:
    """Numba's thread count (``numba.get_num_threads()``: NUMBA_NUM_THREADS, set_num_threads)."""
    return int(numba.get_num_threads())


def _launch(x: Any, arrays: Any, relu: bool, out: Any, blocks: int) -> bool:
    """Run :func:`rows_parallel` where Numba's threading layer is safe; whether it ran.

    The first launch (this one, under a lock) picks Numba's threading layer.
    Only ``omp`` and ``tbb`` take launches from several Python threads at
    once (``workqueue`` aborts the process), and GNU OpenMP aborts a forked
    child that launches; so later batches go to one thread (False) with
    ``workqueue``, and in a process forked after the first launch.
    """
    pid = os.getpid()
    state = _PARALLEL
    if state["pid"] is None:
        with _LOCK:
            if state["pid"] is None:
                rows_parallel(x, arrays, relu, out, blocks)
                state["safe"] = numba.threading_layer() in ("omp", "tbb")
                state["pid"] = pid
                return True
    if not (state["safe"] and state["pid"] == pid):
        return False
    rows_parallel(x, arrays, relu, out, blocks)
    return True


def forward_rows(arrays: Sequence[Any], x: Any, relu: bool, *, parallel: bool = False) -> Any:
    """The forward pass of the 2-D C-contiguous batch ``x`` through :func:`rows_into`.

    Checked by :func:`plan` first (finite weights, sparse enough). With
    ``parallel``, a batch of at least ``2 * PARALLEL_ROWS`` rows is split
    over Numba's threads where that is safe (:func:`_launch`). Returns the
    ``(N, k)`` probabilities, a new array.
    """
    out = np.empty((x.shape[0], arrays[-2].shape[1]), x.dtype)
    blocks = min(thread_count(), x.shape[0] // PARALLEL_ROWS) if parallel else 1
    if not (blocks > 1 and _launch(x, arrays, relu, out, blocks)):
        rows_into(x, arrays, relu, out, 0, x.shape[0])
    return out
