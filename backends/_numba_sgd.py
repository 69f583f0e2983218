"""Numba's SGD training step of an MLP: gradient, update in place and loss, with no copies.

The book's loop body (``ch05/train_neuralnet.py``) on the mini-batch
``x[rows]``: the backprop gradient of :mod:`._numba_train` (products that
skip a sparse batch's zero inputs, or BLAS's; the compiled bias, activation
and backward passes) into arrays allocated once, ``W -= lr * dW`` in place
for every parameter, and the cross-entropy of the batch under the updated
weights (a second forward pass: the row-wise pass of
:mod:`._numba_rows` for such a batch, else BLAS's products). The update
is NumPy's ``W - lr * dW`` element by element in the parameters' dtype, so
the weights are those of the numba backend's generic step bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _numba_rows as row_pass
from ._numba_math import jit
from ._numba_predict import forward_batch
from ._numba_train import ACTIVATIONS, as_targets, gradient_into, sparse_batch, takes_targets

__all__ = ["ACTIVATIONS", "DELTA", "bind", "takes"]

#: The book's :math:`\delta` inside ``log(y + delta)`` (``dlcore.losses.CROSS_ENTROPY_DELTA``).
DELTA = 1e-7


@jit
def _sgd_update(W: Any, dW: Any, lr: Any) -> None:
    """``W = W - lr * dW`` in place (two roundings, as NumPy's two operations)."""
    w, g = W.reshape(-1), dW.reshape(-1)
    for i in range(w.shape[0]):
        w[i] = w[i] - lr * g[i]


@jit
def _loss(y: Any, t: Any, delta: Any) -> Any:
    """``-sum(t * log(y + delta)) / N`` for labels ``(N,)`` or targets ``(N, k)``."""
    total = y.dtype.type(0.0)
    for r in range(y.shape[0]):
        if t.ndim == 1:
            total += np.log(y[r, t[r]] + delta)
        else:
            for j in range(y.shape[1]):
                total += t[r, j] * np.log(y[r, j] + delta)
    return -total / y.shape[0]


@jit
def _rows_in_range(rows: Any, n: int) -> bool:  # pragma: no cover - compiled
    """Whether every entry of the 1-D integer array ``rows`` lies in ``[0, n)``."""
    for r in range(rows.shape[0]):  # noqa: SIM110 - a compiled loop, not a generator
        if rows[r] < 0 or rows[r] >= n:
            return False
    return True


def takes(arrays: Sequence[Any], x: Any, t: Any, activation: str) -> bool:
    """Whether the kernel runs this network and training set (else the generic step does).

    C-contiguous NumPy arrays of one float32/float64 dtype whose shapes chain
    (``x`` 2-D with ``W1``'s rows as features), ``t`` integer labels ``(N,)``
    or targets ``(N, classes)`` of that dtype, a hidden activation of
    :data:`ACTIVATIONS`.
    """
    dtype = getattr(x, "dtype", None)
    widths = [getattr(x, "shape", (0, 0))[-1]]
    for W, b in zip(arrays[0::2], arrays[1::2], strict=True):
        if W.ndim != 2 or W.shape[0] != widths[-1] or b.shape != W.shape[1:]:
            return False
        widths.append(W.shape[1])
    return bool(
        activation in ACTIVATIONS
        and dtype in (np.float32, np.float64)
        and all(
            type(a) is np.ndarray and a.dtype == dtype and a.flags.c_contiguous
            for a in (x, *arrays)
        )
        and x.ndim == 2
        and type(t) is np.ndarray
        and t.flags.c_contiguous
        and t.shape[:1] == x.shape[:1]
        and takes_targets(t, dtype, arrays[-1].shape[0])
    )


def bind(
    arrays: Sequence[np.ndarray], x: np.ndarray, t: np.ndarray, lr: float, activation: str
) -> Callable[[np.ndarray], float]:
    """``step(rows) -> loss``: one SGD step on ``x[rows]`` updating ``arrays`` in place.

    The inputs are those :func:`takes` accepts. ``step`` raises ValueError
    for rows that are not a non-empty 1-D integer array in range, or a label
    out of range (before any weight is changed).
    """
    t = as_targets(t)
    arrays = tuple(arrays)  # the caller's arrays, updated in place: one tuple for every step
    grads = [np.empty_like(a) for a in arrays]
    pairs = tuple(zip(arrays, grads, strict=True))
    rate, delta, relu = x.dtype.type(lr), x.dtype.type(DELTA), activation == "relu"
    n, classes = x.shape[0], int(arrays[-1].shape[0])

    def step(rows: np.ndarray) -> float:
        if not (
            type(rows) is np.ndarray and rows.ndim == 1 and rows.dtype.kind in "iu" and rows.size
        ) or not _rows_in_range(rows, n):
            msg = (
                f"batch row indices must lie in [0, {n}), the training set's rows "
                "(a non-empty 1-D integer array)"
            )
            raise ValueError(msg)
        xb, tb = x[rows], t[rows]
        if not gradient_into(arrays, xb, tb, grads, relu):
            msg = f"a label of the batch is out of range: labels must lie in [0, {classes})"
            raise ValueError(msg)
        for a, g in pairs:
            _sgd_update(a, g, rate)
        if sparse_batch(arrays, xb):  # the updated weights are checked again
            return float(_loss(row_pass.forward_rows(arrays, xb, relu), tb, delta))
        return float(_loss(forward_batch(arrays, xb, relu), tb, delta))

    return step
