"""CuPy arrays on a CUDA device: the current one, or the one it was placed on."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._base import Backend, BackendDeviceError, BackendNotInstalledError, PredictFn

_GPU_SPEC = re.compile(r"(?:(?:cuda|gpu)\s*:?\s*)?(\d+)", re.IGNORECASE)


class CupyBackend(Backend):
    """CuPy arrays on a CUDA GPU (``use_backend("cupy", device=1)`` or ``"cuda:1"``).

    Raises :class:`BackendNotInstalledError` when CuPy is missing and
    :class:`BackendDeviceError` when CuPy is installed but no CUDA device is
    usable; it never falls back to the CPU. The hot loops run the generic
    Array-API code of :class:`Backend` with the input's GPU made current, so
    arrays on GPU 1 are computed on GPU 1 whichever device is current.
    """

    name = "cupy"
    install_hint = 'pip install "dlcore[cupy]"  (CUDA 12; "cupy-cuda13x" for CUDA 13)'
    description = "CuPy arrays on a CUDA GPU"

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

    # -- devices -------------------------------------------------------------
    def default_device(self) -> Any:
        import cupy

        return cupy.cuda.Device()

    def devices(self) -> list[Any]:
        import cupy

        self.check_available()
        return [cupy.cuda.Device(i) for i in range(int(cupy.cuda.runtime.getDeviceCount()))]

    def device_label(self, device: Any) -> str:
        ident = getattr(device, "id", None)
        return f"cuda:{ident}" if ident is not None else super().device_label(device)

    def find_device(self, spec: Any) -> Any:
        """A GPU by number (``1``), ``"cuda:1"``, ``"gpu:1"`` or ``cupy.cuda.Device(1)``."""
        if isinstance(spec, int) and not isinstance(spec, bool):
            spec = f"cuda:{spec}"
        elif isinstance(spec, str) and (m := _GPU_SPEC.fullmatch(spec.strip())):
            spec = f"cuda:{m.group(1)}"
        return super().find_device(spec)

    def asarray(self, obj: Any, dtype: Any = None) -> Any:
        if self._device is None:
            return super().asarray(obj, dtype)
        with self._device:
            return super().asarray(obj, dtype)

    def to_numpy(self, x: Any) -> np.ndarray:
        if type(x).__module__.startswith("cupy"):
            return x.get()
        return super().to_numpy(x)

    def synchronize(self) -> None:
        self.device.synchronize()

    def versions(self) -> dict[str, str]:
        import cupy

        return {**super().versions(), "cupy": cupy.__version__}

    # -- hot loops: the generic code, on the input's GPU ----------------------
    def bind_predict(self, arrays: Sequence[Any], *, activation: str = "sigmoid") -> PredictFn:
        generic = super().bind_predict(arrays, activation=activation)

        def run(arrays: Sequence[Any], x: Any) -> Any:
            with _gpu_of(x):
                return generic(arrays, x)

        return run

    def mlp_gradient(
        self, arrays: Sequence[Any], x: Any, t: Any, *, activation: str = "sigmoid"
    ) -> list[Any]:
        with _gpu_of(x):
            return super().mlp_gradient(arrays, x, t, activation=activation)

    def mlp_numerical_gradient(
        self,
        arrays: Sequence[Any],
        x: Any,
        t: Any,
        *,
        h: float,
        activation: str,
        max_bytes: int,
    ) -> list[Any]:
        with _gpu_of(x):
            return super().mlp_numerical_gradient(
                arrays, x, t, h=h, activation=activation, max_bytes=max_bytes
            )

    def numerical_gradient(self, f: Callable[[Any], Any], x: Any, h: float) -> Any:
        with _gpu_of(x):
            return super().numerical_gradient(f, x, h)


def _gpu_of(x: Any) -> Any:
    """The CUDA device of a CuPy array, as a context that makes it current."""
    import cupy

    device = getattr(x, "device", None)
    return device if isinstance(device, cupy.cuda.Device) else cupy.cuda.Device()
