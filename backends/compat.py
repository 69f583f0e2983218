"""A backend for any Array-API library that array-api-compat knows.

``array_api_strict`` (the strict reference namespace), ``torch``, ``jax`` and
``dask`` are registered by name; each is imported only when first used. The
device is chosen per backend object (``dlcore.use_backend("torch",
device="cuda:1")``); the library's own default device is used otherwise.

JAX computes in float32 unless the user enables 64-bit mode. dlcore does not
change that process-wide setting behind the user's back: the ``jax`` backend
requires it (``JAX_ENABLE_X64=1`` or ``jax.config.update("jax_enable_x64",
True)`` before first use) and says so when it is off.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from ._base import Backend, BackendError, BackendNotInstalledError

# backend name -> (module to import, pip requirement)
KNOWN: dict[str, tuple[str, str]] = {
    "array_api_strict": ("array_api_strict", "array-api-strict"),
    "torch": ("torch", "torch"),
    "jax": ("jax.numpy", "jax"),
    "dask": ("dask.array", "dask[array]"),
}

#: Devices a library lists that hold no data (torch's "meta"): never a placement.
_NOT_PLACEMENTS = frozenset({"meta"})


def check_jax_x64(jax: Any) -> None:
    """Raise a :class:`BackendError` unless the user enabled JAX's 64-bit mode."""
    if not bool(getattr(jax.config, "jax_enable_x64", False)):
        msg = (
            "backend 'jax' needs JAX's 64-bit mode (dlcore computes float64 as the other "
            "backends do, and does not switch JAX's process-wide setting for you); set "
            "JAX_ENABLE_X64=1 in the environment, or call "
            "jax.config.update('jax_enable_x64', True) before using the backend"
        )
        raise BackendError(msg)


class CompatBackend(Backend):
    """Arrays of any namespace array-api-compat supports, on a chosen or the default device."""

    def __init__(self, name: str, module: str, requirement: str) -> None:
        super().__init__()
        self.name = name
        self.module = module
        self.install_hint = f'pip install "{requirement}"'
        self.description = f"{module} through array-api-compat"

    def _load(self) -> Any:
        try:
            mod = importlib.import_module(self.module)
        except ImportError as exc:
            msg = (
                f"backend {self.name!r} needs {self.module}, which could not be imported "
                f"({exc}); install it with: {self.install_hint}"
            )
            raise BackendNotInstalledError(msg) from exc
        if self.name == "jax":
            check_jax_x64(importlib.import_module("jax"))
        from array_api_compat import array_namespace

        return array_namespace(mod.asarray(0.0))

    def devices(self) -> list[Any]:
        with warnings.catch_warnings():  # torch warns while probing its device types
            warnings.simplefilter("ignore")
            found = super().devices()
        return [d for d in found if self.device_label(d).partition(":")[0] not in _NOT_PLACEMENTS]

    def device_label(self, device: Any) -> str:
        platform, ident = getattr(device, "platform", None), getattr(device, "id", None)
        if self.name == "jax" and platform is not None and ident is not None:
            return f"{platform}:{ident}"  # JAX devices print as e.g. CpuDevice(id=0)
        return super().device_label(device)

    def versions(self) -> dict[str, str]:
        root = importlib.import_module(self.module.split(".")[0])
        return {**super().versions(), self.module.split(".")[0]: getattr(root, "__version__", "?")}
