"""Where a backend puts its arrays: the devices it has, and copies of it placed on one.

:class:`Placement` is the device half of :class:`dlcore.backends.Backend`:
the devices come from the namespace's inspection API
(``__array_namespace_info__().devices()``); a subclass overrides
:meth:`~Placement.devices`, :meth:`~Placement.default_device` or
:meth:`~Placement.device_label` where its library names devices its own way
(CuPy's GPU numbers, JAX's platforms).
"""

from __future__ import annotations

import copy
import re
from typing import Any, TypeVar

_P = TypeVar("_P", bound="Placement")


class Placement:
    """The device methods of a backend (mixed into :class:`dlcore.backends.Backend`)."""

    name: str
    _device: Any

    @property
    def xp(self) -> Any:  # pragma: no cover - Backend defines it
        raise NotImplementedError

    def check_available(self) -> None:  # pragma: no cover - Backend defines it
        raise NotImplementedError

    def devices(self) -> list[Any]:
        """The devices this backend can create arrays on (the namespace's inspection API)."""
        info = getattr(self.xp, "__array_namespace_info__", None)
        if info is None:
            return [self.default_device()]
        return list(info().devices())

    def default_device(self) -> Any:
        """The library's default device (``None`` where the namespace does not say)."""
        info = getattr(self.xp, "__array_namespace_info__", None)
        return None if info is None else info().default_device()

    def device_label(self, device: Any) -> str:
        """A short name for ``device`` that :meth:`on_device` accepts (``"cpu"``, ``"cuda:1"``)."""
        text = str(device)
        quoted = re.fullmatch(r"[\w.]*\(['\"](.+)['\"]\)", text)  # Device('device1')
        return quoted.group(1) if quoted else text

    def find_device(self, spec: Any) -> Any:
        """The device of :meth:`devices` that ``spec`` names (a device object or its label).

        Raises
        ------
        ValueError
            No device of this backend matches; the message lists those that exist.
        """
        devices = self.devices()
        for d in devices:
            if _same_device(d, spec):
                return d
        if isinstance(spec, str):
            want = spec.strip().lower()
            for d in devices:
                label = self.device_label(d).lower()
                if want in (label, str(d).lower()) or label.partition(":")[0] == want:
                    return d  # "cuda" names the first CUDA device, as in torch
        names = ", ".join(repr(self.device_label(d)) for d in devices) or "none"
        msg = (
            f"backend {self.name!r} has no device {spec!r}; the devices that exist here are: "
            f"{names} (pass one of them as device=..., or set DLCORE_DEVICE to one)"
        )
        raise ValueError(msg)

    def on_device(self: _P, device: Any) -> _P:
        """This backend, creating its arrays on ``device`` (validated; see :meth:`find_device`).

        The kernels run where their input arrays are, so a network and data
        created by the returned backend are computed on ``device``.

        Examples
        --------
        >>> import dlcore
        >>> dlcore.get_backend("numpy").on_device("cpu").device
        'cpu'
        """
        self.check_available()
        found = self.find_device(device)
        placed = copy.copy(self)
        placed._device = found
        return placed


def _same_device(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # a device type whose == refuses other types
        return False
