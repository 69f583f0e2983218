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

    float64 ``x`` is perturbed in place and restored (the book's algorithm);
    other float dtypes are differentiated on a float64 copy, which ``f``
    receives, and the gradient is cast back. Arrays that cannot be written
    (JAX) get a perturbed copy per evaluation.
    """
    promoted = x.dtype != xp.float64
    work = xp.astype(x, xp.float64, copy=True) if promoted else x
    writeable = is_writeable_array(work)
    grad = _in_place(f, work, h) if writeable else _functional(xp, f, work, h)
    out = xp.asarray(grad, dtype=xp.float64, device=getattr(x, "device", None))
    out = xp.reshape(out, x.shape)
    return xp.astype(out, x.dtype) if promoted else out


def _in_place(f: Callable[[Any], Any], x: Any, h: float) -> list[float]:
    grad: list[float] = []
    for idx in product(*(range(int(n)) for n in x.shape)):
        # A Python float, not x[idx]: torch and CuPy return a 0-d *view* there, which
        # the perturbation would overwrite. float() of a float64 element is exact.
        tmp = float(x[idx])
        try:
            x[idx] = tmp + h
            fxh1 = scalar_of(f(x), "at x + h")
            x[idx] = tmp - h
            fxh2 = scalar_of(f(x), "at x - h")
        finally:
            x[idx] = tmp
        grad.append((fxh1 - fxh2) / (2 * h))
    return grad


def _functional(xp: Any, f: Callable[[Any], Any], x: Any, h: float) -> list[float]:
    flat = xp.reshape(x, (-1,))
    positions = xp.arange(flat.shape[0])
    grad: list[float] = []
    for i in range(flat.shape[0]):
        e = xp.astype(positions == i, x.dtype)
        plus = xp.reshape(flat + h * e, x.shape)
        minus = xp.reshape(flat - h * e, x.shape)
        grad.append((scalar_of(f(plus), "at x + h") - scalar_of(f(minus), "at x - h")) / (2 * h))
    return grad
