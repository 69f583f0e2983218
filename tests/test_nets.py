"""TwoLayerNet and MultiLayerNet: initialisation, loss, numerical vs backprop gradients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import _book
import numpy as np
import pytest
from _helpers import assert_close

import dlcore
from dlcore import MultiLayerNet, TwoLayerNet

#: Measured floor of |backprop - numerical| for the whole loss of the net below (the
#: book's delta = 1e-7 inside the log, which backprop ignores): 1.25e-7 (W2) on numpy,
#: numba and array_api_strict, against <= 3.7e-10 without delta. See dlcore.gradient_check.
WHOLE_LOSS_ATOL = 1.5e-7
LAYER_ATOL = 1e-7


@pytest.fixture
def on_numpy() -> Iterator[None]:
    """Make NumPy the active backend (the test passes NumPy arrays to new networks)."""
    with dlcore.use_backend("numpy"):
        yield


def _ref_forward(p: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The hidden activations and probabilities of the book's 2-layer net (tests/_book.py)."""
    z1 = _book.sigmoid(np.dot(x, p["W1"]) + p["b1"])
    return z1, _book.forward(p, x)


def _ref_loss(p: dict[str, np.ndarray], x: np.ndarray, labels: np.ndarray) -> float:
    return _book.loss(p, x, labels)


def _ref_backprop(
    p: dict[str, np.ndarray], x: np.ndarray, labels: np.ndarray
) -> dict[str, np.ndarray]:
    """The chain rule written out in NumPy (delta-free loss), independent of dlcore.layers."""
    return _book.backprop(p, x, labels, with_delta=False)


def _host(params: dict[str, Any]) -> dict[str, np.ndarray]:
    return {k: dlcore.to_numpy(v) for k, v in params.items()}


def _data(
    backend: dlcore.Backend, rng: np.random.Generator, n: int = 8, d: int = 4, c: int = 3
) -> tuple[Any, Any, np.ndarray, np.ndarray]:
    x = rng.standard_normal((n, d))
    labels = np.arange(n) % c
    return backend.asarray(x), backend.asarray(labels), x, labels


def test_init_is_seeded_on_host_and_same_on_every_backend(backend: dlcore.Backend) -> None:
    net = TwoLayerNet(5, 4, 3, weight_init_std=0.01, seed=42)
    rng = np.random.default_rng(42)
    expected = {
        "W1": 0.01 * rng.standard_normal((5, 4)),
        "b1": np.zeros(4),
        "W2": 0.01 * rng.standard_normal((4, 3)),
        "b2": np.zeros(3),
    }
    assert list(net.params) == ["W1", "b1", "W2", "b2"]
    for key, value in net.params.items():
        assert backend.owns(value)
        assert value.dtype == backend.xp.float64
        np.testing.assert_array_equal(dlcore.to_numpy(value), expected[key])


def test_float32_params(backend: dlcore.Backend) -> None:
    net = TwoLayerNet(5, 4, 3, seed=1, dtype="float32")
    assert all(v.dtype == backend.xp.float32 for v in net.params.values())


def test_loss_and_predict_match_numpy_reference(
    backend: dlcore.Backend, rng: np.random.Generator
) -> None:
    net = TwoLayerNet(4, 5, 3, weight_init_std=1.0, seed=0)
    x, t, hx, labels = _data(backend, rng)
    p = _host(net.params)
    assert_close(net.predict(x), _ref_forward(p, hx)[1])
    assert_close(net.loss(x, t), _ref_loss(p, hx, labels))
    one_hot = backend.asarray(np.eye(3)[labels])
    assert_close(net.loss(x, one_hot), _ref_loss(p, hx, labels))


def test_accuracy(backend: dlcore.Backend, rng: np.random.Generator) -> None:
    net = TwoLayerNet(4, 5, 3, weight_init_std=1.0, seed=0)
    x, t, hx, labels = _data(backend, rng, n=12)
    expected = float(np.mean(_ref_forward(_host(net.params), hx)[1].argmax(1) == labels))
    assert net.accuracy(x, t) == pytest.approx(expected, abs=1e-12)
    assert net.accuracy(x, backend.asarray(np.eye(3)[labels])) == pytest.approx(expected)


