"""The ``params`` dict of the book's networks: initial values, key order and PReLU slopes.

``params`` holds the network contract ``W1, b1, ..., Wn, bn`` of
:mod:`dlcore.network` and, for ``activation="prelu"``, the learned slope of
each hidden unit: ``alpha1`` (after ``b1``), ..., ``alpha{n-1}``. The slopes
are parameters like the weights: in ``gradient``'s result, updated by every
optimizer and saved by :func:`dlcore.save_weights` under the same names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._validate import namespace
from .network import PRELU_ALPHA, check_network

__all__ = [
    "check_decay",
    "check_dtype",
    "init_scale",
    "initial_params",
    "param_keys",
    "slope_key",
    "split_params",
]

_DTYPES = ("float32", "float64")


def slope_key(i: int) -> str:
    """The key of hidden layer ``i``'s PReLU slopes: ``"alpha{i}"``."""
    return f"alpha{i}"


def check_dtype(dtype: Any) -> str:
    """``"float32"`` or ``"float64"`` from a name or a NumPy dtype; raise otherwise."""
    name = dtype if isinstance(dtype, str) else getattr(np.dtype(dtype), "name", str(dtype))
    if name not in _DTYPES:
        msg = f"`dtype` must be 'float32' or 'float64', got {dtype!r}"
        raise ValueError(msg)
    return str(name)


def check_decay(value: Any) -> float:
    """A non-negative finite weight decay ``lambda``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        msg = f"`weight_decay_lambda` must be a non-negative number, got {value!r}"
        raise ValueError(msg)
    return float(value)


def init_scale(weight_init_std: float | str, fan_in: int) -> float:
    """The standard deviation of a layer's initial weights: a number, Xavier or He."""
    if isinstance(weight_init_std, str):
        key = weight_init_std.lower()
        if key in ("xavier", "sigmoid"):
            return math.sqrt(1.0 / fan_in)
        if key in ("he", "relu"):
            return math.sqrt(2.0 / fan_in)
        msg = f"`weight_init_std` must be a number, 'xavier' or 'he', got {weight_init_std!r}"
        raise ValueError(msg)
    if (
        isinstance(weight_init_std, bool)
        or not isinstance(weight_init_std, (int, float))
        or not math.isfinite(weight_init_std)
        or weight_init_std <= 0
    ):
        msg = f"`weight_init_std` must be a positive number, got {weight_init_std!r}"
        raise ValueError(msg)
    return float(weight_init_std)


def initial_params(
    sizes: Sequence[int], scales: Sequence[float], rng: np.random.Generator, activation: str
) -> dict[str, np.ndarray]:
    """Host arrays ``W1, b1, [alpha1,] ..., Wn, bn``: Gaussian weights, zero biases.

    ``W1`` is drawn first, then ``W2``, ...; PReLU slopes start at 0.25.
    """
    host: dict[str, np.ndarray] = {}
    for i in range(1, len(sizes)):
        host[f"W{i}"] = scales[i - 1] * rng.standard_normal((sizes[i - 1], sizes[i]))
        host[f"b{i}"] = np.zeros(sizes[i])
        if activation == "prelu" and i < len(sizes) - 1:
            host[slope_key(i)] = np.full(sizes[i], PRELU_ALPHA)
    return host


def param_keys(n: int, prelu: bool) -> tuple[list[str], list[str]]:
    """The keys of an ``n``-layer network: ``([W1, b1, ..., Wn, bn], [alpha1, ...])``."""
    weights = [f"{p}{i}" for i in range(1, n + 1) for p in ("W", "b")]
    return weights, [slope_key(i) for i in range(1, n)] if prelu else []


def split_params(
    params: Mapping[str, Any], activation: str, name: str = "params"
) -> tuple[list[Any], list[Any] | None]:
    """Validate ``params``; return ``([W1, b1, ..., Wn, bn], slopes or None)``.

    Raises
    ------
    ValueError
        The weights do not form a network, or the ``alpha{i}`` slopes are
        missing (``"prelu"``), unexpected (other activations) or not one per
        unit of hidden layer ``i``.
    """
    slopes = {k: v for k, v in params.items() if isinstance(k, str) and k.startswith("alpha")}
    weights = {k: v for k, v in params.items() if k not in slopes}
    n = check_network(weights, name)
    arrays = [weights[f"{p}{i}"] for i in range(1, n + 1) for p in ("W", "b")]
    if activation != "prelu":
        if slopes:
            msg = (
                f"`{name}` has PReLU slopes {sorted(slopes)} but the activation is "
                f"{activation!r}; use activation='prelu'"
            )
            raise ValueError(msg)
        return arrays, None
    out = []
    for i in range(1, n):
        key, units = slope_key(i), int(weights[f"b{i}"].shape[0])
        a = slopes.pop(key, None)
        if a is None or tuple(getattr(a, "shape", ())) != (units,):
            got = "missing" if a is None else f"shape {tuple(getattr(a, 'shape', ()))}"
            msg = f"`{name}['{key}']` must hold one PReLU slope per unit, shape ({units},); {got}"
            raise ValueError(msg)
        out.append(a)
    if slopes:
        msg = f"`{name}` has unexpected keys {sorted(slopes)} for a {n}-layer PReLU network"
        raise ValueError(msg)
    namespace(*arrays, *out)  # one library and device, as the weights
    return arrays, out
