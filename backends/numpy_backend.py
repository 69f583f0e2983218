"""The default backend: NumPy arrays in host memory."""

from __future__ import annotations

from typing import Any

from ._base import Backend


class NumpyBackend(Backend):
    """NumPy on the CPU (through ``array_api_compat.numpy``)."""

    name = "numpy"
    install_hint = 'pip install "numpy>=2"'
    description = "NumPy arrays on the CPU (default)"

    def _load(self) -> Any:
        import array_api_compat.numpy as xp

        return xp

    @property
    def device(self) -> Any:
        return "cpu"

    def _load_kernels(self) -> dict[str, Any]:
        from . import numpy_kernels

        return numpy_kernels.KERNELS
