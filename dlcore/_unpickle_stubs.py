"""The stand-ins NumPy's pickle names resolve to, and the unpickler's errors.

:mod:`dlcore._unpickle` maps ``numpy.dtype``, ``numpy.ndarray``,
``_reconstruct``, ``scalar``, ``_frombuffer``, ``_codecs.encode``, ``bytes``,
``set`` and ``frozenset`` to these: each checks its arguments and refuses
anything but plain numbers before dlcore builds an array from the raw bytes.
"""

from __future__ import annotations

import pickle
import reprlib
from typing import Any, Protocol

import numpy as np

__all__ = [
    "NDARRAY",
    "Array",
    "Builder",
    "Dtype",
    "MalformedPickleError",
    "UnsafePickleError",
    "as_bytes",
    "empty_bytes",
    "encode",
    "make_dtype",
    "make_frozenset",
    "make_set",
    "malformed",
    "refuse",
    "shape_of",
    "show",
]


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asks for something other than plain NumPy arrays and containers."""


class MalformedPickleError(pickle.UnpicklingError, ValueError):
    """The pickle is truncated, garbled, or its sizes do not match the bytes it holds."""


#: dtype codes NumPy pickles for plain numbers (``np.dtype(code)``).
_PLAIN = frozenset(
    ["b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"]
)
_MAX_NDIM = 32


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 40, 40
_REPR.maxtuple = _REPR.maxlist = _REPR.maxdict = _REPR.maxset = 6


def show(obj: object) -> str:
    """A short repr: data from the file can be a huge structure (or a DAG whose full
    repr is exponentially long), so never ``repr`` it whole."""
    return _REPR.repr(obj)


def refuse(what: str) -> UnsafePickleError:
    msg = (
        f"refusing {what} from a pickle: only plain NumPy arrays (numbers, no fields or "
        "objects), dicts, lists, tuples and scalars are allowed (this file may be malicious "
        "or not the expected format)"
    )
    return UnsafePickleError(msg)


def malformed(what: str) -> MalformedPickleError:
    return MalformedPickleError(f"malformed pickle: {what}")


def as_bytes(raw: object, what: str) -> bytes | bytearray:
    """Raw array bytes: bytes, a bytearray, or a latin-1 str (protocols 0-2, Python 2)."""
    if isinstance(raw, (bytes, bytearray)):
        return raw
    if isinstance(raw, str):
        try:
            return raw.encode("latin1")
        except UnicodeEncodeError:
            msg = f"{what} is text that is not latin-1 bytes"
            raise malformed(msg) from None
    msg = f"{what} must be bytes, got {type(raw).__name__}"
    raise malformed(msg)


def _flag(value: object, what: str) -> bool:
    if value in (0, 1) and type(value) in (bool, int):
        return bool(value)
    msg = f"{what} must be True or False, got {show(value)}"
    raise malformed(msg)


class Dtype:
    """Stand-in for ``numpy.dtype(code, align, copy)`` (+ ``__setstate__``)."""

    __slots__ = ("code", "order")

    def __init__(self, code: object, align: object = False, copy: object = True) -> None:
        if not isinstance(code, str) or code not in _PLAIN:
            msg = f"numpy.dtype({show(code)})"
            raise refuse(msg)
        _flag(align, "dtype align")
        _flag(copy, "dtype copy")
        self.code = code
        self.order = "="

    def __setstate__(self, state: object) -> None:
        # (3, order, subarray, names, fields, elsize, alignment, flags[, metadata])
        if not (isinstance(state, tuple) and len(state) in (8, 9) and state[0] in (3, 4)):
            msg = f"dtype state {show(state)}"
            raise malformed(msg)
        order, subarray, names, fields, elsize, alignment, flags = state[1:8]
        if subarray is not None or names is not None or fields is not None:
            msg = f"a dtype with fields or a subarray ({show(state)})"
            raise refuse(msg)
        if order not in ("<", ">", "=", "|") or (elsize, alignment, flags) != (-1, -1, 0):
            msg = f"dtype state {show(state)}"
            raise malformed(msg)
        if len(state) == 9 and state[8] not in (None, {}):
            msg = "a dtype with metadata"
            raise refuse(msg)
        self.order = order

    def resolve(self) -> np.dtype[Any]:
        dt = np.dtype(self.code)
        return dt if self.order in ("=", "|") else dt.newbyteorder(self.order)  # type: ignore[arg-type]


def shape_of(shape: object) -> tuple[int, ...]:
    sane = isinstance(shape, tuple) and len(shape) <= _MAX_NDIM
    if sane and all(type(n) is int and 0 <= n < 2**63 for n in shape):  # type: ignore[attr-defined]
        return shape  # type: ignore[return-value]
    msg = f"array shape {show(shape)} (expected a tuple of non-negative ints)"
    raise malformed(msg)


class Builder(Protocol):
    """What :class:`Array` needs of the reader: a checked array from raw bytes."""

    def build(self, raw: object, dtype: object, shape: tuple[int, ...], fortran: bool) -> Any: ...


class Array:
    """Stand-in for ``_reconstruct(ndarray, (0,), b'b')`` until ``__setstate__`` fills it."""

    __slots__ = ("array", "reader")

    def __init__(self, reader: Builder) -> None:
        self.reader = reader
        self.array: np.ndarray | None = None

    def __setstate__(self, state: object) -> None:
        if self.array is not None:
            msg = "an array is set twice"
            raise malformed(msg)
        if isinstance(state, tuple) and len(state) == 5 and state[0] == 1:
            state = state[1:]
        if not (isinstance(state, tuple) and len(state) == 4):
            msg = f"array state of type {type(state).__name__}"
            raise malformed(msg)
        shape, dtype, fortran, raw = state
        self.array = self.reader.build(raw, dtype, shape_of(shape), _flag(fortran, "fortran flag"))


def make_dtype(*args: object) -> Dtype:
    """What ``numpy.dtype`` resolves to (a function: ``NEWOBJ`` cannot skip ``__init__``)."""
    return Dtype(*args)


class _NdarrayToken:
    """What ``numpy.ndarray`` resolves to: a marker for ``_reconstruct``, not a class."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "numpy.ndarray"


NDARRAY = _NdarrayToken()


def encode(text: object, encoding: object = "latin1") -> bytes:
    """``_codecs.encode(str, 'latin1')``: how protocols 0-2 store ``bytes``."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        msg = f"_codecs.encode with {type(text).__name__}, {show(encoding)}"
        raise refuse(msg)
    return bytes(as_bytes(text, "encoded bytes"))


def empty_bytes(*args: object) -> bytes:
    """``bytes()``: how protocols 0-2 store ``b''``."""
    if args:
        msg = "bytes() with arguments"
        raise refuse(msg)
    return b""


def _items(args: tuple[object, ...], kind: str) -> list[object]:
    if len(args) > 1 or (args and not isinstance(args[0], (list, tuple))):
        msg = f"{kind}() with arguments {show(args)}"
        raise refuse(msg)
    return list(args[0]) if args else []  # type: ignore[call-overload]


def make_set(*args: object) -> set[object]:
    """``set(list)``: how protocols 0-3 store a set."""
    return set(_items(args, "set"))


def make_frozenset(*args: object) -> frozenset[object]:
    """``frozenset(list)``: how protocols 0-3 store a frozenset."""
    return frozenset(_items(args, "frozenset"))
