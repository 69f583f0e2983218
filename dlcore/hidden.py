"""Hidden-layer activations of the networks, by name: functions and backprop layers.

The names a network's ``activation=`` accepts: the book's ``"sigmoid"`` and
``"relu"`` and seed 003's ``"tanh"``, ``"leaky_relu"`` (slope 0.01),
``"prelu"``, ``"elu"`` (alpha 1) and ``"selu"`` (the self-normalising
constants). :mod:`dlcore.network` re-exports :data:`ACTIVATIONS`, so the
dict-contract functions and every backend's generic code know the same names.

PReLU learns its slopes: a network that keeps them (one per unit,
:class:`dlcore.MultiLayerNet`'s ``params["alpha1"]``, ...) passes them as
``slopes``; without them ``"prelu"`` uses the initial slope
:data:`PRELU_ALPHA` everywhere.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from .activation_layers import ELU, SELU, LeakyReLU, PReLU, Tanh
from .activations import relu, sigmoid
from .activations_modern import elu, leaky_relu, prelu, selu, tanh
from .layers import Relu, Sigmoid

__all__ = ["ACTIVATIONS", "PRELU_ALPHA", "hidden_functions", "hidden_layers"]

#: PReLU's initial slope (He et al. 2015): the slope of "prelu" when none is learned.
PRELU_ALPHA = 0.25


def _prelu_initial(x: Any) -> Any:
    return prelu(x, PRELU_ALPHA)


def prelu_with(a: Any, x: Any) -> Any:
    """``prelu(x, a)`` with the slope first, for :func:`functools.partial`."""
    return prelu(x, a)


#: Hidden-layer activations by name, each with its default constants.
ACTIVATIONS: dict[str, Callable[[Any], Any]] = {
    "sigmoid": sigmoid,
    "relu": relu,
    "tanh": tanh,
    "leaky_relu": leaky_relu,
    "prelu": _prelu_initial,
    "elu": elu,
    "selu": selu,
}
#: Their layers (forward/backward), by the same names.
_LAYERS: dict[str, Callable[[], Any]] = {
    "sigmoid": Sigmoid,
    "relu": Relu,
    "tanh": Tanh,
    "leaky_relu": LeakyReLU,
    "prelu": PReLU,
    "elu": ELU,
    "selu": SELU,
}


def _check_slopes(activation: str, n: int, slopes: Sequence[Any]) -> None:
    if activation != "prelu" or len(slopes) != n:
        msg = (
            f"`slopes` are the learned slopes of PReLU layers: activation='prelu' and one per "
            f"hidden layer ({n}), got activation={activation!r} and {len(slopes)} slopes"
        )
        raise ValueError(msg)


def hidden_functions(
    activation: str, n: int, slopes: Sequence[Any] | None = None
) -> list[Callable[[Any], Any]]:
    """The ``n`` hidden activation functions (PReLU with the given ``slopes``).

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.hidden import hidden_functions
    >>> [f(np.array([-1.0])) for f in hidden_functions("prelu", 2, [0.1, 0.5])]
    [array([-0.1]), array([-0.5])]
    """
    if slopes is None:
        return [ACTIVATIONS[activation]] * n
    _check_slopes(activation, n, slopes)
    return [functools.partial(prelu_with, a) for a in slopes]


def hidden_layers(activation: str, n: int, slopes: Sequence[Any] | None = None) -> list[Any]:
    """``n`` fresh hidden activation layers (:class:`~dlcore.PReLU` with the given ``slopes``).

    Examples
    --------
    >>> from dlcore.hidden import hidden_layers
    >>> [type(layer).__name__ for layer in hidden_layers("tanh", 2)]
    ['Tanh', 'Tanh']
    """
    if slopes is None:
        return [_LAYERS[activation]() for _ in range(n)]
    _check_slopes(activation, n, slopes)
    return [PReLU(a) for a in slopes]
