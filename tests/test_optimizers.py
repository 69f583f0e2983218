"""Optimizers: two steps of each update rule against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _helpers import assert_close

import dlcore
from dlcore.optimizers import OPTIMIZERS, SGD, AdaGrad, Adam, Momentum, get_optimizer

W0 = np.array([1.0, -2.0])
G1 = np.array([0.5, -4.0])
G2 = np.array([-1.0, 2.0])


def _two_steps(backend: dlcore.Backend, opt: dlcore.optimizers.Optimizer) -> np.ndarray:
    params = {"W": backend.asarray(W0)}
    original = params["W"]
    opt.update(params, {"W": backend.asarray(G1)})
    opt.update(params, {"W": backend.asarray(G2)})
    np.testing.assert_array_equal(dlcore.to_numpy(original), W0)  # rebinds, never writes
    assert backend.owns(params["W"])
    return dlcore.to_numpy(params["W"])


def test_sgd(backend: dlcore.Backend) -> None:
    # 1 - 0.1*0.5 - 0.1*(-1) = 1.05 ; -2 - 0.1*(-4) - 0.1*2 = -1.8
    assert_close(_two_steps(backend, SGD(lr=0.1)), [1.05, -1.8], rtol=1e-15)


def test_momentum(backend: dlcore.Backend) -> None:
    # v1 = -0.1*g1 = [-0.05, 0.4]; W1 = [0.95, -1.6]
    # v2 = 0.9*v1 - 0.1*g2 = [-0.045 + 0.1, 0.36 - 0.2] = [0.055, 0.16]; W2 = [1.005, -1.44]
    assert_close(_two_steps(backend, Momentum(lr=0.1, momentum=0.9)), [1.005, -1.44], rtol=1e-14)


def test_adagrad(backend: dlcore.Backend) -> None:
    # h1 = [0.25, 16]; W1 = W0 - 0.1*g1/(sqrt(h1) + 1e-7)
    # h2 = [1.25, 20]; W2 = W1 - 0.1*g2/(sqrt(h2) + 1e-7)
    w1 = [1.0 - 0.1 * 0.5 / (0.5 + 1e-7), -2.0 + 0.1 * 4.0 / (4.0 + 1e-7)]
    w2 = [
        w1[0] + 0.1 * 1.0 / (math.sqrt(1.25) + 1e-7),
        w1[1] - 0.1 * 2.0 / (math.sqrt(20.0) + 1e-7),
    ]
    assert_close(_two_steps(backend, AdaGrad(lr=0.1)), w2, rtol=1e-14)


def test_adam(backend: dlcore.Backend) -> None:
    lr, b1, b2 = 0.01, 0.9, 0.999
    # step 1: m = 0.1*g1, v = 0.001*g1^2, lr_t = lr*sqrt(1 - b2)/(1 - b1)
    m = [0.1 * 0.5, 0.1 * -4.0]
    v = [0.001 * 0.25, 0.001 * 16.0]
    lr_t = lr * math.sqrt(1 - b2) / (1 - b1)
    w = [W0[i] - lr_t * m[i] / (math.sqrt(v[i]) + 1e-7) for i in range(2)]
    # step 2: m += 0.1*(g2 - m), v += 0.001*(g2^2 - v), lr_t = lr*sqrt(1 - b2^2)/(1 - b1^2)
    m = [m[i] + 0.1 * (G2[i] - m[i]) for i in range(2)]
    v = [v[i] + 0.001 * (G2[i] ** 2 - v[i]) for i in range(2)]
    lr_t = lr * math.sqrt(1 - b2**2) / (1 - b1**2)
    w = [w[i] - lr_t * m[i] / (math.sqrt(v[i]) + 1e-7) for i in range(2)]
    assert_close(_two_steps(backend, Adam(lr=lr, beta1=b1, beta2=b2)), w, rtol=1e-13)


def test_adam_first_step_is_about_lr() -> None:
    params = {"W": np.array([0.0, 0.0])}
    Adam(lr=0.001).update(params, {"W": np.array([1e-3, -50.0])})
    np.testing.assert_allclose(
        params["W"], [-0.001, 0.001], rtol=5e-3
    )  # eps 1e-7 in the denominator


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_float32_stays_float32(backend: dlcore.Backend, name: str) -> None:
    params = {"W": backend.asarray(W0, dtype="float32")}
    opt = get_optimizer(name, 0.01)
    for _ in range(2):
        opt.update(params, {"W": backend.asarray(G1, dtype="float32")})
    assert params["W"].dtype == backend.xp.float32


def test_errors() -> None:
    with pytest.raises(ValueError, match="`lr` must be a positive finite number"):
        SGD(lr=0.0)
    with pytest.raises(ValueError, match="`momentum` must be a positive finite number and below 1"):
        Momentum(momentum=1.0)
    with pytest.raises(ValueError, match=r"unknown optimizer 'rmsprop'; choose one of \['adagrad'"):
        get_optimizer("rmsprop", 0.1)
    params = {"W": np.zeros(2), "b": np.zeros(1)}
    with pytest.raises(KeyError, match=r"no entry for the parameters \['b'\]"):
        SGD().update(params, {"W": np.zeros(2)})
    with pytest.raises(ValueError, match=r"grads\['W'\] must have the shape of params\['W'\]"):
        SGD().update(params, {"W": np.zeros(3), "b": np.zeros(1)})


def test_get_optimizer_passes_instances_through() -> None:
    opt = Adam(lr=0.5)
    assert get_optimizer(opt, 0.1) is opt
    assert get_optimizer("ADAM", 0.002).lr == 0.002
