"""Activation functions of the book's chapter 3 and their derivatives.

The book's functions: ``step_function``, ``sigmoid``, ``relu``,
``identity_function`` and ``softmax`` (with :func:`softmax_jacobian`, its
derivative). The activations of seed 003's lecture (tanh, Leaky ReLU,
PReLU, ELU, SELU) live in :mod:`dlcore.activations_modern`.

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

from array_api_compat import device

from ._validate import as_array, check_float, namespace

__all__ = [
    "identity_function",
    "identity_function_grad",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_jacobian",
    "step_function",
    "step_function_grad",
]


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

    Notes
    -----
    NaN stays NaN, as with the book's ``np.maximum(0, x)``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.relu(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    """
    xp, x = _prepare(x)
    return xp.where(x < 0, xp.zeros_like(x), x)


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


def softmax_jacobian(x: Any, /) -> Any:
    """Derivative of :func:`softmax` over the last axis: one ``(n, n)`` matrix per vector.

    Parameters
    ----------
    x : array
        Scores of shape ``(..., n)``, real floating dtype.

    Returns
    -------
    array
        Shape ``(..., n, n)``: ``J[..., i, j] = d softmax(x)[..., i] / d x[..., j]``.

    Notes
    -----
    .. math:: \\frac{\\partial y_i}{\\partial x_j} = y_i (\\delta_{ij} - y_j),
              \\quad J = \\mathrm{diag}(y) - y y^T

    Each row sums to 0 (softmax sums to 1 whatever ``x`` is). In a network
    the Jacobian is never formed: with the cross-entropy loss the gradient
    is :math:`y - t` (the book's ``SoftmaxWithLoss``).

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> dlcore.softmax_jacobian(np.array([0.0, 0.0]))
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    xp, x = _prepare(x)
    y = softmax(x)
    n = int(x.shape[-1])
    eye = xp.eye(n, dtype=x.dtype, device=device(x))
    return xp.expand_dims(y, axis=-1) * (eye - xp.expand_dims(y, axis=-2))
