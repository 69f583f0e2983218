"""Numba-compiled loops of the numerical-gradient kernels (imports numba).

Imported lazily by :mod:`dlcore.backends._numba_numgrad` the first time a
kernel runs; each function compiles on its first call, and the network
kernels are cached on disk (``cache=True``). Parallel loops use Numba's
thread count (``NUMBA_NUM_THREADS``, :func:`numba.set_num_threads`).

The network kernels follow :mod:`dlcore.backends._batched_numgrad`: layer ``l`` maps its
input ``Z[l]`` to ``A[l] = Z[l] @ W[l] + b[l]``; a parameter ``[W; b][r, j]``
(row ``r`` of the grid; the last row is the bias) moves ``A[l][:, j]`` by
``step * ZT[r, :]`` where ``ZT`` is ``Z[l]`` transposed with a row of ones.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from numba import prange

from dlcore.network import CROSS_ENTROPY_DELTA

DELTA = CROSS_ENTROPY_DELTA  # a global constant to Numba: frozen into the compiled code
SIGMOID, RELU = 0, 1


# -- the generic central difference -----------------------------------------
@numba.njit
def _call(f: Any, buf: np.ndarray) -> tuple[float, bool]:
    """``(f(buf), False)``, or ``(0.0, True)`` if ``f`` raised.

    An exception must not leave a ``prange`` body (Numba then returns garbage
    and later calls fail); caught here, in a serial function, the loop stays
    parallel and the caller re-raises it from Python.
    """
    try:
        return f(buf), False
    except Exception:  # re-raised by the caller, from Python, with f's own message
        return 0.0, True


def _central_difference(f: Any, x: np.ndarray, h: float, exact: bool) -> tuple[np.ndarray, int]:
    """``(f(x + h e_i) - f(x - h e_i)) / 2h`` for every element, one chunk per thread.

    Each chunk perturbs its own copy of ``x`` (so the threads never share
    one), one element at a time, and puts it back before the next: no
    allocation per coordinate, so the loop costs two calls of ``f`` per
    element and nothing measurable besides. One chunk per thread, as
    ``prange`` schedules statically: more chunks would balance nothing and
    only copy ``x`` more often (memory ``threads * x.nbytes``).

    ``exact``: divide by ``2h`` (float64, the book); otherwise by the step
    the dtype actually took, ``(x_i + h) - (x_i - h)`` rounded. Returns the
    gradient and the first element (C order) at which ``f`` raised,
    ``x.size`` if it never did; a chunk stops at its first failure.
    """
    n = x.size
    grad = np.empty(n, dtype=np.float64)
    n_chunks = min(n, numba.get_num_threads())
    failed = np.full(n_chunks, n, dtype=np.int64)
    for c in prange(n_chunks):
        buf = x.copy()
        flat = buf.reshape(n)
        i, stop = c * n // n_chunks, (c + 1) * n // n_chunks
        while i < stop:
            tmp = flat[i]
            flat[i] = tmp + h
            up = flat[i]
            fxh1, bad1 = _call(f, buf)
            flat[i] = tmp - h
            down = flat[i]
            fxh2, bad2 = _call(f, buf)
            flat[i] = tmp
            if bad1 or bad2:
                failed[c] = i
                i = stop
            else:  # the book's 2h in float64; below it, the step the dtype took
                grad[i] = (fxh1 - fxh2) / (2 * h if exact else np.float64(up) - np.float64(down))
                i += 1
    return grad, failed.min()


# f is an argument, so these are compiled per f and cannot be cached on disk.
central_difference_parallel = numba.njit(parallel=True)(_central_difference)
central_difference_serial = numba.njit(_central_difference)  # for an f that is itself parallel


# -- pieces of the network kernels -------------------------------------------
@numba.njit(cache=True, inline="always", error_model="numpy")
def _act(v: float, code: int) -> float:
    """The hidden activation, as dlcore.sigmoid / dlcore.relu compute it."""
    if code == SIGMOID:
        e = math.exp(-abs(v))
        return 1.0 / (1.0 + e) if v >= 0 else e / (1.0 + e)
    return v if v > 0 else 0.0


@numba.njit(cache=True, parallel=True, error_model="numpy")
def affine(z: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``z @ w + b`` skipping zero inputs (no BLAS call, whose idle threads would
    compete with Numba's for the cores)."""
    out = np.empty((z.shape[0], w.shape[1]))
    for n in prange(z.shape[0]):
        for q in range(w.shape[1]):
            out[n, q] = b[q]
        for i in range(z.shape[1]):
            zi = z[n, i]
            if zi != 0.0:
                for q in range(w.shape[1]):
                    out[n, q] += zi * w[i, q]
    return out


@numba.njit(cache=True, error_model="numpy")
def activate(a: np.ndarray, code: int) -> np.ndarray:
    """Element-wise hidden activation of a 2-D array (the forward-pass cache)."""
    out = np.empty_like(a)
    for n in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[n, j] = _act(a[n, j], code)
    return out


