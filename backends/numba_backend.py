"""NumPy arrays with Numba-compiled kernels for the hot loops."""

from __future__ import annotations

from typing import Any

from ._base import Backend, BackendNotInstalledError


class NumbaBackend(Backend):
    """NumPy arrays on the CPU; Numba kernels replace the hot loops.

    Numba is imported the first time this backend is used, never by
    ``import dlcore``.
    """

    name = "numba"
    install_hint = 'pip install "dlcore[numba]"'
    description = "NumPy arrays + Numba-jitted kernels (CPU)"

    def _load(self) -> Any:
        try:
            import numba  # noqa: F401
        except ImportError as exc:
            msg = (
                f"backend 'numba' needs the numba package, which could not be imported ({exc}); "
                f"install it with: {self.install_hint}"
            )
            raise BackendNotInstalledError(msg) from exc
        import array_api_compat.numpy as xp

        return xp

    @property
    def device(self) -> Any:
        return "cpu"

    def _load_kernels(self) -> dict[str, Any]:
        self.check_available()
        from . import numba_kernels, numpy_kernels

        kernels = dict(numpy_kernels.KERNELS)
        kernels.update(numba_kernels.KERNELS)
        return kernels

    def versions(self) -> dict[str, str]:
        import numba

        return {**super().versions(), "numba": numba.__version__}
