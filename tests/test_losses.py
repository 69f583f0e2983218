"""Losses: the book's printed values, NumPy references, properties, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import dlcore

# The book, section 4.2.1 / 4.2.2
T = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
Y1 = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
Y2 = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])


def test_mean_squared_error_is_the_books_and_the_seeds(backend):
    # seeds 002/004 and the book: mean_squared_error = 0.5 * sum((y-t)**2) -> 0.0975 / 0.5975
    t = backend.asarray(T)
    assert float(dlcore.mean_squared_error(backend.asarray(Y1), t)) == pytest.approx(
        0.0975, rel=1e-12
    )
    assert float(dlcore.mean_squared_error(backend.asarray(Y2), t)) == pytest.approx(
        0.5975, rel=1e-12
    )


def test_sum_squared_error_book_values(backend):
    t = backend.asarray(T)
    assert float(dlcore.sum_squared_error(backend.asarray(Y1), t)) == pytest.approx(
        0.09750000000000003, rel=1e-12
    )
    assert float(dlcore.sum_squared_error(backend.asarray(Y2), t)) == pytest.approx(
        0.5975, rel=1e-12
    )


def test_cross_entropy_book_values(backend):
    t = backend.asarray(T)
    assert float(dlcore.cross_entropy_error(backend.asarray(Y1), t)) == pytest.approx(
        0.510825457099338, rel=1e-12
    )
    assert float(dlcore.cross_entropy_error(backend.asarray(Y2), t)) == pytest.approx(
        2.302584092994546, rel=1e-12
    )


def test_cross_entropy_integer_labels_equal_one_hot(backend, rng):
    y = rng.dirichlet(np.ones(10), size=8)
    labels = rng.integers(0, 10, size=8)
    onehot = np.eye(10)[labels]
    ref = -np.mean(np.log(y[np.arange(8), labels] + 1e-7))
    yb = backend.asarray(y)
    a = dlcore.cross_entropy_error(yb, backend.asarray(onehot))
    b = dlcore.cross_entropy_error(yb, backend.asarray(labels))
    c = dlcore.cross_entropy_error(yb, backend.asarray(labels.astype(np.uint8)))
    for v in (a, b, c):
        assert float(v) == pytest.approx(ref, rel=1e-12)


def test_cross_entropy_single_integer_label(backend):
    v = dlcore.cross_entropy_error(backend.asarray(Y1), backend.asarray(np.asarray(2)))
    assert float(v) == pytest.approx(0.510825457099338, rel=1e-12)


def test_batch_means(backend, rng):
    y = rng.random((6, 4))
    t = rng.random((6, 4))
    yb, tb = backend.asarray(y), backend.asarray(t)
    assert float(dlcore.sum_squared_error(yb, tb)) == pytest.approx(
        0.5 * np.sum((y - t) ** 2) / 6, rel=1e-12
    )
    # the book's "mean squared error" is the SSE form, batch-averaged, not np.mean
    assert float(dlcore.mean_squared_error(yb, tb)) == pytest.approx(
        0.5 * np.sum((y - t) ** 2) / 6, rel=1e-12
    )
    p = y / y.sum(axis=1, keepdims=True)
    assert float(dlcore.cross_entropy_error(backend.asarray(p), tb)) == pytest.approx(
        -np.sum(t * np.log(p + 1e-7)) / 6, rel=1e-12
    )


def test_softmax_loss(backend, rng):
    x = rng.normal(size=(5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    ref = -np.mean(np.log(p[np.arange(5), labels] + 1e-7))
    got = dlcore.softmax_loss(backend.asarray(x), backend.asarray(labels))
    assert float(got) == pytest.approx(ref, rel=1e-12)


def test_cross_entropy_zero_probability_is_finite(backend):
    v = dlcore.cross_entropy_error(
        backend.asarray(np.array([1.0, 0.0])), backend.asarray(np.array([0.0, 1.0]))
    )
    assert float(v) == pytest.approx(-np.log(1e-7), rel=1e-12)


@pytest.mark.parametrize("fn", [dlcore.sum_squared_error, dlcore.mean_squared_error])
def test_shape_mismatch(backend, fn):
    with pytest.raises(ValueError, match=r"same shape, got \(3,\) and \(4,\)"):
        fn(backend.asarray(np.zeros(3)), backend.asarray(np.zeros(4)))


def test_cross_entropy_bad_labels(backend):
    y = backend.asarray(np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="out of range for 3 classes"):
        dlcore.cross_entropy_error(y, backend.asarray(np.array([0, 3])))
    with pytest.raises(ValueError, match="out of range"):
        dlcore.cross_entropy_error(y, backend.asarray(np.array([-1, 0])))
    with pytest.raises(ValueError, match=r"shape y.shape\[:-1\]"):
        dlcore.cross_entropy_error(y, backend.asarray(np.array([0, 1, 2])))
    with pytest.raises(ValueError, match="one-hot `t` must have y's shape"):
        dlcore.cross_entropy_error(y, backend.asarray(np.zeros((2, 4))))
    with pytest.raises(TypeError, match="floating-point"):
        dlcore.cross_entropy_error(
            backend.asarray(np.array([[1, 0]])), backend.asarray(np.array([0]))
        )


def test_mixed_backends_are_refused():
    import array_api_strict

    y = np.array([0.5, 0.5])
    t = array_api_strict.asarray([1.0, 0.0])
    with pytest.raises(TypeError, match=r"different libraries.*dlcore\.asarray"):
        dlcore.cross_entropy_error(y, t)


probs = arrays(
    np.float64, st.tuples(st.integers(1, 5), st.integers(2, 6)), elements=st.floats(0.0, 1.0)
)


@settings(max_examples=50, deadline=None)
@given(probs)
def test_loss_properties(y):
    n, k = y.shape
    t = np.eye(k)[np.arange(n) % k]
    cee = float(dlcore.cross_entropy_error(y, t))
    assert np.isfinite(cee)
    # bounded by the delta: -log(1 + 1e-7) <= E <= -log(1e-7)
    assert -np.log1p(1e-7) - 1e-15 <= cee <= -np.log(1e-7) + 1e-9
    assert float(dlcore.sum_squared_error(y, y)) == 0.0
    assert float(dlcore.mean_squared_error(y, t)) >= 0.0
    # the book's "mean squared error" is its SSE: 0.5 * sum over classes, mean over rows
    assert float(dlcore.mean_squared_error(y, t)) == pytest.approx(
        0.5 * float(np.sum((y - t) ** 2)) / n, abs=1e-12
    )