@numba.njit(cache=True, error_model="numpy")
def _row_loss(
    a: np.ndarray, n: int, tptr: np.ndarray, tidx: np.ndarray, tval: np.ndarray, e: np.ndarray
) -> float:
    """``-sum_k t[n, k] log(softmax(a)_k + delta)`` (``e`` is scratch of a's size)."""
    mx = a[0]
    for k in range(1, a.size):
        mx = max(mx, a[k])
    s = 0.0
    for k in range(a.size):
        e[k] = math.exp(a[k] - mx)
        s += e[k]
    loss = 0.0
    for q in range(tptr[n], tptr[n + 1]):
        loss -= tval[q] * math.log(e[tidx[q]] / s + DELTA)
    return loss


@numba.njit(cache=True, parallel=True, error_model="numpy")
def output_layer_grad(
    zt: np.ndarray,
    step_p: np.ndarray,
    step_m: np.ndarray,
    out: np.ndarray,
    mx: np.ndarray,
    e: np.ndarray,
    s: np.ndarray,
    tptr: np.ndarray,
    tidx: np.ndarray,
    tval: np.ndarray,
    h: float,
) -> np.ndarray:
    """Gradient grid of the output layer: one logit column moves per parameter.

    With the cached softmax numerators ``e = exp(out - mx)`` and sums ``s``,
    moving logit ``j`` by ``d`` changes one numerator and the sum:
    ``s' = s - e_j + exp(out_j + d - mx)`` (rescaled if ``out_j + d`` becomes
    the largest logit), so each perturbed loss costs one ``exp`` per sample.
    """
    rows, units = step_p.shape
    n_samples = zt.shape[1]
    grad = np.zeros((rows, units))
    for r in prange(rows):
        for j in range(units):
            acc = 0.0
            for n in range(n_samples):
                z = zt[r, n]
                if z == 0.0:
                    continue
                pair = 0.0
                for sgn in range(2):
                    d = step_p[r, j] * z if sgn == 0 else -(step_m[r, j] * z)
                    aj = out[n, j] + d
                    top, scale = mx[n], 1.0
                    if aj > top:
                        scale = math.exp(top - aj)
                        top = aj
                    ej = math.exp(aj - top)
                    total = (s[n] - e[n, j]) * scale + ej
                    loss = 0.0
                    for q in range(tptr[n], tptr[n + 1]):
                        k = tidx[q]
                        ek = ej if k == j else e[n, k] * scale
                        loss -= tval[q] * math.log(ek / total + DELTA)
                    pair += loss if sgn == 0 else -loss
                acc += pair
            grad[r, j] = acc / n_samples / (2 * h)
    return grad


@numba.njit(cache=True, parallel=True, error_model="numpy")
def hidden_layer_grad(
    zt: np.ndarray,
    step_p: np.ndarray,
    step_m: np.ndarray,
    a_this: np.ndarray,
    z_this: np.ndarray,
    a_next: np.ndarray,
    w_next: np.ndarray,
    upper_w: Any,
    upper_b: Any,
    code: int,
    tptr: np.ndarray,
    tidx: np.ndarray,
    tval: np.ndarray,
    h: float,
) -> np.ndarray:
    """Gradient grid of a hidden layer.

    Moving ``A[l][n, j]`` by ``d`` changes unit ``j``'s output by
    ``dz = act(A[l][n, j] + d) - Z[l + 1][n, j]``, so the next layer's
    pre-activation row becomes ``A[l + 1][n] + dz * W[l + 1][j]``; from there
    the layers ``upper_w``/``upper_b`` (empty when the next layer is the
    output) and the softmax loss are evaluated for sample ``n`` alone.
    """
    rows, units = step_p.shape
    n_samples = zt.shape[1]
    width = a_next.shape[1]
    for w in upper_w:
        width = max(width, w.shape[1])
    grad = np.zeros((rows, units))
    for r in prange(rows):
        cur = np.empty(width)
        nxt = np.empty(width)
        scratch = np.empty(width)
        for j in range(units):
            acc = 0.0
            for n in range(n_samples):
                z = zt[r, n]
                if z == 0.0:
                    continue
                pair = 0.0
                for sgn in range(2):
                    d = step_p[r, j] * z if sgn == 0 else -(step_m[r, j] * z)
                    dz = _act(a_this[n, j] + d, code) - z_this[n, j]
                    m = a_next.shape[1]
                    for k in range(m):
                        cur[k] = a_next[n, k] + dz * w_next[j, k]
                    for u in range(len(upper_w)):
                        w = upper_w[u]
                        b = upper_b[u]
                        for k in range(m):
                            cur[k] = _act(cur[k], code)
                        for q in range(w.shape[1]):
                            nxt[q] = b[q]
                        for k in range(m):
                            ck = cur[k]
                            for q in range(w.shape[1]):
                                nxt[q] += ck * w[k, q]
                        m = w.shape[1]
                        for q in range(m):
                            cur[q] = nxt[q]
                    loss = _row_loss(cur[:m], n, tptr, tidx, tval, scratch)
                    pair += loss if sgn == 0 else -loss
                acc += pair
            grad[r, j] = acc / n_samples / (2 * h)
    return grad


