"""The compiled forward passes: one image through every layer, and the batch epilogues.

* :func:`predict_one`: one image through every layer in one call, the
  activations in a small scratch buffer, every product dense (eight rows of
  ``W`` per step, :func:`affine_dense`), exp, sigmoid and softmax vectorised
  (:mod:`~dlcore.backends._numba_math`).
* :func:`bias_hidden_rows`, :func:`bias_softmax_rows`: a batch's layer after
  its matrix product (BLAS's, through NumPy): the bias and the activation in
  one pass over the rows, in place.

Every entry point checks in compiled code that the shapes chain and refuses
non-float or mixed dtypes when typed, so no loop reads out of bounds or
misreads memory, whatever the caller passes.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload

from ._numba_math import hidden_inplace, jit, require_float, softmax_inplace

__all__ = [
    "affine_dense",
    "bias_hidden_rows",
    "bias_softmax_rows",
    "forward_row",
    "is_dense",
    "predict_one",
]


@jit
def shapes_ok(n_features: int, Ws: Any, bs: Any) -> bool:  # pragma: no cover - compiled
    """Whether the layer shapes chain: checked in compiled code, so the loops never
    index out of bounds whatever the caller passes."""
    width = n_features
    for k in range(len(Ws)):
        if Ws[k].shape[0] != width or bs[k].shape[0] != Ws[k].shape[1] or Ws[k].shape[1] == 0:
            return False
        width = Ws[k].shape[1]
    return True


@jit
def check_arrays(x: Any, Ws: Any, bs: Any) -> None:  # pragma: no cover - compiled
    """Refuse non-float arrays (when typed) and layer shapes that do not chain (ValueError)."""
    require_float(x)
    require_float(Ws[0])
    require_float(bs[0])
    if not shapes_ok(x.shape[x.ndim - 1], Ws, bs):
        raise ValueError("the layer shapes do not chain")  # noqa: EM101 - Numba: a literal


@jit
def scratch_for(x: Any, Ws: Any) -> Any:  # pragma: no cover - compiled
    """Scratch for one image: every layer's activations and exp's work space."""
    total = 0
    widest = 1
    for k in range(len(Ws)):
        total += Ws[k].shape[1]
        widest = max(widest, Ws[k].shape[1])
    return np.empty(total + 2 * widest, x.dtype)


@jit
def affine_dense(x: Any, W: Any, b: Any, out: Any) -> None:  # pragma: no cover - compiled
    """``out = b + x @ W``, eight rows of ``W`` (contiguous, vectorised) per step.

    Adding eight scaled rows per pass loads and stores the running sums an
    eighth as often as a row at a time.
    """
    n, m = W.shape
    for j in range(m):
        out[j] = b[j]
    full = n - n % 8
    for i in range(0, full, 8):
        a0, a1, a2, a3 = x[i], x[i + 1], x[i + 2], x[i + 3]
        a4, a5, a6, a7 = x[i + 4], x[i + 5], x[i + 6], x[i + 7]
        for j in range(m):
            lo = (a0 * W[i, j] + a1 * W[i + 1, j]) + (a2 * W[i + 2, j] + a3 * W[i + 3, j])
            hi = (a4 * W[i + 4, j] + a5 * W[i + 5, j]) + (a6 * W[i + 6, j] + a7 * W[i + 7, j])
            out[j] += lo + hi
    for i in range(full, n):
        a = x[i]
        for j in range(m):
            out[j] += a * W[i, j]


@jit
def forward_row(  # pragma: no cover - compiled
    x: Any, Ws: Any, bs: Any, scratch: Any, out: Any, relu: bool
) -> None:
    """One image through every layer (sigmoid or ReLU hidden layers) into ``out``.

    Hidden activations live in ``scratch``. Every product is dense: skipping
    the zero pixels would need ``W1`` checked for inf and NaN (``0 * inf`` is
    NaN), and that check reads all of ``W1``, as the dense product does.
    """
    n_layers = len(Ws)
    h = x
    offset = 0
    for layer in range(n_layers):
        width = Ws[layer].shape[1]
        z = out if layer == n_layers - 1 else scratch[offset : offset + width]
        affine_dense(h, Ws[layer], bs[layer], z)
        offset += width
        if layer < n_layers - 1:
            hidden_inplace(z, scratch[offset:], relu)
        h = z
    softmax_inplace(out, scratch[offset:])


@jit
def predict_one(x: Any, arrays: Any, relu: bool) -> Any:  # pragma: no cover - compiled
    """Forward pass of one image ``(d,)``: ``(k,)`` probabilities.

    ``arrays`` is ``(W1, b1, ..., Wn, bn)``, one tuple (the cheapest
    argument for Numba's dispatcher). Raises ValueError when the layer
    shapes do not chain.
    """
    Ws, bs = arrays[0::2], arrays[1::2]
    check_arrays(x, Ws, bs)
    scratch = scratch_for(x, Ws)
    out = np.empty(Ws[len(Ws) - 1].shape[1], x.dtype)
    forward_row(x, Ws, bs, scratch, out, relu)
    return out


def require_same_float(z: Any, b: Any) -> None:  # pragma: no cover - replaced in compiled code
    """Refuse (when typed) a 2-D ``z`` and 1-D ``b`` that are not of one float dtype."""


@overload(require_same_float)
def _require_same_float_impl(z: Any, b: Any) -> Any:
    if not (
        isinstance(z, types.Array)
        and isinstance(b, types.Array)
        and z.ndim == 2
        and b.ndim == 1
        and z.dtype == b.dtype
        and z.dtype in (types.float32, types.float64)
    ):
        msg = f"a layer's epilogue takes a 2-D and a 1-D array of one float dtype, got {z}, {b}"
        raise TypingError(msg)

    def ok(z: Any, b: Any) -> None:
        return None

    return ok


@jit
def check_bias(z: Any, b: Any) -> None:  # pragma: no cover - compiled
    """Refuse mixed or non-float dtypes (when typed) and a bias of the wrong length."""
    require_same_float(z, b)
    if b.shape[0] != z.shape[1]:
        raise ValueError("a bias does not match its layer's width")  # noqa: EM101 - Numba


@jit
def bias_hidden_rows(z: Any, b: Any, relu: bool) -> None:  # pragma: no cover - compiled
    """``z = h(z + b)`` row by row in place, ``h`` the sigmoid or ReLU (``z``: ``(N, m)``)."""
    check_bias(z, b)
    scratch = np.empty(2 * z.shape[1], z.dtype)
    for r in range(z.shape[0]):
        row = z[r]
        for j in range(row.shape[0]):
            row[j] += b[j]
        hidden_inplace(row, scratch, relu)


@jit
def bias_softmax_rows(z: Any, b: Any) -> None:  # pragma: no cover - compiled
    """``z = softmax(z + b)`` row by row in place (``z``: ``(N, m)``)."""
    check_bias(z, b)
    scratch = np.empty(z.shape[1], z.dtype)
    for r in range(z.shape[0]):
        row = z[r]
        for j in range(row.shape[0]):
            row[j] += b[j]
        softmax_inplace(row, scratch)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def is_dense(x: Any, samples: int, limit: float) -> bool:  # pragma: no cover - compiled
    """Whether more than ``limit`` of the entries of ``samples`` evenly spaced rows are nonzero."""
    n, d = x.shape
    step = max(n // samples, 1)
    nonzero = 0
    seen = 0
    for r in range(0, n, step):
        for i in range(d):
            nonzero += x[r, i] != 0
        seen += d
    return nonzero > limit * seen
