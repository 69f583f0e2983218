"""Numba kernels of the backprop gradient of an MLP's softmax cross-entropy (for training).

The book's layers (``Affine``, ``Sigmoid``/``Relu``, ``SoftmaxWithLoss``):
the two products with the input batch, ``x @ W1`` forward and
``x.T @ dA1`` for ``dW1``, are most of the work (the input is the widest
layer). For a sparse batch (MNIST: about 80 % zero pixels) of a network
with finite weights (:func:`sparse_batch`) both skip the zero inputs on
one thread (:func:`~dlcore.backends._numba_rows.sparse_product`;
``x.T @ dA1`` only when ``dA1`` is finite too, as ``0 * inf`` is NaN);
otherwise they are BLAS's (NumPy's ``matmul``), as are the forward pass's
other products. Each layer's bias and activation, and the whole backward
pass above the first layer, run compiled (:func:`backprop_rows`). IEEE
arithmetic (``fastmath=False``); the order of the additions of the
compiled products differs from BLAS, within rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _numba_rows as rows
from ._numba_math import jit
from ._numba_predict import forward_layers

__all__ = [
    "ACTIVATIONS",
    "SPARSE_ROWS",
    "as_targets",
    "backprop_rows",
    "gradient_into",
    "mlp_gradient",
    "sparse_batch",
    "takes_targets",
]

#: The hidden-layer activations the kernel computes (others go to the generic code).
ACTIVATIONS = ("sigmoid", "relu")
#: Training batches of at most this many rows may skip their zero inputs (:func:`sparse_batch`):
#: on MNIST that step is the faster one at 100 and 300 rows, even at 500, slower at 700.
SPARSE_ROWS = 500


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
    t: Any, Ws: Any, dWs: Any, dbs: Any, Zs: Any, relu: bool
) -> Any:
    """Fill ``dWs``, ``dbs`` but ``dW1`` from the forward pass ``Zs`` of a batch and ``t``.

    ``Zs`` holds every layer's output (the last one the softmax), ``t`` the
    batch's labels or targets. Returns the first layer's delta ``dA1``
    (``dW1 = x.T @ dA1``) and False if a label is out of range (then nothing
    meaningful is written).
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
    return dA, True


def takes_targets(t: Any, dtype: Any, classes: int) -> bool:
    """Whether ``t`` is integer labels ``(N,)`` or float targets ``(N, classes)`` of ``dtype``."""
    return (t.ndim == 1 and t.dtype.kind in "iu") or (
        t.ndim == 2 and t.dtype == dtype and t.shape[1] == classes
    )


def as_targets(t: np.ndarray) -> np.ndarray:
    """``t`` C-contiguous, labels as ``intp``: one compiled signature for every label dtype."""
    return np.ascontiguousarray(t, dtype=np.intp if t.ndim == 1 else t.dtype)


def gradient_into(
    arrays: Sequence[np.ndarray],
    x: np.ndarray,
    t: np.ndarray,
    grads: Sequence[np.ndarray],
    relu: bool,
) -> bool:
    """Fill ``grads`` (``dW1, db1, ...``) for the batch ``x``, ``t``; False for a bad label.

    ``arrays`` and ``grads`` are C-contiguous NumPy arrays of ``x``'s float
    dtype, ``t`` as :func:`as_targets` gives it.

    .. math:: \\delta_n = (y - t) / N,\\quad dW_l = Z_{l-1}^T \\delta_l,\\quad
              \\delta_{l-1} = (\\delta_l W_l^T) \\odot h'(Z_{l-1})
    """
    sparse = sparse_batch(arrays, x)
    Zs = forward_layers(arrays, x, relu, sparse=sparse)
    dA, ok = backprop_rows(
        t, tuple(arrays[0::2]), tuple(grads[0::2]), tuple(grads[1::2]), tuple(Zs), relu
    )
    if ok:
        if sparse and rows.finite(dA):  # 0 * dA skipped: only 0 for a finite dA
            rows.sparse_product(np.ascontiguousarray(x.T), dA, grads[0])
        else:
            np.matmul(x.T, dA, out=grads[0])
    return bool(ok)


def sparse_batch(arrays: Sequence[np.ndarray], x: np.ndarray) -> bool:
    """Whether a training batch takes the products that skip its zero inputs, not BLAS.

    For at most :data:`SPARSE_ROWS` rows, finite weights and sparse rows
    (:func:`~dlcore.backends._numba_rows.plan`): ``x @ W1`` and
    ``x.T @ dA1`` then run on one thread over the nonzero inputs. No BLAS
    product as large as these runs in the step, so OpenBLAS's threads,
    which spin for a while after each product, do not share the cores with
    the rest of the step.
    """
    return x.shape[0] <= SPARSE_ROWS and bool(rows.plan(x, tuple(arrays)))


def mlp_gradient(
    arrays: Sequence[np.ndarray], x: np.ndarray, t: np.ndarray, activation: str
) -> list[np.ndarray] | None:
    """``[dW1, db1, ..., dWn, dbn]``, or None for inputs the kernel does not take.

    Takes NumPy arrays of one float dtype (any layout), ``t`` integer labels
    ``(N,)`` in range or float targets ``(N, k)`` of that dtype, and an
    activation of :data:`ACTIVATIONS`; None otherwise (the caller then runs
    the generic code, which also reports what is wrong).
    """
    dtype = x.dtype
    if (
        activation not in ACTIVATIONS
        or dtype not in (np.float32, np.float64)
        or not all(type(a) is np.ndarray and a.dtype == dtype for a in arrays)
        or [a.ndim for a in arrays] != [2, 1] * (len(arrays) // 2)
        or type(t) is not np.ndarray
        or x.ndim != 2
        or x.shape[0] == 0
        or t.shape[0] != x.shape[0]
        or not takes_targets(t, dtype, arrays[-1].shape[0])
    ):
        return None
    grads = [np.empty(a.shape, dtype) for a in arrays]
    arrays = [np.ascontiguousarray(a) for a in arrays]  # one layout: uniform tuples
    ok = gradient_into(arrays, np.ascontiguousarray(x), as_targets(t), grads, activation == "relu")
    return grads if ok else None
