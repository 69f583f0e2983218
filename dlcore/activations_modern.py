"""The activations of seed 003's lecture: tanh, Leaky ReLU, PReLU, ELU and SELU.

Written against the Array API standard like :mod:`dlcore.activations`: the
namespace comes from the input, a floating dtype is kept, every function is
element-wise, and each ``*_grad`` is the derivative with respect to the
pre-activation ``x``, the left-hand one at the kink ``x == 0``.

Two definitions of SELU are in use. Seed 003 writes
:math:`\\mathrm{SELU}(x; \\alpha) = x` for :math:`x \\ge 0` and
:math:`\\alpha (e^x - 1)` otherwise, which is ELU with a free
:math:`\\alpha`: ``selu(x, alpha=a, scale=1.0)``. PyTorch
(``torch.nn.SELU``), Keras (``keras.activations.selu``) and JAX use the
self-normalising SELU of Klambauer et al. (2017), which also multiplies by
:math:`\\lambda`; those constants are the defaults here, so ``selu(1.0)`` is
``1.0507`` as in those libraries.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from ._validate import as_array, check_float, namespace
from .activations import _prepare

__all__ = [
    "SELU_ALPHA",
    "SELU_SCALE",
    "elu",
    "elu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "prelu",
    "prelu_grad",
    "selu",
    "selu_grad",
    "tanh",
    "tanh_grad",
]

# Klambauer et al. (2017), "Self-Normalizing Neural Networks", eq. (14).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _number(value: Any, name: str) -> float:
    """A finite real Python number (not a bool), for the fixed constants of an activation."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        msg = f"`{name}` must be a number such as 0.01, got {type(value).__name__} {value!r}"
        raise TypeError(msg)
    if not math.isfinite(value):
        msg = f"`{name}` must be a finite number, got {value!r}"
        raise ValueError(msg)
    return float(value)


def tanh(x: Any, /) -> Any:
    """Hyperbolic tangent :math:`(e^x - e^{-x}) / (e^x + e^{-x})`.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.tanh(np.array([0.0, 1.0]))
    array([0.        , 0.76159416])
    """
    xp, x = _prepare(x)
    return xp.tanh(x)


def tanh_grad(x: Any, /) -> Any:
    """Derivative of tanh, ``1 - tanh(x)**2``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.tanh_grad(np.array([0.0]))
    array([1.])
    """
    xp, x = _prepare(x)
    t = xp.tanh(x)
    return 1 - t * t


def leaky_relu(x: Any, /, *, alpha: float = 0.01) -> Any:
    """Leaky ReLU: ``x`` where ``x > 0``, else ``alpha * x`` (seed 003: ``max(0.01x, x)``).

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.leaky_relu(np.array([-2.0, 3.0]), alpha=0.1)
    array([-0.2,  3. ])
    """
    alpha = _number(alpha, "alpha")
    xp, x = _prepare(x)
    return xp.where(x > 0, x, alpha * x)


def leaky_relu_grad(x: Any, /, *, alpha: float = 0.01) -> Any:
    """Derivative of Leaky ReLU: 1 where ``x > 0``, else ``alpha``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.leaky_relu_grad(np.array([-2.0, 3.0]), alpha=0.1)
    array([0.1, 1. ])
    """
    alpha = _number(alpha, "alpha")
    xp, x = _prepare(x)
    one = xp.ones_like(x)
    return xp.where(x > 0, one, alpha * one)


def _check_param(xp: Any, a: Any, x: Any, name: str) -> Any:
    """Accept a Python number or an array broadcastable to ``x`` of the same namespace."""
    if isinstance(a, numbers.Real) and not isinstance(a, bool):
        return _number(a, name)
    a = as_array(a, name)
    namespace(x, a)
    check_float(xp, a, name)
    a_shape, x_shape = tuple(a.shape), tuple(x.shape)
    ok = len(a_shape) <= len(x_shape) and all(
        da in (1, dx) for da, dx in zip(reversed(a_shape), reversed(x_shape), strict=False)
    )
    if not ok:
        msg = f"`{name}` of shape {a_shape} does not broadcast to x's shape {x_shape}"
        raise ValueError(msg)
    return a


def prelu(x: Any, a: Any, /) -> Any:
    """Parametric ReLU (He et al. 2015): ``x`` where ``x > 0``, else ``a * x``.

    ``a`` is learned (:class:`dlcore.PReLU` keeps one per unit); it may be a
    number or an array broadcastable to ``x``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.prelu(np.array([-2.0, 3.0]), np.array([0.25, 0.25]))
    array([-0.5,  3. ])
    """
    xp, x = _prepare(x)
    a = _check_param(xp, a, x, "a")
    return xp.where(x > 0, x, a * x)


