"""The compiled forward passes: one row, and a few rows one by one.

Each row runs through every layer in one go with its activations in a
small scratch buffer: layer 1 adds only the rows of ``W1`` whose input is
not 0 (while ``W1`` is finite), the later layers are dense, and exp,
sigmoid and softmax are vectorised (:mod:`~dlcore.backends._numba_math`).
Every entry point checks in compiled code
that the layer shapes chain and refuses non-float dtypes when typed, so no
loop reads out of bounds or misreads memory, whatever the caller passes.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from ._numba_math import (
    affine_rows,
    all_finite,
    jit,
    nonzero_rows,
    relu_inplace,
    require_float,
    sigmoid_inplace,
    softmax_inplace,
)

__all__ = ["forward_row", "is_dense", "predict_one", "predict_rows"]


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
    """Scratch for one row at a time: every hidden activation, exp's work space, indices."""
    total = 0
    widest = x.shape[x.ndim - 1]
    for k in range(len(Ws)):
        total += Ws[k].shape[1]
        widest = max(widest, Ws[k].shape[1])
    return np.empty(total + 2 * widest, x.dtype), np.empty(x.shape[x.ndim - 1], np.intp)


@jit
def forward_row(  # pragma: no cover - compiled
    x: Any, Ws: Any, bs: Any, scratch: Any, nz: Any, out: Any, skip: bool, relu: bool
) -> None:
    """One image through every layer (sigmoid or ReLU hidden layers) into ``out``.

    Hidden activations live in ``scratch``; layer 1 skips the zero entries
    of ``x`` when ``skip``.
    """
    n_layers = len(Ws)
    h = x
    offset = 0
    k = nonzero_rows(x, nz) if skip else -1  # layer 1 only: later inputs are sigmoids
    for layer in range(n_layers - 1):
        width = Ws[layer].shape[1]
        z = scratch[offset : offset + width]
        affine_rows(h, Ws[layer], bs[layer], z, nz, k)
        offset += width
        if relu:
            relu_inplace(z)
        else:
            sigmoid_inplace(z, scratch[offset:])
        h = z
        k = -1
    affine_rows(h, Ws[n_layers - 1], bs[n_layers - 1], out, nz, k)
    softmax_inplace(out, scratch[offset:])


@jit
def predict_rows(x: Any, Ws: Any, bs: Any, relu: bool) -> Any:  # pragma: no cover - compiled
    """Forward pass of a 2-D batch, row by row in this thread: ``(N, k)`` probabilities.

    Raises ValueError when the layer shapes do not chain.
    """
    check_arrays(x, Ws, bs)
    skip = all_finite(Ws[0])
    scratch, nz = scratch_for(x, Ws)
    out = np.empty((x.shape[0], Ws[len(Ws) - 1].shape[1]), x.dtype)
    for r in range(x.shape[0]):
        forward_row(x[r], Ws, bs, scratch, nz, out[r], skip, relu)
    return out


@jit
def predict_one(x: Any, Ws: Any, bs: Any, relu: bool) -> Any:  # pragma: no cover - compiled
    """Forward pass of one image ``(d,)``: ``(k,)`` probabilities.

    Raises ValueError when the layer shapes do not chain.
    """
    check_arrays(x, Ws, bs)
    scratch, nz = scratch_for(x, Ws)
    out = np.empty(Ws[len(Ws) - 1].shape[1], x.dtype)
    # Dense: skipping zeros needs W1 checked for inf/NaN (0 * inf is NaN), and that
    # check reads all of W1, as the dense product does.
    forward_row(x, Ws, bs, scratch, nz, out, False, relu)
    return out


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
