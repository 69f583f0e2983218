"""Parameter-update rules of the book's chapter 6: SGD, Momentum, AdaGrad, Adam.

Each optimizer has ``update(params, grads)``, which replaces every entry
``params[key]`` by its updated array. The book updates NumPy arrays in place
(``params[key] -= ...``); here the dict entry is rebound to a new array, which
works on every backend (JAX arrays are immutable), so keep using the *dict*,
not references to its old arrays.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping
from typing import Any

from ._validate import check_positive_number, namespace

__all__ = ["OPTIMIZERS", "SGD", "AdaGrad", "Adam", "Momentum", "Optimizer", "get_optimizer"]


def _check_rate(value: Any, name: str, *, upper: float | None = None) -> float:
    return check_positive_number(value, name, below=upper)


def _check_grads(params: MutableMapping[str, Any], grads: Any) -> None:
    missing = [key for key in params if key not in grads]
    if missing:
        msg = f"`grads` has no entry for the parameters {missing}; pass net.gradient(x, t)"
        raise KeyError(msg)
    for key in params:
        if tuple(params[key].shape) != tuple(grads[key].shape):
            msg = (
                f"grads['{key}'] must have the shape of params['{key}'] "
                f"{tuple(params[key].shape)}, got {tuple(grads[key].shape)}"
            )
            raise ValueError(msg)


class Optimizer:
    """Base class: ``update(params, grads)`` rebinds each ``params[key]``."""

    lr: float

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = _check_rate(lr, "lr")

    def update(self, params: MutableMapping[str, Any], grads: Any) -> None:  # pragma: no cover
        """Apply one step to every parameter."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, :math:`W \\leftarrow W - \\eta \\, \\partial L / \\partial W`.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.optimizers import SGD
    >>> params = {"W": np.array([1.0, 2.0])}
    >>> SGD(lr=0.1).update(params, {"W": np.array([10.0, -10.0])})
    >>> params["W"]
    array([0., 3.])
    """

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = _check_rate(lr, "lr")

    def update(self, params: MutableMapping[str, Any], grads: Any) -> None:
        """:math:`W \\leftarrow W - \\eta g`."""
        _check_grads(params, grads)
        for key in params:
            params[key] = params[key] - self.lr * grads[key]


class Momentum(Optimizer):
    """Momentum SGD: :math:`v \\leftarrow \\alpha v - \\eta g, \\; W \\leftarrow W + v`.

    ``v`` starts at zero (the book's ``Momentum``).

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.optimizers import Momentum
    >>> params, opt = {"W": np.array([0.0])}, Momentum(lr=0.1, momentum=0.9)
    >>> opt.update(params, {"W": np.array([1.0])}); opt.update(params, {"W": np.array([1.0])})
    >>> params["W"]  # -0.1, then -0.1 + (0.9 * -0.1 - 0.1)
    array([-0.29])
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        self.lr = _check_rate(lr, "lr")
        self.momentum = _check_rate(momentum, "momentum", upper=1.0)
        self.v: dict[str, Any] | None = None

    def update(self, params: MutableMapping[str, Any], grads: Any) -> None:
        """One momentum step."""
        _check_grads(params, grads)
        if self.v is None:
            self.v = {key: namespace(val).zeros_like(val) for key, val in params.items()}
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] = params[key] + self.v[key]


class AdaGrad(Optimizer):
    """AdaGrad: per-parameter rates that shrink with the accumulated squared gradient.

    .. math:: h \\leftarrow h + g \\odot g, \\quad W \\leftarrow W - \\eta g / (\\sqrt h + 10^{-7})

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.optimizers import AdaGrad
    >>> params = {"W": np.array([1.0])}
    >>> AdaGrad(lr=0.5).update(params, {"W": np.array([2.0])})
    >>> params["W"]  # 1 - 0.5 * 2 / (2 + 1e-7)
    array([0.50000002])
    """

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = _check_rate(lr, "lr")
        self.h: dict[str, Any] | None = None

    def update(self, params: MutableMapping[str, Any], grads: Any) -> None:
        """One AdaGrad step."""
        _check_grads(params, grads)
        if self.h is None:
            self.h = {key: namespace(val).zeros_like(val) for key, val in params.items()}
        for key in params:
            g = grads[key]
            self.h[key] = self.h[key] + g * g
            xp = namespace(self.h[key])
            params[key] = params[key] - self.lr * g / (xp.sqrt(self.h[key]) + 1e-7)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) in the book's form, with the bias correction folded into the rate.

    Notes
    -----
    At step :math:`t = 1, 2, \\ldots`:

    .. math:: \\eta_t = \\eta \\sqrt{1 - \\beta_2^t} / (1 - \\beta_1^t), \\quad
              m \\leftarrow m + (1 - \\beta_1)(g - m), \\quad
              v \\leftarrow v + (1 - \\beta_2)(g^2 - v), \\quad
              W \\leftarrow W - \\eta_t \\, m / (\\sqrt v + 10^{-7})

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.optimizers import Adam
    >>> params = {"W": np.array([1.0])}
    >>> Adam(lr=0.001).update(params, {"W": np.array([4.0])})
    >>> params["W"]  # the first step moves by about lr
    array([0.999])
    """

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999) -> None:
        self.lr = _check_rate(lr, "lr")
        self.beta1 = _check_rate(beta1, "beta1", upper=1.0)
        self.beta2 = _check_rate(beta2, "beta2", upper=1.0)
        self.iter = 0
        self.m: dict[str, Any] | None = None
        self.v: dict[str, Any] | None = None

    def update(self, params: MutableMapping[str, Any], grads: Any) -> None:
        """One Adam step."""
        _check_grads(params, grads)
        if self.m is None or self.v is None:
            self.m = {key: namespace(val).zeros_like(val) for key, val in params.items()}
            self.v = {key: namespace(val).zeros_like(val) for key, val in params.items()}
        self.iter += 1
        lr_t = self.lr * math.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params:
            g = grads[key]
            self.m[key] = self.m[key] + (1 - self.beta1) * (g - self.m[key])
            self.v[key] = self.v[key] + (1 - self.beta2) * (g * g - self.v[key])
            xp = namespace(self.v[key])
            params[key] = params[key] - lr_t * self.m[key] / (xp.sqrt(self.v[key]) + 1e-7)


#: Optimizers by the names :func:`dlcore.train` and ``dlcore train --optimizer`` accept.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "adagrad": AdaGrad,
    "adam": Adam,
}


def get_optimizer(name: str | Optimizer, lr: float) -> Optimizer:
    """Return ``name`` itself if it is an optimizer, else a new one with learning rate ``lr``."""
    if isinstance(name, Optimizer):
        return name
    key = str(name).lower()
    if key not in OPTIMIZERS:
        msg = f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}"
        raise ValueError(msg)
    return OPTIMIZERS[key](lr=lr)
