"""Cases for networks: the dict contract, inference, layers, the book's nets, optimizers."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

import dlcore
from dlcore.optimizers import SGD, AdaGrad, Adam, Momentum

from . import _reference as ref
from ._checker import Checker, CheckFailed, case

SIZES = (6, 5, 4, 3)  # a 3-layer network: two hidden layers, as the book's MNIST one


def network(ck: Checker, sizes: tuple[int, ...] = SIZES) -> list[np.ndarray]:
    """Host weights ``[W1, b1, ..., Wn, bn]`` with unit-scale activations."""
    arrays = []
    for m, k in itertools.pairwise(sizes):
        arrays += [ck.data(m, k, scale=1.5 / m**0.5), ck.data(k, scale=0.5)]
    return arrays


def as_dict(ck: Checker, arrays: list[np.ndarray]) -> dict[str, Any]:
    keys = [f"{'Wb'[i % 2]}{i // 2 + 1}" for i in range(len(arrays))]
    return {key: ck.put(a) for key, a in zip(keys, arrays, strict=True)}


@case("init_network and forward (the book's 3.4.3 numbers)", dtypes=("float64",))
def _init_forward(ck: Checker) -> None:
    net = dlcore.init_network()
    ck.same("init_network W2", net["W2"], [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]])
    ck.same("forward", dlcore.forward(net, ck.put([1.0, 0.5])), [0.31682708, 0.69627909], rtol=1e-7)


@case("predict, Predictor, predict_batches")
def _predict(ck: Checker) -> None:
    arrays = network(ck)
    net = as_dict(ck, arrays)
    x = ck.data(7, SIZES[0])
    want = ref.forward(arrays, x)
    ck.same("predict (batch)", dlcore.predict(net, ck.put(x)), want)
    ck.same("predict (one image)", dlcore.predict(net, ck.put(x[2])), want[2])
    run = dlcore.Predictor(net, backend=ck.backend)
    ck.same("Predictor", run(ck.put(x)), want)
    ck.same("predict_batches", dlcore.predict_batches(net, ck.put(x), batch_size=3), want)


@case("predict: mixed libraries are refused")
def _predict_two_libraries(ck: Checker) -> None:
    net, x = as_dict(ck, network(ck)), ck.data(2, SIZES[0])
    ck.raises(
        "predict (x of another library)",
        TypeError,
        lambda: dlcore.predict(net, ck.other_library(x)),
    )


@case("predict: mixed devices are refused")
def _predict_two_devices(ck: Checker) -> None:
    net, x = as_dict(ck, network(ck)), ck.data(2, SIZES[0])
    ck.raises(
        "predict (x on another device)", ValueError, lambda: dlcore.predict(net, ck.other_device(x))
    )


@case("mlp_loss and mlp_numerical_gradient")
def _mlp_numgrad(ck: Checker) -> None:
    arrays = network(ck, (4, 3, 2))
    x, labels = ck.data(5, 4), ck.labels(5, 2)
    t = ref.one_hot(labels, 2)
    params = as_dict(ck, arrays)
    ck.same(
        "mlp_loss", dlcore.mlp_loss(params, ck.put(x), ck.put(labels)), ref.mlp_loss(arrays, x, t)
    )
    got = dlcore.mlp_numerical_gradient(params, ck.put(x), ck.put(labels))
    want = ref.mlp_numerical_gradient(arrays, x, t)
    for (key, g), w in zip(got.items(), want, strict=True):
        ck.same(f"mlp_numerical_gradient {key}", g, w, rtol=max(1e-6, 4 * _eps(ck) ** 0.5))


def _eps(ck: Checker) -> float:
    return float(np.finfo(ck.dtype or "float64").eps)


@case("layers (forward and backward)")
def _layers(ck: Checker) -> None:
    x, w, b = ck.data(4, 3), ck.data(3, 2), ck.data(2)
    dout = ck.data(4, 2)
    affine = dlcore.Affine(ck.put(w), ck.put(b))
    ck.same("Affine.forward", affine.forward(ck.put(x)), x @ w + b)
    ck.same("Affine.backward dx", affine.backward(ck.put(dout)), dout @ w.T)
    ck.same("Affine.backward dW", affine.dW, x.T @ dout)
    ck.same("Affine.backward db", affine.db, dout.sum(axis=0))
    z = ck.data(4, 2, away_from_zero=True)
    sig = dlcore.Sigmoid()
    s = ref.sigmoid(z)
    ck.same("Sigmoid.forward", sig.forward(ck.put(z)), s)
    ck.same("Sigmoid.backward", sig.backward(ck.put(dout)), dout * s * (1 - s))
    relu = dlcore.Relu()
    ck.same("Relu.forward", relu.forward(ck.put(z)), np.maximum(z, 0))
    ck.same("Relu.backward", relu.backward(ck.put(dout)), dout * (z > 0))
    labels = ck.labels(4, 2)
    loss = dlcore.SoftmaxWithLoss()
    t = ref.one_hot(labels, 2)
    ck.same(
        "SoftmaxWithLoss.forward",
        loss.forward(ck.put(z), ck.put(labels)),
        ref.cross_entropy(ref.softmax(z), t),
    )
    ck.same("SoftmaxWithLoss.backward", loss.backward(), (ref.softmax(z) - t) / 4)
    mul, add = dlcore.MulLayer(), dlcore.AddLayer()
    ck.same("MulLayer.forward", mul.forward(ck.put(x), ck.put(x[::-1])), x * x[::-1])
    dx, dy = mul.backward(ck.put(x))
    ck.same("MulLayer.backward dx", dx, x * x[::-1])
    ck.same("MulLayer.backward dy", dy, x * x)
    ck.same("AddLayer.forward", add.forward(ck.put(x), ck.put(x)), 2 * x)
    da, db = add.backward(ck.put(dout))
    ck.same("AddLayer.backward", da, dout)
    ck.same("AddLayer.backward dy", db, dout)


@case("TwoLayerNet and MultiLayerNet")
def _nets(ck: Checker) -> None:
    x, labels = ck.data(6, 4), ck.labels(6, 3)
    t = ref.one_hot(labels, 3)
    for net, sizes, activation in (
        (dlcore.TwoLayerNet(4, 5, 3, dtype=ck.dtype or "float64"), (4, 5, 3), "sigmoid"),
        (
            dlcore.MultiLayerNet(4, [5, 4], 3, activation="relu", dtype=ck.dtype or "float64"),
            (4, 5, 4, 3),
            "relu",
        ),
    ):
        name = f"{type(net).__name__} ({activation})"
        for key, value in net.params.items():
            ck.same(f"{name} init {key}", value, ck.backend.to_numpy(value))  # placed and typed
        arrays = network(ck, sizes)
        net.params = as_dict(ck, arrays)
        xb, tb = ck.put(x), ck.put(labels)
        ck.same(f"{name}.predict", net.predict(xb), ref.forward(arrays, x, activation))
        ck.same(f"{name}.loss", net.loss(xb, tb), ref.mlp_loss(arrays, x, t, activation))
        for (key, g), w in zip(
            net.gradient(xb, tb).items(), ref.backprop(arrays, x, t, activation), strict=True
        ):
            ck.same(f"{name}.gradient {key}", g, w)
        acc = net.accuracy(xb, tb)
        want = float(np.mean(ref.forward(arrays, x, activation).argmax(axis=1) == labels))
        if abs(acc - want) > 1e-6:
            msg = f"{name}.accuracy: {acc}, expected {want}"
            raise CheckFailed(msg)
    report = dlcore.gradient_check(net, xb, tb)
    worst = max(v["max"] for v in report.values())
    if not worst < 1e-4:  # numerical vs backprop (the delta biases it, ~1e-6)
        msg = f"gradient_check: backprop and numerical gradients differ by {worst:.3g}"
        raise CheckFailed(msg)


@case("optimizers (two steps each)")
def _optimizers(ck: Checker) -> None:
    w0, g1, g2 = ck.data(3, 2), ck.data(3, 2), ck.data(3, 2)
    v1 = -0.1 * g1
    h1, h2 = g1 * g1, g1 * g1 + g2 * g2
    m1, m2 = 0.1 * g1, 0.1 * g1 + 0.1 * (g2 - 0.1 * g1)
    s1, s2 = 0.001 * g1 * g1, 0.001 * g1 * g1 + 0.001 * (g2 * g2 - 0.001 * g1 * g1)
    lr1, lr2 = 0.01 * np.sqrt(1 - 0.999) / (1 - 0.9), 0.01 * np.sqrt(1 - 0.999**2) / (1 - 0.9**2)
    expected = {
        "SGD": (SGD(lr=0.1), w0 - 0.1 * g1 - 0.1 * g2),
        "Momentum": (Momentum(lr=0.1, momentum=0.9), w0 + v1 + (0.9 * v1 - 0.1 * g2)),
        "AdaGrad": (
            AdaGrad(lr=0.1),
            w0 - 0.1 * g1 / (np.sqrt(h1) + 1e-7) - 0.1 * g2 / (np.sqrt(h2) + 1e-7),
        ),
        "Adam": (
            Adam(lr=0.01),
            w0 - lr1 * m1 / (np.sqrt(s1) + 1e-7) - lr2 * m2 / (np.sqrt(s2) + 1e-7),
        ),
    }
    for name, (opt, want) in expected.items():
        params = {"W": ck.put(w0)}
        opt.update(params, {"W": ck.put(g1)})
        opt.update(params, {"W": ck.put(g2)})
        ck.same(f"{name}.update", params["W"], want)
