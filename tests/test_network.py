"""Forward networks: the book's 3-layer demo, predict of any depth, input checks."""

from __future__ import annotations

from typing import Any

import _book
import numpy as np
import pytest
from _helpers import assert_close

import dlcore

# The book's section 3.4.3 prints this for x = [1.0, 0.5].
BOOK_DEMO_OUTPUT = np.array([0.31682708, 0.69627909])


def _ref_predict(network: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The book's forward pass (tests/_book.py) in float64: sigmoid hidden layers, softmax."""
    return _book.forward({k: v.astype(np.float64) for k, v in network.items()}, x.astype(float))


def _random_network(rng: np.random.Generator, sizes: list[int]) -> dict[str, np.ndarray]:
    net = {}
    for i in range(1, len(sizes)):
        net[f"W{i}"] = rng.standard_normal((sizes[i - 1], sizes[i]))
        net[f"b{i}"] = rng.standard_normal(sizes[i])
    return net


def _on(backend: dlcore.Backend, net: dict[str, np.ndarray], dtype: str = "float64") -> Any:
    return {k: backend.asarray(v, dtype=dtype) for k, v in net.items()}


def test_book_demo_forward(backend: dlcore.Backend) -> None:
    network = dlcore.init_network()
    assert backend.owns(network["W1"])
    y = dlcore.forward(network, backend.asarray([1.0, 0.5]))
    assert_close(y, BOOK_DEMO_OUTPUT, rtol=0, atol=5e-9)


def test_book_demo_predict_is_softmax_of_forward(backend: dlcore.Backend) -> None:
    network = dlcore.init_network()
    y = dlcore.predict(network, backend.asarray([1.0, 0.5]))
    e = np.exp(BOOK_DEMO_OUTPUT)
    assert_close(y, e / e.sum(), rtol=0, atol=1e-8)


@pytest.mark.parametrize("sizes", [[6, 3], [6, 5, 3], [6, 5, 4, 3], [6, 4, 5, 4, 2]])
def test_predict_any_depth_matches_numpy_reference(
    backend: dlcore.Backend, rng: np.random.Generator, sizes: list[int]
) -> None:
    host = _random_network(rng, sizes)
    x = rng.standard_normal((7, sizes[0]))
    y = dlcore.predict(_on(backend, host), backend.asarray(x))
    assert tuple(y.shape) == (7, sizes[-1])
    assert_close(y, _ref_predict(host, x))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predict_single_vs_batch_identical(
    backend: dlcore.Backend, rng: np.random.Generator, dtype: str
) -> None:
    # Identical up to rounding: BLAS computes x @ W with a matrix-vector kernel for one
    # image and a matrix-matrix kernel for a batch, which sum in different orders, so
    # NumPy itself does not give bit-identical rows. A few hundred ulps at most.
    rtol = 1000 * float(np.finfo(dtype).eps)
    host = _random_network(rng, [784, 50, 100, 10])
    net = _on(backend, host, dtype)
    x = rng.random((5, 784))
    batch = dlcore.to_numpy(dlcore.predict(net, backend.asarray(x, dtype=dtype)))
    assert batch.dtype == np.dtype(dtype)
    for i in range(5):
        single = dlcore.to_numpy(dlcore.predict(net, backend.asarray(x[i], dtype=dtype)))
        assert single.shape == (10,)
        np.testing.assert_allclose(single, batch[i], rtol=rtol, atol=0)


def test_predict_keeps_float32(backend: dlcore.Backend, rng: np.random.Generator) -> None:
    host = {k: v.astype(np.float32) for k, v in _random_network(rng, [4, 3, 2]).items()}
    x = rng.random(4).astype(np.float32)
    y = dlcore.predict(_on(backend, host, "float32"), backend.asarray(x))
    assert y.dtype == backend.xp.float32
    assert_close(y, _ref_predict(host, x))


def _zeros_net(sizes: list[int]) -> dict[str, np.ndarray]:
    net = {}
    for i in range(1, len(sizes)):
        net[f"W{i}"] = np.zeros((sizes[i - 1], sizes[i]))
        net[f"b{i}"] = np.zeros(sizes[i])
    return net


def test_wrong_feature_count_names_w1_and_shapes() -> None:
    net = _zeros_net([784, 50, 10])
    with pytest.raises(ValueError) as info:
        dlcore.predict(net, np.zeros((10, 783)))
    assert str(info.value) == (
        "`x` must have 784 features per image (W1 has shape (784, 50)), got shape (10, 783)"
    )


def test_wrong_rank_says_how_to_flatten() -> None:
    net = _zeros_net([784, 50, 10])
    with pytest.raises(ValueError, match=r"got shape \(2, 28, 28\).*reshape\(N, 784\)"):
        dlcore.predict(net, np.zeros((2, 28, 28)))


def test_missing_and_unexpected_keys_are_named() -> None:
    net = _zeros_net([4, 3, 2])
    del net["b2"]
    with pytest.raises(ValueError, match=r"missing: \['b2'\]"):
        dlcore.predict(net, np.zeros(4))
    net = _zeros_net([4, 3, 2])
    net["bias"] = np.zeros(2)
    with pytest.raises(ValueError, match=r"unexpected: \['bias'\]"):
        dlcore.predict(net, np.zeros(4))


def test_layers_that_do_not_chain_name_the_layer() -> None:
    net = _zeros_net([4, 3, 2])
    net["W2"] = np.zeros((5, 2))
    with pytest.raises(ValueError) as info:
        dlcore.predict(net, np.zeros(4))
    assert "`network['W2']` must have 3 rows" in str(info.value)
    assert "W1 has shape (4, 3)" in str(info.value)
    assert "got shape (5, 2)" in str(info.value)
    net = _zeros_net([4, 3, 2])
    net["b1"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"`network\['b1'\]` must have 3 entries"):
        dlcore.predict(net, np.zeros(4))
    net = _zeros_net([4, 3, 2])
    net["b2"] = np.zeros((1, 2))
    with pytest.raises(ValueError, match=r"`network\['b2'\]` must be a 1-D bias vector"):
        dlcore.predict(net, np.zeros(4))


def test_dtype_and_type_errors() -> None:
    net = _zeros_net([4, 3, 2])
    with pytest.raises(TypeError, match="floating-point dtype"):
        dlcore.predict(net, np.zeros(4, dtype=np.int64))
    with pytest.raises(TypeError, match="must be a dict"):
        dlcore.predict([np.zeros((4, 2))], np.zeros(4))
    bad = dict(net, W1=np.zeros((4, 3), dtype=np.int32))
    with pytest.raises(TypeError, match=r"`network\['W1'\]` must have a floating-point dtype"):
        dlcore.predict(bad, np.zeros(4))


def test_mixed_libraries_are_refused() -> None:
    xps = pytest.importorskip("array_api_strict")
    net = _zeros_net([4, 3, 2])
    with pytest.raises(TypeError, match="different libraries"):
        dlcore.predict(net, xps.zeros(4))


def test_python_list_input_uses_active_backend() -> None:
    network = dlcore.init_network()
    np.testing.assert_allclose(
        dlcore.to_numpy(dlcore.forward(network, [1.0, 0.5])), BOOK_DEMO_OUTPUT, atol=5e-9
    )


def test_sample_network_shape_and_dtype(backend: dlcore.Backend) -> None:
    try:
        net = dlcore.load_sample_network()
    except FileNotFoundError as exc:  # pragma: no cover - the file ships with the package
        pytest.fail(str(exc))
    assert {k: tuple(v.shape) for k, v in net.items()} == {
        "W1": (784, 50),
        "b1": (50,),
        "W2": (50, 100),
        "b2": (100,),
        "W3": (100, 10),
        "b3": (10,),
    }
    assert all(backend.owns(v) and v.dtype == backend.xp.float32 for v in net.values())


def test_sample_network_accuracy_on_mnist_test(backend: dlcore.Backend) -> None:
    # The target of the shipped weights: >= 0.975 on the 10,000 t10k images (the book's
    # sample_weight.pkl, same shape, scores 0.9352).
    x, t = dlcore.load_mnist_test()
    y = dlcore.predict(dlcore.load_sample_network(), x)
    accuracy = float(np.mean(dlcore.to_numpy(y).argmax(axis=1) == dlcore.to_numpy(t)))
    assert accuracy >= 0.975


def test_predict_runs_the_backends_bound_kernel(rng: np.random.Generator) -> None:
    """predict and Predictor use what the backend's bind_predict returns, after validation."""
    from dlcore.backends import register_backend, unregister_backend
    from dlcore.backends.numpy_backend import NumpyBackend

    network = _zeros_net([4, 3, 2])
    x = np.ones((2, 4))
    bound: list[Any] = []
    calls: list[Any] = []
    sentinel = np.full((2, 2), 7.0)

    class Planted(NumpyBackend):
        name = "planted"

        def bind_predict(self, arrays: Any) -> Any:
            bound.append([a.shape for a in arrays])
            fallback = super().bind_predict(arrays)

            def run(arrays: Any, x: Any) -> Any:
                calls.append(x.shape)
                return sentinel if len(calls) == 1 else fallback(arrays, x)

            return run

    register_backend("planted", Planted)
    try:
        with dlcore.use_backend("planted"):
            assert dlcore.predict(network, x) is sentinel  # the kernel's result is used
            np.testing.assert_array_equal(dlcore.predict(network, x), np.full((2, 2), 0.5))
            with pytest.raises(ValueError, match="must have 4 features per image"):
                dlcore.predict(network, np.ones((2, 5)))  # validation comes first
            run = dlcore.Predictor(network)
            np.testing.assert_array_equal(run(x[0]), np.full(2, 0.5))
    finally:
        unregister_backend("planted")
    assert bound == [[(4, 3), (3,), (3, 2), (2,)]] * 2  # once for predict, once for Predictor
    assert calls == [(2, 4), (2, 4), (4,)]
