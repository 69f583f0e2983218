"""Cases for the maths functions: activations, losses, numerical differentiation, gates."""

from __future__ import annotations

from typing import Any

import numpy as np

import dlcore

from . import _reference as ref
from ._checker import Checker, CheckFailed, case


def _activation_case(name: str) -> None:
    forward, derivative = ref.ACTIVATIONS[name]

    @case(name)
    def run(ck: Checker) -> None:
        x = ck.data(4, 5, scale=3.0, away_from_zero=True)
        ck.same(name, getattr(dlcore, name)(ck.put(x)), forward(x))
        ck.same(f"{name}_grad", getattr(dlcore, f"{name}_grad")(ck.put(x)), derivative(x))


for _name in ref.ACTIVATIONS:
    _activation_case(_name)


@case("softmax")
def _softmax(ck: Checker) -> None:
    x = ck.data(3, 6, scale=4.0)
    ck.same("softmax (rows)", dlcore.softmax(ck.put(x)), ref.softmax(x))
    ck.same("softmax (axis=0)", dlcore.softmax(ck.put(x), axis=0), ref.softmax(x.T).T)
    big = np.array([1010.0, 1000.0, 990.0])  # the book's overflow example
    ck.same("softmax (large scores)", dlcore.softmax(ck.put(big)), ref.softmax(big))


@case("activation layers (forward and backward)")
def _activation_layers(ck: Checker) -> None:
    x = ck.data(4, 3, scale=2.0, away_from_zero=True)
    dout = ck.data(4, 3)
    for name, key in (
        ("Tanh", "tanh"),
        ("LeakyReLU", "leaky_relu"),
        ("ELU", "elu"),
        ("SELU", "selu"),
    ):
        forward, derivative = ref.ACTIVATIONS[key]
        layer = getattr(dlcore, name)()
        ck.same(f"{name}.forward", layer.forward(ck.put(x)), forward(x))
        ck.same(f"{name}.backward", layer.backward(ck.put(dout)), dout * derivative(x))
    a = np.abs(ck.data(3)) * 0.1
    layer = dlcore.PReLU(ck.put(a))
    ck.same("PReLU.forward", layer.forward(ck.put(x)), np.where(x > 0, x, a * x))
    ck.same("PReLU.backward", layer.backward(ck.put(dout)), np.where(x > 0, dout, a * dout))
    ck.same("PReLU.dalpha", layer.dalpha, np.where(x > 0, 0.0, x * dout).sum(axis=0))


@case("softmax_jacobian")
def _softmax_jacobian(ck: Checker) -> None:
    x = ck.data(2, 4, scale=2.0)
    s = ref.softmax(x)
    want = np.stack([np.diag(r) - np.outer(r, r) for r in s])  # d s_i / d x_j
    ck.same("softmax_jacobian", dlcore.softmax_jacobian(ck.put(x)), want)


@case("prelu")
def _prelu(ck: Checker) -> None:
    x = ck.data(4, 3, scale=2.0, away_from_zero=True)
    a = np.abs(ck.data(3)) * 0.1
    ck.same("prelu", dlcore.prelu(ck.put(x), ck.put(a)), np.where(x > 0, x, a * x))
    dx, da = dlcore.prelu_grad(ck.put(x), ck.put(a))
    ck.same("prelu_grad dx", dx, np.where(x > 0, 1.0, a * np.ones_like(x)))
    ck.same("prelu_grad da", da, np.where(x > 0, 0.0, x))
    ck.raises(
        "prelu (mixed libraries)", TypeError, lambda: dlcore.prelu(ck.put(x), ck.other_library(a))
    )


