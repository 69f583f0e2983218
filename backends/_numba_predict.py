"""Numba kernel for ``dlcore.predict``: single images and small batches.

For one image the forward pass of the book's MNIST network is about 45,000
multiply-adds, a few microseconds of arithmetic; the book's NumPy code spends
most of a single-image call in Python and NumPy dispatch (one temporary and
one ufunc call per operation). This kernel runs the whole pass - every layer,
the sigmoids and the softmax - in one compiled call.

What makes it fast:

* one call into compiled code per image (or per small batch), scratch space
  allocated once per call;
* each dense layer is written as "out += x[i] * W[i, :]" over the rows of
  ``W`` (contiguous, vectorised by LLVM) four rows at a time, so the running
  sums are loaded and stored a quarter as often;
* input entries that are exactly 0 are skipped: about 80 % of the pixels of
  an MNIST image are background (0.0), so the first layer - 87 % of the
  arithmetic - shrinks about five-fold. Skipping ``0 * W[i, j]`` changes the
  result only when a weight is ``inf`` or ``nan`` (the dense product gives
  ``nan`` there);
* sigmoid and softmax are computed in the input's dtype (float32 stays
  float32), without branches in the sigmoid.

Batches larger than :data:`SMALL_BATCH` rows go to the NumPy path, whose
BLAS matrix products win there. Compiled with ``fastmath=False`` (IEEE
semantics; the order of the additions differs from BLAS, within rounding)
and ``cache=True`` (compiled once per machine, then loaded from Numba's cache).
Call :func:`warmup` to compile before timing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import overload

from ._base import PredictFn

__all__ = ["SMALL_BATCH", "bind", "warmup"]

#: Largest batch (rows) the Numba loops take; larger ones go to the NumPy/BLAS kernel.
SMALL_BATCH = 64

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# IEEE arithmetic (fastmath=False), no ZeroDivisionError checks in the loops, cached on disk.
_jit = njit(cache=True, nogil=True, fastmath=False, error_model="numpy")


def _like(value: float, arr: Any) -> Any:  # pragma: no cover - replaced in compiled code
    """``value`` as a scalar of ``arr``'s dtype (so float32 maths stays float32)."""
    return arr.dtype.type(value)


@overload(_like)
def _like_impl(value: Any, arr: Any) -> Any:
    # The implementations repeat _like's signature, annotations included (Numba compares them).
    if arr.dtype == types.float32:

        def as_float32(value: Any, arr: Any) -> Any:
            return np.float32(value)

        return as_float32

    def as_float64(value: Any, arr: Any) -> Any:
        return np.float64(value)

    return as_float64


@_jit
def _affine(x: Any, W: Any, b: Any, out: Any, nz: Any) -> None:  # pragma: no cover - compiled
    """``out = b + x @ W`` for one row ``x``: only the nonzero ``x[i]``, four rows of W at a time.

    ``nz`` is scratch for the indices of the nonzero entries, gathered first
    without branches so the zero pattern of an image costs no mispredictions.
    """
    n_in, n_out = W.shape
    for j in range(n_out):
        out[j] = b[j]
    k = 0
    for i in range(n_in):
        nz[k] = i
        k += x[i] != 0  # nan != 0 is true: nan and inf inputs still propagate
    full = k - k % 4
    for g in range(0, full, 4):
        i0 = nz[g]
        i1 = nz[g + 1]
        i2 = nz[g + 2]
        i3 = nz[g + 3]
        a0 = x[i0]
        a1 = x[i1]
        a2 = x[i2]
        a3 = x[i3]
        for j in range(n_out):
            out[j] += (a0 * W[i0, j] + a1 * W[i1, j]) + (a2 * W[i2, j] + a3 * W[i3, j])
    for g in range(full, k):
        i0 = nz[g]
        a0 = x[i0]
        for j in range(n_out):
            out[j] += a0 * W[i0, j]


@_jit
def _sigmoid_inplace(a: Any) -> None:  # pragma: no cover - compiled
    """``a = 1 / (1 + exp(-a))`` from ``e = exp(-|a|)``: never overflows, no branch."""
    one = _like(1.0, a)
    for j in range(a.shape[0]):
        v = a[j]
        e = np.exp(-abs(v))
        r = one / (one + e)
        a[j] = r if v >= 0 else e * r


@_jit
def _softmax_inplace(a: Any) -> None:  # pragma: no cover - compiled
    """Max-shifted softmax of a 1-D array, in place."""
    m = a[0]
    for j in range(1, a.shape[0]):
        if a[j] > m:
            m = a[j]
    s = _like(0.0, a)
    for j in range(a.shape[0]):
        e = np.exp(a[j] - m)
        a[j] = e
        s += e
    for j in range(a.shape[0]):
        a[j] = a[j] / s


