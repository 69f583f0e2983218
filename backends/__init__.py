"""Pluggable compute for dlcore: a registry of backends chosen by name.

Resolution order for the active backend (read lazily, on every call):

1. an explicit ``backend=`` argument (``get_backend("numba")``),
2. the innermost :func:`use_backend` context (a ContextVar),
3. :func:`set_backend`,
4. the environment variable ``DLCORE_BACKEND`` (stripped, lower-cased; empty
   means unset),
5. ``"numpy"``.

Each level names a backend and optionally a device: ``backend=`` objects carry
their own (:meth:`Backend.on_device`), ``use_backend(name, device=...)``,
``set_backend(name, device=...)``, and ``DLCORE_DEVICE`` for the backend that
``DLCORE_BACKEND`` (or the default) names. No device means the library's
default. A device is checked when it is set; a name that matches no device
raises a ``ValueError`` listing the devices that exist.

A backend that was asked for and cannot run raises; dlcore never falls back to
another backend silently. Third-party backends register a zero-argument
factory (or a :class:`Backend` subclass) under the entry-point group
``dlcore.backends``.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from . import _registry
from ._base import (
    Backend,
    BackendDeviceError,
    BackendError,
    BackendNotInstalledError,
    NumbaFallbackWarning,
)
from ._registry import _FACTORIES as _FACTORIES
from ._registry import (
    _LOCK,
    ENV_VAR,
    backend_names,
    register_backend,
    unregister_backend,
)
from ._registry import ENTRY_POINT_GROUP as ENTRY_POINT_GROUP
from ._registry import instance as _instance
from ._registry import normalize as _normalize

__all__ = [
    "DEVICE_ENV_VAR",
    "ENV_VAR",
    "Backend",
    "BackendDeviceError",
    "BackendError",
    "BackendNotInstalledError",
    "NumbaFallbackWarning",
    "asarray",
    "available_backends",
    "backend_names",
    "get_backend",
    "register_backend",
    "set_backend",
    "to_numpy",
    "unregister_backend",
    "use_backend",
]

DEVICE_ENV_VAR = "DLCORE_DEVICE"
DEFAULT = "numpy"


#: A request is (backend name, device spec or None for the library's default).
_Request = tuple[str, Any]
_context: contextvars.ContextVar[_Request | None] = contextvars.ContextVar(
    "dlcore_backend", default=None
)
_global: _Request | None = None


def _placed(backend: Backend, key: str, device: Any) -> Backend:
    """``backend`` on ``device`` (validated once per spec, then cached)."""
    spec = (key, type(device).__name__, str(device))
    placed = _registry._PLACED.get(spec)
    if placed is None:
        placed = backend.on_device(device)
        with _LOCK:
            _registry._PLACED[spec] = placed
    return placed


def _environ_reader() -> Any:
    """A fast reader of the raw ``DLCORE_BACKEND`` and ``DLCORE_DEVICE`` (None when unset).

    ``os.environ.get`` of an unset variable costs about 1 µs (a KeyError
    inside), which is most of a one-image ``predict`` on the numba backend;
    ``os.environ``'s own mapping of encoded keys (the one its ``get`` reads)
    answers in about 20 ns. Falls back to ``os.environ.get`` where that
    mapping is not there.
    """
    data = getattr(os.environ, "_data", None)
    encodekey = getattr(os.environ, "encodekey", None)
    if not isinstance(data, dict) or not callable(encodekey):
        return lambda: (os.environ.get(ENV_VAR), os.environ.get(DEVICE_ENV_VAR))
    backend, device = encodekey(ENV_VAR), encodekey(DEVICE_ENV_VAR)
    return lambda: (data.get(backend), data.get(device))


_environ_raw = _environ_reader()
#: The last environment request: ((raw DLCORE_BACKEND, raw DLCORE_DEVICE), request).
_from_environ: tuple[tuple[Any, Any], tuple[str, Any, str]] | None = None


def _requested() -> tuple[str, Any, str]:
    """Return ``(name, device, where it came from)`` following the resolution order."""
    global _from_environ
    ctx = _context.get()
    if ctx is not None:
        return (*ctx, "use_backend()")
    if _global is not None:
        return (*_global, "set_backend()")
    raw = _environ_raw()
    last = _from_environ
    if last is not None and last[0] == raw:  # read on every call, parsed once per value
        return last[1]
    env = os.environ.get(ENV_VAR, "").strip().lower()
    device = os.environ.get(DEVICE_ENV_VAR, "").strip() or None
    source = f"the environment variable {ENV_VAR}" if env else "the default"
    if device is not None:
        source += f" with {DEVICE_ENV_VAR}={device!r}"
    request = (env or DEFAULT, device, source)
    _from_environ = (raw, request)
    return request


def get_backend(backend: str | Backend | None = None, *, device: Any = None) -> Backend:
    """Return the active backend, or the one named by ``backend``.

    Parameters
    ----------
    backend : str, Backend or None
        A backend name (``"numpy"``, ``"numba"``, ``"cupy"``,
        ``"array_api_strict"``, ...), a backend object, or ``None`` for the
        active one (see the module docstring for the resolution order).
    device : optional
        The device for a named backend (``"cuda:1"``, ``1`` for CuPy,
        ``array_api_strict.Device("device1")``...); default: the library's.

    Returns
    -------
    Backend
        A backend that is installed and usable, whose new arrays go to its
        :attr:`~Backend.device`.

    Raises
    ------
    ValueError
        The name is unknown (the message lists the valid names), or the
        device is not one of the backend's (the message lists those).
    BackendNotInstalledError
        The library is missing; the message has the pip command.
    BackendDeviceError
        The library is installed but its device (a CUDA GPU) is missing.

    Examples
    --------
    >>> import dlcore
    >>> dlcore.get_backend("numpy").name
    'numpy'
    >>> dlcore.get_backend("numpy", device="cpu").device
    'cpu'
    """
    if isinstance(backend, Backend):
        backend.check_available()
        return backend if device is None else backend.on_device(device)
    if backend is None and device is None:
        name, device, source = _requested()
    elif backend is None:
        name, source = _requested()[0], "get_backend(device=...)"
    else:
        name, source = backend, "the backend= argument"
    # fast path (predict calls this once per image): a loaded backend, exact name
    if device is None:
        cached = _registry._INSTANCES.get(name) if isinstance(name, str) else None
        if cached is not None and cached._xp is not None:
            return cached
    else:
        placed = _registry._PLACED.get((name, type(device).__name__, str(device)))
        if placed is not None:
            return placed
    return _resolve(name, device, source)


def _resolve(name: str, device: Any, source: str) -> Backend:
    """The usable backend ``name`` on ``device``; errors say who asked for it."""
    try:
        b = _instance(name)
        b.check_available()
        return b if device is None else _placed(b, _normalize(name), device)
    except ValueError as exc:
        msg = f"{exc} [requested by {source}]"
        raise ValueError(msg) from None


def set_backend(name: str | None, *, device: Any = None) -> None:
    """Set the process-wide backend (``None`` returns to ``DLCORE_BACKEND``/numpy).

    The backend and the device are checked now, so a wrong name, a missing
    library or a device that does not exist fails here rather than at the
    first array.

    Examples
    --------
    >>> import dlcore
    >>> dlcore.set_backend("numpy", device="cpu")
    >>> dlcore.get_backend().name
    'numpy'
    >>> dlcore.set_backend(None)  # back to DLCORE_BACKEND, else numpy
    """
    global _global
    if name is None:
        if device is not None:
            msg = "set_backend(None, device=...) has no backend to place; name one"
            raise ValueError(msg)
        _global = None
        return
    _resolve(name, device, "set_backend()")
    _global = (_normalize(name), device)


@contextmanager
def use_backend(name: str, *, device: Any = None) -> Iterator[Backend]:
    """Use backend ``name`` (on ``device``) inside a ``with`` block (per thread / async task).

    Examples
    --------
    >>> import dlcore
    >>> with dlcore.use_backend("numpy") as b:
    ...     print(b.name, dlcore.get_backend().name)
    numpy numpy
    >>> import array_api_strict as strict
    >>> with dlcore.use_backend("array_api_strict", device="device1") as b:
    ...     print(b.device_label(dlcore.asarray([1.0]).device))
    device1
    """
    backend = _resolve(name, device, "use_backend()")
    token = _context.set((_normalize(name), device))
    try:
        yield backend
    finally:
        _context.reset(token)


def available_backends() -> dict[str, tuple[bool, str]]:
    """Every registered backend with ``(available, reason it is not)``.

    Examples
    --------
    >>> import dlcore
    >>> dlcore.available_backends()["numpy"]
    (True, '')
    """
    result: dict[str, tuple[bool, str]] = {}
    for name in backend_names():
        try:
            backend = _instance(name)
        except Exception as exc:  # a broken plugin must not hide the others
            result[name] = (False, f"{type(exc).__name__}: {exc}")
            continue
        result[name] = backend.is_available()
    return result


def asarray(obj: Any, dtype: Any = None, *, backend: str | Backend | None = None) -> Any:
    """Create an array on the active backend (or on ``backend``).

    Host data (lists, scalars, NumPy arrays) and arrays of any other backend
    are accepted; the latter are copied through host memory. This is how data
    moves between backends.

    Examples
    --------
    >>> import dlcore
    >>> dlcore.asarray([1.0, 2.0], backend="numpy")
    array([1., 2.])
    """
    return get_backend(backend).asarray(obj, dtype=dtype)


def to_numpy(x: Any) -> np.ndarray:
    """Copy an array of any backend (or host data) to a NumPy array.

    Examples
    --------
    >>> import dlcore
    >>> dlcore.to_numpy([1, 2])
    array([1, 2])
    """
    from ._base import _any_to_numpy

    return _any_to_numpy(x)
