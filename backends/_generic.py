"""Generic Array-API bodies of the :class:`~dlcore.backends.Backend` hot loops.

Pure namespace code for any library: the book's central-difference loop of
:func:`dlcore.numerical_gradient`. Inputs arrive validated.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product
from typing import Any

from array_api_compat import is_writeable_array

__all__ = ["numerical_gradient_loop", "scalar_of"]


def scalar_of(value: Any, where: str) -> float:
    """Turn the value returned by ``f`` into a Python float (a clear error otherwise)."""
    shape = tuple(getattr(value, "shape", ()))
    try:
        if shape:
            raise TypeError
        return float(value)
    except (TypeError, ValueError):
        msg = (
            f"`f` must return a scalar (a number or a 0-d array) {where}, got "
            f"{type(value).__name__} with shape {shape}"
        )
        raise TypeError(msg) from None


def numerical_gradient_loop(xp: Any, f: Callable[[Any], Any], x: Any, h: float) -> Any:
    """``(f(x + h e_i) - f(x - h e_i)) / 2h`` for every element of ``x``, in C order.

    ``x`` itself is perturbed in place, in its own dtype, and restored (the
    book's algorithm), so an ``f`` that reads the array through a closure
    sees every perturbation. Below float64 the step actually taken,
    ``(x_i + h) - (x_i - h)`` rounded to the dtype, is the divisor. Arrays
    that cannot be written (JAX) get a perturbed copy per evaluation.
    """
    exact = x.dtype == xp.float64  # the book's 2h: float64 rounding of x_i +- h is negligible
    writeable = is_writeable_array(x)
    grad = _in_place(f, x, h, exact) if writeable else _functional(xp, f, x, h, exact)
    out = xp.asarray(grad, dtype=xp.float64, device=getattr(x, "device", None))
    return xp.astype(xp.reshape(out, x.shape), x.dtype)


def _too_small(h: float, value: float, dtype: Any) -> ValueError:
    msg = (
        f"the step h={h:g} is below the resolution of {dtype} at x = {value:g}: x + h rounds "
        "back to x; use a larger h (the default for the dtype when h is not given) or float64"
    )
    return ValueError(msg)


def _in_place(f: Callable[[Any], Any], x: Any, h: float, exact: bool) -> list[float]:
    grad: list[float] = []
    for idx in product(*(range(int(n)) for n in x.shape)):
        # A Python float, not x[idx]: torch and CuPy return a 0-d *view* there, which
        # the perturbation would overwrite. float() of an element is exact.
        tmp = float(x[idx])
        try:
            x[idx] = tmp + h
            up = float(x[idx])
            fxh1 = scalar_of(f(x), "at x + h")
            x[idx] = tmp - h
            down = float(x[idx])
            fxh2 = scalar_of(f(x), "at x - h")
        finally:
            x[idx] = tmp
        step = 2 * h if exact else up - down
        if step == 0:
            raise _too_small(h, tmp, x.dtype)
        grad.append((fxh1 - fxh2) / step)
    return grad


def _functional(xp: Any, f: Callable[[Any], Any], x: Any, h: float, exact: bool) -> list[float]:
    flat = xp.reshape(x, (-1,))
    positions = xp.arange(flat.shape[0])
    grad: list[float] = []
    for i in range(flat.shape[0]):
        e = xp.astype(positions == i, x.dtype)
        plus, minus = flat + h * e, flat - h * e
        step = 2 * h if exact else float(plus[i]) - float(minus[i])
        if step == 0:
            raise _too_small(h, float(flat[i]), x.dtype)
        fxh1 = scalar_of(f(xp.reshape(plus, x.shape)), "at x + h")
        fxh2 = scalar_of(f(xp.reshape(minus, x.shape)), "at x - h")
        grad.append((fxh1 - fxh2) / step)
    return grad
