"""The comparison every case makes: type, shape, dtype, device and values, or an error.

A case receives a :class:`Checker` for one backend and dtype. It builds its
inputs on the host with NumPy (:meth:`Checker.data`, rounded to the dtype
under test), moves them to the backend (:meth:`Checker.put`), and compares
each result with a NumPy float64 reference computed from the same rounded
inputs (:meth:`Checker.same`). Tolerances come from the dtype (about
``4 * sqrt(eps)``); a case loosens one only on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FLOATS = ("float32", "float64")


class CheckFailed(Exception):
    """A result differs from the reference; the message says how."""


class CaseSkipped(Exception):
    """A case does not apply to this backend (the message says why)."""


@dataclass(frozen=True)
class Case:
    """A named check, run once per dtype of ``dtypes``."""

    name: str
    run: Callable[[Checker], None]
    dtypes: Sequence[str] = FLOATS


CASES: list[Case] = []


def case(name: str, *, dtypes: Sequence[str] = FLOATS) -> Callable[[Any], Any]:
    """Add the decorated ``run(checker)`` to :data:`CASES` under ``name``."""

    def add(run: Callable[[Checker], None]) -> Callable[[Checker], None]:
        CASES.append(Case(name, run, tuple(dtypes)))
        return run

    return add


def tolerance(dtype: str | None) -> float:
    """About ``4 * sqrt(eps)`` of ``dtype`` (float64 when ``None``)."""
    eps = float(np.finfo(np.float32 if dtype == "float32" else np.float64).eps)
    return 4 * eps**0.5


class Checker:
    """Inputs and comparisons for one backend and one dtype (``None``: dtype-free)."""

    def __init__(self, backend: Any, dtype: str | None, *, seed: int = 20261202) -> None:
        self.backend = backend
        self.dtype = dtype
        self.rng = np.random.default_rng(seed)

    @property
    def xp(self) -> Any:
        return self.backend.xp

    # -- inputs ---------------------------------------------------------------
    def data(self, *shape: int, scale: float = 1.0, away_from_zero: bool = False) -> np.ndarray:
        """Host float64 values, already rounded to the dtype under test."""
        x = self.rng.standard_normal(shape) * scale
        if away_from_zero:  # kinks (relu, step) at 0 are conventions, not maths
            x = np.sign(x) * (0.1 + np.abs(x))
            x[x == 0] = 0.5
        return x.astype(self.dtype or "float64").astype(np.float64)

    def labels(self, n: int, classes: int) -> np.ndarray:
        return self.rng.integers(0, classes, size=n)

    def put(self, host: Any, dtype: str | None = None) -> Any:
        """``host`` on the backend, as ``dtype`` (default: the dtype under test; ints stay ints)."""
        arr = np.asarray(host)
        if dtype is None:
            dtype = "int64" if arr.dtype.kind in "iub" else (self.dtype or "float64")
        return self.backend.asarray(arr, dtype=dtype)

    def other_library(self, host: np.ndarray) -> Any:
        """``host`` as an array of another library (NumPy, else array_api_strict)."""
        probe = self.backend.asarray(np.zeros(1))
        if type(probe) is not np.ndarray:
            return host.astype(self.dtype or "float64")
        try:
            import array_api_strict
        except ImportError:
            msg = "needs a second array library (pip install array-api-strict)"
            raise CaseSkipped(msg) from None
        return array_api_strict.asarray(host.astype(self.dtype or "float64"))

    def other_device(self, host: np.ndarray) -> Any:
        """``host`` on a device of this backend other than its own, if it has one."""
        own = self.backend.device
        for d in self.backend.devices():
            if d == own or "no_" in self.backend.device_label(d):  # strict's limited devices
                continue
            return self.backend.on_device(d).asarray(host, dtype=self.dtype or "float64")
        msg = f"backend {self.backend.name!r} has one device here"
        raise CaseSkipped(msg)

    # -- comparisons --------------------------------------------------------------
    def same(
        self,
        what: str,
        got: Any,
        ref: Any,
        *,
        dtype: str | None = None,
        rtol: float | None = None,
    ) -> None:
        """Check ``got`` is this backend's array of ``ref``'s shape, the dtype, the device
        and ``ref``'s values (within ``rtol``, default from the dtype)."""
        from array_api_compat import device, is_array_api_obj

        want = np.asarray(ref, dtype=np.float64)
        dtype = dtype or self.dtype or "float64"
        if not is_array_api_obj(got) or not self.backend.owns(got):
            msg = f"{what}: returned {type(got).__name__}, not an array of this backend"
            raise CheckFailed(msg)
        if tuple(got.shape) != want.shape:
            msg = f"{what}: shape {tuple(got.shape)}, expected {want.shape}"
            raise CheckFailed(msg)
        if got.dtype != self.backend.dtype(dtype):
            msg = f"{what}: dtype {got.dtype}, expected {dtype} (the input's dtype is kept)"
            raise CheckFailed(msg)
        if device(got) != self.backend.device:
            msg = (
                f"{what}: result on device {device(got)}, expected "
                f"{self.backend.device} (the inputs' device is kept)"
            )
            raise CheckFailed(msg)
        values = self.backend.to_numpy(got).astype(np.float64)
        rtol = tolerance(dtype) if rtol is None else rtol
        atol = 1e-2 * rtol * max(1.0, float(np.max(np.abs(want), initial=0.0)))
        if not np.allclose(values, want, rtol=rtol, atol=atol, equal_nan=True):
            err = np.abs(values - want)
            i = np.unravel_index(int(np.nanargmax(err)), err.shape) if err.ndim else ()
            msg = (
                f"{what}: values differ from the NumPy float64 reference (max error "
                f"{float(np.nanmax(err)):.3g} at {tuple(map(int, i))}: got "
                f"{float(values[i]):.9g}, expected {float(want[i]):.9g}; rtol {rtol:.2g})"
            )
            raise CheckFailed(msg)

    def raises(self, what: str, errors: Any, call: Callable[[], Any]) -> str:
        """Check ``call()`` raises one of ``errors``; return its message."""
        try:
            call()
        except CaseSkipped:
            raise
        except errors as exc:
            return str(exc)
        except Exception as exc:
            msg = f"{what}: raised {type(exc).__name__} ({exc}), expected {errors}"
            raise CheckFailed(msg) from exc
        msg = f"{what}: no error raised, expected {errors}"
        raise CheckFailed(msg)
