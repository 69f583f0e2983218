"""Compiled building blocks of the Numba kernels: exp, sigmoid, softmax.

Numba without Intel's SVML calls libm's scalar ``exp`` once per element, and
that is the largest cost of a forward pass once the matrix products are
vectorised. :func:`exp_nonpos_inplace` computes ``exp`` with arithmetic only
(Cephes' range reduction and polynomial, the 2**k scale built from its bits
in a scratch array), so LLVM vectorises the loop; it is within about one ulp
of libm's ``exp`` for float32 and a few ulp for float64. Everything is IEEE
arithmetic (``fastmath=False``): NaN and inf propagate as in NumPy.

All functions take and return NumPy arrays of one float dtype (float32
maths stays float32); :func:`require_float` refuses other dtypes when a
kernel is typed, so an array retyped in place is never read as floats.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, types
from numba.core.errors import TypingError
from numba.extending import overload

__all__ = [
    "exp_nonpos_inplace",
    "hidden_inplace",
    "jit",
    "normalise",
    "relu_inplace",
    "require_float",
    "shift_by_max",
    "sigmoid_inplace",
    "softmax_inplace",
]

# IEEE arithmetic (fastmath=False), no ZeroDivisionError checks in the loops, cached on disk.
jit = njit(cache=True, nogil=True, fastmath=False, error_model="numpy")


def require_float(arr: Any) -> None:  # pragma: no cover - replaced in compiled code
    """Refuse (when the kernel is typed) an array that is not float32 or float64."""


@overload(require_float)
def _require_float_impl(arr: Any) -> Any:
    if not (isinstance(arr, types.Array) and arr.dtype in (types.float32, types.float64)):
        msg = f"the compiled forward pass takes float32/float64 arrays, got {arr}"
        raise TypingError(msg)

    def ok(arr: Any) -> None:
        return None

    return ok


def exp_nonpos_inplace(a: Any, scratch: Any) -> None:  # pragma: no cover - compiled
    """``a = exp(a)`` for entries <= 0 (or NaN); ``scratch`` holds ``a.size`` floats."""


@overload(exp_nonpos_inplace)
def _exp_impl(a: Any, scratch: Any) -> Any:
    # Cephes expf / exp: exp(t) = 2**k * exp(r), k = round(t / ln 2), |r| <= ln(2) / 2.
    if a.dtype == types.float32:
        f, i = np.float32, np.int32
        lo, log2e, c1, c2 = f(-87.33), f(1.44269504088896341), f(0.693359375), f(-2.12194440e-4)
        coef = tuple(
            f(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                           4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1)
        )  # fmt: skip
        bias, shift = i(127), i(23)

        def exp32(a: Any, scratch: Any) -> None:
            bits = scratch.view(np.int32)
            for j in range(a.shape[0]):
                t = a[j]
                tc = t if t > lo else lo
                k = np.floor(tc * log2e + f(0.5))
                r = tc - k * c1 - k * c2
                p = coef[0]
                p = p * r + coef[1]
                p = p * r + coef[2]
                p = p * r + coef[3]
                p = p * r + coef[4]
                p = p * r + coef[5]
                p = p * r * r + r + f(1.0)
                p = p if t >= lo else f(0.0)
                a[j] = p if t == t else t
                bits[j] = (i(k) + bias) << shift
            for j in range(a.shape[0]):
                a[j] = a[j] * scratch[j]

        return exp32

    d, q = np.float64, np.int64
    lo64, log2e64 = d(-708.39), d(1.4426950408889634)
    c1_64, c2_64 = d(6.93145751953125e-1), d(1.42860682030941723212e-6)
    taylor = tuple(d(1.0 / np.prod(np.arange(1.0, n + 1.0))) for n in range(13, 1, -1))
    bias64, shift64 = q(1023), q(52)

    def exp64(a: Any, scratch: Any) -> None:
        bits = scratch.view(np.int64)
        for j in range(a.shape[0]):
            t = a[j]
            tc = t if t > lo64 else lo64
            k = np.floor(tc * log2e64 + d(0.5))
            r = tc - k * c1_64 - k * c2_64
            p = taylor[0]
            for c in taylor[1:]:
                p = p * r + c
            p = (p * r + d(1.0)) * r + d(1.0)
            p = p if t >= lo64 else d(0.0)
            a[j] = p if t == t else t
            bits[j] = (q(k) + bias64) << shift64
        for j in range(a.shape[0]):
            a[j] = a[j] * scratch[j]

    return exp64


@jit
def sigmoid_inplace(a: Any, scratch: Any) -> None:  # pragma: no cover - compiled
    """``a = 1 / (1 + exp(-a))`` from ``e = exp(-|a|)``: never overflows, no branch."""
    n = a.shape[0]
    e = scratch[:n]
    for j in range(n):
        e[j] = -abs(a[j])
    exp_nonpos_inplace(e, scratch[n : 2 * n])
    one = a.dtype.type(1.0)
    for j in range(n):
        v = a[j]
        r = one / (one + e[j])
        a[j] = r if v >= 0 else e[j] * r
        a[j] = a[j] if v == v else v


@jit
def relu_inplace(a: Any) -> None:  # pragma: no cover - compiled
    """``a = max(a, 0)`` with the book's mask ``a <= 0`` (NaN stays NaN)."""
    for j in range(a.shape[0]):
        a[j] = 0 if a[j] <= 0 else a[j]


@jit
def hidden_inplace(z: Any, scratch: Any, relu: bool) -> None:  # pragma: no cover - compiled
    """The hidden activation in place: ReLU, or the sigmoid (``scratch``: 2 * z.size floats)."""
    if relu:
        relu_inplace(z)
    else:
        sigmoid_inplace(z, scratch)


@jit
def shift_by_max(a: Any) -> None:  # pragma: no cover - compiled
    """``a -= max(a)`` in place (NaN entries are skipped by the max and stay NaN)."""
    m = a[0]
    for j in range(1, a.shape[0]):
        m = a[j] if a[j] > m else m  # NaN entries: exp(NaN - m) keeps them in the sum
    for j in range(a.shape[0]):
        a[j] = a[j] - m


@jit
def normalise(a: Any) -> None:  # pragma: no cover - compiled
    """``a /= sum(a)`` in place (the sum in index order)."""
    s = a.dtype.type(0.0)
    for j in range(a.shape[0]):
        s += a[j]
    for j in range(a.shape[0]):
        a[j] = a[j] / s


@jit
def softmax_inplace(a: Any, scratch: Any) -> None:  # pragma: no cover - compiled
    """Max-shifted softmax of a 1-D array, in place (``scratch``: ``a.size`` floats)."""
    shift_by_max(a)
    exp_nonpos_inplace(a, scratch)
    normalise(a)
