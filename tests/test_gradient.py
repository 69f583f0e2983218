"""Numerical differentiation and gradient descent: the book's printed results."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import assert_close

import dlcore


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


def test_numerical_diff_book_values():
    # The book, section 4.3.2 (exact float64 outputs it prints)
    assert dlcore.numerical_diff(function_1, 5) == 0.1999999999990898
    assert dlcore.numerical_diff(function_1, 10) == 0.2999999999986347


def test_numerical_diff_arrays(backend):
    x = backend.asarray(np.array([5.0, 10.0]))
    assert_close(dlcore.numerical_diff(function_1, x), [0.2, 0.3], rtol=1e-9)


@pytest.mark.parametrize(
    ("point", "expected"),
    [([3.0, 4.0], [6.0, 8.0]), ([0.0, 2.0], [0.0, 4.0]), ([3.0, 0.0], [6.0, 0.0])],
)
def test_numerical_gradient_book_values(backend, point, expected):
    # The book, section 4.4
    x = backend.asarray(np.array(point))
    g = dlcore.numerical_gradient(function_2, x)
    assert g.dtype == x.dtype
    assert_close(g, expected, rtol=1e-9, atol=1e-9)


def test_any_shape_and_x_restored(backend, rng):
    host = rng.normal(size=(2, 3, 2))
    w = rng.normal(size=(2, 3, 2))
    x = backend.asarray(host)
    xp = backend.xp
    wb = backend.asarray(w)

    def f(v):
        return xp.sum(wb * v * v)  # gradient 2*w*x

    g = dlcore.numerical_gradient(f, x)
    assert tuple(g.shape) == host.shape
    assert_close(g, 2 * w * host, rtol=1e-8, atol=1e-9)
    np.testing.assert_array_equal(dlcore.to_numpy(x), host)  # bit-for-bit unchanged


def test_zero_dimensional(backend):
    x = backend.asarray(np.asarray(3.0))
    g = dlcore.numerical_gradient(lambda v: v * v, x)
    assert tuple(g.shape) == ()
    assert float(g) == pytest.approx(6.0, rel=1e-9)


def test_x_restored_when_f_raises(backend, rng):
    host = rng.normal(size=5)
    x = backend.asarray(host)
    calls = {"n": 0}

    def f(v):
        calls["n"] += 1
        if calls["n"] == 4:  # fails in the middle of coordinate 1
            raise RuntimeError("boom")
        return backend.xp.sum(v)

    with pytest.raises(RuntimeError, match="boom"):
        dlcore.numerical_gradient(f, x)
    np.testing.assert_array_equal(dlcore.to_numpy(x), host)


def test_closure_style_sees_in_place_perturbation():
    # The book's TwoLayerNet style: f ignores its argument and reads the array itself.
    w = np.array([1.0, -2.0, 0.5])
    g = dlcore.numerical_gradient(lambda _: float(np.sum(w**3)), w)
    np.testing.assert_allclose(g, 3 * w**2, rtol=1e-7)


def test_float32_is_perturbed_in_its_own_dtype(backend):
    # f(x) = sum(x**2) at x = (1.1, -0.3): x itself (float32) is perturbed, with the float32
    # default step eps**(1/3); the rounding error eps * |f| / h bounds the result's error.
    x = backend.asarray(np.array([1.1, -0.3], dtype=np.float32))
    seen = []

    def f(v):
        seen.append(v.dtype)
        return backend.xp.sum(v * v)

    g = dlcore.numerical_gradient(f, x)
    assert g.dtype == x.dtype
    if backend.name != "jax":
        assert all(d == x.dtype for d in seen)
    expected = 2 * np.array([1.1, -0.3], dtype=np.float32).astype(np.float64)
    bound = np.finfo(np.float32).eps * 1.3 / np.finfo(np.float32).eps ** (1 / 3)
    np.testing.assert_allclose(dlcore.to_numpy(g), expected, atol=4 * bound)


def test_float32_naive_difference_would_be_wrong():
    """Documents why float32 takes a larger step: with h=1e-4 the difference has ~1e-3 error."""
    x = np.float32(1.1)
    h = np.float32(1e-4)
    naive = ((x + h) ** 2 - (x - h) ** 2) / (2 * h)
    assert abs(float(naive) - 2.2) > 1e-4


def test_gradient_descent_book_values(backend):
    # The book, section 4.4.1: from (-3, 4), lr=0.1, 100 steps -> ~(-6.1e-10, 8.1e-10)
    init = backend.asarray(np.array([-3.0, 4.0]))
    x, history = dlcore.gradient_descent(function_2, init, lr=0.1, step_num=100)
    assert_close(x, [-6.11110793e-10, 8.14814391e-10], rtol=1e-6)
    assert tuple(history.shape) == (100, 2)
    assert_close(history[0, ...], [-3.0, 4.0])
    np.testing.assert_array_equal(dlcore.to_numpy(init), [-3.0, 4.0])  # not overwritten


def test_gradient_descent_learning_rates(backend):
    init = backend.asarray(np.array([-3.0, 4.0]))
    big, _ = dlcore.gradient_descent(function_2, init, lr=10.0, step_num=100)
    small, _ = dlcore.gradient_descent(function_2, init, lr=1e-10, step_num=100)
    # The book's printed results for lr=10 and lr=1e-10
    # lr=10 diverges; the exact digits depend on rounding in the huge cancelling
    # differences, so only the magnitude the book prints is checked closely.
    assert_close(big, [-2.58983747e13, -1.29524862e12], rtol=1e-4)
    assert_close(small, [-2.99999994, 3.99999992], rtol=1e-8)


def test_bad_arguments(backend):
    x = backend.asarray(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="positive finite"):
        dlcore.numerical_gradient(function_2, x, h=0)
    with pytest.raises(TypeError, match="callable"):
        dlcore.numerical_gradient(3, x)
    with pytest.raises(TypeError, match="floating-point"):
        dlcore.numerical_gradient(function_2, backend.asarray(np.array([1, 2])))
    with pytest.raises(TypeError, match="must return a scalar"):
        dlcore.numerical_gradient(lambda v: v, x)
    with pytest.raises(ValueError, match="step_num"):
        dlcore.gradient_descent(function_2, x, step_num=-1)
    with pytest.raises(ValueError, match="`lr` must be a finite real number"):
        dlcore.gradient_descent(function_2, x, lr=float("nan"))
