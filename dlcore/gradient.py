"""Numerical differentiation and gradient descent (the book's chapter 4).

:func:`numerical_gradient` checks its inputs and runs the active backend's
:meth:`~dlcore.backends.Backend.numerical_gradient`: the book's loop on every
backend, a compiled parallel loop on numba for a Numba-compiled ``f``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ._validate import as_array, check_count, check_float, check_positive_number, namespace

__all__ = ["gradient_descent", "numerical_diff", "numerical_gradient"]


def _check_h(h: float) -> float:
    return check_positive_number(h, "h")


def numerical_diff(f: Callable[[Any], Any], x: Any, h: float = 1e-4) -> Any:
    """Central-difference derivative of a one-variable function.

    Parameters
    ----------
    f : callable
        ``f(x)``; with an array ``x`` it must work element-wise.
    x : float or array
        Where to differentiate.
    h : float
        The step (the book's 1e-4, a good compromise between the truncation
        error, O(h**2), and the rounding error of float64, O(eps/h)).

    Returns
    -------
    float or array
        :math:`(f(x + h) - f(x - h)) / 2h`.

    Examples
    --------
    >>> import dlcore
    >>> def function_1(x):
    ...     return 0.01 * x**2 + 0.1 * x
    >>> dlcore.numerical_diff(function_1, 5)
    0.1999999999990898
    >>> dlcore.numerical_diff(function_1, 10)
    0.2999999999986347
    """
    h = _check_h(h)
    if isinstance(x, bool):
        msg = "`x` must be a number or a floating-point array, got a bool"
        raise TypeError(msg)
    if isinstance(x, (int, float)):
        return (f(x + h) - f(x - h)) / (2 * h)
    x = as_array(x)
    xp = namespace(x)
    check_float(xp, x)
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f: Callable[[Any], Any], x: Any, h: float = 1e-4) -> Any:
    """Gradient of a scalar function ``f`` at ``x`` by central differences.

    For every element :math:`x_i` (any shape, in C order), ``f`` is evaluated
    at :math:`x_i + h` and :math:`x_i - h` with the other elements fixed:

    .. math:: \\frac{\\partial f}{\\partial x_i} \\approx
              \\frac{f(x + h e_i) - f(x - h e_i)}{2h}

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` (a number or a 0-d array).
    x : array
        Real floating-point array of any shape, on any backend.
    h : float
        The step, 1e-4 as in the book.

    Returns
    -------
    array
        Same shape, dtype and namespace as ``x``.

    Notes
    -----
    *In-place, as the book.* For a float64 ``x``, each element of ``x``
    itself is perturbed in turn and ``f(x)`` is called, so an ``f`` that
    ignores its argument and reads the same array from elsewhere (the book's
    ``lambda W: net.loss(x, t)``) works. ``x`` is restored after each
    element, and also when ``f`` raises: afterwards it holds exactly the
    values it had.

    *float32 and float16 are promoted.* With ``h = 1e-4`` a float32 central
    difference is meaningless: ``x + h`` is rounded to a step that is not
    ``h``, and ``f`` is evaluated with a rounding error of about
    ``1e-7 * |f|``, which the division by ``2h`` magnifies to ``1e-3 * |f|``.
    So for those dtypes the differences are taken on a float64 copy of ``x``
    which is what ``f`` receives (``f`` must use its argument), and the
    gradient is cast back to ``x``'s dtype at the end.

    Arrays that cannot be written in place (JAX) get a fresh perturbed copy
    per evaluation; ``f`` must use its argument there too.

    With the numba backend and a Numba-compiled ``f`` a parallel compiled
    kernel computes the same differences.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> def function_2(x):
    ...     return x[0]**2 + x[1]**2
    >>> dlcore.numerical_gradient(function_2, np.array([3.0, 4.0]))
    array([6., 8.])
    """
    h = _check_h(h)
    if not callable(f):
        msg = f"`f` must be callable, got {type(f).__name__}"
        raise TypeError(msg)
    x = as_array(x)
    xp = namespace(x)
    check_float(xp, x)

    from dlcore.backends import get_backend

    return get_backend().numerical_gradient(f, x, h)


def gradient_descent(
    f: Callable[[Any], Any],
    init_x: Any,
    lr: float = 0.01,
    step_num: int = 100,
) -> tuple[Any, Any]:
    """Minimise ``f`` by gradient descent with numerical gradients.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar``.
    init_x : array
        The start; it is not modified (the book's version overwrites it).
    lr : float
        Learning rate :math:`\\eta`.
    step_num : int
        Number of steps.

    Returns
    -------
    x : array
        The point after ``step_num`` steps of
        :math:`x \\leftarrow x - \\eta \\nabla f(x)`.
    x_history : array
        Shape ``(step_num, *init_x.shape)``: the point *before* each step, as
        the book's ``gradient_method.py`` records it.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> def function_2(x):
    ...     return x[0]**2 + x[1]**2
    >>> x, history = dlcore.gradient_descent(function_2, np.array([-3.0, 4.0]), lr=0.1)
    >>> bool(np.all(np.abs(x) < 1e-9)), history.shape
    (True, (100, 2))
    """
    step_num = check_count(step_num, "step_num", minimum=0)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr):
        msg = f"the learning rate `lr` must be a finite number, got {lr!r}"
        raise ValueError(msg)
    x = as_array(init_x, "init_x")
    xp = namespace(x)
    check_float(xp, x, "init_x")
    x = xp.asarray(x, copy=True)
    history = []
    for _ in range(step_num):
        history.append(xp.asarray(x, copy=True))
        grad = numerical_gradient(f, x)
        x = x - lr * grad
    if history:
        x_history = xp.stack(history)
    else:
        x_history = xp.empty((0, *x.shape), dtype=x.dtype, device=getattr(x, "device", None))
    return x, x_history
