"""Pluggable compute for dlcore: a registry of backends chosen by name.

Resolution order for the active backend (read lazily, on every call):

1. an explicit ``backend=`` argument (``get_backend("numba")``),
2. the innermost :func:`use_backend` context (a ContextVar),
3. :func:`set_backend`,
4. the environment variable ``DLCORE_BACKEND`` (stripped, lower-cased; empty
   means unset),
5. ``"numpy"``.

A backend that was asked for and cannot run raises; dlcore never falls back to
another backend silently. Third-party backends register a zero-argument
factory (or a :class:`Backend` subclass) under the entry-point group
``dlcore.backends``.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ._base import (
    Backend,
    BackendDeviceError,
    BackendError,
    BackendNotInstalledError,
    NumbaFallbackWarning,
)

__all__ = [
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

ENV_VAR = "DLCORE_BACKEND"
DEFAULT = "numpy"
ENTRY_POINT_GROUP = "dlcore.backends"


def _numpy() -> Backend:
    from .numpy_backend import NumpyBackend

    return NumpyBackend()


def _numba() -> Backend:
    from .numba_backend import NumbaBackend

    return NumbaBackend()


def _cupy() -> Backend:
    from .cupy_backend import CupyBackend

    return CupyBackend()


def _compat(name: str) -> Callable[[], Backend]:
    def factory() -> Backend:
        from .compat import KNOWN, CompatBackend

        module, requirement = KNOWN[name]
        return CompatBackend(name, module, requirement)

    return factory


_FACTORIES: dict[str, Callable[[], Backend]] = {
    "numpy": _numpy,
    "numba": _numba,
    "cupy": _cupy,
    "array_api_strict": _compat("array_api_strict"),
    "torch": _compat("torch"),
    "jax": _compat("jax"),
    "dask": _compat("dask"),
}
_BUILTIN = frozenset(_FACTORIES)
_INSTANCES: dict[str, Backend] = {}
_LOCK = threading.Lock()
_entry_points_loaded = False

_context: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "dlcore_backend", default=None
)
_global: str | None = None


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Register a backend factory under ``name`` (lower-case identifier).

    Third-party packages normally use the entry-point group
    ``dlcore.backends`` instead; this function is for tests and scripts.

    Examples
    --------
    >>> import dlcore
    >>> from dlcore.backends import unregister_backend
    >>> from dlcore.backends.numpy_backend import NumpyBackend
    >>> class Mine(NumpyBackend):
    ...     name = "mine"
    >>> dlcore.register_backend("mine", Mine)
    >>> with dlcore.use_backend("mine") as b:
    ...     print(b.name, type(dlcore.asarray([1.0])).__name__)
    mine ndarray
    >>> unregister_backend("mine")
    """
    key = _normalize(name)
    if not key:
        msg = "a backend name must be a non-empty string"
        raise ValueError(msg)
    with _LOCK:
        _FACTORIES[key] = factory
        _INSTANCES.pop(key, None)


def unregister_backend(name: str) -> None:
    """Remove a backend registered with :func:`register_backend` (built-ins stay).

    Raises
    ------
    ValueError
        ``name`` is a built-in backend or not registered.
    """
    key = _normalize(name)
    if key in _BUILTIN or key not in _FACTORIES:
        msg = f"cannot unregister {name!r}: not a registered third-party backend"
        raise ValueError(msg)
    with _LOCK:
        _FACTORIES.pop(key, None)
        _INSTANCES.pop(key, None)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib.metadata import entry_points  # lazy: ~0.1 s of `import dlcore` otherwise

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        key = _normalize(ep.name)
        if key in _FACTORIES:
            continue  # built-in names cannot be shadowed by a plugin

        def factory(ep: Any = ep) -> Backend:
            try:
                obj = ep.load()
                backend = obj() if callable(obj) else obj
            except (Exception, SystemExit) as exc:  # a plugin must not stop dlcore (sys.exit)
                msg = (
                    f"backend plugin {ep.name!r} ({ep.value}, entry point group "
                    f"{ENTRY_POINT_GROUP!r}) failed to load: {type(exc).__name__}: {exc}; "
                    "fix or uninstall the package that provides it"
                )
                raise BackendNotInstalledError(msg) from exc
            if not isinstance(backend, Backend):
                msg = (
                    f"entry point {ep.value!r} in group {ENTRY_POINT_GROUP!r} must give a "
                    f"dlcore.backends.Backend, got {type(backend).__name__}"
                )
                raise TypeError(msg)
            return backend

        _FACTORIES[key] = factory


