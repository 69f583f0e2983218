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

Batches larger than :data:`SMALL_BATCH` rows go to the NumPy kernel, whose
BLAS matrix products win there. Compiled with ``fastmath=False`` (IEEE
semantics; the order of the additions differs from BLAS, within rounding)
and ``cache=True`` (compiled once per machine, then loaded from Numba's cache).
Call :func:`warmup` to compile before timing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import overload

from . import _numpy_predict

__all__ = ["KERNELS", "SMALL_BATCH", "mlp_predict", "prepare_mlp_predict", "warmup"]

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

    Returns an empty ``(0, 0)`` array when the layer shapes do not chain.
    """
    if not _shapes_ok(x.shape[1], Ws, bs):
        return np.empty((0, 0), x.dtype)
    scratch, nz = _scratch(x, Ws)
    out = np.empty((x.shape[0], Ws[len(Ws) - 1].shape[1]), x.dtype)
    for r in range(x.shape[0]):
        _forward_row(x[r], Ws, bs, scratch, nz, out[r])
    return out


@_jit
def _predict_one(x: Any, Ws: Any, bs: Any) -> Any:  # pragma: no cover - compiled
    """Forward pass of one image ``(d,)``: ``(k,)`` probabilities.

    The single-image loop's own entry point (no ``x[None, :]`` view on the way
    in, no ``out[0]`` on the way out). Returns an empty array when the layer
    shapes do not chain.
    """
    if not _shapes_ok(x.shape[0], Ws, bs):
        return np.empty(0, x.dtype)
    scratch, nz = _scratch(x, Ws)
    out = np.empty(Ws[len(Ws) - 1].shape[1], x.dtype)
    _forward_row(x, Ws, bs, scratch, nz, out)
    return out


# Parameter keys by depth, built once: ("W1", ..., "Wn"), ("b1", ..., "bn").
_KEYS: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    n: (tuple(f"W{i}" for i in range(1, n + 1)), tuple(f"b{i}" for i in range(1, n + 1)))
    for n in range(1, 33)
}


def _params(network: Mapping[str, Any], dtype: np.dtype) -> tuple[tuple[Any, ...], ...] | None:
    """``(Ws, bs)`` as tuples of C-contiguous arrays of ``dtype``, or None if not handled.

    The last few answers are remembered, keyed by the dict's keys and the
    ``id`` of each array (the cache holds the arrays, so an ``id`` cannot be
    reused while it is cached): a single-image loop over one network checks
    its arrays once, not on every call.
    """
    key = (tuple(network), tuple(map(id, network.values())), dtype)
    hit = _PARAMS_CACHE.get(key)
    if hit is not None:
        return hit[1]
    params = _check_params(network, dtype)
    if params is not None:
        if len(_PARAMS_CACHE) >= 4:
            _PARAMS_CACHE.clear()
        # values kept alive so their ids stay unique while cached
        _PARAMS_CACHE[key] = (tuple(network.values()), params)
    return params


_PARAMS_CACHE: dict[tuple[Any, ...], tuple[tuple[Any, ...], tuple[tuple[Any, ...], ...]]] = {}


def _check_params(
    network: Mapping[str, Any], dtype: np.dtype
) -> tuple[tuple[Any, ...], ...] | None:
    n = len(network) // 2
    keys = _KEYS.get(n)
    if keys is None or len(network) != 2 * n:
        return None
    try:
        Ws = tuple(network[k] for k in keys[0])
        bs = tuple(network[k] for k in keys[1])
    except KeyError:
        return None
    for W, b in zip(Ws, bs, strict=True):
        if (
            type(W) is not np.ndarray
            or type(b) is not np.ndarray
            or W.dtype != dtype
            or b.dtype != dtype
            or W.ndim != 2
            or b.ndim != 1
            or not W.flags.c_contiguous
            or not b.flags.c_contiguous
        ):
            return None
    return Ws, bs


def mlp_predict(network: Mapping[str, Any], x: Any) -> Any:
    """Kernel ``"mlp_predict"`` of the numba backend (see the module docstring).

    Parameters
    ----------
    network : dict
        ``W1, b1, ..., Wn, bn``: NumPy arrays of ``x``'s dtype, C-contiguous.
    x : numpy.ndarray
        One image ``(d,)`` or a batch ``(N, d)``, float32 or float64.

    Returns
    -------
    numpy.ndarray or NotImplemented
        Probabilities ``(k,)`` or ``(N, k)`` in ``x``'s dtype. Batches of more
        than :data:`SMALL_BATCH` rows are handed to the NumPy kernel;
        ``NotImplemented`` for inputs neither handles (other dtypes, arrays
        of other libraries, shapes that do not chain), so ``dlcore.predict``
        falls back to its generic code, which reports the problem.
    """
    if type(x) is not np.ndarray or x.dtype not in _FLOATS or not 1 <= x.ndim <= 2:
        return NotImplemented
    if x.ndim == 2 and x.shape[0] > SMALL_BATCH:
        return _numpy_predict.mlp_predict(network, x)
    params = _params(network, x.dtype)
    if params is None:
        return _numpy_predict.mlp_predict(network, x)
    Ws, bs = params
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    out: np.ndarray = _predict_one(x, Ws, bs) if x.ndim == 1 else _predict_rows(x, Ws, bs)
    if out.size == 0 and x.size != 0:  # the layer shapes do not chain
        return NotImplemented
    return out


def prepare_mlp_predict(network: Mapping[str, Any]) -> Callable[[Any], Any] | None:
    """Kernel ``"prepare_mlp_predict"``: ``mlp_predict`` bound to one validated network.

    ``dlcore.predict`` calls this once per network (it remembers the answer
    with the network's validation) and then calls the returned function with
    each ``x``: the single-image loop pays for the network's checks and for
    Numba's argument typing once, not 10,000 times. The function returns
    ``NotImplemented`` for any ``x`` it does not take as is (another dtype,
    library or shape; for one image, a non-contiguous or read-only array),
    and ``predict`` then checks ``x`` and converts it.

    Returns None when the network is not NumPy arrays of one float dtype,
    C-contiguous (``predict`` then uses :func:`mlp_predict`).
    """
    w1 = network.get("W1")
    if type(w1) is not np.ndarray or w1.dtype not in _FLOATS or w1.ndim != 2:
        return None
    dtype = w1.dtype
    params = _check_params(network, dtype)
    if params is None:
        return None
    Ws, bs = params
    n_in = w1.shape[0]
    one = _predict_one
    rows = _predict_rows
    numpy_kernel = _numpy_predict.mlp_predict

    def run(x: Any) -> Any:
        if type(x) is not np.ndarray or x.dtype != dtype:
            return NotImplemented
        shape = x.shape
        if not shape or shape[-1] != n_in:
            return NotImplemented
        if len(shape) == 1:
            out = one(x, Ws, bs)
        elif len(shape) == 2 and shape[0] <= SMALL_BATCH:
            out = rows(x, Ws, bs)
        elif len(shape) == 2:
            return numpy_kernel(network, x)
        else:
            return NotImplemented
        if out.size == 0 and x.size != 0:  # reshaped in place since: the layers do not chain
            return NotImplemented
        return out

    return run


def warmup(depths: tuple[int, ...] = (3,)) -> None:
    """Compile (or load from Numba's cache) the kernels for float32 and float64.

    Numba compiles on first call, one version per dtype and network depth;
    call this before timing so the first measured call is not a compile.
    """
    for dtype in _FLOATS:
        for depth in depths:
            sizes = [4] * (depth + 1)
            net: dict[str, np.ndarray] = {}
            for i in range(depth):
                net[f"W{i + 1}"] = np.ones((sizes[i], sizes[i + 1]), dtype)
                net[f"b{i + 1}"] = np.zeros(sizes[i + 1], dtype)
            mlp_predict(net, np.ones((2, sizes[0]), dtype))
            mlp_predict(net, np.ones(sizes[0], dtype))


KERNELS: dict[str, Callable[..., Any]] = {
    "mlp_predict": mlp_predict,
    "prepare_mlp_predict": prepare_mlp_predict,
}
