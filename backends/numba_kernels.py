"""Numba-compiled kernels of the numba backend (imported only when it is used).

Each kernel takes the same arguments as the function it replaces and returns
``NotImplemented`` for inputs it does not handle, so the caller falls back to
the generic implementation. The kernels live in one module per topic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _numba_numgrad, _numba_predict

KERNELS: dict[str, Callable[..., Any]] = {**_numba_numgrad.KERNELS, **_numba_predict.KERNELS}
