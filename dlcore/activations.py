"""Activation functions of the book's chapter 3 and their derivatives.

Every function is written once against the Array API standard: the namespace
comes from the input, the dtype of a floating-point input is preserved, any
shape is accepted and the operation is element-wise (``softmax`` works along
one axis). Each ``*_grad`` is the derivative with respect to the
*pre-activation* ``x``, as the book's ``sigmoid_grad(x)``.

At a kink (``x == 0`` for ReLU, Leaky ReLU, PReLU, SELU and ELU with
``alpha != 1``) the derivative is the left-hand one, as the book's ``Relu``
layer (its mask is ``x <= 0``) and as PyTorch and JAX: ``relu_grad(0) == 0``.
"""

from __future__ import annotations

from typing import Any

from ._validate import as_array, check_float, namespace

__all__ = [
    "SELU_ALPHA",
    "SELU_SCALE",
    "elu",
    "elu_grad",
    "identity_function",
    "identity_function_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "prelu",
    "prelu_grad",
    "relu",
    "relu_grad",
    "selu",
    "selu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "step_function",
    "step_function_grad",
    "tanh",
    "tanh_grad",
]

# Klambauer et al. (2017), "Self-Normalizing Neural Networks", eq. (14).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _prepare(x: Any) -> tuple[Any, Any]:
    x = as_array(x)
    xp = namespace(x)
    check_float(xp, x)
    return xp, x


def identity_function(x: Any, /) -> Any:
    """Identity, the output activation of regression: ``h(x) = x``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.identity_function(np.array([0.3, 0.7]))
    array([0.3, 0.7])
    """
    _, x = _prepare(x)
    return x


def identity_function_grad(x: Any, /) -> Any:
    """Derivative of the identity: ones like ``x``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.identity_function_grad(np.array([-2.0, 3.0]))
    array([1., 1.])
    """
    xp, x = _prepare(x)
    return xp.ones_like(x)


def step_function(x: Any, /) -> Any:
    """Step function of the perceptron: 1 where ``x > 0``, else 0.

    Returns the input's floating dtype (the book returns ``int``; a float
    result keeps the dtype rule of every other activation).

    Notes
    -----
    .. math:: h(x) = \\begin{cases} 1 & x > 0 \\\\ 0 & x \\le 0 \\end{cases}

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.step_function(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 1.])
    """
    xp, x = _prepare(x)
    return xp.astype(x > 0, x.dtype)


def step_function_grad(x: Any, /) -> Any:
    """Derivative of the step function: 0 everywhere (undefined at 0, taken as 0).

    This is why the step function cannot train a network with gradient
    descent (the book's section 4.2.5).

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.step_function_grad(np.array([-1.0, 2.0]))
    array([0., 0.])
    """
    xp, x = _prepare(x)
    return xp.zeros_like(x)


def sigmoid(x: Any, /) -> Any:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, without overflow.

    Notes
    -----
    .. math:: \\sigma(x) = \\frac{1}{1 + e^{-x}}

    Computed from :math:`e = e^{-|x|} \\le 1` as ``1/(1+e)`` for ``x >= 0`` and
    ``e/(1+e)`` otherwise, so no ``exp`` overflows for large ``|x|``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.sigmoid(np.array([-1.0, 1.0, 2.0]))
    array([0.26894142, 0.73105858, 0.88079708])
    """
    xp, x = _prepare(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(x: Any, /) -> Any:
    """Derivative of the sigmoid, ``sigmoid(x) * (1 - sigmoid(x))``.

    Notes
    -----
    Computed as :math:`e / (1 + e)^2` with :math:`e = e^{-|x|}` (the function
    is even), which keeps full relative precision for large ``|x|`` where
    ``1 - sigmoid(x)`` would round to 0.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.sigmoid_grad(np.array([0.0]))
    array([0.25])
    """
    xp, x = _prepare(x)
    e = xp.exp(-xp.abs(x))
    return e / ((1 + e) * (1 + e))


def relu(x: Any, /) -> Any:
    """Rectified linear unit ``max(0, x)``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.relu(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    """
    xp, x = _prepare(x)
    return xp.where(x > 0, x, xp.zeros_like(x))


def relu_grad(x: Any, /) -> Any:
    """Derivative of ReLU: 1 where ``x > 0``, else 0 (0 at the kink).

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.relu_grad(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 1.])
    """
    xp, x = _prepare(x)
    return xp.astype(x > 0, x.dtype)


def tanh(x: Any, /) -> Any:
    """Hyperbolic tangent.

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
    """Leaky ReLU: ``x`` where ``x > 0``, else ``alpha * x``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.leaky_relu(np.array([-2.0, 3.0]), alpha=0.1)
    array([-0.2,  3. ])
    """
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
    xp, x = _prepare(x)
    one = xp.ones_like(x)
    return xp.where(x > 0, one, alpha * one)


