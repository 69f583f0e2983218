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


def predict_inplace(arrays: Sequence[np.ndarray], x: np.ndarray) -> np.ndarray:
    """The sigmoid-MLP forward pass with one new array per layer, every other op in place.

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
            _sigmoid_inplace(h)
    _softmax_inplace(h)
    return h


class NumpyBackend(Backend):
    """NumPy on the CPU (through ``array_api_compat.numpy``).

    :meth:`bind_predict` runs NumPy networks of one float32/float64 dtype in
    place (:func:`predict_inplace`); anything else goes to the generic code.
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

    def bind_predict(self, arrays: Sequence[Any]) -> PredictFn:
        if not _plain_numpy(arrays):
            return super().bind_predict(arrays)
        return layout_checked(predict_inplace, arrays)  # x: a NumPy array of the network's dtype


def _plain_numpy(arrays: Sequence[Any]) -> bool:
    """Whether every array is a NumPy array of one float32/float64 dtype."""
    dtype = getattr(arrays[0], "dtype", None)
    return dtype in _FLOATS and all(type(a) is np.ndarray and a.dtype == dtype for a in arrays)
