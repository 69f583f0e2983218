"""Kernels of the cupy backend (imported only when it is used).

Each kernel takes the same arguments as the function it replaces and returns
``NotImplemented`` for inputs it does not handle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

KERNELS: dict[str, Callable[..., Any]] = {}