@case("losses")
def _losses(ck: Checker) -> None:
    y = ref.softmax(ck.data(5, 4))
    y = y.astype(ck.dtype or "float64").astype(np.float64)
    labels = ck.labels(5, 4)
    t = ref.one_hot(labels, 4)
    yb, tb = ck.put(y), ck.put(t)
    ck.same("sum_squared_error", dlcore.sum_squared_error(yb, tb), 0.5 * np.sum((y - t) ** 2) / 5)
    # the book's mean_squared_error is 0.5 * sum((y - t)**2), as sum_squared_error
    ck.same("mean_squared_error", dlcore.mean_squared_error(yb, tb), 0.5 * np.sum((y - t) ** 2) / 5)
    ck.same(
        "cross_entropy_error (one-hot)", dlcore.cross_entropy_error(yb, tb), ref.cross_entropy(y, t)
    )
    ck.same(
        "cross_entropy_error (labels)",
        dlcore.cross_entropy_error(yb, ck.put(labels)),
        ref.cross_entropy(y, t),
    )
    s = ck.data(5, 4, scale=2.0)
    ck.same(
        "softmax_loss", dlcore.softmax_loss(ck.put(s), tb), ref.cross_entropy(ref.softmax(s), t)
    )


@case("mixed libraries are refused")
def _mixed_libraries(ck: Checker) -> None:
    y, t = ck.data(3, 2), ck.data(3, 2)
    msg = ck.raises(
        "mean_squared_error (two libraries)",
        TypeError,
        lambda: dlcore.mean_squared_error(ck.put(y), ck.other_library(t)),
    )
    if "different libraries" not in msg:
        text = f"mean_squared_error (two libraries): the error does not say so: {msg!r}"
        raise CheckFailed(text)
    ck.raises(
        "prelu (two libraries)", TypeError, lambda: dlcore.prelu(ck.put(y), ck.other_library(t))
    )


@case("mixed devices are refused")
def _mixed_devices(ck: Checker) -> None:
    y, t = ck.data(3, 2), ck.data(3, 2)
    msg = ck.raises(
        "mean_squared_error (two devices)",
        ValueError,
        lambda: dlcore.mean_squared_error(ck.put(y), ck.other_device(t)),
    )
    if "different devices" not in msg:
        text = f"mean_squared_error (two devices): the error does not say so: {msg!r}"
        raise CheckFailed(text)


@case("numerical_diff")
def _numerical_diff(ck: Checker) -> None:
    x = ck.data(4)

    def f(v: Any) -> Any:  # the book's function_1: 0.01 x^2 + 0.1 x
        return 0.01 * v**2 + 0.1 * v

    ck.same("numerical_diff", dlcore.numerical_diff(f, ck.put(x)), 0.02 * x + 0.1)


@case("numerical_gradient")
def _numerical_gradient(ck: Checker) -> None:
    x = ck.data(2, 3)
    xp = ck.xp
    xb = ck.put(x)
    ck.same("numerical_gradient", dlcore.numerical_gradient(lambda v: xp.sum(v * v), xb), 2 * x)
    ck.same("numerical_gradient (input restored)", xb, x)
    # the step dlcore.numerical_gradient picks: the book's 1e-4, eps ** (1/3) below float64
    h = 1e-4 if ck.dtype != "float32" else float(np.finfo(np.float32).eps) ** (1 / 3)
    kernel = ck.backend.numerical_gradient(lambda v: xp.sum(v * v), ck.put(x), h)
    ck.same("kernel numerical_gradient", kernel, 2 * x)


@case("gradient_descent")
def _gradient_descent(ck: Checker) -> None:
    x0 = np.array([-3.0, 4.0])  # the book's section 4.4.1 example
    xp = ck.xp
    x, history = dlcore.gradient_descent(lambda v: xp.sum(v * v), ck.put(x0), lr=0.1, step_num=20)
    steps = np.array([x0 * 0.8**i for i in range(20)])  # exact for f = |x|^2
    ck.same("gradient_descent x", x, x0 * 0.8**20)
    ck.same("gradient_descent history", history, steps)


@case("gates", dtypes=("int64",))
def _gates(ck: Checker) -> None:
    x1, x2 = np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1])
    truth = {"AND": [0, 0, 0, 1], "NAND": [1, 1, 1, 0], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}
    for gate, want in truth.items():
        got = getattr(dlcore, gate)(ck.put(x1), ck.put(x2))
        ck.same(gate, got, want, dtype="int64", rtol=0.0)