@_jit
def _shapes_ok(n_features: int, Ws: Any, bs: Any) -> bool:  # pragma: no cover - compiled
    """Whether the layer shapes chain: checked in compiled code, so the loops never
    index out of bounds whatever the caller passes."""
    width = n_features
    for k in range(len(Ws)):
        if Ws[k].shape[0] != width or bs[k].shape[0] != Ws[k].shape[1] or Ws[k].shape[1] == 0:
            return False
        width = Ws[k].shape[1]
    return True


@_jit
def _forward_row(  # pragma: no cover - compiled
    x: Any, Ws: Any, bs: Any, scratch: Any, nz: Any, out: Any
) -> None:
    """One image through every layer; hidden activations live in ``scratch``."""
    n_layers = len(Ws)
    h = x
    offset = 0
    for k in range(n_layers - 1):
        width = Ws[k].shape[1]
        z = scratch[offset : offset + width]
        _affine(h, Ws[k], bs[k], z, nz)
        _sigmoid_inplace(z)
        h = z
        offset += width
    _affine(h, Ws[n_layers - 1], bs[n_layers - 1], out, nz)
    _softmax_inplace(out)


@_jit
def _scratch(x: Any, Ws: Any) -> Any:  # pragma: no cover - compiled
    """Scratch for one row at a time: every hidden activation, and the nonzero indices."""
    total = 0
    widest = x.shape[x.ndim - 1]
    for k in range(len(Ws) - 1):
        total += Ws[k].shape[1]
        widest = max(widest, Ws[k].shape[1])
    return np.empty(max(total, 1), x.dtype), np.empty(widest, np.intp)


@_jit
def _predict_rows(x: Any, Ws: Any, bs: Any) -> Any:  # pragma: no cover - compiled
    """Forward pass of a 2-D batch, row by row: ``(N, k)`` probabilities.

    Raises ValueError when the layer shapes do not chain (the loops then
    never index out of bounds, whatever the caller passes).
    """
    if not _shapes_ok(x.shape[1], Ws, bs):
        raise ValueError("the layer shapes do not chain")  # noqa: EM101 - Numba: a literal
    scratch, nz = _scratch(x, Ws)
    out = np.empty((x.shape[0], Ws[len(Ws) - 1].shape[1]), x.dtype)
    for r in range(x.shape[0]):
        _forward_row(x[r], Ws, bs, scratch, nz, out[r])
    return out


@_jit
def _predict_one(x: Any, Ws: Any, bs: Any) -> Any:  # pragma: no cover - compiled
    """Forward pass of one image ``(d,)``: ``(k,)`` probabilities.

    The single-image loop's own entry point (no ``x[None, :]`` view on the way
    in, no ``out[0]`` on the way out). Raises ValueError when the layer
    shapes do not chain.
    """
    if not _shapes_ok(x.shape[0], Ws, bs):
        raise ValueError("the layer shapes do not chain")  # noqa: EM101 - Numba: a literal
    scratch, nz = _scratch(x, Ws)
    out = np.empty(Ws[len(Ws) - 1].shape[1], x.dtype)
    _forward_row(x, Ws, bs, scratch, nz, out)
    return out


def bind(arrays: Sequence[Any], fallback: PredictFn) -> PredictFn | None:
    """The compiled forward pass for non-empty C-contiguous NumPy arrays of one float dtype.

    Returns None for other networks (the caller then uses its own path).

    Otherwise the returned ``run(arrays, x)`` sends one image or a batch of at most
    :data:`SMALL_BATCH` rows through the compiled loops and larger batches to
    ``fallback`` (the NumPy/BLAS path, faster there).
    """
    dtype = getattr(arrays[0], "dtype", None)
    if dtype not in _FLOATS or not all(
        type(a) is np.ndarray and a.dtype == dtype and a.flags.c_contiguous and a.size
        for a in arrays
    ):
        return None
    # Called through Numba's dispatcher, which types every argument on each call:
    # a weight whose layout changed in place gets its own compiled version, never a
    # misread one. The shapes are checked in compiled code (_shapes_ok).
    one = _predict_one
    rows = _predict_rows

    def run(arrays: Sequence[Any], x: Any) -> Any:
        # x is validated (check_input): a NumPy array of the network's dtype, 1-D or 2-D
        if x.ndim == 1:
            return one(x, arrays[0::2], arrays[1::2])
        if x.shape[0] > SMALL_BATCH:
            return fallback(arrays, x)
        return rows(x, arrays[0::2], arrays[1::2])

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
            _predict_rows(np.ones((2, 4), dtype), Ws, bs)
            _predict_one(np.ones(4, dtype), Ws, bs)
