"""Numba kernel of the backprop gradient of an MLP's softmax cross-entropy (for training).

The book's layers (``Affine``, ``Sigmoid``/``Relu``, ``SoftmaxWithLoss``) in
one compiled call per mini-batch. About 80 % of an MNIST pixel batch is
exactly 0, so the two products with the input, ``x @ W1`` forward and
``x.T @ dA1`` for ``dW1``, only visit the nonzero pixels of each row; skipping
``0 * w`` changes nothing while the other factor is finite, so the input
zeros are skipped only when ``W1`` (forward) and ``dA1`` (backward) hold no
inf or NaN, and the result is then NumPy's, NaN included. The other layers
are dense. IEEE arithmetic (``fastmath=False``); the order of the additions
differs from BLAS, within rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._numba_math import (
    affine_rows,
    all_finite,
    hidden_inplace,
    jit,
    nonzero_rows,
    require_float,
    softmax_inplace,
)

__all__ = [
    "ACTIVATIONS",
    "backprop_rows",
    "forward_rows",
    "input_weight_gradient",
    "mlp_gradient",
]

#: The hidden-layer activations the kernel computes (others go to the generic code).
ACTIVATIONS = ("sigmoid", "relu")


@jit
def forward_rows(  # pragma: no cover - compiled
    x: Any, rows: Any, Ws: Any, bs: Any, Zs: Any, nz: Any, counts: Any, relu: bool, find: bool
) -> None:
    """Every layer's output for the batch ``x[rows]``: ``Zs[l]`` (the last one softmax).

    The ``counts[r]`` nonzero pixels of batch row ``r`` are ``nz[r]`` (found
    again when ``find``, else reused), ``counts[r] = -1`` (every pixel) while
    ``W1`` holds inf or NaN.
    """
    skip = all_finite(Ws[0])
    n_layers = len(Ws)
    widest = 1
    for W in Ws:
        widest = max(widest, W.shape[1])
    scratch = np.empty(2 * widest, x.dtype)
    for r in range(rows.shape[0]):
        h = x[rows[r]]
        pixels = nz[r]
        if not skip:
            counts[r] = -1
        elif find or counts[r] < 0:
            counts[r] = nonzero_rows(h, pixels)
        k = counts[r]
        for layer in range(n_layers):
            z = Zs[layer][r]
            affine_rows(h, Ws[layer], bs[layer], z, pixels, k)
            if layer == n_layers - 1:
                softmax_inplace(z, scratch)
            else:
                hidden_inplace(z, scratch, relu)
            h = z
            k = -1


@jit
def _output_delta(y: Any, t: Any, dA: Any) -> None:
    """``dA = (y - t) / N`` for one-hot or soft ``t`` (the book's SoftmaxWithLoss backward)."""
    n = y.shape[0]
    for r in range(n):
        for j in range(y.shape[1]):
            dA[r, j] = (y[r, j] - t[r, j]) / n


@jit
def _output_delta_labels(y: Any, t: Any, dA: Any) -> bool:
    """``dA = (y - onehot(t)) / N`` for integer labels; False if a label is out of range."""
    n, k = y.shape
    for r in range(n):
        if t[r] < 0 or t[r] >= k:
            return False
    for r in range(n):
        for j in range(k):
            dA[r, j] = (y[r, j] - (1 if j == t[r] else 0)) / n
    return True


@jit
def _weight_gradient(Z: Any, dA: Any, dW: Any, db: Any) -> None:
    """``dW = Z.T @ dA`` (four rows of ``Z`` at a time) and ``db = sum(dA, axis=0)``."""
    n, m = Z.shape
    for j in range(dA.shape[1]):
        db[j] = 0
    for r in range(n):
        for j in range(dA.shape[1]):
            db[j] += dA[r, j]
    for i in range(m):
        row = dW[i]
        for j in range(row.shape[0]):
            row[j] = 0
        full = n - n % 4
        for r in range(0, full, 4):
            a0, a1, a2, a3 = Z[r, i], Z[r + 1, i], Z[r + 2, i], Z[r + 3, i]
            for j in range(row.shape[0]):
                row[j] += (a0 * dA[r, j] + a1 * dA[r + 1, j]) + (
                    a2 * dA[r + 2, j] + a3 * dA[r + 3, j]
                )
        for r in range(full, n):
            a0 = Z[r, i]
            for j in range(row.shape[0]):
                row[j] += a0 * dA[r, j]


@jit
def input_weight_gradient(x: Any, rows: Any, dA: Any, dW: Any, nz: Any, counts: Any) -> None:
    """``dW1 = x[rows].T @ dA1`` over the nonzero pixels of each row (all if ``counts[r] < 0``)."""
    dW[:] = 0
    for r in range(rows.shape[0]):
        k = counts[r] if counts[r] >= 0 else x.shape[1]
        for g in range(k):
            i = nz[r, g] if counts[r] >= 0 else g
            a = x[rows[r], i]
            row = dW[i]
            for j in range(row.shape[0]):
                row[j] += a * dA[r, j]


@jit
def _backward_through(dA: Any, W: Any, Z: Any, dZ: Any, relu: bool) -> None:
    """``dZ = (dA @ W.T) * act'(Z)``: the delta of the layer below (``Z`` its output)."""
    WT = np.ascontiguousarray(W.T)
    for r in range(dA.shape[0]):
        out = dZ[r]
        for i in range(out.shape[0]):
            out[i] = 0
        for j in range(dA.shape[1]):
            a = dA[r, j]
            for i in range(out.shape[0]):
                out[i] += a * WT[j, i]
        for i in range(out.shape[0]):
            z = Z[r, i]
            if relu:
                out[i] = 0 if z <= 0 else out[i]  # Relu.backward: zero where x <= 0
            else:
                out[i] = out[i] * (1 - z) * z  # Sigmoid.backward: dout * (1 - y) * y


@jit
def backprop_rows(  # pragma: no cover - compiled
    t: Any, Ws: Any, dWs: Any, dbs: Any, Zs: Any, counts: Any, relu: bool
) -> Any:
    """Fill ``dWs``, ``dbs`` but ``dW1`` from the forward pass ``Zs`` of a batch and ``t``.

    ``t`` holds the batch's labels or targets. Returns the first layer's
    delta ``dA1`` (``dW1 = x[rows].T @ dA1``) and False if a label is out of
    range (then nothing meaningful is written); sets ``counts`` to ``-1``
    (every pixel) where ``dA1`` is not finite.
    """
    n, n_layers = Zs[0].shape[0], len(Ws)
    dA = np.empty_like(Zs[n_layers - 1])
    if t.ndim == 1:
        if not _output_delta_labels(Zs[n_layers - 1], t, dA):
            return dA, False
    else:
        _output_delta(Zs[n_layers - 1], t, dA)
    for layer in range(n_layers - 1, 0, -1):
        _weight_gradient(Zs[layer - 1], dA, dWs[layer], dbs[layer])
        dZ = np.empty_like(Zs[layer - 1])
        _backward_through(dA, Ws[layer], Zs[layer - 1], dZ, relu)
        dA = dZ
    dbs[0][:] = 0
    for r in range(n):
        for j in range(dA.shape[1]):
            dbs[0][j] += dA[r, j]
    if not all_finite(dA):
        counts[:] = -1  # 0 * inf is NaN: visit every pixel (found again by the next forward)
    return dA, True


@jit
def _gradient(  # pragma: no cover - compiled
    x: Any, t: Any, Ws: Any, bs: Any, dWs: Any, dbs: Any, relu: bool
) -> bool:
    """Fill ``dWs``, ``dbs``; False (nothing meaningful written) if a label is out of range."""
    require_float(x)
    require_float(Ws[0])
    n = x.shape[0]
    rows = np.arange(n)
    Zs = [np.empty((n, W.shape[1]), x.dtype) for W in Ws]
    nz, counts = np.empty((n, x.shape[1]), np.intp), np.empty(n, np.intp)
    forward_rows(x, rows, Ws, bs, Zs, nz, counts, relu, True)
    dA, ok = backprop_rows(t, Ws, dWs, dbs, Zs, counts, relu)
    if ok:
        input_weight_gradient(x, rows, dA, dWs[0], nz, counts)
    return ok


def mlp_gradient(
    arrays: Sequence[np.ndarray], x: np.ndarray, t: np.ndarray, activation: str
) -> list[np.ndarray] | None:
    """``[dW1, db1, ..., dWn, dbn]``, or None for inputs the kernel does not take.

    Takes C-contiguous NumPy arrays of one float dtype, ``t`` integer labels
    ``(N,)`` in range or float targets ``(N, k)`` of that dtype, and an
    activation of :data:`ACTIVATIONS`; None otherwise (the caller then runs
    the generic code, which also reports what is wrong).
    """
    dtype = x.dtype
    if (
        activation not in ACTIVATIONS
        or dtype not in (np.float32, np.float64)
        or not all(type(a) is np.ndarray and a.dtype == dtype and a.ndim in (1, 2) for a in arrays)
        or type(t) is not np.ndarray
        or x.ndim != 2
        or x.shape[0] == 0
        or t.shape[0] != x.shape[0]
        or not (
            (t.ndim == 1 and t.dtype.kind in "iu")
            or (t.ndim == 2 and t.dtype == dtype and t.shape[1] == arrays[-1].shape[0])
        )
    ):
        return None
    grads = [np.empty(a.shape, dtype) for a in arrays]
    Ws = tuple(np.ascontiguousarray(a) for a in arrays[0::2])  # one layout: a uniform tuple
    bs = tuple(np.ascontiguousarray(a) for a in arrays[1::2])
    ok = _gradient(np.ascontiguousarray(x), t, Ws, bs, tuple(grads[0::2]), tuple(grads[1::2]),
                   activation == "relu")  # fmt: skip
    return grads if ok else None
