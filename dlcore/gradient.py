"""Numerical differentiation and gradient descent (the book's chapter 4).

:func:`numerical_gradient` checks its inputs and runs the active backend's
:meth:`~dlcore.backends.Backend.numerical_gradient`: the book's loop on every
backend, a compiled parallel loop on numba for a Numba-compiled ``f``.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from array_api_compat import is_array_api_obj

from ._validate import (
    as_array,
    check_count,
    check_float,
    check_positive_number,
    check_real,
    namespace,
)

__all__ = ["BOOK_STEP", "default_step", "gradient_descent", "numerical_diff", "numerical_gradient"]


def _check_h(h: float) -> float:
    return check_positive_number(h, "h")


def numerical_diff(f: Callable[[Any], Any], x: Any, h: float | None = None) -> Any:
    """Central-difference derivative of a one-variable function.

    Parameters
    ----------
    f : callable
        ``f(x)``; with an array ``x`` it must work element-wise.
    x : float or array
        Where to differentiate: a Python or NumPy number, or a float array.
    h : float, optional
        The step: the book's 1e-4 (a good compromise between the truncation
        error, O(h**2), and the rounding error of float64, O(eps/h)) for
        Python numbers and float64, :func:`default_step` for float32/float16.

    Returns
    -------
    float or array
        :math:`(f(x + h) - f(x - h)) / 2h`; below float64 the divisor is the
        step actually taken, ``(x + h) - (x - h)`` rounded to the dtype.

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
    if isinstance(x, (bool, np.bool_)):
        msg = "`x` must be a number or a floating-point array, got a bool"
        raise TypeError(msg)
    if isinstance(x, numbers.Real) and not is_array_api_obj(x):  # Python numbers, Fraction
        step = BOOK_STEP if h is None else _check_h(h)
        x = float(x)
        return (f(x + step) - f(x - step)) / (2 * step)
    x = as_array(x)
    xp = namespace(x)
    check_float(xp, x)
    step = default_step(xp, x.dtype) if h is None else _check_h(h)
    up, down = x + step, x - step
    if x.dtype == xp.float64:
        return (f(up) - f(down)) / (2 * step)
    taken = up - down
    if bool(xp.any(taken == 0)):
        msg = (
            f"the step h={step:g} is below the resolution of {x.dtype} at x: x + h rounds "
            "back to x; use a larger h (or leave it out) or float64"
        )
        raise ValueError(msg)
    return (f(up) - f(down)) / taken


#: The book's step, used for float64.
BOOK_STEP = 1e-4


def default_step(xp: Any, dtype: Any) -> float:
    """The step :func:`numerical_gradient` takes by default for ``dtype``.

    The book's 1e-4 for float64; below it, ``eps ** (1/3)`` (about 4.9e-3
    for float32), the step that balances the truncation error, O(h**2), and
    the rounding error of ``f``, O(eps / h), of a central difference.

    Examples
    --------
    >>> import numpy as np
    >>> default_step(np, np.float64), round(default_step(np, np.float32), 5)
    (0.0001, 0.00492)
    """
    if dtype == xp.float64:
        return BOOK_STEP
    return float(xp.finfo(dtype).eps) ** (1 / 3)


def numerical_gradient(f: Callable[[Any], Any], x: Any, h: float | None = None) -> Any:
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
    h : float, optional
        The step. Default: the book's 1e-4 for float64, and
        :func:`default_step` (about 4.9e-3) for float32 and float16.

    Returns
    -------
    array
        Same shape, dtype and namespace as ``x``.

    Warns
    -----
    RuntimeWarning
        ``x`` is float32 or float16 and ``h`` was given below half its
        default step; the message gives the rounding error to expect,
        ``eps * |f(x)| / h`` with ``f(x)`` measured.

    Raises
    ------
    ValueError
        ``h`` is so small that ``x_i + h`` rounds back to ``x_i``.

    Notes
    -----
    *In place, as the book, on every dtype.* Each element of ``x`` itself
    is perturbed in turn and ``f(x)`` is called, so an ``f`` that ignores
    its argument and reads the same array from elsewhere (the book's
    ``lambda W: net.loss(x, t)``) works, on float32 weights too. ``x`` is
    restored after each element, and also when ``f`` raises: afterwards it
    holds exactly the values it had. Below float64, ``x_i + h`` is rounded to
    the dtype, so the difference is divided by the step actually taken.

    *Why the float32 default is larger.* ``f`` evaluated in float32 carries a
    rounding error of about ``eps * |f|`` (``eps`` = 1.2e-7), which the
    division by ``2h`` magnifies: with the book's ``h = 1e-4`` to about
    ``6e-4 * |f|``; with ``eps ** (1/3)`` to about ``1.2e-5 * |f|``, while
    the truncation error stays near ``h**2 / 6`` times the third derivative.

    Arrays that cannot be written in place (JAX) get a fresh perturbed copy
    per evaluation; ``f`` must use its argument there.

    With the numba backend and a Numba-compiled ``f`` a parallel compiled
    kernel computes the same differences on per-thread copies of ``x`` (so
    ``x`` is never written); the first exception ``f`` raises is raised again.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> def function_2(x):
    ...     return x[0]**2 + x[1]**2
    >>> dlcore.numerical_gradient(function_2, np.array([3.0, 4.0]))
    array([6., 8.])
    """
    if not callable(f):
        msg = f"`f` must be callable, got {type(f).__name__}"
        raise TypeError(msg)
    x = as_array(x)
    xp = namespace(x)
    check_float(xp, x)
    step = default_step(xp, x.dtype)
    if h is None:
        h = step
    else:
        h = _check_h(h)
        if h < step / 2 and x.dtype != xp.float64 and x.size:
            _warn_rounding(f, x, h)
            if bool(xp.any((x + h) - (x - h) == 0)):
                msg = (
                    f"the step h={h:g} is below the resolution of {x.dtype} at some x_i: "
                    "x_i + h rounds back to x_i; use a larger h (or leave it out) or float64"
                )
                raise ValueError(msg)

    from dlcore.backends import get_backend

    return get_backend().numerical_gradient(f, x, h)


def _warn_rounding(f: Callable[[Any], Any], x: Any, h: float) -> None:
    """Warn with the error rounding in ``f`` puts into a difference of step ``h``."""
    xp = namespace(x)
    eps = float(xp.finfo(x.dtype).eps)
    try:
        scale = abs(float(f(x)))
    except (TypeError, ValueError):
        return  # the loop reports what f returns
    msg = (
        f"numerical_gradient: x is {x.dtype} and h={h:g} is small for it: f's own rounding "
        f"(eps {eps:.1e} * |f(x)| {scale:.3g}) / h puts an error of about {eps * scale / h:.1e} "
        f"into each component; leave h out (default {default_step(xp, x.dtype):.2g} for "
        f"{x.dtype}) or use float64"
    )
    warnings.warn(msg, RuntimeWarning, stacklevel=3)


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
    lr = check_real(lr, "lr")
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
