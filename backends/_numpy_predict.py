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


def _layers(network: Mapping[str, Any], dtype: np.dtype, n_features: int) -> list[Any] | None:
    """``[(W1, b1), ..., (Wn, bn)]`` if every array is NumPy, of ``dtype``, and shapes chain."""
    layers = []
    width = n_features
    i = 1
    while f"W{i}" in network:
        W = network[f"W{i}"]
        b = network.get(f"b{i}")
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
        i += 1
    if not layers or len(network) != 2 * len(layers):
        return None
    return layers


def _sigmoid_inplace(a: np.ndarray) -> None:
    """``a = 1 / (1 + exp(-a))`` in place, as ``(1 + tanh(a / 2)) / 2``.

    The tanh form is exact algebra, never overflows (so it needs no
    ``np.errstate``), and NumPy's SIMD ``tanh`` makes it the fastest in-place
    variant; its absolute error is a few ulp of 1, which is what a hidden
    activation needs (values below about 1e-8 round to 0).
    """
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5


def _softmax_inplace(a: np.ndarray) -> None:
    """Softmax along the last axis, shifted by the row maximum, in place."""
    a -= np.max(a, axis=-1, keepdims=True)
    np.exp(a, out=a)
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
    single = x.ndim == 1
    h = x[None, :] if single else x
    rows = h.shape[0]
    last = len(layers) - 1
    for i, (W, b) in enumerate(layers):
        cols = W.shape[1]
        out = np.empty((rows, cols), x.dtype) if i == last else _buffer(rows, cols, x.dtype, i)
        np.matmul(h, W, out=out)
        out += b
        if i < last:
            _sigmoid_inplace(out)
        h = out
    _softmax_inplace(h)
    return h[0] if single else h


KERNELS: dict[str, Callable[..., Any]] = {"mlp_predict": mlp_predict}
