"""Backprop layers of the book's chapter 5, each with ``forward`` and ``backward``.

Every layer stores what its backward pass needs during ``forward`` and returns
the gradient with respect to its inputs from ``backward(dout)``. The code is
written against the Array API standard (the namespace comes from the inputs),
so the layers run on every backend; in-place updates of the book
(``out[mask] = 0``) are replaced by ``xp.where`` so immutable arrays (JAX)
work too.
"""

from __future__ import annotations

import math
from typing import Any

from array_api_compat import device

from ._validate import as_array, check_float, namespace
from .activations import sigmoid, softmax
from .losses import cross_entropy_error

__all__ = ["AddLayer", "Affine", "MulLayer", "Relu", "Sigmoid", "SoftmaxWithLoss"]


def _not_yet(layer: object) -> RuntimeError:
    msg = f"{type(layer).__name__}.backward was called before forward; call forward first"
    return RuntimeError(msg)


def _operand(value: Any, name: str) -> Any:
    """A Python number stays a number (the book's apple example); anything else is an array."""
    if isinstance(value, bool):
        msg = f"`{name}` must be a number or an array, got a bool"
        raise TypeError(msg)
    if isinstance(value, (int, float)):
        return value
    return as_array(value, name)


def _same_library(*values: Any) -> None:
    """Raise the clear mixed-library error when arrays (not Python numbers) are mixed."""
    arrays = [v for v in values if not isinstance(v, (int, float))]
    if len(arrays) > 1:
        namespace(*arrays)


class MulLayer:
    """Multiplication node ``out = x * y`` (the book's apple example).

    ``backward(dout)`` returns ``(dout * y, dout * x)``: each input's gradient
    is the upstream gradient times the *other* input.

    Examples
    --------
    >>> from dlcore import MulLayer
    >>> mul_apple = MulLayer()
    >>> mul_apple.forward(100, 2)
    200
    >>> mul_apple.backward(1)
    (2, 100)
    """

    def __init__(self) -> None:
        self.x: Any = None
        self.y: Any = None

    def forward(self, x: Any, y: Any) -> Any:
        """Return ``x * y`` and remember both inputs."""
        x, y = _operand(x, "x"), _operand(y, "y")
        _same_library(x, y)
        self.x, self.y = x, y
        return x * y

    def backward(self, dout: Any) -> tuple[Any, Any]:
        """Return ``(dout * y, dout * x)``."""
        if self.x is None:
            raise _not_yet(self)
        dout = _operand(dout, "dout")
        return dout * self.y, dout * self.x


class AddLayer:
    """Addition node ``out = x + y``; ``backward`` passes ``dout`` to both inputs.

    Examples
    --------
    >>> from dlcore import AddLayer
    >>> add = AddLayer()
    >>> add.forward(200, 450)
    650
    >>> add.backward(1.1)
    (1.1, 1.1)
    """

    def forward(self, x: Any, y: Any) -> Any:
        """Return ``x + y``."""
        x, y = _operand(x, "x"), _operand(y, "y")
        _same_library(x, y)
        return x + y

    def backward(self, dout: Any) -> tuple[Any, Any]:
        """Return ``(dout, dout)`` (times 1, as the book writes it)."""
        dout = _operand(dout, "dout")
        return dout * 1, dout * 1


class Relu:
    """ReLU layer: ``forward`` zeroes ``x <= 0``, ``backward`` zeroes ``dout`` there.

    The mask is ``x <= 0`` as in the book, so the derivative at 0 is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore import Relu
    >>> layer = Relu()
    >>> layer.forward(np.array([[1.0, -0.5], [-2.0, 3.0]]))
    array([[1., 0.],
           [0., 3.]])
    >>> layer.backward(np.ones((2, 2)))
    array([[1., 0.],
           [0., 1.]])
    """

    def __init__(self) -> None:
        self.mask: Any = None

    def forward(self, x: Any) -> Any:
        """Return ``max(x, 0)`` and remember where ``x <= 0``."""
        x = as_array(x)
        xp = namespace(x)
        check_float(xp, x)
        self.mask = x <= 0
        return xp.where(self.mask, xp.zeros_like(x), x)

    def backward(self, dout: Any) -> Any:
        """Return ``dout`` with the entries where ``x <= 0`` set to 0."""
        if self.mask is None:
            raise _not_yet(self)
        xp = namespace(dout, self.mask)
        return xp.where(self.mask, xp.zeros_like(dout), dout)


class Sigmoid:
    """Sigmoid layer; ``backward`` uses the stored output: ``dout * (1 - y) * y``.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore import Sigmoid
    >>> layer = Sigmoid()
    >>> layer.forward(np.array([0.0]))
    array([0.5])
    >>> layer.backward(np.array([1.0]))
    array([0.25])
    """

    def __init__(self) -> None:
        self.out: Any = None

    def forward(self, x: Any) -> Any:
        """Return :math:`y = 1 / (1 + e^{-x})` and remember it."""
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout: Any) -> Any:
        """Return :math:`\\partial L/\\partial x = dout \\cdot (1 - y) \\, y`."""
        if self.out is None:
            raise _not_yet(self)
        namespace(dout, self.out)
        return dout * (1.0 - self.out) * self.out