def test_backprop_matches_numpy_chain_rule(
    backend: dlcore.Backend, rng: np.random.Generator
) -> None:
    net = TwoLayerNet(4, 5, 3, weight_init_std=1.0, seed=0)
    x, t, hx, labels = _data(backend, rng)
    grads = net.gradient(x, t)
    expected = _ref_backprop(_host(net.params), hx, labels)
    for key in net.params:
        assert_close(grads[key], expected[key], rtol=1e-12, atol=1e-15)


def test_backprop_vs_numerical_whole_loss(
    backend: dlcore.Backend, rng: np.random.Generator
) -> None:
    net = TwoLayerNet(4, 5, 3, weight_init_std=1.0, seed=0)
    x, t, _, _ = _data(backend, rng)
    before = _host(net.params)
    diffs = dlcore.gradient_check(net, x, t)
    assert list(diffs) == ["W1", "b1", "W2", "b2"]
    worst = max(d["max"] for d in diffs.values())
    # the floor is there (delta matters) and the agreement is just above it
    assert 1e-8 < worst < WHOLE_LOSS_ATOL
    for key, value in net.params.items():  # numerical_gradient restores every element
        np.testing.assert_array_equal(dlcore.to_numpy(value), before[key])


def test_numerical_gradient_of_delta_free_loss_is_below_layer_tolerance(
    backend: dlcore.Backend, rng: np.random.Generator
) -> None:
    # Without delta in the log the numerical gradient meets backprop per parameter to
    # well below 1e-7: the whole-loss floor above comes from delta alone.
    net = TwoLayerNet(4, 5, 3, weight_init_std=1.0, seed=0)
    x, t, hx, labels = _data(backend, rng)
    grads = net.gradient(x, t)
    p = _host(net.params)
    for key in p:
        original = p[key].copy()

        def f(w: np.ndarray, key: str = key, original: np.ndarray = original) -> float:
            p[key] = w
            _, y = _ref_forward(p, hx)
            p[key] = original
            return float(-np.mean(np.log(y[np.arange(len(labels)), labels])))

        numeric = dlcore.numerical_gradient(f, original.copy())
        assert np.max(np.abs(dlcore.to_numpy(grads[key]) - numeric)) < LAYER_ATOL / 100


def test_float32_numerical_gradient_is_computed_in_float64(
    backend: dlcore.Backend, rng: np.random.Generator
) -> None:
    net = TwoLayerNet(4, 5, 3, weight_init_std=1.0, seed=0, dtype="float32")
    x = backend.asarray(rng.standard_normal((8, 4)), dtype="float32")
    t = backend.asarray(np.arange(8) % 3)
    before = _host(net.params)
    numeric = net.numerical_gradient(x, t)
    expected = _ref_backprop(
        {k: v.astype(np.float64) for k, v in before.items()}, dlcore.to_numpy(x), np.arange(8) % 3
    )
    for key in net.params:
        assert numeric[key].dtype == backend.xp.float32
        np.testing.assert_array_equal(dlcore.to_numpy(net.params[key]), before[key])
        # float64 differences: only the delta floor and the final float32 rounding remain
        np.testing.assert_allclose(dlcore.to_numpy(numeric[key]), expected[key], atol=3e-7)
    grads = net.gradient(x, t)
    assert all(g.dtype == backend.xp.float32 for g in grads.values())


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_multilayer_backprop_vs_numerical(
    backend: dlcore.Backend, rng: np.random.Generator, activation: str
) -> None:
    net = MultiLayerNet(3, [4, 3], 2, activation=activation, weight_init_std=1.0, seed=3)
    x = backend.asarray(rng.standard_normal((6, 3)))
    # a margin for the true class keeps every y_t large, so the delta floor is ~1e-9
    scores = dlcore.to_numpy(net.predict(x))
    t = backend.asarray(scores.argmax(axis=1))
    diffs = dlcore.gradient_check(net, x, t)
    assert list(diffs) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert max(d["max"] for d in diffs.values()) < LAYER_ATOL


def test_multilayer_sigmoid_predict_is_dlcore_predict(
    backend: dlcore.Backend, rng: np.random.Generator
) -> None:
    net = MultiLayerNet(4, [5, 6], 3, seed=0)
    x = backend.asarray(rng.standard_normal((6, 4)))
    assert_close(net.predict(x), dlcore.to_numpy(dlcore.predict(net.params, x)), rtol=1e-12)


