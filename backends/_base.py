"""The backend object: where new arrays live and which kernels replace hot loops."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "Backend",
    "BackendDeviceError",
    "BackendError",
    "BackendNotInstalledError",
]


class BackendError(Exception):
    """Base class of the errors a backend raises when it cannot be used."""


class BackendNotInstalledError(BackendError, ImportError):
    """The library behind a backend is not installed (the message has the pip command)."""


class BackendDeviceError(BackendError, RuntimeError):
    """The library is installed but the device it needs (e.g. a CUDA GPU) is missing."""


class Backend:
    """A compute backend.

    A backend decides only two things: where *new* arrays are created (weights,
    datasets, :func:`dlcore.asarray`) and which compiled kernel, if any,
    replaces a hot loop. Maths functions never consult it: they take the array
    namespace from their inputs.

    Subclasses set :attr:`name` and implement :meth:`_load` (import the library,
    return the Array-API namespace) and may register kernels in
    :attr:`kernels`.

    Attributes
    ----------
    name : str
        The name used in ``DLCORE_BACKEND`` and :func:`dlcore.set_backend`.
    install_hint : str
        The command that installs the library, shown when it is missing.

    Examples
    --------
    >>> import dlcore
    >>> b = dlcore.get_backend("numpy")
    >>> b.name, b.to_numpy(b.asarray([1.0, 2.0])).tolist()
    ('numpy', [1.0, 2.0])
    """

    name: str = "abstract"
    install_hint: str = ""
    description: str = ""

    def __init__(self) -> None:
        self._xp: Any = None
        self._kernels: dict[str, Callable[..., Any]] = {}
        self._kernels_loaded = False

    # -- loading ----------------------------------------------------------
    def _load(self) -> Any:  # pragma: no cover - abstract
        """Import the library and return its Array-API namespace."""
        raise NotImplementedError

    def _load_kernels(self) -> dict[str, Callable[..., Any]]:
        """Return the kernels this backend provides (imported lazily)."""
        return {}

    def check_available(self) -> None:
        """Raise a :class:`BackendError` that says why this backend cannot run."""
        if self._xp is None:
            self._xp = self._load()

    def is_available(self) -> tuple[bool, str]:
        """Return ``(True, "")`` or ``(False, reason)`` without raising."""
        try:
            self.check_available()
        except BackendError as exc:
            return False, str(exc)
        return True, ""

    # -- arrays -----------------------------------------------------------
    @property
    def xp(self) -> Any:
        """The Array-API namespace (imports the library on first use)."""
        if self._xp is None:
            self.check_available()
        return self._xp

    @property
    def device(self) -> Any:
        """The device new arrays are created on."""
        return None

    def asarray(self, obj: Any, dtype: Any = None) -> Any:
        """Create an array of this backend from ``obj`` (host data or another array).

        ``dtype`` may be a dtype of this namespace, a NumPy dtype or a name
        such as ``"float32"``. Arrays from other libraries are moved through
        NumPy (host memory), so any backend's array is accepted.
        """
        xp = self.xp
        dt = self.dtype(dtype) if dtype is not None else None
        if isinstance(obj, (int, float, bool, complex, list, tuple)):
            # Python data follows NumPy's dtype rules on every backend (100.0 is
            # float64 even where the library's default float is float32, as torch's).
            obj = np.asarray(obj)
        elif not _is_host_data(obj) and not self.owns(obj):
            obj = _any_to_numpy(obj)
        return xp.asarray(obj, dtype=dt, device=self.device)

    def to_numpy(self, x: Any) -> np.ndarray:
        """Copy ``x`` to a NumPy array in host memory."""
        return _any_to_numpy(x)

    def owns(self, x: Any) -> bool:
        """Whether ``x`` is an array of this backend's namespace."""
        from array_api_compat import array_namespace, is_array_api_obj

        if not is_array_api_obj(x):
            return False
        try:
            return bool(array_namespace(x) is self._compat_xp())
        except TypeError:
            return False

    def _compat_xp(self) -> Any:
        from array_api_compat import array_namespace

        return array_namespace(self.xp.asarray(0.0, device=self.device))

    def dtype(self, dtype: Any) -> Any:
        """Translate a dtype name or NumPy dtype into this namespace's dtype."""
        if isinstance(dtype, str):
            name = dtype
        elif isinstance(dtype, (np.dtype, type)):
            name = np.dtype(dtype).name
        else:
            return dtype
        try:
            return getattr(self.xp, name)
        except AttributeError:
            msg = f"backend {self.name!r} has no dtype {name!r}"
            raise TypeError(msg) from None

    def synchronize(self) -> None:
        """Wait until queued device work is done (a no-op on the CPU)."""

    # -- kernels ----------------------------------------------------------
    @property
    def kernels(self) -> dict[str, Callable[..., Any]]:
        """Compiled replacements for hot loops, by name (loaded on first use)."""
        if not self._kernels_loaded:
            self._kernels = dict(self._load_kernels())
            self._kernels_loaded = True
        return self._kernels

    def get_kernel(self, name: str) -> Callable[..., Any] | None:
        """Return the kernel ``name`` or ``None`` when this backend has none."""
        return self.kernels.get(name)

    def versions(self) -> dict[str, str]:
        """Library versions, for benchmark records and ``dlcore info``."""
        return {"numpy": np.__version__}

    def __repr__(self) -> str:
        return f"<dlcore backend {self.name!r}>"


def _is_host_data(obj: Any) -> bool:
    return isinstance(obj, (np.ndarray, np.generic, int, float, bool, complex, list, tuple))


def _any_to_numpy(x: Any) -> np.ndarray:
    """Copy an array of any supported library to host NumPy memory."""
    if isinstance(x, np.ndarray):
        return x
    if _is_host_data(x):
        return np.asarray(x)
    module = type(x).__module__.split(".")[0]
    if module == "cupy":
        return x.get()
    if module == "torch":
        return x.detach().cpu().numpy()
    if module == "dask":
        return np.asarray(x.compute())
    try:
        return np.from_dlpack(x)
    except (TypeError, RuntimeError, BufferError, AttributeError):
        return np.asarray(x)