def _check_param(xp: Any, a: Any, x: Any, name: str) -> Any:
    """Accept a Python number or an array broadcastable to ``x`` of the same namespace."""
    if isinstance(a, (int, float)):
        return a
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

    ``a`` is learned; it may be a number or an array broadcastable to ``x``
    (one slope per channel, say).

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

    ``expm1`` keeps precision for small negative ``x``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.elu(np.array([-1.0, 2.0]))
    array([-0.63212056,  2.        ])
    """
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
    xp, x = _prepare(x)
    neg = xp.minimum(x, xp.zeros_like(x))
    return xp.where(x > 0, xp.ones_like(x), alpha * xp.exp(neg))


def selu(x: Any, /) -> Any:
    """Scaled ELU with the self-normalising constants of Klambauer et al. (2017).

    Notes
    -----
    .. math:: \\mathrm{selu}(x) = \\lambda \\begin{cases} x & x > 0 \\\\
              \\alpha (e^x - 1) & x \\le 0 \\end{cases}

    with :math:`\\alpha \\approx 1.6733` and :math:`\\lambda \\approx 1.0507`.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.selu(np.array([1.0]))
    array([1.05070099])
    """
    xp, x = _prepare(x)
    neg = xp.minimum(x, xp.zeros_like(x))
    return SELU_SCALE * xp.where(x > 0, x, SELU_ALPHA * xp.expm1(neg))


def selu_grad(x: Any, /) -> Any:
    """Derivative of SELU: ``scale`` where ``x > 0``, else ``scale * alpha * exp(x)``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.selu_grad(np.array([1.0]))
    array([1.05070099])
    """
    xp, x = _prepare(x)
    neg = xp.minimum(x, xp.zeros_like(x))
    return SELU_SCALE * xp.where(x > 0, xp.ones_like(x), SELU_ALPHA * xp.exp(neg))


def softmax(x: Any, /, *, axis: int = -1) -> Any:
    """Softmax along ``axis``, shifted by the maximum so it never overflows.

    Parameters
    ----------
    x : array
        Scores (logits), any shape, real floating dtype.
    axis : int
        The axis that holds the classes (default: the last one, so a 2-D batch
        gets one distribution per row).

    Returns
    -------
    array
        Same shape and dtype as ``x``; sums to 1 along ``axis``.

    Notes
    -----
    .. math:: y_k = \\frac{e^{x_k - C}}{\\sum_i e^{x_i - C}}, \\quad C = \\max_i x_i

    Subtracting :math:`C` leaves the result unchanged and keeps every
    exponent :math:`\\le 0`, so ``softmax([1010, 1000, 990])`` is finite where
    the naive formula gives ``nan`` (the book's section 3.5.2).

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.softmax(np.array([0.3, 2.9, 4.0]))
    array([0.01821127, 0.24519181, 0.73659691])
    >>> dlcore.softmax(np.array([1010.0, 1000.0, 990.0]))
    array([9.99954600e-01, 4.53978686e-05, 2.06106005e-09])
    """
    xp, x = _prepare(x)
    if x.ndim == 0:
        msg = "softmax needs at least one axis of classes, got a 0-d array"
        raise ValueError(msg)
    if not -x.ndim <= axis < x.ndim:
        msg = f"axis {axis} is out of range for an array of shape {tuple(x.shape)}"
        raise ValueError(msg)
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    e = xp.exp(shifted)
    return e / xp.sum(e, axis=axis, keepdims=True)
