"""Numba kernels for numerical gradients: the book's slowest loop, compiled and parallel.

:func:`numerical_gradient` runs :meth:`NumbaBackend.numerical_gradient` for a
Numba-compiled ``f`` (``numba.njit``); :func:`mlp_numerical_gradient` runs
:meth:`NumbaBackend.mlp_numerical_gradient`. Both evaluate the same central
differences as the generic code, in float64. The jitted loops live in
:mod:`dlcore.backends._numba_numgrad_jit`.
"""

from __future__ import annotations

import functools
import math
import threading
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._base import NumbaFallbackWarning

__all__ = ["is_numba_function", "mlp_numerical_gradient", "numerical_gradient", "warn_python_f"]


_warned: set[str] = set()
_lock = threading.Lock()
_failed: weakref.WeakSet[Any] = weakref.WeakSet()  # dispatchers the loop could not compile for
#: Per ``f``: the loop compiled around it, per (``f`` is parallel, ``x.ndim``, ``x.dtype``).
_compiled: weakref.WeakKeyDictionary[Any, dict[tuple[bool, int, str], Callable[..., Any]]] = (
    weakref.WeakKeyDictionary()
)


def _warn_once(reason: str, msg: str, stacklevel: int) -> None:
    with _lock:
        if reason in _warned:
            return
        _warned.add(reason)
    warnings.warn(msg, NumbaFallbackWarning, stacklevel=stacklevel)


@functools.cache
def _dispatcher_type() -> type:
    from numba.core.registry import CPUDispatcher

    return CPUDispatcher


def is_numba_function(f: Any) -> bool:
    """Whether ``f`` is a Numba CPU dispatcher (a ``numba.njit`` function)."""
    return isinstance(f, _dispatcher_type())


def warn_python_f(f: Any, size: int) -> None:
    """Say once that a plain Python ``f`` runs in the generic loop on the numba backend."""
    name = getattr(f, "__qualname__", type(f).__name__)
    # stacklevel 5: _warn_once <- here <- NumbaBackend.numerical_gradient <-
    # dlcore.numerical_gradient <- the caller
    _warn_once(
        "python",
        f"numerical_gradient: `f` ({name}) is a plain Python function, so the numba "
        f"backend runs the generic loop: one interpreted call of f per perturbation, "
        f"2 * {size} calls here. Decorate f with @numba.njit (it must take the array "
        "and return a float) to run the compiled parallel loop; for a network's loss use "
        "dlcore.mlp_numerical_gradient. This warning is shown once.",
        stacklevel=5,
    )


def numerical_gradient(f: Any, x: np.ndarray, h: float) -> np.ndarray | None:
    """Parallel compiled central differences for a Numba-compiled ``f``.

    ``x`` is a non-empty NumPy float32/float64 array of rank >= 1; ``f``
    receives copies of it in its own dtype (below float64 the difference is
    divided by the step actually taken, as in the generic loop), and the
    gradient is cast back. Each thread perturbs its own copy of ``x``, so
    ``x`` itself is never written. If ``f`` raises, the first exception (in
    C order) is raised again with ``f``'s own message. Returns None (after a
    warning) when Numba cannot compile the loop around ``f``.
    """
    # C order, aligned, writeable (copied only if not): one Numba type per ndim, so
    # the loop found in _compiled is the one the dispatcher would pick
    work = np.require(x, x.dtype.newbyteorder("="), ["C", "A", "W"])
    parallel_f = bool(getattr(f, "targetoptions", {}).get("parallel"))
    compiled = _compiled.get(f, {}).get((parallel_f, work.ndim, work.dtype.char))
    if compiled is None:
        if f in _failed:
            return None
        compiled = _compile(f, work, parallel_f)
        if compiled is None:
            return None
    grad, failed = compiled(f, work, float(h), work.dtype == np.float64)
    if failed < work.size:
        _raise_from(f, work, int(failed), float(h))
    return grad.reshape(x.shape).astype(x.dtype, copy=False)


