"""A backend for any Array-API library that array-api-compat knows.

``array_api_strict`` (the strict reference namespace), ``torch``, ``jax`` and
``dask`` are registered by name; each is imported only when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._base import Backend, BackendNotInstalledError

# backend name -> (module to import, pip requirement)
KNOWN: dict[str, tuple[str, str]] = {
    "array_api_strict": ("array_api_strict", "array-api-strict"),
    "torch": ("torch", "torch"),
    "jax": ("jax.numpy", "jax"),
    "dask": ("dask.array", "dask[array]"),
}


class CompatBackend(Backend):
    """Arrays of any namespace array-api-compat supports, on its default device."""

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
            import jax

            jax.config.update("jax_enable_x64", True)  # float64 as on the other backends
        from array_api_compat import array_namespace

        return array_namespace(mod.asarray(0.0))

    @property
    def device(self) -> Any:
        return None

    def versions(self) -> dict[str, str]:
        root = importlib.import_module(self.module.split(".")[0])
        return {**super().versions(), self.module.split(".")[0]: getattr(root, "__version__", "?")}
