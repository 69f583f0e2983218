"""The one transcription of the book's code (dlcore.bench.book) against dlcore and the book."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _book import TwoLayerNet, cross_entropy_error, numerical_gradient, predict, softmax

import dlcore

#: The book's own ch03 network (MIT License), beside the repository in ../shared.
SAMPLE_WEIGHT = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "book" / "sample_weight.pkl"
)


def test_book_predict_matches_dlcore_predict(rng):
    """The peer computes what dlcore computes: sigmoid hidden layers, softmax output."""
    net = {f"W{i}": rng.standard_normal((5, 5)) for i in (1, 2, 3)}
    net.update({f"b{i}": rng.standard_normal(5) for i in (1, 2, 3)})
    x = rng.standard_normal((3, 5))
    with dlcore.use_backend("numpy"):
        expected = dlcore.to_numpy(dlcore.predict(net, x))
    np.testing.assert_allclose(predict(net, x), expected, rtol=1e-12)
    np.testing.assert_allclose(predict(net, x[0]), expected[0], rtol=1e-12)


# alias kept for the name the test had before the book's code moved to dlcore.bench.book
test_book_predict_is_the_books_formula = test_book_predict_matches_dlcore_predict


@pytest.mark.skipif(not SAMPLE_WEIGHT.is_file(), reason=f"{SAMPLE_WEIGHT} is not here")
def test_book_predict_on_sample_weight_gives_the_books_accuracy():
    """ch03/neuralnet_mnist.py as the book runs it: 0.9352 on the 10,000 test images."""
    with dlcore.use_backend("numpy"):
        network = {k: dlcore.to_numpy(v) for k, v in dlcore.load_weights(SAMPLE_WEIGHT).items()}
        x, t = (dlcore.to_numpy(a) for a in dlcore.load_mnist_test())
    assert {k: v.dtype for k, v in network.items()} == dict.fromkeys(network, np.float32)
    accuracy_cnt = 0
    for i in range(len(x)):
        y = predict(network, x[i])
        p = np.argmax(y)
        if p == t[i]:
            accuracy_cnt += 1
    assert accuracy_cnt / len(x) == 0.9352


def test_softmax_and_cross_entropy_match_dlcore(rng):
    a = rng.standard_normal((4, 3)) * 50
    y, t = softmax(a), np.eye(3)[rng.integers(0, 3, 4)]
    np.testing.assert_allclose(y, dlcore.to_numpy(dlcore.softmax(a)), rtol=1e-12)
    assert cross_entropy_error(y, t) == pytest.approx(float(dlcore.cross_entropy_error(y, t)))
    assert cross_entropy_error(y[0], t[0]) == pytest.approx(
        float(dlcore.cross_entropy_error(y[:1], t[:1]))
    )  # a single sample is a batch of one


def test_numerical_gradient_restores_its_input_and_matches_dlcore(rng):
    x = rng.standard_normal((3, 2))
    saved = x.copy()
    got = numerical_gradient(lambda w: float(np.sum(np.sin(w))), x)
    np.testing.assert_array_equal(x, saved)
    np.testing.assert_allclose(got, np.cos(x), atol=1e-8)
    with dlcore.use_backend("numpy"):
        ours = dlcore.numerical_gradient(lambda w: float(np.sum(np.sin(w))), x)
    np.testing.assert_allclose(got, dlcore.to_numpy(ours), atol=1e-12)


def test_two_layer_net_gradients_agree(rng):
    net = TwoLayerNet(input_size=6, hidden_size=4, output_size=3)
    net.params = {k: rng.standard_normal(v.shape) for k, v in net.params.items()}
    x, t = rng.standard_normal((5, 6)), np.eye(3)[rng.integers(0, 3, 5)]
    backprop, numerical = net.gradient(x, t), net.numerical_gradient(x, t)
    for k in net.params:
        np.testing.assert_allclose(backprop[k], numerical[k], atol=1e-6)
    with dlcore.use_backend("numpy"):
        assert net.loss(x, t) == pytest.approx(float(dlcore.mlp_loss(net.params, x, t)))
    assert 0.0 <= net.accuracy(x, t) <= 1.0