def backend_names() -> list[str]:
    """All registered backend names (built in and from entry points), sorted."""
    _load_entry_points()
    return sorted(_FACTORIES)


def _normalize(name: object) -> str:
    if not isinstance(name, str):
        msg = f"a backend name must be a string, got {type(name).__name__}"
        raise TypeError(msg)
    return name.strip().lower()


def _instance(name: str) -> Backend:
    _load_entry_points()
    key = _normalize(name)
    if key not in _FACTORIES:
        msg = (
            f"unknown dlcore backend {name!r}; valid names are: {', '.join(sorted(_FACTORIES))} "
            f"(set {ENV_VAR} or call dlcore.set_backend() with one of them)"
        )
        raise ValueError(msg)
    with _LOCK:
        backend = _INSTANCES.get(key)
        if backend is None:
            backend = _INSTANCES[key] = _FACTORIES[key]()
    return backend


def _requested_name() -> tuple[str, str]:
    """Return ``(name, where it came from)`` following the resolution order."""
    ctx = _context.get()
    if ctx is not None:
        return ctx, "use_backend()"
    if _global is not None:
        return _global, "set_backend()"
    env = os.environ.get(ENV_VAR, "").strip().lower()
    if env:
        return env, f"the environment variable {ENV_VAR}"
    return DEFAULT, "the default"


def get_backend(backend: str | Backend | None = None) -> Backend:
    """Return the active backend, or the one named by ``backend``.

    Parameters
    ----------
    backend : str, Backend or None
        A backend name (``"numpy"``, ``"numba"``, ``"cupy"``,
        ``"array_api_strict"``, ...), a backend object, or ``None`` for the
        active one (see the module docstring for the resolution order).

    Returns
    -------
    Backend
        A backend that is installed and usable.

    Raises
    ------
    ValueError
        The name is unknown; the message lists the valid names.
    BackendNotInstalledError
        The library is missing; the message has the pip command.
    BackendDeviceError
        The library is installed but its device (a CUDA GPU) is missing.

    Examples
    --------
    >>> import dlcore
    >>> dlcore.get_backend("numpy").name
    'numpy'
    """
    if isinstance(backend, Backend):
        backend.check_available()
        return backend
    if backend is None:
        name, source = _requested_name()
    else:
        name, source = backend, "the backend= argument"
    # fast path (predict calls this once per image): a loaded backend, exact name
    cached = _INSTANCES.get(name) if isinstance(name, str) else None
    if cached is not None and cached._xp is not None:
        return cached
    try:
        b = _instance(name)
    except ValueError as exc:
        msg = f"{exc} [requested by {source}]"
        raise ValueError(msg) from None
    b.check_available()
    return b


def set_backend(name: str | None) -> None:
    """Set the process-wide backend (``None`` returns to ``DLCORE_BACKEND``/numpy).

    The backend is checked now, so a wrong name or a missing library fails
    here rather than at the first array.

    Examples
    --------
    >>> import dlcore
    >>> dlcore.set_backend("numpy")
    >>> dlcore.get_backend().name
    'numpy'
    >>> dlcore.set_backend(None)  # back to DLCORE_BACKEND, else numpy
    """
    global _global
    if name is not None:
        get_backend(name)
        name = _normalize(name)
    _global = name


@contextmanager
def use_backend(name: str) -> Iterator[Backend]:
    """Use backend ``name`` inside a ``with`` block (per thread / async task).

    Examples
    --------
    >>> import dlcore
    >>> with dlcore.use_backend("numpy") as b:
    ...     print(b.name, dlcore.get_backend().name)
    numpy numpy
    """
    backend = get_backend(name)
    token = _context.set(_normalize(name))
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
