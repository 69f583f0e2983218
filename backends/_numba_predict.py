"""Numba kernels for ``dlcore.predict``: single images and batches of a few rows.

One image through the book's MNIST network is about 45,000 multiply-adds;
the book's NumPy code spends most of a single-image call in Python and NumPy
dispatch. Here the whole pass (every layer, the sigmoids or ReLUs, the
softmax) is one compiled call (:mod:`~dlcore.backends._numba_forward`), with
exp, sigmoid and softmax vectorised in the network's dtype.

* One image: every layer dense. About 80 % of an MNIST image's pixels are
  exactly 0, but skipping them changes the result when ``W1`` holds an inf
  or NaN (``0 * inf`` is NaN in NumPy), and checking ``W1`` reads all of it,
  as the dense product does: the check costs what the skipping saves.
* Up to :data:`SMALL_BATCH` rows: ``W1`` is checked once per call and, while
  it is finite, layer 1 adds only the rows of ``W1`` whose pixel is not 0.
* Larger batches go to the NumPy path: BLAS's matrix products (about 36
  multiply-adds per ns here) beat these loops even on the fifth of layer 1
  that skipping zeros leaves (about 6 per ns: the 50- and 100-wide rows
  vectorise poorly).

The Numba dispatcher types every argument on each call, so an array whose
dtype, rank or memory layout changed gets its own compiled version (or a
typing error for a non-float dtype), never a misread one; the layer shapes
are checked in compiled code. Compiled with ``cache=True`` (once per machine,
then loaded from Numba's cache); call :func:`warmup` before timing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _numba_forward as kernels
from ._base import PredictFn

__all__ = ["SMALL_BATCH", "bind", "warmup"]

#: Largest batch (rows) run through the compiled loops; larger ones go to BLAS.
SMALL_BATCH = 8
#: Rows sampled to tell a dense batch, and the fraction of nonzero inputs above which
#: BLAS's dense products beat skipping zeros (numba's mlp_gradient).
SAMPLES, DENSE = 32, 0.5

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def bind(arrays: Sequence[Any], fallback: PredictFn, activation: str) -> PredictFn | None:
    """The compiled forward pass for non-empty C-contiguous NumPy arrays of one float dtype.

    Returns None for other networks and for hidden activations other than
    sigmoid and ReLU (the caller then uses its own path).

    Otherwise the returned ``run(arrays, x)`` sends one image or a batch of at most
    :data:`SMALL_BATCH` rows through the compiled loops and larger batches to
    ``fallback`` (the NumPy/BLAS path, faster there).
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
    one, rows = kernels.predict_one, kernels.predict_rows

    relu = activation == "relu"

    def run(arrays: Sequence[Any], x: Any) -> Any:
        # x is validated (check_input): a NumPy array of the network's dtype, 1-D or 2-D
        if type(arrays) is not tuple:  # a list would reach Numba as a (deprecated) reflected list
            arrays = tuple(arrays)
        if x.ndim == 1:
            return one(x, arrays[0::2], arrays[1::2], relu)
        if x.shape[0] <= SMALL_BATCH:
            return rows(x, arrays[0::2], arrays[1::2], relu)
        return fallback(arrays, x)

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
            kernels.is_dense(np.ones((2, 4), dtype), SAMPLES, DENSE)  # for mlp_gradient
