"""Softmax: the book's values, overflow safety and hypothesis properties."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import assert_close
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import dlcore


def _ref(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_book_example(backend):
    # The book, section 3.5.1: softmax([0.3, 2.9, 4.0])
    y = dlcore.softmax(backend.asarray(np.array([0.3, 2.9, 4.0])))
    assert_close(y, [0.01821127, 0.24519181, 0.73659691], rtol=0, atol=5e-9)


def test_overflow_case_is_finite_and_correct(backend):
    # The book, section 3.5.2: the naive formula gives nan for [1010, 1000, 990].
    y = dlcore.to_numpy(dlcore.softmax(backend.asarray(np.array([1010.0, 1000.0, 990.0]))))
    assert np.all(np.isfinite(y))
    # exact values: 1/(1+e^-10+e^-20), ...
    denom = 1 + np.exp(-10.0) + np.exp(-20.0)
    np.testing.assert_allclose(y, [1 / denom, np.exp(-10.0) / denom, np.exp(-20.0) / denom])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_batch_and_axis(backend, rng, dtype, axis):
    host = rng.normal(scale=5, size=(3, 4, 5)).astype(dtype)
    y = dlcore.softmax(backend.asarray(host), axis=axis)
    assert y.dtype == backend.asarray(host).dtype
    assert_close(y, _ref(host, axis))


def test_bad_axis_and_scalar(backend):
    with pytest.raises(ValueError, match="out of range"):
        dlcore.softmax(backend.asarray(np.zeros((2, 3))), axis=2)
    with pytest.raises(ValueError, match="0-d"):
        dlcore.softmax(backend.asarray(np.asarray(1.0)))


finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, width=64)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)), elements=finite))
def test_properties(x):
    y = dlcore.to_numpy(dlcore.softmax(x))
    assert np.all(np.isfinite(y))  # never nan for finite input
    assert np.all(y >= 0)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)
    # invariant to adding a constant along the class axis
    np.testing.assert_allclose(dlcore.to_numpy(dlcore.softmax(x + 123.0)), y, atol=1e-12)
    # order-preserving: a larger score never gets a smaller probability
    larger = x[:, :, None] > x[:, None, :]
    assert np.all(y[:, :, None] >= y[:, None, :], where=larger)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float32, st.integers(1, 10), elements=st.floats(-80, 80, width=32)))
def test_float32_properties(x):
    y = dlcore.to_numpy(dlcore.softmax(x))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.sum(), 1.0, rtol=1e-5)
    np.testing.assert_allclose(y, _ref(x), rtol=1e-5, atol=1e-7)
