"""Numba kernel of one SGD training step of an MLP: gradient, update and loss in one call.

The book's loop body (``ch05/train_neuralnet.py``): the backprop gradient of
the mini-batch ``x[rows]`` (:func:`~._numba_train.backprop_rows`, which reads
the rows straight from the training set and skips zero pixels while that
changes nothing), ``W -= lr * dW`` in place for every parameter, and the
cross-entropy of the batch under the updated weights. The update is NumPy's
``W - lr * dW`` element by element in the parameters' dtype, so the weights
are those of the numba backend's generic step bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._numba_math import jit
from ._numba_train import ACTIVATIONS, backprop_rows, forward_rows, input_weight_gradient

__all__ = ["ACTIVATIONS", "DELTA", "bind", "takes"]

#: The book's :math:`\delta` inside ``log(y + delta)`` (``dlcore.losses.CROSS_ENTROPY_DELTA``).
DELTA = 1e-7

# Status codes of _step (the caller raises the error).
_OK, _BAD_LABEL, _BAD_ROW = 0, 1, 2


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
def _input_weight_step(x: Any, rows: Any, dA: Any, W: Any, nz: Any, counts: Any, lr: Any) -> None:
    """``W1 -= lr * (x[rows].T @ dA)`` pixel by pixel over the nonzero pixels of the batch.

    The rows holding each pixel are listed (ascending) first, so each row of
    ``dW1`` is summed in a small buffer, in the order of
    :func:`~._numba_train.input_weight_gradient`, and applied at once; rows of
    ``W1`` whose pixel is 0 throughout the batch have ``dW1 = 0`` and stay as
    they are (``w - lr * 0 == w``).
    """
    n, d = rows.shape[0], x.shape[1]
    start = np.zeros(d + 1, np.intp)
    for r in range(n):
        for g in range(counts[r]):
            start[nz[r, g] + 1] += 1
    for i in range(d):
        start[i + 1] += start[i]
    fill = start[:d].copy()
    holders = np.empty(start[d], np.intp)
    for r in range(n):
        for g in range(counts[r]):
            i = nz[r, g]
            holders[fill[i]] = r
            fill[i] += 1
    acc = np.empty(W.shape[1], W.dtype)
    for i in range(d):
        if start[i] == start[i + 1]:
            continue
        acc[:] = 0
        end = start[i + 1]
        p = start[i]
        while p + 4 <= end:  # four rows per pass, added one after the other (the same sums)
            r0, r1, r2, r3 = holders[p], holders[p + 1], holders[p + 2], holders[p + 3]
            a0, a1, a2, a3 = x[rows[r0], i], x[rows[r1], i], x[rows[r2], i], x[rows[r3], i]
            d0, d1, d2, d3 = dA[r0], dA[r1], dA[r2], dA[r3]
            for j in range(acc.shape[0]):
                acc[j] = acc[j] + a0 * d0[j] + a1 * d1[j] + a2 * d2[j] + a3 * d3[j]
            p += 4
        for q in range(p, end):
            r = holders[q]
            a = x[rows[r], i]
            for j in range(acc.shape[0]):
                acc[j] += a * dA[r, j]
        w = W[i]
        for j in range(acc.shape[0]):
            w[j] = w[j] - lr * acc[j]


@jit
def _step(  # pragma: no cover - compiled
    x: Any, t: Any, rows: Any, Ws: Any, bs: Any, dWs: Any, dbs: Any, lr: Any, relu: bool
) -> Any:
    """One step on ``x[rows]``: ``(status, loss after the update)``."""
    n = rows.shape[0]
    for r in range(n):
        if rows[r] < 0 or rows[r] >= x.shape[0]:
            return _BAD_ROW, np.nan
    tb = t[rows]
    Zs, nz, counts, dA, ok = backprop_rows(x, rows, tb, Ws, bs, dWs, dbs, relu)
    if not ok:
        return _BAD_LABEL, np.nan
    for layer in range(1, len(Ws)):
        _sgd_update(Ws[layer], dWs[layer], lr)
        _sgd_update(bs[layer], dbs[layer], lr)
    _sgd_update(bs[0], dbs[0], lr)
    if n and counts[0] < 0:  # every pixel: dW1 is dense
        input_weight_gradient(x, rows, dA, dWs[0], nz, counts)
        _sgd_update(Ws[0], dWs[0], lr)
    else:
        _input_weight_step(x, rows, dA, Ws[0], nz, counts, lr)
    forward_rows(x, rows, Ws, bs, Zs, nz, counts, relu, False)
    return _OK, _loss(Zs[len(Ws) - 1], tb, x.dtype.type(DELTA))


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
        and (
            (t.ndim == 1 and t.dtype.kind in "iu")
            or (t.ndim == 2 and t.dtype == dtype and t.shape[1] == arrays[-1].shape[0])
        )
    )


def bind(
    arrays: Sequence[np.ndarray], x: np.ndarray, t: np.ndarray, lr: float, activation: str
) -> Callable[[np.ndarray], float]:
    """``step(rows) -> loss``: one fused SGD step updating ``arrays`` in place.

    The inputs are those :func:`takes` accepts. ``step`` raises ValueError
    for a row index or a label out of range (before any weight is changed).
    """
    if t.ndim == 1 and t.dtype != np.intp:
        t = t.astype(np.intp)  # one compiled signature for every integer label dtype
    Ws, bs = tuple(arrays[0::2]), tuple(arrays[1::2])
    dWs = tuple(np.empty_like(a) for a in Ws)
    dbs = tuple(np.empty_like(a) for a in bs)
    rate, relu = x.dtype.type(lr), activation == "relu"
    classes = int(arrays[-1].shape[0])

    def step(rows: np.ndarray) -> float:
        status, loss = _step(x, t, rows, Ws, bs, dWs, dbs, rate, relu)
        if status == _OK:
            return float(loss)
        if status == _BAD_ROW:
            msg = f"batch row indices must lie in [0, {x.shape[0]}), the training set's rows"
        else:
            msg = f"a label of the batch is out of range: labels must lie in [0, {classes})"
        raise ValueError(msg)

    return step
