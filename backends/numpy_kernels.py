"""Kernels the NumPy backend uses in place of the generic Array-API code.

Each kernel takes the same arguments as the function it replaces and returns
``NotImplemented`` for inputs it does not handle, so the caller falls back to
the generic implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _numpy_predict

KERNELS: dict[str, Callable[..., Any]] = {**_numpy_predict.KERNELS}
