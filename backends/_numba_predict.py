"""Numba kernels for ``dlcore.predict``: one image in one compiled call, batches around BLAS.

One image through the book's MNIST network is about 45,000 multiply-adds;
the book's NumPy code spends most of a single-image call in Python and NumPy
dispatch. Here the whole pass (every layer, the sigmoids or ReLUs, the
softmax) is one compiled call (:func:`~dlcore.backends._numba_forward.predict_one`).

A sparse C-contiguous batch (finite weights) goes image by image through
every layer, the zero inputs skipped (:mod:`~dlcore.backends._numba_rows`):
below 64 rows on one thread, and on ``numba_parallel`` at any size over
Numba's threads. Other batches keep BLAS's matrix products (NumPy's
``matmul``: on all cores no single-thread loop beats it) with each layer's
bias and activation in one compiled pass over its rows, instead of NumPy's
five or six elementwise calls.

The Numba dispatcher types every argument on each call, so an array whose
dtype, rank or memory layout changed gets its own compiled version (or a
typing error for a non-float or mixed dtype), never a misread one; the
shapes are checked in compiled code or by ``matmul``. Compiled with
``cache=True`` (once per machine, then loaded from Numba's cache); call
:func:`warmup` before timing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _numba_forward as kernels
from . import _numba_rows as rows
from ._base import PredictFn

__all__ = ["bind", "forward_batch", "forward_layers", "warmup"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def forward_layers(arrays: Sequence[Any], x: Any, relu: bool, *, sparse: bool = False) -> list[Any]:
    """Every layer's output for a 2-D batch: BLAS's products, compiled bias-and-activation passes.

    .. math:: z_i = h(z_{i-1} W_i + b_i),\\quad y = \\mathrm{softmax}(z_{n-1} W_n + b_n)

    With ``sparse``, the first product skips the zero inputs
    (:func:`~dlcore.backends._numba_rows.sparse_product`; the caller has
    checked that ``W1`` is finite and ``x`` C-contiguous). Returns
    ``[z_1, ..., z_{n-1}, y]``, new arrays (``x`` is only read).
    """
    last = len(arrays) - 2
    outs = []
    h = x
    for i in range(0, last + 2, 2):
        W = arrays[i]
        if sparse and i == 0:
            h = np.empty((x.shape[0], W.shape[1]), x.dtype)
            rows.sparse_product(x, W, h)
        else:
            h = np.matmul(h, W)
        if i < last:
            kernels.bias_hidden_rows(h, arrays[i + 1], relu)
        else:
            kernels.bias_softmax_rows(h, arrays[i + 1])
        outs.append(h)
    return outs


def forward_batch(arrays: Sequence[Any], x: Any, relu: bool) -> Any:
    """The forward pass of a 2-D batch (:func:`forward_layers`' last output)."""
    return forward_layers(arrays, x, relu)[-1]


def bind(arrays: Sequence[Any], activation: str, *, parallel: bool = False) -> PredictFn | None:
    """The compiled forward pass for non-empty C-contiguous NumPy arrays of one float dtype.

    Returns None for other networks and for hidden activations other than
    sigmoid and ReLU (the caller then uses its own path). Otherwise the
    returned ``run(arrays, x)`` sends one image (or a batch of one row) through
    the one-image kernel for ``W1``'s shape
    (:func:`~dlcore.backends._numba_forward.predict_one_for`), a larger sparse
    C-contiguous batch with finite weights through the row-wise, zero-skipping
    pass over the cores (:func:`~dlcore.backends._numba_rows.forward_rows`)
    and any other batch through :func:`forward_batch`.
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
    W1 = arrays[0]
    one = kernels.predict_one_for(*W1.shape) if W1.ndim == 2 else kernels.predict_one
    relu = activation == "relu"
    k = arrays[-2].shape[-1]  # the kernel refuses an `out` that a changed last layer outgrew
    empty = np.empty

    def run(arrays: Sequence[Any], x: Any) -> Any:
        # x is validated (check_input): a NumPy array of the network's dtype, 1-D or 2-D
        if type(arrays) is not tuple:  # a list would reach Numba as a (deprecated) reflected list
            arrays = tuple(arrays)
        if x.ndim == 1:
            out = empty(k, x.dtype)
            one(x, arrays, relu, out)
            return out
        if x.shape[0] == 1:  # one row: the compiled pass beats a one-row BLAS product
            out = empty((1, k), x.dtype)
            one(x[0], arrays, relu, out[0])
            return out
        if (
            (parallel or x.shape[0] < rows.SERIAL_ROWS)
            and x.flags.c_contiguous
            and rows.plan(x, arrays)
        ):
            return rows.forward_rows(arrays, x, relu, parallel=parallel)  # sparse, finite weights
        return forward_batch(arrays, x, relu)

    return run


def warmup(depths: tuple[int, ...] = (3,)) -> None:
    """Compile (or load from Numba's cache) the kernels for float32 and float64.

    Numba compiles on first call, one version per dtype and network depth;
    call this before timing so the first measured call is not a compile.
    """
    for dtype in _FLOATS:
        for depth in depths:
            arrays = tuple(
                np.ones((4, 4), dtype) if k % 2 == 0 else np.zeros(4, dtype)
                for k in range(2 * depth)
            )
            for relu in (False, True):
                forward_batch(arrays, np.ones((2, 4), dtype), relu)
                kernels.predict_one(np.ones(4, dtype), arrays, relu, np.empty(4, dtype))