# -- the layer below the softmax, from moments of the output weights ----------
#: Largest |x| for which the degree-7 Taylor series gives expm1(x) (remainder < 1e-19 relative).
SMALL = 0.0078125


@numba.njit(cache=True, inline="always", error_model="numpy")
def _expm1_poly(x: float) -> float:
    """``exp(x) - 1`` by its Taylor series to degree 7 (for ``|x| <= SMALL``)."""
    c7 = 1.0 / 5040
    c6 = 1.0 / 720 + x * c7
    c5 = 1.0 / 120 + x * c6
    c4 = 1.0 / 24 + x * c5
    c3 = 1.0 / 6 + x * c4
    c2 = 0.5 + x * c3
    return x * (1.0 + x * c2)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _log1p_poly(u: float) -> float:
    """``log(1 + u)`` by its series to degree 8 (remainder < 2**-56 relative, ``|u| <= SMALL``)."""
    c8 = -1.0 / 8
    c7 = 1.0 / 7 + u * c8
    c6 = -1.0 / 6 + u * c7
    c5 = 1.0 / 5 + u * c6
    c4 = -1.0 / 4 + u * c5
    c3 = 1.0 / 3 + u * c4
    c2 = -0.5 + u * c3
    return u * (1.0 + u * c2)


@numba.njit(cache=True, parallel=True, error_model="numpy")
def last_hidden_moment_grad(
    zt: np.ndarray,
    step_p: np.ndarray,
    step_m: np.ndarray,
    a_this: np.ndarray,
    s_this: np.ndarray,
    sbar_this: np.ndarray,
    code: int,
    moments: np.ndarray,
    e_label: np.ndarray,
    w_label: np.ndarray,
    h: float,
    poly_only: bool,
) -> np.ndarray:
    """Gradient grid of the layer below the softmax with one-hot targets, in O(1) per sample.

    For ``dz`` the change of unit ``j``, the logits move by ``dz * W_out[j]``:
    the softmax denominator is ``sum_m dz**m moments[m, n, j]`` (with
    ``moments[m, n, j] = sum_k E[n, k] W_out[j, k]**m / m!``, the series cut
    where its remainder is below 2**-56) and the label's numerator
    ``e_label[n] * exp(dz * w_label[n, j])``. For the sigmoid,
    ``dz = s sbar (1 - exp(-d)) / (1 - sbar (1 - exp(-d)))`` with
    ``s = sigmoid(a)``, ``sbar = sigmoid(-a)``, free of cancellation.
    The pair of losses is ``log((y_- + delta) / (y_+ + delta))``.

    The loops over ``j`` are branch-free so that LLVM vectorises them;
    ``poly_only`` (checked by the caller) says every ``exp`` argument is
    within ``SMALL`` so its series applies.
    """
    rows, units = step_p.shape
    n_samples = zt.shape[1]
    order = moments.shape[0] - 1
    grad = np.empty((rows, units))
    for r in prange(rows):
        acc = np.zeros(units)
        dz = np.empty(units)
        tot = np.empty(units)
        em = np.empty(units)
        y = np.empty((2, units))
        u = np.empty(units)
        for n in range(n_samples):
            z = zt[r, n]
            if z == 0.0:
                continue
            el = e_label[n]
            for sgn in range(2):
                sz = z if sgn == 0 else -z
                steps = step_p[r] if sgn == 0 else step_m[r]
                if code == SIGMOID:
                    if poly_only:
                        for j in range(units):
                            em[j] = _expm1_poly(-(steps[j] * sz))
                    else:
                        for j in range(units):
                            em[j] = math.expm1(-(steps[j] * sz))
                    for j in range(units):
                        sb = sbar_this[n, j]
                        dz[j] = -(s_this[n, j] * sb * em[j]) / (1.0 + sb * em[j])
                else:
                    for j in range(units):
                        a = a_this[n, j]
                        dz[j] = max(a + steps[j] * sz, 0.0) - max(a, 0.0)
                for j in range(units):
                    tot[j] = moments[order, n, j]
                for m in range(order - 1, -1, -1):
                    for j in range(units):
                        tot[j] = moments[m, n, j] + dz[j] * tot[j]
                if poly_only:
                    for j in range(units):
                        em[j] = _expm1_poly(dz[j] * w_label[n, j])
                else:
                    for j in range(units):
                        em[j] = math.expm1(dz[j] * w_label[n, j])
                for j in range(units):
                    y[sgn, j] = el * (1.0 + em[j]) / tot[j] + DELTA
            for j in range(units):
                u[j] = y[1, j] / y[0, j] - 1.0
            for j in range(units):
                acc[j] += _log1p_poly(u[j])
            for j in range(units):
                if abs(u[j]) > SMALL:  # rare: undo the series, take the log
                    acc[j] += math.log1p(u[j]) - _log1p_poly(u[j])
        for j in range(units):
            grad[r, j] = acc[j] / n_samples / (2 * h)
    return grad
