"""Perceptrons and logic gates of the book's chapter 2."""

from __future__ import annotations

from typing import Any

from array_api_compat import is_array_api_obj

from ._validate import as_array, check_float, namespace

__all__ = ["AND", "NAND", "OR", "XOR", "Perceptron"]


class Perceptron:
    """A perceptron ``y = 1 if w·x + b > 0 else 0``.

    Parameters
    ----------
    w : sequence of float or 1-D array
        One weight per input.
    b : float
        The bias (the book's ``b = -theta``).

    Examples
    --------
    >>> import dlcore
    >>> p = dlcore.Perceptron([0.5, 0.5], -0.7)   # the book's AND
    >>> [p(x1, x2) for x1, x2 in [(0, 0), (1, 0), (0, 1), (1, 1)]]
    [0, 0, 0, 1]
    """

    def __init__(self, w: Any, b: float) -> None:
        ws = [float(v) for v in (w.tolist() if hasattr(w, "tolist") else w)]
        if not ws:
            msg = "a perceptron needs at least one weight, got an empty `w`"
            raise ValueError(msg)
        self.w = tuple(ws)
        self.b = float(b)

    def __repr__(self) -> str:
        return f"Perceptron(w={list(self.w)}, b={self.b})"

    @property
    def n_inputs(self) -> int:
        """Number of inputs."""
        return len(self.w)

    def __call__(self, *inputs: Any) -> Any:
        """Fire on ``inputs`` (one value or array per weight).

        Python numbers give a Python ``int``; arrays (broadcast together)
        give an integer array of their namespace, element-wise.
        """
        if len(inputs) != self.n_inputs:
            msg = f"this perceptron has {self.n_inputs} inputs, got {len(inputs)}"
            raise TypeError(msg)
        if not any(is_array_api_obj(v) for v in inputs):
            for v in inputs:
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    msg = f"perceptron inputs must be numbers or arrays, got {type(v).__name__}"
                    raise TypeError(msg)
            total = sum(w * float(v) for w, v in zip(self.w, inputs, strict=False)) + self.b
            return 1 if total > 0 else 0
        arrays = [as_array(v, f"x{i + 1}", float_default=False) for i, v in enumerate(inputs)]
        xp = namespace(*arrays)
        float_dtype = xp.float64
        for a in arrays:
            if xp.isdtype(a.dtype, "real floating"):
                float_dtype = a.dtype
            elif not xp.isdtype(a.dtype, ("integral", "bool")):
                check_float(xp, a, "x")
        total = self.b
        for w, a in zip(self.w, arrays, strict=False):
            total = total + w * xp.astype(a, float_dtype)
        return xp.astype(total > 0, xp.int64)


def _gate(p: Perceptron, name: str, x1: Any, x2: Any) -> Any:
    for label, v in (("x1", x1), ("x2", x2)):
        _check_binary(name, label, v)
    return p(x1, x2)


def _check_binary(gate: str, label: str, v: Any) -> None:
    if is_array_api_obj(v):
        xp = namespace(v)
        ok = xp.all((v == 0) | (v == 1))
        if not bool(ok):
            msg = f"{gate} takes inputs of 0 and 1, but `{label}` has other values"
            raise ValueError(msg)
        return
    if isinstance(v, bool) or v not in (0, 1):
        msg = f"{gate} takes inputs of 0 and 1, got {label}={v!r}"
        raise ValueError(msg)


_AND = Perceptron([0.5, 0.5], -0.7)
_NAND = Perceptron([-0.5, -0.5], 0.7)
_OR = Perceptron([0.5, 0.5], -0.2)


def AND(x1: Any, x2: Any, /) -> Any:
    """AND gate: a perceptron with ``w = (0.5, 0.5)``, ``b = -0.7``.

    Examples
    --------
    >>> import dlcore
    >>> [dlcore.AND(a, b) for a, b in [(0, 0), (1, 0), (0, 1), (1, 1)]]
    [0, 0, 0, 1]
    """
    return _gate(_AND, "AND", x1, x2)


def NAND(x1: Any, x2: Any, /) -> Any:
    """NAND gate: ``w = (-0.5, -0.5)``, ``b = 0.7``.

    Examples
    --------
    >>> import dlcore
    >>> [dlcore.NAND(a, b) for a, b in [(0, 0), (1, 0), (0, 1), (1, 1)]]
    [1, 1, 1, 0]
    """
    return _gate(_NAND, "NAND", x1, x2)


def OR(x1: Any, x2: Any, /) -> Any:
    """OR gate: ``w = (0.5, 0.5)``, ``b = -0.2``.

    Examples
    --------
    >>> import dlcore
    >>> [dlcore.OR(a, b) for a, b in [(0, 0), (1, 0), (0, 1), (1, 1)]]
    [0, 1, 1, 1]
    """
    return _gate(_OR, "OR", x1, x2)


def XOR(x1: Any, x2: Any, /) -> Any:
    """XOR as a two-layer perceptron: ``AND(NAND(x1, x2), OR(x1, x2))``.

    No single perceptron computes XOR (its outputs are not linearly
    separable); stacking one layer of NAND and OR under an AND does.

    Examples
    --------
    >>> import dlcore
    >>> [dlcore.XOR(a, b) for a, b in [(0, 0), (1, 0), (0, 1), (1, 1)]]
    [0, 1, 1, 0]
    """
    _check_binary("XOR", "x1", x1)
    _check_binary("XOR", "x2", x2)
    return AND(NAND(x1, x2), OR(x1, x2))
