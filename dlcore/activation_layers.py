"""Backprop layers for seed 003's activations: Tanh, LeakyReLU, PReLU, ELU and SELU.

Each has ``forward(x)`` and ``backward(dout)`` like the book's ``Relu`` and
``Sigmoid`` (:mod:`dlcore.layers`); ``PReLU`` also learns its slope and
stores its gradient in :attr:`PReLU.dalpha` (as ``Affine`` stores ``dW``).
The derivative at the kink ``x == 0`` is the left-hand one, as ``Relu``.
"""

from __future__ import annotations

from typing import Any

from ._validate import as_array, check_float, namespace
from .activations_modern import (
    SELU_ALPHA,
    SELU_SCALE,
    _check_param,
    _number,
    elu,
    elu_grad,
    selu,
    selu_grad,
)
from .layers import _not_yet

__all__ = ["ELU", "SELU", "LeakyReLU", "PReLU", "Tanh"]


def _input(x: Any) -> tuple[Any, Any]:
    x = as_array(x)
    xp = namespace(x)
    check_float(xp, x)
    return xp, x


class Tanh:
    """Tanh layer; ``backward`` uses the stored output: ``dout * (1 - y**2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore import Tanh
    >>> layer = Tanh()
    >>> layer.forward(np.array([0.0]))
    array([0.])
    >>> layer.backward(np.array([2.0]))
    array([2.])
    """

    def __init__(self) -> None:
        self.out: Any = None

    def forward(self, x: Any) -> Any:
        """Return ``tanh(x)`` and remember it."""
        xp, x = _input(x)
        self.out = xp.tanh(x)
        return self.out

    def backward(self, dout: Any) -> Any:
        """Return :math:`dout \\cdot (1 - y^2)`."""
        if self.out is None:
            raise _not_yet(self)
        namespace(dout, self.out)
        return dout * (1.0 - self.out * self.out)


class LeakyReLU:
    """Leaky ReLU layer with a fixed slope ``alpha`` for ``x <= 0`` (default 0.01).

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore import LeakyReLU
    >>> layer = LeakyReLU(alpha=0.1)
    >>> layer.forward(np.array([-2.0, 3.0]))
    array([-0.2,  3. ])
    >>> layer.backward(np.array([1.0, 1.0]))
    array([0.1, 1. ])
    """

    def __init__(self, alpha: float = 0.01) -> None:
        self.alpha = _number(alpha, "alpha")
        self.mask: Any = None

    def forward(self, x: Any) -> Any:
        """Return ``x`` where ``x > 0``, else ``alpha * x``; remember where ``x <= 0``."""
        xp, x = _input(x)
        self.mask = x <= 0
        return xp.where(self.mask, self.alpha * x, x)

    def backward(self, dout: Any) -> Any:
        """Return ``dout`` scaled by ``alpha`` where ``x <= 0``."""
        if self.mask is None:
            raise _not_yet(self)
        xp = namespace(dout, self.mask)
        return xp.where(self.mask, self.alpha * dout, dout)


class PReLU:
    """Parametric ReLU layer: a Leaky ReLU whose slope ``alpha`` is learned.

    Parameters
    ----------
    alpha : float or array
        The slope for ``x <= 0``: a number shared by every unit, or an
        array broadcastable to the input, e.g. one slope per unit of shape
        ``(units,)`` (what :class:`dlcore.MultiLayerNet` keeps in
        ``params["alpha1"]``, ...). He et al. (2015) start at 0.25.

    Attributes
    ----------
    dalpha : array
        After ``backward``: :math:`\\partial L / \\partial \\alpha`, with
        alpha's shape (0-d for a number), summed over the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore import PReLU
    >>> layer = PReLU(np.array([0.25, 0.5]))
    >>> layer.forward(np.array([[-2.0, -2.0], [4.0, -1.0]]))
    array([[-0.5, -1. ],
           [ 4. , -0.5]])
    >>> layer.backward(np.ones((2, 2)))
    array([[0.25, 0.5 ],
           [1.  , 0.5 ]])
    >>> layer.dalpha
    array([-2., -3.])
    """

    def __init__(self, alpha: Any = 0.25) -> None:
        self.alpha = alpha if hasattr(alpha, "shape") else _number(alpha, "alpha")
        self.x: Any = None
        self.dalpha: Any = None

    def forward(self, x: Any) -> Any:
        """Return ``x`` where ``x > 0``, else ``alpha * x``; remember ``x``."""
        xp, x = _input(x)
        self.alpha = _check_param(xp, self.alpha, x, "alpha")
        self.x = x
        return xp.where(x > 0, x, self.alpha * x)

    def backward(self, dout: Any) -> Any:
        """Store :attr:`dalpha`; return ``dout`` scaled by ``alpha`` where ``x <= 0``."""
        if self.x is None:
            raise _not_yet(self)
        xp = namespace(dout, self.x)
        pos = self.x > 0
        per_entry = xp.where(pos, xp.zeros_like(dout), self.x * dout)
        shape = tuple(getattr(self.alpha, "shape", ()))
        lead = per_entry.ndim - len(shape)
        if lead:
            per_entry = xp.sum(per_entry, axis=tuple(range(lead)))
        ones = tuple(i for i, n in enumerate(shape) if n == 1 and per_entry.shape[i] != 1)
        self.dalpha = xp.sum(per_entry, axis=ones, keepdims=True) if ones else per_entry
        return xp.where(pos, dout, self.alpha * dout)


class ELU:
    """ELU layer: ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)`` (default ``alpha=1``).

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore import ELU
    >>> layer = ELU()
    >>> layer.forward(np.array([0.0, 2.0]))
    array([0., 2.])
    >>> layer.backward(np.array([1.0, 1.0]))
    array([1., 1.])
    """

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = _number(alpha, "alpha")
        self.x: Any = None

    def forward(self, x: Any) -> Any:
        """Return ``elu(x, alpha=alpha)``; remember ``x``."""
        _, self.x = _input(x)
        return elu(self.x, alpha=self.alpha)

    def backward(self, dout: Any) -> Any:
        """Return ``dout * elu_grad(x, alpha=alpha)``."""
        if self.x is None:
            raise _not_yet(self)
        namespace(dout, self.x)
        return dout * elu_grad(self.x, alpha=self.alpha)


class SELU:
    """SELU layer; the defaults are the self-normalising constants (PyTorch, Keras).

    ``SELU(alpha=a, scale=1.0)`` is seed 003's :math:`\\mathrm{SELU}(x; \\alpha)`;
    see :func:`dlcore.selu`.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore import SELU
    >>> layer = SELU(alpha=2.0, scale=1.0)
    >>> layer.forward(np.array([1.0, 0.0]))
    array([1., 0.])
    >>> layer.backward(np.array([1.0, 1.0]))
    array([1., 2.])
    """

    def __init__(self, alpha: float = SELU_ALPHA, scale: float = SELU_SCALE) -> None:
        self.alpha = _number(alpha, "alpha")
        self.scale = _number(scale, "scale")
        self.x: Any = None

    def forward(self, x: Any) -> Any:
        """Return ``selu(x, alpha=alpha, scale=scale)``; remember ``x``."""
        _, self.x = _input(x)
        return selu(self.x, alpha=self.alpha, scale=self.scale)

    def backward(self, dout: Any) -> Any:
        """Return ``dout * selu_grad(x, alpha=alpha, scale=scale)``."""
        if self.x is None:
            raise _not_yet(self)
        namespace(dout, self.x)
        return dout * selu_grad(self.x, alpha=self.alpha, scale=self.scale)