def test_xavier_and_he_scales() -> None:
    rng = np.random.default_rng(7)
    xavier = MultiLayerNet(400, [300], 2, weight_init_std="xavier", seed=7)
    np.testing.assert_array_equal(
        dlcore.to_numpy(xavier.params["W1"]), np.sqrt(1.0 / 400) * rng.standard_normal((400, 300))
    )
    he = MultiLayerNet(400, [300], 2, weight_init_std="he", seed=7, activation="relu")
    assert float(np.std(dlcore.to_numpy(he.params["W1"]))) == pytest.approx(
        np.sqrt(2 / 400), rel=0.02
    )


def test_constructor_errors() -> None:
    with pytest.raises(ValueError, match="`hidden_size` must be a positive integer"):
        TwoLayerNet(784, 0, 10)
    with pytest.raises(ValueError, match="`activation` must be one of"):
        TwoLayerNet(784, 50, 10, activation="swish")
    with pytest.raises(ValueError, match="`dtype` must be 'float32' or 'float64'"):
        TwoLayerNet(784, 50, 10, dtype="float16")
    with pytest.raises(ValueError, match="`weight_init_std` must be a positive number"):
        TwoLayerNet(784, 50, 10, weight_init_std=-1.0)
    with pytest.raises(TypeError, match="`hidden_size_list` must be a list"):
        MultiLayerNet(784, 50, 10)  # type: ignore[arg-type]


@pytest.mark.usefixtures("on_numpy")
def test_input_shape_error_is_clear() -> None:
    net = TwoLayerNet(784, 50, 10, seed=0)
    with pytest.raises(ValueError) as info:
        net.gradient(np.zeros((10, 783)), np.zeros(10, dtype=np.int64))
    assert "`x` must have 784 features per image (W1 has shape (784, 50))" in str(info.value)
    with pytest.raises(
        ValueError, match=r"integer labels `t` must have shape y.shape\[:-1\] = \(10,\)"
    ):
        net.loss(np.zeros((10, 784)), np.zeros(9, dtype=np.int64))


@pytest.mark.usefixtures("on_numpy")
def test_weight_decay_loss_and_gradient(rng: np.random.Generator) -> None:
    lam = 0.3
    net = MultiLayerNet(3, [4], 2, weight_decay_lambda=lam, weight_init_std=1.0, seed=2)
    plain = MultiLayerNet(3, [4], 2, weight_init_std=1.0, seed=2)
    x, t = rng.standard_normal((5, 3)), np.arange(5) % 2
    p = _host(net.params)
    penalty = 0.5 * lam * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
    assert float(net.loss(x, t)) == pytest.approx(float(plain.loss(x, t)) + penalty, rel=1e-12)
    grads, base = net.gradient(x, t), plain.gradient(x, t)
    np.testing.assert_allclose(grads["W1"], base["W1"] + lam * p["W1"], rtol=1e-12)
    np.testing.assert_array_equal(grads["b1"], base["b1"])
    assert max(d["max"] for d in dlcore.gradient_check(net, x, t).values()) < WHOLE_LOSS_ATOL
    with pytest.raises(ValueError, match="`weight_decay_lambda` must be a non-negative number"):
        MultiLayerNet(3, [4], 2, weight_decay_lambda=-1.0)


@pytest.mark.parametrize("method", ["auto", "batched"])
def test_fast_numerical_gradient_equals_the_book_loop(
    backend: dlcore.Backend, rng: np.random.Generator, method: str
) -> None:
    """Every fast path computes the book loop's numbers (1e-9 absolute, float64)."""
    net = dlcore.TwoLayerNet(6, 4, 3, weight_init_std=0.5, seed=3)
    x = backend.asarray(rng.normal(size=(5, 6)))
    t = backend.asarray(np.array([0, 2, 1, 1, 0]))
    loop = net.numerical_gradient(x, t, method="loop")
    fast = net.numerical_gradient(x, t, method=method)
    for key in net.params:
        np.testing.assert_allclose(
            dlcore.to_numpy(fast[key]), dlcore.to_numpy(loop[key]), rtol=0, atol=1e-9
        )


def test_numerical_gradient_method_errors() -> None:
    net = dlcore.TwoLayerNet(4, 3, 2, seed=0)
    x, t = np.zeros((2, 4)), np.array([0, 1])
    with pytest.raises(ValueError, match="`method` must be"):
        net.numerical_gradient(x, t, method="fast")
