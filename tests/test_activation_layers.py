"""Seed 003's activation layers and networks: forward against NumPy formulas, backward against
central differences (per layer and per network parameter), PReLU's learned slopes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from _helpers import assert_close

import dlcore

# Klambauer et al. (2017) constants, as torch.nn.SELU documents them (independent of dlcore).
TORCH_SELU_ALPHA = 1.6732632423543772848170429916717
TORCH_SELU_SCALE = 1.0507009873554804934193349852946

#: layer factory -> NumPy float64 reference of its forward pass
LAYERS = {
    "Tanh": (dlcore.Tanh, np.tanh),
    "LeakyReLU": (dlcore.LeakyReLU, lambda x: np.where(x > 0, x, 0.01 * x)),
    "LeakyReLU(0.2)": (lambda: dlcore.LeakyReLU(alpha=0.2), lambda x: np.maximum(0.2 * x, x)),
    "PReLU": (dlcore.PReLU, lambda x: np.maximum(0.25 * x, x)),
    "ELU": (dlcore.ELU, lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    "ELU(0.5)": (lambda: dlcore.ELU(alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    "SELU": (
        dlcore.SELU,
        lambda x: TORCH_SELU_SCALE * np.where(x > 0, x, TORCH_SELU_ALPHA * np.expm1(x)),
    ),
    "SELU(seed)": (
        lambda: dlcore.SELU(alpha=1.5, scale=1.0),
        lambda x: np.where(x >= 0, x, 1.5 * (np.exp(x) - 1)),  # seed 003's SELU(x; alpha)
    ),
}
NEW_ACTIVATIONS = ["tanh", "leaky_relu", "prelu", "elu", "selu"]


def _inputs(rng: np.random.Generator, shape: tuple[int, ...] = (5, 4)) -> np.ndarray:
    """Values away from the kink at 0 (the central difference would straddle it)."""
    x = rng.uniform(0.1, 2.5, shape)
    return x * np.where(rng.random(shape) < 0.5, -1.0, 1.0)


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_forward_matches_numpy_formula(backend, rng, name):
    make, reference = LAYERS[name]
    x = _inputs(rng)
    out = make().forward(backend.asarray(x))
    assert_close(out, reference(x))


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_backward_matches_central_difference(backend, rng, name):
    """The per-layer gradient check: backward(dout) against d/dx sum(forward(x) * dout)."""
    make, _ = LAYERS[name]
    x, dout = _inputs(rng), rng.standard_normal((5, 4))
    layer = make()
    layer.forward(backend.asarray(x))
    dx = dlcore.to_numpy(layer.backward(backend.asarray(dout)))
    h = 1e-6
    plus = dlcore.to_numpy(make().forward(backend.asarray(x + h)))
    minus = dlcore.to_numpy(make().forward(backend.asarray(x - h)))
    np.testing.assert_allclose(dx, dout * (plus - minus) / (2 * h), rtol=1e-6, atol=1e-9)


def test_prelu_slope_gradient_matches_central_difference(backend, rng):
    x, dout = _inputs(rng, (6, 3)), rng.standard_normal((6, 3))
    alpha = np.array([0.1, 0.25, 0.6])
    layer = dlcore.PReLU(backend.asarray(alpha))
    layer.forward(backend.asarray(x))
    layer.backward(backend.asarray(dout))
    expected = np.empty(3)
    for j in range(3):  # d/d alpha_j of sum(prelu(x, alpha) * dout), numerically
        e = np.eye(3)[j] * 1e-6
        xb = backend.asarray(x)
        f = [
            np.sum(dlcore.to_numpy(dlcore.PReLU(backend.asarray(a)).forward(xb)) * dout)
            for a in (alpha + e, alpha - e)
        ]
        expected[j] = (f[0] - f[1]) / 2e-6
    assert tuple(layer.dalpha.shape) == (3,)
    assert_close(layer.dalpha, expected, rtol=1e-6)
    # and the closed form: sum over the batch of x * dout where x <= 0
    assert_close(layer.dalpha, np.sum(np.where(x > 0, 0.0, x * dout), axis=0))


def test_prelu_shared_scalar_slope_gradient_is_a_scalar(rng):
    x, dout = _inputs(rng, (4, 2)), rng.standard_normal((4, 2))
    layer = dlcore.PReLU(0.3)
    layer.forward(x)
    layer.backward(dout)
    assert layer.dalpha.shape == ()
    assert float(layer.dalpha) == pytest.approx(float(np.sum(np.where(x > 0, 0, x * dout))))


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_backward_before_forward_raises(name):
    with pytest.raises(RuntimeError, match="backward was called before forward"):
        LAYERS[name][0]().backward(np.ones(3))


def test_layer_constants_are_checked():
    with pytest.raises(TypeError, match="`alpha` must be a number"):
        dlcore.LeakyReLU(alpha="0.1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`scale` must be a finite number"):
        dlcore.SELU(scale=math.nan)
    with pytest.raises(ValueError, match="does not broadcast"):
        dlcore.PReLU(np.ones(3)).forward(np.ones((2, 4)))


def test_selu_forms_and_elu_alpha():
    x = np.array([-1.0, 0.0, 1.0])
    # seed 003: SELU(x; a) = x (x >= 0), a (e^x - 1) (x < 0)
    np.testing.assert_allclose(
        dlcore.selu(x, alpha=2.0, scale=1.0), [2.0 * (math.exp(-1) - 1), 0.0, 1.0]
    )
    assert float(dlcore.selu(np.array(1.0))) == pytest.approx(TORCH_SELU_SCALE, rel=1e-15)
    np.testing.assert_allclose(dlcore.elu(x, alpha=0.5), [0.5 * (math.exp(-1) - 1), 0.0, 1.0])
    np.testing.assert_allclose(dlcore.selu_grad(x, alpha=2.0, scale=1.0), [2 * math.exp(-1), 2, 1])


def test_softmax_jacobian_matches_central_difference(backend, rng):
    x = rng.standard_normal((3, 4))
    jac = dlcore.to_numpy(dlcore.softmax_jacobian(backend.asarray(x)))
    assert jac.shape == (3, 4, 4)

    def softmax(v: np.ndarray) -> np.ndarray:
        e = np.exp(v - v.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    h = 1e-6
    for j in range(4):
        e = np.eye(4)[j] * h
        column = (softmax(x + e) - softmax(x - e)) / (2 * h)  # d y / d x_j, (3, 4)
        np.testing.assert_allclose(jac[:, :, j], column, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(jac.sum(axis=-1), 0.0, atol=1e-15)


def _offset_net(name: str, backend, rng) -> dlcore.MultiLayerNet:
    """A small net with non-zero biases (an all-zero hidden row would sit on a kink)."""
    net = dlcore.MultiLayerNet(5, [4, 3], 3, activation=name, weight_init_std=0.4, seed=1)
    for key in [k for k in net.params if k.startswith("b")]:
        shape = tuple(net.params[key].shape)
        net.params[key] = backend.asarray(rng.uniform(-0.5, 0.5, shape))
    return net


@pytest.mark.parametrize("name", NEW_ACTIVATIONS)
def test_network_gradient_check_per_parameter(backend, rng, name):
    """Backprop against the numerical gradient for every parameter (W, b and PReLU's alpha)."""
    net = _offset_net(name, backend, rng)
    x = backend.asarray(rng.standard_normal((8, 5)))
    t = backend.asarray(np.arange(8) % 3)
    diff = dlcore.gradient_check(net, x, t)
    expected = {"W1", "b1", "W2", "b2", "W3", "b3"} | (
        {"alpha1", "alpha2"} if name == "prelu" else set()
    )
    assert set(diff) == expected
    for key, d in diff.items():
        # the loss's delta = 1e-7 inside log() sets a floor of about 1e-7 (dlcore.gradient_check)
        assert d["max"] < 1e-6, (key, d)


def test_prelu_slopes_are_parameters(backend, rng):
    net = dlcore.MultiLayerNet(5, [4, 3], 3, activation="prelu", seed=0)
    assert list(net.params) == ["W1", "b1", "alpha1", "W2", "b2", "alpha2", "W3", "b3"]
    assert_close(net.params["alpha1"], np.full(4, 0.25))
    x = backend.asarray(rng.standard_normal((6, 5)))
    t = backend.asarray(np.arange(6) % 3)
    for name in ("sgd", "momentum", "adagrad", "adam"):
        before = dlcore.to_numpy(net.params["alpha1"]).copy()
        grads = net.gradient(x, t)
        dlcore.optimizers.get_optimizer(name, 0.1).update(net.params, grads)
        after = dlcore.to_numpy(net.params["alpha1"])
        g = dlcore.to_numpy(grads["alpha1"])
        moved = np.abs(g) > 1e-12
        assert moved.any()
        # every rule steps against the gradient on its first update
        assert np.all(np.sign(after - before)[moved] == -np.sign(g[moved])), name


def test_prelu_net_saved_and_loaded(tmp_path: Path, rng, host_numpy):
    net = dlcore.MultiLayerNet(5, [4], 3, activation="prelu", seed=0)
    net.params["alpha1"] = np.array([0.1, 0.2, 0.3, 0.4])
    path = dlcore.save_weights(net.params, tmp_path / "prelu.npz")
    back = dlcore.MultiLayerNet.from_params(dlcore.load_weights(path), activation="prelu")
    np.testing.assert_array_equal(back.params["alpha1"], [0.1, 0.2, 0.3, 0.4])
    x = rng.standard_normal((4, 5))
    np.testing.assert_array_equal(back.predict(x), net.predict(x))
    params = {k: v for k, v in net.params.items() if k != "alpha1"}
    with pytest.raises(ValueError, match=r"alpha1.*one PReLU slope per unit"):
        dlcore.MultiLayerNet.from_params(params, activation="prelu")
    with pytest.raises(ValueError, match="has PReLU slopes"):
        dlcore.MultiLayerNet.from_params(net.params, activation="relu")


def test_contract_prelu_uses_the_initial_slope():
    x = np.array([[-2.0, 1.0]])
    arrays = (np.eye(2), np.zeros(2), np.eye(2), np.zeros(2))
    out = dlcore.network.forward_layers(arrays, x, activation="prelu")
    np.testing.assert_allclose(out, [[-0.5, 1.0]])
    slopes = [np.array([0.1, 0.1])]
    out = dlcore.network.forward_layers(arrays, x, activation="prelu", slopes=slopes)
    np.testing.assert_allclose(out, [[-0.2, 1.0]])
    with pytest.raises(ValueError, match="one per hidden layer"):
        dlcore.network.forward_layers(arrays, x, activation="relu", slopes=[np.ones(2)])