def _raise_from(f: Any, work: np.ndarray, i: int, h: float) -> None:
    """Re-raise, from Python, the exception ``f`` raised at element ``i`` in the loop."""
    buf = work.copy()  # x itself was never written: the loop perturbs copies
    flat = buf.reshape(-1)
    tmp = flat[i]
    for step in (h, -h):
        flat[i] = tmp + step
        f(buf)  # raises f's own exception, with its message
    index = np.unravel_index(i, work.shape)
    msg = (
        f"`f` raised inside the compiled numerical_gradient loop at x{list(index)} "
        "but not when called again with the same input; make f deterministic"
    )
    raise RuntimeError(msg)


def _compile(f: Any, work: np.ndarray, parallel_f: bool) -> Callable[..., Any] | None:
    """The loop compiled around ``f`` for ``work`` (``None``, with a warning, if Numba fails).

    The parallel loop, or the serial one for an ``f`` that is itself parallel.
    Kept in ``_compiled`` and called without its dispatcher from then on: the
    dispatcher spends ~15 us per call typing ``f`` (it builds a
    ``types.Dispatcher`` each time), as long as 100 coordinates of a cheap
    ``f``. The entry holds ``f`` weakly (so does its Numba type): it goes with ``f``.
    """
    from numba import typeof, types
    from numba.core.errors import NumbaError

    from . import _numba_numgrad_jit as jit

    loop = jit.central_difference_serial if parallel_f else jit.central_difference_parallel
    try:  # lazily, on the first call for f; the same types the dispatcher would infer
        sig = (typeof(f), typeof(work), types.float64, types.boolean)
        compiled: Callable[..., Any] = loop.compile(sig)
    except NumbaError as exc:  # let the generic loop run (and report what f does wrong)
        _failed.add(f)
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        _warn_once(
            "compile",
            f"numerical_gradient: Numba could not compile the loop around `f` for a "
            f"{work.ndim}-d {work.dtype} array ({type(exc).__name__}: {first_line}); running the "
            "generic loop. f must take the array and return a float.",
            stacklevel=6,  # _warn_once <- _compile <- numerical_gradient <- the method <- ...
        )
        return None
    _compiled.setdefault(f, {})[(parallel_f, work.ndim, work.dtype.char)] = compiled
    return compiled