def prelu_grad(x: Any, a: Any, /) -> tuple[Any, Any]:
    """Derivatives of PReLU with respect to ``x`` and to ``a`` (element-wise).

    Returns
    -------
    dx, da : arrays of x's shape
        ``dx`` is 1 where ``x > 0`` else ``a``; ``da`` is 0 where ``x > 0``
        else ``x``. Sum ``da`` over the broadcast axes to get the gradient of
        a shared slope.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dx, da = dlcore.prelu_grad(np.array([-2.0, 3.0]), 0.25)
    >>> dx, da
    (array([0.25, 1.  ]), array([-2.,  0.]))
    """
    xp, x = _prepare(x)
    a = _check_param(xp, a, x, "a")
    one = xp.ones_like(x)
    pos = x > 0
    return xp.where(pos, one, a * one), xp.where(pos, xp.zeros_like(x), x)


def elu(x: Any, /, *, alpha: float = 1.0) -> Any:
    """Exponential linear unit: ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Seed 003 writes it with :math:`\\alpha = 1`, the default (as PyTorch and
    Keras). ``expm1`` keeps precision for small negative ``x``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.elu(np.array([-1.0, 2.0]))
    array([-0.63212056,  2.        ])
    >>> dlcore.elu(np.array([-1.0]), alpha=0.5)
    array([-0.31606028])
    """
    alpha = _number(alpha, "alpha")
    xp, x = _prepare(x)
    neg = xp.minimum(x, xp.zeros_like(x))  # exp of positive x never evaluated
    return xp.where(x > 0, x, alpha * xp.expm1(neg))


def elu_grad(x: Any, /, *, alpha: float = 1.0) -> Any:
    """Derivative of ELU: 1 where ``x > 0``, else ``alpha * exp(x)``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.elu_grad(np.array([0.0, 2.0]))
    array([1., 1.])
    """
    alpha = _number(alpha, "alpha")
    xp, x = _prepare(x)
    neg = xp.minimum(x, xp.zeros_like(x))
    return xp.where(x > 0, xp.ones_like(x), alpha * xp.exp(neg))


def selu(x: Any, /, *, alpha: float = SELU_ALPHA, scale: float = SELU_SCALE) -> Any:
    """Scaled ELU: ``scale * x`` where ``x > 0``, else ``scale * alpha * (exp(x) - 1)``.

    Parameters
    ----------
    x : array
        Real floating input, any shape.
    alpha, scale : float
        The defaults are the self-normalising constants of Klambauer et al.
        (2017), :math:`\\alpha \\approx 1.6733`, :math:`\\lambda \\approx
        1.0507`, used by PyTorch, Keras and JAX. Seed 003's
        :math:`\\mathrm{SELU}(x; \\alpha)` has no :math:`\\lambda`: it is
        ``selu(x, alpha=a, scale=1.0)``.

    Notes
    -----
    .. math:: \\mathrm{selu}(x) = \\lambda \\begin{cases} x & x > 0 \\\\
              \\alpha (e^x - 1) & x \\le 0 \\end{cases}

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.selu(np.array([1.0]))
    array([1.05070099])
    >>> dlcore.selu(np.array([1.0, -1.0]), alpha=2.0, scale=1.0)  # seed 003's form
    array([ 1.        , -1.26424112])
    """
    alpha, scale = _number(alpha, "alpha"), _number(scale, "scale")
    xp, x = _prepare(x)
    neg = xp.minimum(x, xp.zeros_like(x))
    return scale * xp.where(x > 0, x, alpha * xp.expm1(neg))


def selu_grad(x: Any, /, *, alpha: float = SELU_ALPHA, scale: float = SELU_SCALE) -> Any:
    """Derivative of SELU: ``scale`` where ``x > 0``, else ``scale * alpha * exp(x)``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.selu_grad(np.array([1.0]))
    array([1.05070099])
    >>> dlcore.selu_grad(np.array([-1.0]), alpha=1.0, scale=1.0)
    array([0.36787944])
    """
    alpha, scale = _number(alpha, "alpha"), _number(scale, "scale")
    xp, x = _prepare(x)
    neg = xp.minimum(x, xp.zeros_like(x))
    return scale * xp.where(x > 0, xp.ones_like(x), alpha * xp.exp(neg))
