"""CuPy arrays on the current CUDA device."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Backend, BackendDeviceError, BackendNotInstalledError


class CupyBackend(Backend):
    """CuPy arrays on the current CUDA device.

    Raises :class:`BackendNotInstalledError` when CuPy is missing and
    :class:`BackendDeviceError` when CuPy is installed but no CUDA device is
    usable; it never falls back to the CPU. The hot loops run the generic
    Array-API code of :class:`Backend` on the device.
    """

    name = "cupy"
    install_hint = 'pip install "dlcore[cupy]"  (CUDA 12; "cupy-cuda13x" for CUDA 13)'
    description = "CuPy arrays on the current CUDA GPU"

    def _load(self) -> Any:
        try:
            import cupy
        except ImportError as exc:
            msg = (
                f"backend 'cupy' needs CuPy, which could not be imported ({exc}); install it "
                f"with: {self.install_hint}, or use DLCORE_BACKEND=numpy"
            )
            raise BackendNotInstalledError(msg) from exc
        try:
            count = int(cupy.cuda.runtime.getDeviceCount())
        except Exception as exc:  # CUDARuntimeError, missing driver library, ...
            msg = (
                f"backend 'cupy' is installed but no CUDA device was found ({exc}); "
                "run on a machine with an NVIDIA GPU and driver, or use DLCORE_BACKEND=numpy"
            )
            raise BackendDeviceError(msg) from exc
        if count < 1:
            msg = (
                "backend 'cupy' is installed but no CUDA device was found; "
                "run on a machine with an NVIDIA GPU and driver, or use DLCORE_BACKEND=numpy"
            )
            raise BackendDeviceError(msg)
        import array_api_compat.cupy as xp

        return xp

    @property
    def device(self) -> Any:
        import cupy

        return cupy.cuda.Device()

    def to_numpy(self, x: Any) -> np.ndarray:
        if type(x).__module__.startswith("cupy"):
            return x.get()
        return super().to_numpy(x)

    def synchronize(self) -> None:
        import cupy

        cupy.cuda.Device().synchronize()

    def versions(self) -> dict[str, str]:
        import cupy

        return {**super().versions(), "cupy": cupy.__version__}