def _targets(t: np.ndarray, n: int, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-zero targets per sample in CSR form: ``(tptr, tidx, tval)``."""
    if np.issubdtype(t.dtype, np.integer):
        dense = np.zeros((n, c))
        dense[np.arange(n), t] = 1.0
    else:
        dense = np.asarray(t, dtype=np.float64)
    rows, cols = np.nonzero(dense)
    tptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=tptr[1:])
    return tptr, cols.astype(np.int64), dense[rows, cols]


def _labels(
    t: np.ndarray, tptr: np.ndarray, tidx: np.ndarray, tval: np.ndarray
) -> np.ndarray | None:
    """Class labels when every sample has exactly one target equal to 1, else ``None``."""
    if np.issubdtype(t.dtype, np.integer):
        return t.astype(np.int64)
    if np.all(np.diff(tptr) == 1) and np.all(tval == 1.0):
        return tidx
    return None


def _moment_grad(
    jit: Any,
    code: int,
    k: int,
    zt: np.ndarray,
    step_p: np.ndarray,
    step_m: np.ndarray,
    a: list[np.ndarray],
    z: list[np.ndarray],
    e: np.ndarray,
    labels: np.ndarray,
    w_out: np.ndarray,
    order: int,
    h: float,
) -> np.ndarray:
    """Prepare the moments and call ``last_hidden_moment_grad`` for layer ``k``."""
    n = e.shape[0]
    powers = np.stack([w_out**m / math.factorial(m) for m in range(order + 1)])  # (M+1, H, C)
    moments = np.ascontiguousarray(np.einsum("nc,mhc->mnh", e, powers))  # (M+1, N, H)
    e_label = np.ascontiguousarray(e[np.arange(n), labels])
    w_label = np.ascontiguousarray(w_out[:, labels].T)  # (N, H): W_out[j, label_n]
    s_this = z[k + 1]
    sbar = jit.activate(-a[k], code) if code == jit.SIGMOID else s_this
    # every exp argument within jit.SMALL: the inner loop needs no branch
    d_max = float(np.max(np.abs(zt))) * float(np.max(np.maximum(step_p, step_m)))
    dz_max = d_max * (0.25 * 1.01 if code == jit.SIGMOID else 1.0)
    poly_only = d_max <= jit.SMALL and dz_max * float(np.max(np.abs(w_out))) <= jit.SMALL
    return jit.last_hidden_moment_grad(
        zt, step_p, step_m, a[k], s_this, sbar, code, moments, e_label, w_label, h, poly_only
    )


#: Hidden activations the network kernel knows.
ACTIVATIONS = ("sigmoid", "relu")


def mlp_numerical_gradient(
    arrays: Sequence[Any], x: np.ndarray, t: np.ndarray, h: float, activation: str
) -> list[Any]:
    """:meth:`NumbaBackend.mlp_numerical_gradient` for NumPy arrays and :data:`ACTIVATIONS`.

    ``arrays`` ``(W1, b1, ...)``, ``x`` (2-D) and ``t`` arrive validated.
    """
    from numba.typed import List

    from . import _numba_numgrad_jit as jit
    from ._batched_numgrad import _taylor_order

    code = jit.SIGMOID if activation == "sigmoid" else jit.RELU
    n_layers = len(arrays) // 2
    ws = [np.ascontiguousarray(w, dtype=np.float64) for w in arrays[0::2]]
    bs = [np.ascontiguousarray(b, dtype=np.float64) for b in arrays[1::2]]
    x = np.ascontiguousarray(x, dtype=np.float64)
    n, c = x.shape[0], ws[-1].shape[1]
    tptr, tidx, tval = _targets(t, n, c)

    z = [x]
    a = []
    for k in range(n_layers):
        a.append(jit.affine(z[-1], ws[k], bs[k]))
        z.append(jit.activate(a[-1], code))  # the last one is unused
    out = a[-1]
    mx = out.max(axis=1)
    e = np.exp(out - mx[:, None])
    s = e.sum(axis=1)

    labels = _labels(t, tptr, tidx, tval)

    def _order(k: int, steps: np.ndarray) -> int | None:
        # a bound on |dz * W_out| over every perturbation of layer k
        d_max = max(float(np.max(np.abs(z[k]))), 1.0) * float(np.max(steps))
        dz_max = d_max * (0.25 * 1.01 if code == jit.SIGMOID else 1.0)
        return _taylor_order(dz_max * float(np.max(np.abs(ws[-1]))))

    grads: list[Any] = []
    for k in range(n_layers):
        grid = np.vstack([ws[k], bs[k][None, :]])
        step_p, step_m = (grid + h) - grid, grid - (grid - h)
        zt = np.ascontiguousarray(np.vstack([z[k].T, np.ones((1, n))]))
        if k == n_layers - 1:
            g = jit.output_layer_grad(zt, step_p, step_m, out, mx, e, s, tptr, tidx, tval, h)
        elif (
            k == n_layers - 2
            and labels is not None
            and (order := _order(k, np.maximum(step_p, step_m))) is not None
        ):
            g = _moment_grad(jit, code, k, zt, step_p, step_m, a, z, e, labels, ws[-1], order, h)
        else:
            upper_w, upper_b = List(ws[k + 2 :]), List(bs[k + 2 :])
            if not ws[k + 2 :]:
                from numba import types

                upper_w = List.empty_list(types.float64[:, ::1])
                upper_b = List.empty_list(types.float64[::1])
            g = jit.hidden_layer_grad(
                zt, step_p, step_m, a[k], z[k + 1], a[k + 1], ws[k + 1],
                upper_w, upper_b, code, tptr, tidx, tval, h,
            )  # fmt: skip
        grads.append(g[:-1].astype(arrays[2 * k].dtype, copy=False))
        grads.append(g[-1].astype(arrays[2 * k + 1].dtype, copy=False))
    return grads
