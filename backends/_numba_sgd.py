"""Numba kernel of one SGD training step of an MLP: gradient, update and loss in one call.

The book's loop body (``ch05/train_neuralnet.py``) on the mini-batch
``x[rows]``, read straight from the training set: the backprop gradient (the
kernels of :mod:`._numba_train`, which skip the zero pixels while that changes
nothing), ``W -= lr * dW`` in place for every parameter, and the
cross-entropy of the batch under the updated weights (a second forward pass
over the nonzero pixels the first one found). The update is NumPy's
``W - lr * dW`` element by element in the parameters' dtype, so the weights
are those of the numba backend's generic step bit for bit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._numba_math import jit, require_float
from ._numba_train import (
    ACTIVATIONS,
    backprop_rows,
    forward_rows,
    input_weight_gradient,
)

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
def _step(  # pragma: no cover - compiled
    x: Any, t: Any, rows: Any, Ws: Any, bs: Any, dWs: Any, dbs: Any, lr: Any, relu: bool
) -> Any:
    """One step on ``x[rows]``: ``(status, loss after the update)``."""
    require_float(x)
    require_float(Ws[0])
    n = rows.shape[0]
    for r in range(n):
        if rows[r] < 0 or rows[r] >= x.shape[0]:
            return _BAD_ROW, np.nan
    tb = t[rows]
    Zs = [np.empty((n, W.shape[1]), x.dtype) for W in Ws]
    nz, counts = np.empty((n, x.shape[1]), np.intp), np.empty(n, np.intp)
    forward_rows(x, rows, Ws, bs, Zs, nz, counts, relu, True)
    dA, ok = backprop_rows(tb, Ws, dWs, dbs, Zs, counts, relu)
    if not ok:
        return _BAD_LABEL, np.nan
    input_weight_gradient(x, rows, dA, dWs[0], nz, counts)  # over the nonzero pixels
    for layer in range(len(Ws)):
        _sgd_update(Ws[layer], dWs[layer], lr)
        _sgd_update(bs[layer], dbs[layer], lr)
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