class Affine:
    """Affine layer ``out = x @ W + b`` for a batch of inputs of any shape.

    Parameters
    ----------
    W : array
        Shape ``(D, M)``.
    b : array
        Shape ``(M,)``.

    Notes
    -----
    As in the book, an input of shape ``(N, d1, d2, ...)`` is flattened to
    ``(N, D)`` with ``D = d1 * d2 * ...``, and ``backward`` returns ``dx`` in
    the original shape. A 1-D input is one sample. ``backward`` stores

    .. math:: \\frac{\\partial L}{\\partial W} = x^T \\, dout, \\quad
              \\frac{\\partial L}{\\partial b} = \\sum_n dout_n

    in :attr:`dW` and :attr:`db` and returns :math:`dout \\, W^T`.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore import Affine
    >>> layer = Affine(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -0.5]))
    >>> layer.forward(np.array([[1.0, 1.0]]))
    array([[4.5, 5.5]])
    >>> layer.backward(np.array([[1.0, 0.0]]))
    array([[1., 3.]])
    >>> layer.dW, layer.db
    (array([[1., 0.],
           [1., 0.]]), array([1., 0.]))
    """

    def __init__(self, W: Any, b: Any) -> None:
        W, b = as_array(W, "W"), as_array(b, "b")
        xp = namespace(W, b)
        check_float(xp, W, "W")
        check_float(xp, b, "b")
        if W.ndim != 2 or b.ndim != 1 or b.shape[0] != W.shape[1]:
            msg = (
                f"Affine needs W of shape (D, M) and b of shape (M,), got W {tuple(W.shape)} "
                f"and b {tuple(b.shape)}"
            )
            raise ValueError(msg)
        self.W = W
        self.b = b
        self.x: Any = None
        self.original_x_shape: tuple[int, ...] | None = None
        self.dW: Any = None
        self.db: Any = None

    def forward(self, x: Any) -> Any:
        """Return ``x.reshape(N, -1) @ W + b`` (``x @ W + b`` for one 1-D sample)."""
        x = as_array(x)
        xp = namespace(x, self.W)
        check_float(xp, x)
        shape = tuple(x.shape)
        features = math.prod(shape[1:]) if x.ndim >= 2 else (shape[0] if shape else 0)
        if x.ndim == 0 or features != self.W.shape[0]:
            msg = (
                f"Affine input must have {self.W.shape[0]} features per sample (W has shape "
                f"{tuple(self.W.shape)}), got shape {shape}"
            )
            raise ValueError(msg)
        self.original_x_shape = shape
        self.x = xp.reshape(x, (1, features)) if x.ndim == 1 else xp.reshape(x, (shape[0], -1))
        out = self.x @ self.W + self.b
        return out[0, ...] if x.ndim == 1 else out

    def backward(self, dout: Any) -> Any:
        """Store ``dW``, ``db``; return ``dx`` shaped like the forward input."""
        if self.x is None or self.original_x_shape is None:
            raise _not_yet(self)
        xp = namespace(dout, self.W)
        dout2 = xp.reshape(dout, (1, -1)) if dout.ndim == 1 else dout
        if tuple(dout2.shape) != (self.x.shape[0], self.W.shape[1]):
            msg = (
                f"`dout` must have the forward output's shape "
                f"{(self.x.shape[0], self.W.shape[1])}, got {tuple(dout.shape)}"
            )
            raise ValueError(msg)
        dx = dout2 @ self.W.T
        self.dW = self.x.T @ dout2
        self.db = xp.sum(dout2, axis=0)
        return xp.reshape(dx, self.original_x_shape)


class SoftmaxWithLoss:
    """Softmax followed by the cross-entropy error, with the book's shortcut backward.

    ``t`` is one-hot (floating, same shape as ``x``) or integer labels
    (shape ``(N,)``). ``backward(dout=1)`` returns :math:`dout (y - t) / N`.

    Notes
    -----
    The loss keeps the book's :math:`\\delta = 10^{-7}` inside the log; the
    backward pass is the exact gradient of the loss *without* it, so it
    differs from a numerical gradient of the loss by up to about
    :math:`\\delta / (N y_t)` per entry.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore import SoftmaxWithLoss
    >>> layer = SoftmaxWithLoss()
    >>> round(float(layer.forward(np.array([[0.0, 0.0]]), np.array([1]))), 6)
    0.693147
    >>> layer.backward()
    array([[ 0.5, -0.5]])
    """

    def __init__(self) -> None:
        self.loss: Any = None
        self.y: Any = None
        self.t: Any = None

    def forward(self, x: Any, t: Any) -> Any:
        """Return the mean cross-entropy of ``softmax(x)`` against ``t`` (a 0-d array)."""
        x = as_array(x)
        t = as_array(t, "t", float_default=False)
        namespace(x, t)
        if x.ndim not in (1, 2):
            msg = f"SoftmaxWithLoss takes scores of shape (N, classes) or (classes,), got {x.shape}"
            raise ValueError(msg)
        self.y = softmax(x)
        self.t = t
        self.loss = cross_entropy_error(self.y, t)
        return self.loss

    def backward(self, dout: Any = 1) -> Any:
        """Return :math:`dout \\cdot (y - t) / N` (``t`` one-hot or labels)."""
        if self.y is None:
            raise _not_yet(self)
        xp = namespace(self.y, self.t)
        y, t = self.y, self.t
        batch_size = y.shape[0] if y.ndim == 2 else 1
        if xp.isdtype(t.dtype, "integral"):
            classes = xp.arange(y.shape[-1], dtype=t.dtype, device=device(y))
            one_hot = xp.astype(xp.expand_dims(t, axis=-1) == classes, y.dtype)
            dx = (y - one_hot) / batch_size
        else:
            dx = (y - t) / batch_size
        return dx * dout
