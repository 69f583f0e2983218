"""NumPy kernel for ``dlcore.predict``: float32/float64 end to end, no needless temporaries.

The book's ``predict`` allocates a new array for every ``np.dot``, ``+ b``,
``-x``, ``np.exp``, ``1 +`` and ``1 /``: about a dozen arrays of the batch's
size per call, each written once and read once. Here every layer is one
``np.matmul(h, W, out=buf)`` into a per-thread workspace buffer, then the bias
add, the sigmoid and the softmax run in place on that buffer, so a call
allocates only its result (plus two ``(N, 1)`` vectors for the softmax).

The workspace (one buffer per hidden layer, keyed by batch size, width and
dtype) lives in :class:`threading.local` storage, so concurrent calls - Dask's
threaded scheduler, for one - never share a buffer; each thread keeps at most
:data:`MAX_CACHED` buffers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["KERNELS", "MAX_CACHED", "mlp_predict"]

#: Workspace buffers kept per thread (least recently created dropped first).
MAX_CACHED = 8

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_HALF = {"f": np.float32(0.5), "d": np.float64(0.5)}
_local = threading.local()


def _buffer(rows: int, cols: int, dtype: np.dtype, layer: int) -> np.ndarray:
    """A reusable ``(rows, cols)`` scratch array of this thread for hidden layer ``layer``."""
    cache: dict[tuple[int, int, int, str], np.ndarray] | None = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    key = (layer, rows, cols, dtype.str)
    buf = cache.get(key)
    if buf is None:
        if len(cache) >= MAX_CACHED:
            del cache[next(iter(cache))]
        buf = cache[key] = np.empty((rows, cols), dtype)
    return buf


# Parameter keys by layer, built once: ("W1", "b1"), ("W2", "b2"), ...
_KEYS = [(f"W{i}", f"b{i}") for i in range(1, 65)]

#: Below this many rows the workspace is not worth its lookup: results are allocated.
_SMALL_ROWS = 16


def _layers(network: Mapping[str, Any], dtype: np.dtype, n_features: int) -> list[Any] | None:
    """``[(W1, b1), ..., (Wn, bn)]`` if every array is NumPy, of ``dtype``, and shapes chain."""
    n = len(network) // 2
    if not 1 <= n <= len(_KEYS) or len(network) != 2 * n:
        return None
    layers = []
    width = n_features
    for wkey, bkey in _KEYS[:n]:
        W = network.get(wkey)
        b = network.get(bkey)
        if (
            type(W) is not np.ndarray
            or type(b) is not np.ndarray
            or W.dtype != dtype
            or b.dtype != dtype
            or W.ndim != 2
            or b.shape != (W.shape[1],)
            or W.shape[0] != width
        ):
            return None
        layers.append((W, b))
        width = W.shape[1]
    return layers


def _sigmoid_inplace(a: np.ndarray) -> None:
    """``a = 1 / (1 + exp(-a))`` in place, as ``(1 + tanh(a / 2)) / 2``.

    The tanh form is exact algebra, never overflows (so it needs no
    ``np.errstate``), and NumPy's SIMD ``tanh`` makes it the fastest in-place
    variant; its absolute error is a few ulp of 1, which is what a hidden
    activation needs (values below about 1e-8 round to 0).
    """
    half = _HALF[a.dtype.char]  # a NumPy scalar: no Python-float conversion per call
    np.multiply(a, half, a)  # positional out: cheaper to call than out=a on tiny arrays
    np.tanh(a, a)
    np.multiply(a, half, a)
    np.add(a, half, a)


def _softmax_inplace(a: np.ndarray) -> None:
    """Softmax along the last axis, shifted by the row maximum, in place."""
    if a.ndim == 1:
        np.subtract(a, np.maximum.reduce(a), a)
        np.exp(a, a)
        np.divide(a, np.add.reduce(a), a)
        return
    a -= np.max(a, axis=-1, keepdims=True)
    np.exp(a, a)
    a /= np.sum(a, axis=-1, keepdims=True)


def mlp_predict(network: Mapping[str, Any], x: Any) -> Any:
    """Kernel ``"mlp_predict"`` of the numpy backend (see the module docstring).

    Parameters
    ----------
    network : dict
        ``W1, b1, ..., Wn, bn``: NumPy arrays of ``x``'s dtype.
    x : numpy.ndarray
        One image ``(d,)`` or a batch ``(N, d)``, float32 or float64.

    Returns
    -------
    numpy.ndarray or NotImplemented
        Probabilities ``(k,)`` or ``(N, k)`` in ``x``'s dtype, a new array;
        ``NotImplemented`` for anything else (other dtypes or libraries,
        shapes that do not chain), so ``dlcore.predict`` falls back to its
        generic code, which reports the problem.

    Notes
    -----
    .. math:: z_0 = x,\\quad z_i = \\sigma(z_{i-1} W_i + b_i),
              \\quad y = \\mathrm{softmax}(z_{n-1} W_n + b_n)
    """
    if type(x) is not np.ndarray or x.dtype not in _FLOATS or not 1 <= x.ndim <= 2:
        return NotImplemented
    layers = _layers(network, x.dtype, x.shape[-1])
    if layers is None:
        return NotImplemented
    last = len(layers) - 1
    h = x
    if x.ndim == 1 or x.shape[0] < _SMALL_ROWS:
        # small: the new arrays are cheap (no workspace lookup); every op still in place
        for i, (W, b) in enumerate(layers):
            h = np.dot(h, W)
            np.add(h, b, h)
            if i < last:
                _sigmoid_inplace(h)
        _softmax_inplace(h)
        return h
    rows = x.shape[0]
    for i, (W, b) in enumerate(layers):
        cols = W.shape[1]
        out = np.empty((rows, cols), x.dtype) if i == last else _buffer(rows, cols, x.dtype, i)
        np.matmul(h, W, out)
        out += b
        if i < last:
            _sigmoid_inplace(out)
        h = out
    _softmax_inplace(h)
    return h


KERNELS: dict[str, Callable[..., Any]] = {"mlp_predict": mlp_predict}
