"""Numba kernels for ``dlcore.predict``: single images, small batches and large batches.

One image through the book's MNIST network is about 45,000 multiply-adds
dense; about 80 % of an MNIST image's pixels are exactly 0, so the first
layer (87 % of the arithmetic) shrinks about five-fold when they are
skipped. The book's NumPy code spends most of a single-image call in Python
and NumPy dispatch; here the whole pass (every layer, the sigmoids, the
softmax) is one compiled call.

* Layer 1 adds only the rows of ``W1`` whose pixel is not 0
  (:func:`~dlcore.backends._numba_math.nonzero_rows`), four rows at a time.
  Skipping ``0 * W1[i, :]`` changes nothing while ``W1`` is finite; when it
  holds an inf or NaN (``0 * inf`` is NaN in NumPy) no row is skipped, so the
  result is NumPy's. ``W1`` is checked on every call (weights change in place).
* The later layers are dense (their inputs are sigmoids, rarely exactly 0).
* exp, sigmoid and softmax are vectorised, in the network's dtype.
* Batches of more than :data:`SMALL_BATCH` rows run in parallel over blocks
  of rows (:mod:`~dlcore.backends._numba_forward`) unless they are dense, in
  which case BLAS's matrix products (the NumPy path) are faster.

The Numba dispatcher types every argument on each call, so an array whose
dtype, rank or memory layout changed gets its own compiled version (or a
typing error for a non-float dtype), never a misread one; the layer shapes
are checked in compiled code. Compiled with ``cache=True`` (once per machine,
then loaded from Numba's cache); call :func:`warmup` before timing.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _numba_forward as kernels
from ._base import PredictFn

__all__ = ["SMALL_BATCH", "bind", "warmup"]

#: Largest batch (rows) run row by row in one thread; larger ones run in parallel (a
#: parallel launch pays off once each thread has some hundred rows).
SMALL_BATCH = 256
#: Rows sampled to tell a dense batch, and the fraction of nonzero inputs above which
#: BLAS's dense products beat skipping zeros.
SAMPLES, DENSE = 32, 0.5
# Numba's workqueue threading layer (used where neither TBB nor OpenMP is
# installed) aborts on concurrent parallel launches: one launch at a time.
_LOCK = threading.Lock()

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def bind(arrays: Sequence[Any], fallback: PredictFn, activation: str) -> PredictFn | None:
    """The compiled forward pass for non-empty C-contiguous NumPy arrays of one float dtype.

    Returns None for other networks and for hidden activations other than
    sigmoid and ReLU (the caller then uses its own path).

    Otherwise the returned ``run(arrays, x)`` sends one image or a batch of at most
    :data:`SMALL_BATCH` rows through the serial loops, larger sparse batches
    through the parallel ones and dense batches to ``fallback`` (the
    NumPy/BLAS path, faster there).
    """
    dtype = getattr(arrays[0], "dtype", None)
    if (
        activation not in ("sigmoid", "relu")
        or dtype not in _FLOATS
        or not all(
            type(a) is np.ndarray and a.dtype == dtype and a.flags.c_contiguous and a.size
            for a in arrays
        )
    ):
        return None
    one, rows, batch, is_dense = (
        kernels.predict_one,
        kernels.predict_rows,
        kernels.predict_batch,
        kernels.is_dense,
    )

    relu = activation == "relu"

    def run(arrays: Sequence[Any], x: Any) -> Any:
        # x is validated (check_input): a NumPy array of the network's dtype, 1-D or 2-D
        if x.ndim == 1:
            return one(x, arrays[0::2], arrays[1::2], relu)
        if x.shape[0] <= SMALL_BATCH:
            return rows(x, arrays[0::2], arrays[1::2], relu)
        if is_dense(x, SAMPLES, DENSE):
            return fallback(arrays, x)
        with _LOCK:
            return batch(x, arrays[0::2], arrays[1::2], relu)

    return run


def warmup(depths: tuple[int, ...] = (3,)) -> None:
    """Compile (or load from Numba's cache) the loops for float32 and float64.

    Numba compiles on first call, one version per dtype and network depth;
    call this before timing so the first measured call is not a compile.
    """
    for dtype in _FLOATS:
        for depth in depths:
            Ws = tuple(np.ones((4, 4), dtype) for _ in range(depth))
            bs = tuple(np.zeros(4, dtype) for _ in range(depth))
            for relu in (False, True):
                kernels.predict_rows(np.ones((2, 4), dtype), Ws, bs, relu)
                kernels.predict_one(np.ones(4, dtype), Ws, bs, relu)
                kernels.predict_batch(np.ones((2, 4), dtype), Ws, bs, relu)
            kernels.is_dense(np.ones((2, 4), dtype), SAMPLES, DENSE)
