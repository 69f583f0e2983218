"""The default backend: NumPy arrays in host memory, with an in-place forward pass."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._base import Backend, PredictFn, layout_checked

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_HALF = {"f": np.float32(0.5), "d": np.float64(0.5)}


def _sigmoid_inplace(a: np.ndarray) -> None:
    """``a = 1 / (1 + exp(-a))`` in place, as ``(1 + tanh(a / 2)) / 2`` (never overflows)."""
    half = _HALF[a.dtype.char]
    np.multiply(a, half, a)
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


def predict_inplace(arrays: Sequence[np.ndarray], x: np.ndarray, relu: bool = False) -> np.ndarray:
    """The MLP forward pass with one new array per layer, every other op in place.

    The book's ``predict`` allocates a temporary for each ``np.dot``, ``+ b``,
    ``-x``, ``np.exp``, ``1 +`` and ``1 /``; here each layer is one matrix
    product whose result the bias, the sigmoid (tanh form) and the softmax
    then overwrite.
    """
    last = len(arrays) - 2
    h = x
    for i in range(0, len(arrays), 2):
        h = np.matmul(h, arrays[i])
        np.add(h, arrays[i + 1], h)
        if i < last:
            if relu:
                h[h <= 0] = 0  # the book's mask (NaN stays)
            else:
                _sigmoid_inplace(h)
    _softmax_inplace(h)
    return h


def mlp_gradient_inplace(
    arrays: Sequence[np.ndarray], x: np.ndarray, t: np.ndarray, relu: bool
) -> list[np.ndarray]:
    """The book's backprop with one new array per product, every other op in place.

    ``t`` is integer labels in range or float targets of ``x``'s shape and
    dtype (checked by the caller). Forward: ``Z_l = act(Z_{l-1} @ W_l + b_l)``
    and the softmax; backward: ``dA = (y - t) / N``, ``dW = Z.T @ dA``,
    ``db = sum(dA)``, ``dZ = (dA @ W.T) * act'``.
    """
    n_layers = len(arrays) // 2
    Zs = [x]
    for i in range(0, len(arrays), 2):
        a = np.matmul(Zs[-1], arrays[i])
        np.add(a, arrays[i + 1], a)
        if i < len(arrays) - 2:
            if relu:
                a[a <= 0] = 0  # the book's mask (NaN stays)
            else:
                _sigmoid_inplace(a)
        Zs.append(a)
    dA = Zs.pop()
    _softmax_inplace(dA)
    n = x.shape[0]
    if t.ndim == 1:
        dA[np.arange(n), t] -= 1
    else:
        np.subtract(dA, t, dA)
    np.divide(dA, dA.dtype.type(n), dA)
    grads: list[np.ndarray] = [dA] * len(arrays)
    for layer in range(n_layers - 1, -1, -1):
        Z = Zs[layer]
        grads[2 * layer] = np.matmul(Z.T, dA)
        grads[2 * layer + 1] = np.add.reduce(dA, axis=0)
        if layer:
            dZ = np.matmul(dA, arrays[2 * layer].T)
            if relu:
                dZ[Z <= 0] = 0
            else:
                np.multiply(dZ, 1 - Z, dZ)
                np.multiply(dZ, Z, dZ)
            dA = dZ
    return grads


class NumpyBackend(Backend):
    """NumPy on the CPU (through ``array_api_compat.numpy``).

    :meth:`bind_predict` and :meth:`mlp_gradient` run NumPy networks of one
    float32/float64 dtype in place (:func:`predict_inplace`,
    :func:`mlp_gradient_inplace`); anything else goes to the generic code.
    """

    name = "numpy"
    install_hint = 'pip install "numpy>=2"'
    description = "NumPy arrays on the CPU (default)"

    def _load(self) -> Any:
        import array_api_compat.numpy as xp

        return xp

    @property
    def device(self) -> Any:
        return "cpu"

    def bind_predict(self, arrays: Sequence[Any], *, activation: str = "sigmoid") -> PredictFn:
        if activation not in ("sigmoid", "relu") or not _plain_numpy(arrays):
            return super().bind_predict(arrays, activation=activation)
        relu = activation == "relu"

        def run(arrays: Sequence[Any], x: Any) -> Any:
            return predict_inplace(arrays, x, relu)  # x: a NumPy array of the network's dtype

        return layout_checked(run, arrays)

    def mlp_gradient(
        self, arrays: Sequence[Any], x: Any, t: Any, *, activation: str = "sigmoid"
    ) -> list[Any]:
        if (
            activation in ("sigmoid", "relu")
            and _plain_numpy([*arrays, x])
            and _targets_ok(t, x, arrays[-1].shape[0])
        ):
            return mlp_gradient_inplace(arrays, x, t, activation == "relu")
        return super().mlp_gradient(arrays, x, t, activation=activation)


def _plain_numpy(arrays: Sequence[Any]) -> bool:
    """Whether every array is a NumPy array of one float32/float64 dtype."""
    dtype = getattr(arrays[0], "dtype", None)
    return dtype in _FLOATS and all(type(a) is np.ndarray and a.dtype == dtype for a in arrays)


def _targets_ok(t: Any, x: np.ndarray, classes: int) -> bool:
    """Integer labels ``(N,)`` in range, or targets ``(N, classes)`` of ``x``'s dtype."""
    if type(t) is not np.ndarray or x.ndim != 2 or not x.shape[0] or t.shape[:1] != x.shape[:1]:
        return False
    if t.ndim == 2:
        return t.dtype == x.dtype and t.shape[1] == classes
    return t.ndim == 1 and t.dtype.kind in "iu" and t.min() >= 0 and t.max() < classes
