"""Generic body of :meth:`Backend.mlp_numerical_gradient`: the ``"batched"`` method, Array-API code.

Layers are numbered from 0 here: layer ``l`` maps ``Z[l]`` (``Z[0] = x``) to
the pre-activation ``A[l] = Z[l] @ W[l] + b[l]`` and ``Z[l + 1] = h(A[l])``;
``A[n - 1]`` feeds the softmax. A bias is a weight whose input is 1, so each
layer's parameters form one grid ``[W; b]`` of shape ``(inputs + 1, units)``
and the grid's row ``i`` multiplies input ``i`` (or 1).

Perturbing ``[W; b][i, j]`` by ``s`` (the float64 step ``(w + h) - w`` or
``w - (w - h)``) moves ``A[l][:, j]`` by ``s * Z[l][:, i]`` and nothing else
in layer ``l``. The per-sample losses of every perturbed network are built
from the cached activations on a stacked axis, a chunk of the grid at a time:
the arrays of one chunk have shape ``(rows, batch, columns, ...)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from array_api_compat import device as device_of

from dlcore.network import ACTIVATIONS, CROSS_ENTROPY_DELTA

__all__ = ["batched_gradient"]

#: Relative bound on the truncated exponential series of the moment path.
_TAYLOR_TOL = 2.0**-56
#: Largest |dz * W| for which the moment path is used (else the direct sum).
_TAYLOR_MAX_EPS = 0.5
_TAYLOR_MAX_ORDER = 16
#: Live temporaries per element of a chunk, for the memory budget.
_TEMPORARIES = 6


def _taylor_order(eps: float) -> int | None:
    """Smallest order M whose series remainder is below ``_TAYLOR_TOL`` at ``|x| <= eps``."""
    if eps > _TAYLOR_MAX_EPS:
        return None
    for m in range(_TAYLOR_MAX_ORDER + 1):
        if eps ** (m + 1) * math.exp(2 * eps) / math.factorial(m + 1) <= _TAYLOR_TOL:
            return m
    return None  # pragma: no cover - eps <= 0.5 always meets the bound by order 16


def _rows_loss(xp: Any, a: Any, t: Any) -> Any:
    """Per-row softmax cross-entropy over the last axis (as softmax + cross_entropy_error)."""
    e = xp.exp(a - xp.max(a, axis=-1, keepdims=True))
    y = e / xp.sum(e, axis=-1, keepdims=True)
    return -xp.sum(t * xp.log(y + CROSS_ENTROPY_DELTA), axis=-1)


class _Network:
    """Float64 parameters, targets and the cached forward pass."""

    def __init__(
        self,
        xp: Any,
        arrays: Sequence[Any],
        x: Any,
        t: Any,
        activation: str,
    ) -> None:
        f64 = xp.float64
        self.xp = xp
        self.dev = device_of(x)
        self.n = len(arrays) // 2
        self.W = [xp.astype(w, f64) for w in arrays[0::2]]
        self.b = [xp.astype(b, f64) for b in arrays[1::2]]
        self.activation = activation
        self.act: Callable[[Any], Any] = ACTIVATIONS[activation]
        x = xp.astype(x, f64)
        self.N = int(x.shape[0])
        C = int(self.W[-1].shape[1])
        classes = xp.arange(C, device=self.dev)
        if xp.isdtype(t.dtype, "integral"):
            self.T = xp.astype(xp.expand_dims(t, axis=1) == classes, f64)
            labels: Any = t
        else:
            self.T = xp.astype(t, f64)
            one_hot = bool(xp.all((self.T == 0.0) | (self.T == 1.0))) and bool(
                xp.all(xp.sum(self.T, axis=1) == 1.0)
            )
            labels = xp.argmax(self.T, axis=1) if one_hot else None
        self.Z = [x]
        self.A: list[Any] = []
        for k in range(self.n):
            a = self.Z[-1] @ self.W[k] + self.b[k]
            self.A.append(a)
            if k < self.n - 1:
                self.Z.append(self.act(a))
        out = self.A[-1]
        self.E = xp.exp(out - xp.max(out, axis=1, keepdims=True))  # softmax numerators
        self.labels = labels
        if labels is not None:
            mask = xp.expand_dims(labels, axis=1) == classes
            self.E_label = xp.sum(xp.where(mask, self.E, xp.zeros_like(self.E)), axis=1)
            self.E_label = xp.expand_dims(self.E_label, axis=1)  # (N, 1)
        self._moments: list[Any] = []
        self.ZT: Any = None  # (inputs + 1, N) of the layer being differentiated

    def moments(self, order: int) -> list[Any]:
        """``[sum_k E[n, k] * W_out[j, k]**m / m! for m in 0..order]``, each ``(N, H)``."""
        xp, w_out = self.xp, self.W[-1]
        while len(self._moments) <= order:
            m = len(self._moments)
            pw = w_out**m if m else xp.ones_like(w_out)
            self._moments.append((self.E @ xp.permute_dims(pw, (1, 0))) / math.factorial(m))
        return self._moments[: order + 1]

    def width_above(self, layer: int) -> int:
        """Elements per (sample, parameter) of the dense path of ``layer``."""
        return max(int(w.shape[1]) for w in self.W[layer + 1 :]) if layer < self.n - 1 else 0


def _sigmoid_tanh(xp: Any, v: Any) -> Any:
    """``sigmoid(v) = (1 + tanh(v / 2)) / 2``: one transcendental, no overflow."""
    return 0.5 * xp.tanh(0.5 * v) + 0.5


def _dz(net: _Network, layer: int, cols: slice, delta: Any) -> Any:
    """Change of ``Z[layer + 1][:, cols]`` when ``A[layer][:, cols]`` moves by ``delta``.

    Both terms use the same formula, so ``delta == 0`` gives exactly 0.
    """
    xp = net.xp
    a = net.A[layer][:, cols]
    if net.activation == "sigmoid":
        return _sigmoid_tanh(xp, a + delta) - _sigmoid_tanh(xp, a)
    return net.act(a + delta) - net.act(a)


def _chunk_loss_diff(net: _Network, layer: int, zt: Any, steps: Any, cols: slice) -> Any:
    """``sum_n (loss_n(w + h) - loss_n(w - h))`` for a block of the parameter grid.

    ``zt`` ``(R, N)`` holds the inputs the block's rows multiply, ``steps``
    ``(2, R, J)`` the signed steps ``+((w + h) - w)`` and ``-(w - (w - h))``.
    """
    xp, n = net.xp, net.n
    delta = zt[None, :, :, None] * steps[:, :, None, :]  # (2, R, N, J)
    if layer == n - 1:  # the output layer: one logit column changes
        C = int(net.W[-1].shape[1])
        j = xp.arange(cols.start, cols.stop, device=net.dev)
        onehot = xp.astype(xp.expand_dims(j, axis=1) == xp.arange(C, device=net.dev), xp.float64)
        a = net.A[-1][:, None, :] + delta[..., None] * onehot  # (2, R, N, J, C)
        loss = _rows_loss(xp, a, net.T[:, None, :])
        return xp.sum(loss[0, ...] - loss[1, ...], axis=1)
    dz = _dz(net, layer, cols, delta)
    if layer == n - 2 and net.labels is not None:
        eps = float(xp.max(xp.abs(dz))) * float(xp.max(xp.abs(net.W[-1][cols, :])))
        order = _taylor_order(eps)
        if order is not None:
            return _moment_diff(net, cols, dz, order)
    w_rows = net.W[layer + 1][cols, :]  # (J, H')
    a = net.A[layer + 1][:, None, :] + dz[..., None] * w_rows  # (2, R, N, J, H')
    for k in range(layer + 2, n):
        a = net.act(a) @ net.W[k] + net.b[k]
    loss = _rows_loss(xp, a, net.T[:, None, :])
    return xp.sum(loss[0, ...] - loss[1, ...], axis=1)


def _moment_diff(net: _Network, cols: slice, dz: Any, order: int) -> Any:
    """Loss differences of the layer below the softmax, from moments of the output weights.

    The logits move by ``dz * W_out[j, :]``, so the softmax denominator is
    ``sum_k E[n, k] exp(dz W_out[j, k]) = sum_m dz**m M_m[n, j]`` (the series
    cut at ``order``) and the label's numerator is ``E[n, c] exp(dz W_out[j, c])``.
    With one-hot targets ``loss_+ - loss_- = log((y_- + delta) / (y_+ + delta))``.
    """
    xp = net.xp
    mom = net.moments(order)
    s = mom[order][:, cols]
    for m in range(order - 1, -1, -1):
        s = mom[m][:, cols] + dz * s
    w_label = xp.permute_dims(xp.take(net.W[-1][cols, :], net.labels, axis=1), (1, 0))  # (N, J)
    y = net.E_label * xp.exp(dz * w_label) / s + CROSS_ENTROPY_DELTA  # (2, R, N, J)
    return xp.sum(xp.log(y[1, ...] / y[0, ...]), axis=1)


def batched_gradient(
    xp: Any,
    arrays: Sequence[Any],
    x: Any,
    t: Any,
    h: float,
    activation: str,
    max_bytes: int,
) -> list[Any]:
    """Gradients ``[dW1, db1, ...]`` of ``arrays``; see :func:`dlcore.mlp_numerical_gradient`."""
    net = _Network(xp, arrays, x, t, activation)
    N, f64 = net.N, xp.float64
    C = int(net.W[-1].shape[1])
    grads: list[Any] = []
    for layer in range(net.n):
        grid = xp.concat([net.W[layer], xp.expand_dims(net.b[layer], axis=0)], axis=0)
        steps = ((grid + h) - grid, grid - (grid - h))  # the steps the book's loop takes
        ones = xp.ones((1, N), dtype=f64, device=net.dev)
        net.ZT = xp.concat([xp.permute_dims(net.Z[layer], (1, 0)), ones], axis=0)  # (D+1, N)
        rows_in, units = int(grid.shape[0]), int(grid.shape[1])
        # An input that is 0 for every sample leaves the loss unchanged: its row is exactly 0.
        used = xp.any(net.ZT != 0.0, axis=1)
        rows = xp.nonzero(used)[0]
        n_used = int(rows.shape[0])

        if layer == net.n - 1:
            per_param = N * C
        elif layer == net.n - 2 and net.labels is not None:
            per_param = N
        else:
            per_param = N * net.width_above(layer)
        per_param *= 2 * 8 * _TEMPORARIES  # both signs
        n_cols = max(1, min(units, max_bytes // per_param))
        n_rows = max(1, max_bytes // (per_param * n_cols))

        zt = xp.take(net.ZT, rows, axis=0)  # (K, N)
        st = xp.stack([xp.take(steps[0], rows, axis=0), -xp.take(steps[1], rows, axis=0)])
        blocks = []
        for r0 in range(0, n_used, n_rows):
            r1 = min(r0 + n_rows, n_used)
            row_block = [
                _chunk_loss_diff(net, layer, zt[r0:r1, :], st[:, r0:r1, c], c)
                for c in (slice(c0, min(c0 + n_cols, units)) for c0 in range(0, units, n_cols))
            ]
            blocks.append(xp.concat(row_block, axis=1))
        if blocks:
            used_grad = xp.concat(blocks, axis=0) / N / (2 * h)
        else:
            used_grad = xp.zeros((0, units), dtype=f64, device=net.dev)
        if n_used == rows_in:
            grad = used_grad
        else:  # scatter the used rows back; unused rows are exactly 0
            pos = xp.cumulative_sum(xp.astype(used, xp.int64)) - 1
            pos = xp.clip(pos, 0, max(n_used - 1, 0))
            if n_used:
                grad = xp.take(used_grad, pos, axis=0)
                grad = xp.where(xp.expand_dims(used, axis=1), grad, xp.zeros_like(grad))
            else:
                grad = xp.zeros((rows_in, units), dtype=f64, device=net.dev)
        grads.append(xp.astype(grad[: rows_in - 1, :], arrays[2 * layer].dtype))
        grads.append(xp.astype(grad[rows_in - 1, :], arrays[2 * layer + 1].dtype))
    return grads
