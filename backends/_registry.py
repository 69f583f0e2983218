"""The table of backend names: built-in factories, registered ones and entry points.

One instance per name is created on first use (:func:`instance`); placed
copies (a backend on a chosen device) are cached beside it by the selection
code in :mod:`dlcore.backends`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ._base import Backend, BackendNotInstalledError

ENV_VAR = "DLCORE_BACKEND"
ENTRY_POINT_GROUP = "dlcore.backends"


def _numpy() -> Backend:
    from .numpy_backend import NumpyBackend

    return NumpyBackend()


def _numba() -> Backend:
    from .numba_backend import NumbaBackend

    return NumbaBackend()


def _numba_parallel() -> Backend:
    from .numba_backend import NumbaParallelBackend

    return NumbaParallelBackend()


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
    "numba_parallel": _numba_parallel,
    "cupy": _cupy,
    "array_api_strict": _compat("array_api_strict"),
    "torch": _compat("torch"),
    "jax": _compat("jax"),
    "dask": _compat("dask"),
}
_BUILTIN = frozenset(_FACTORIES)
_INSTANCES: dict[str, Backend] = {}
#: Backends placed on a device: (name, device spec as typed) -> placed backend.
_PLACED: dict[tuple[str, str, str], Backend] = {}
_LOCK = threading.Lock()
_entry_points_loaded = False


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
    key = normalize(name)
    if not key:
        msg = "a backend name must be a non-empty string"
        raise ValueError(msg)
    with _LOCK:
        _FACTORIES[key] = factory
        _forget(key)


def unregister_backend(name: str) -> None:
    """Remove a backend registered with :func:`register_backend` (built-ins stay).

    Raises
    ------
    ValueError
        ``name`` is a built-in backend or not registered.
    """
    key = normalize(name)
    if key in _BUILTIN or key not in _FACTORIES:
        msg = f"cannot unregister {name!r}: not a registered third-party backend"
        raise ValueError(msg)
    with _LOCK:
        _FACTORIES.pop(key, None)
        _forget(key)


def _forget(key: str) -> None:
    _INSTANCES.pop(key, None)
    for placed in [k for k in _PLACED if k[0] == key]:
        del _PLACED[placed]


def load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib.metadata import entry_points  # lazy: ~0.1 s of `import dlcore` otherwise

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        key = normalize(ep.name)
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
    load_entry_points()
    return sorted(_FACTORIES)


def normalize(name: object) -> str:
    if not isinstance(name, str):
        msg = f"a backend name must be a string, got {type(name).__name__}"
        raise TypeError(msg)
    return name.strip().lower()


def instance(name: str) -> Backend:
    load_entry_points()
    key = normalize(name)
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
