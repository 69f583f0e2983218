"""The compiled forward passes: one image through every layer, and the batch epilogues.

* :data:`predict_one`: one image through every layer in one call, the
  activations in a small scratch buffer, every product dense (eight rows of
  ``W`` per step, :func:`_affine`), exp, sigmoid and softmax vectorised
  (:mod:`~dlcore.backends._numba_math`); :func:`predict_one_for` gives a
  large first layer a kernel compiled for its width.
* :func:`bias_hidden_rows`, :func:`bias_softmax_rows`: a batch's layer after
  its matrix product (BLAS's, through NumPy): the bias row by row, the
  activation over the whole batch at once, in place.

Every entry point checks in compiled code that the shapes chain and refuses
non-float or mixed dtypes when typed, so no loop reads out of bounds or
misreads memory, whatever the caller passes.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numba import njit, types
from numba.core.errors import TypingError
from numba.extending import overload

from ._numba_math import (
    exp_nonpos_inplace,
    hidden_inplace,
    jit,
    normalise,
    require_float,
    shift_by_max,
    softmax_inplace,
)

__all__ = [
    "affine_dense",
    "bias_hidden_rows",
    "bias_softmax_rows",
    "predict_one",
    "predict_one_for",
]


@jit
def shapes_ok(n_features: int, Ws: Any, bs: Any) -> bool:  # pragma: no cover - compiled
    """Whether the layer shapes chain: checked in compiled code, so the loops never
    index out of bounds whatever the caller passes."""
    width = n_features
    for k in range(len(Ws)):
        if Ws[k].shape[0] != width or bs[k].shape[0] != Ws[k].shape[1] or Ws[k].shape[1] == 0:
            return False
        width = Ws[k].shape[1]
    return True


@jit
def check_arrays(x: Any, Ws: Any, bs: Any) -> None:  # pragma: no cover - compiled
    """Refuse non-float arrays (when typed) and layer shapes that do not chain (ValueError)."""
    require_float(x)
    require_float(Ws[0])
    require_float(bs[0])
    if not shapes_ok(x.shape[x.ndim - 1], Ws, bs):
        raise ValueError("the layer shapes do not chain")  # noqa: EM101 - Numba: a literal


@jit
def scratch_for(x: Any, Ws: Any) -> Any:  # pragma: no cover - compiled
    """Scratch for one image: every layer's activations and exp's work space."""
    total = 0
    widest = 1
    for k in range(len(Ws)):
        total += Ws[k].shape[1]
        widest = max(widest, Ws[k].shape[1])
    return np.empty(total + 2 * widest, x.dtype)


#: A first layer of at least this many weights gets a kernel compiled for its width
#: (:func:`predict_one_for`); smaller networks share :func:`predict_one`.
SPECIALIZE_WEIGHTS = 8192


@njit(inline="always", nogil=True, fastmath=False, error_model="numpy")
def _affine(x: Any, W: Any, b: Any, out: Any, m: int) -> None:  # pragma: no cover - compiled
    """``out = b + x @ W`` over ``m`` columns, eight rows of ``W`` (vectorised) per step.

    Inlined where it is called, so a caller's constant ``m`` is a constant
    trip count: LLVM then vectorises the row loop fully, which it does not
    for a runtime width of tens of columns. Adding eight scaled rows per pass
    loads and stores the running sums an eighth as often as a row at a time.
    """
    n = W.shape[0]
    for j in range(m):
        out[j] = b[j]
    full = n - n % 8
    for i in range(0, full, 8):
        a0, a1, a2, a3 = x[i], x[i + 1], x[i + 2], x[i + 3]
        a4, a5, a6, a7 = x[i + 4], x[i + 5], x[i + 6], x[i + 7]
        for j in range(m):
            lo = (a0 * W[i, j] + a1 * W[i + 1, j]) + (a2 * W[i + 2, j] + a3 * W[i + 3, j])
            hi = (a4 * W[i + 4, j] + a5 * W[i + 5, j]) + (a6 * W[i + 6, j] + a7 * W[i + 7, j])
            out[j] += lo + hi
    for i in range(full, n):
        a = x[i]
        for j in range(m):
            out[j] += a * W[i, j]


@jit
def affine_dense(x: Any, W: Any, b: Any, out: Any) -> None:  # pragma: no cover - compiled
    """``out = b + x @ W`` (:func:`_affine` over all of ``W``'s columns)."""
    _affine(x, W, b, out, W.shape[1])


def _make_predict_one(width: int) -> Any:
    """The one-image kernel whose first layer has ``width`` columns (0: any width).

    Its closure holds only the integer (Numba's disk cache keys a closure by
    its cells), which the first layer's inlined loop takes as a constant.
    """

    @jit
    def predict_one(x: Any, arrays: Any, relu: bool, out: Any) -> None:  # pragma: no cover
        Ws, bs = arrays[0::2], arrays[1::2]
        check_arrays(x, Ws, bs)
        require_float(out)
        if width != 0 and Ws[0].shape[1] != width:
            raise ValueError("W1 is not of the width this kernel was compiled for")  # noqa: EM101
        n_layers = len(Ws)
        if out.shape[0] != Ws[n_layers - 1].shape[1]:  # (a 2-D `out` does not type)
            raise ValueError("`out` does not have the last layer's width")  # noqa: EM101
        scratch = scratch_for(x, Ws)
        h = x
        offset = 0
        for layer in range(n_layers):
            z = out if layer == n_layers - 1 else scratch[offset : offset + Ws[layer].shape[1]]
            if layer == 0:
                _affine(h, Ws[0], bs[0], z, Ws[0].shape[1] if width == 0 else width)
            else:
                affine_dense(h, Ws[layer], bs[layer], z)
            offset += Ws[layer].shape[1]
            if layer < n_layers - 1:
                hidden_inplace(z, scratch[offset:], relu)
            h = z
        softmax_inplace(out, scratch[offset:])

    return predict_one


#: ``predict_one(x, arrays, relu, out)``: the forward pass of one image ``(d,)`` into
#: ``out``, ``(k,)`` probabilities, ``arrays`` the flat tuple ``(W1, b1, ..., Wn, bn)``
#: (the cheapest argument for Numba's dispatcher; an ``out`` made by the caller costs
#: less than an array returned by compiled code). Every product is dense: skipping the
#: zero pixels would need ``W1`` checked for inf and NaN (``0 * inf`` is NaN), and that
#: check reads all of ``W1``, as the dense product does. ValueError when the layer
#: shapes do not chain or ``out`` is not ``(k,)``.
predict_one = _make_predict_one(0)


@functools.lru_cache(maxsize=32)
def _specialized(width: int) -> Any:
    """The one-image kernel compiled for a first layer of ``width`` columns, made once."""
    return _make_predict_one(width)


def predict_one_for(n_features: int, width: int) -> Any:
    """The one-image kernel for a first layer of ``n_features`` x ``width`` weights.

    A layer of at least :data:`SPECIALIZE_WEIGHTS` weights gets a kernel
    compiled for its width (once per width; Numba caches it on disk), which
    refuses a ``W1`` of another width with ValueError; smaller layers share
    :data:`predict_one`.

    Examples
    --------
    >>> predict_one_for(4, 3) is predict_one
    True
    """
    if width < 1 or n_features * width < SPECIALIZE_WEIGHTS:
        return predict_one
    return _specialized(width)


def require_same_float(z: Any, b: Any) -> None:  # pragma: no cover - replaced in compiled code
    """Refuse (when typed) a 2-D ``z`` and 1-D ``b`` that are not of one float dtype."""


@overload(require_same_float)
def _require_same_float_impl(z: Any, b: Any) -> Any:
    if not (
        isinstance(z, types.Array)
        and isinstance(b, types.Array)
        and z.ndim == 2
        and b.ndim == 1
        and z.dtype == b.dtype
        and z.dtype in (types.float32, types.float64)
    ):
        msg = f"a layer's epilogue takes a 2-D and a 1-D array of one float dtype, got {z}, {b}"
        raise TypingError(msg)

    def ok(z: Any, b: Any) -> None:
        return None

    return ok


@jit
def check_bias(z: Any, b: Any) -> None:  # pragma: no cover - compiled
    """Refuse mixed or non-float dtypes (when typed) and a bias of the wrong length."""
    require_same_float(z, b)
    if b.shape[0] != z.shape[1]:
        raise ValueError("a bias does not match its layer's width")  # noqa: EM101 - Numba


#: Elements per pass of a batch's sigmoid or exp (the scratch holds two passes).
CHUNK = 1024


def _hidden_batch(z: Any, relu: bool) -> None:  # pragma: no cover - replaced in compiled code
    """The hidden activation of every entry of the 2-D ``z``, in place."""


@overload(_hidden_batch)
def _hidden_batch_impl(z: Any, relu: Any) -> Any:
    if isinstance(z, types.Array) and z.layout == "C":  # the rows one after another

        def flat(z: Any, relu: Any) -> None:
            v = z.reshape(-1)
            scratch = np.empty(2 * CHUNK, z.dtype)
            for start in range(0, v.shape[0], CHUNK):
                hidden_inplace(v[start : start + CHUNK], scratch, relu)

        return flat

    def rows(z: Any, relu: Any) -> None:
        scratch = np.empty(2 * z.shape[1], z.dtype)
        for r in range(z.shape[0]):
            hidden_inplace(z[r], scratch, relu)

    return rows


def _exp_batch(z: Any) -> None:  # pragma: no cover - replaced in compiled code
    """``z = exp(z)`` for a 2-D ``z`` of entries <= 0 (or NaN), in place."""


@overload(_exp_batch)
def _exp_batch_impl(z: Any) -> Any:
    if isinstance(z, types.Array) and z.layout == "C":

        def flat(z: Any) -> None:
            v = z.reshape(-1)
            scratch = np.empty(CHUNK, z.dtype)
            for start in range(0, v.shape[0], CHUNK):
                exp_nonpos_inplace(v[start : start + CHUNK], scratch)

        return flat

    def rows(z: Any) -> None:
        scratch = np.empty(z.shape[1], z.dtype)
        for r in range(z.shape[0]):
            exp_nonpos_inplace(z[r], scratch)

    return rows


@jit
def bias_hidden_rows(z: Any, b: Any, relu: bool) -> None:  # pragma: no cover - compiled
    """``z = h(z + b)`` in place, ``h`` the sigmoid or ReLU (``z``: ``(N, m)``).

    The bias goes row by row, the activation (elementwise) over a
    C-contiguous batch's rows at once in passes of :data:`CHUNK` elements, so
    a narrow layer's rows do not each pay a pass's set-up.
    """
    check_bias(z, b)
    for r in range(z.shape[0]):
        row = z[r]
        for j in range(row.shape[0]):
            row[j] += b[j]
    _hidden_batch(z, relu)


@jit
def bias_softmax_rows(z: Any, b: Any) -> None:  # pragma: no cover - compiled
    """``z = softmax(z + b)`` row by row in place (``z``: ``(N, m)``).

    :func:`~dlcore.backends._numba_math.softmax_inplace`'s steps, the exp
    over a C-contiguous batch's rows at once in passes of :data:`CHUNK`.
    """
    check_bias(z, b)
    for r in range(z.shape[0]):
        row = z[r]
        for j in range(row.shape[0]):
            row[j] += b[j]
        shift_by_max(row)
    _exp_batch(z)
    for r in range(z.shape[0]):
        normalise(z[r])
