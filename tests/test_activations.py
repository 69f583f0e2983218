"""Activations and their derivatives on every backend vs NumPy float64 references."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from _helpers import assert_close

import dlcore

A = 1.6732632423543772848170429916717  # SELU alpha, from the paper
S = 1.0507009873554804934193349852946  # SELU scale


def _np_sigmoid(x: np.ndarray) -> np.ndarray:
    # Reference in float64 via math (independent of dlcore's formulation).
    return np.vectorize(lambda v: 1 / (1 + math.exp(-v)) if v > -700 else 0.0)(x)


# name -> (function, numpy reference, derivative, numpy derivative reference,
#          one-sided derivatives at 0 (left, right))
REFS: dict[str, tuple[Callable[..., Any], Callable, Callable[..., Any], Callable, tuple]] = {
    "identity": (
        dlcore.identity_function,
        lambda x: x,
        dlcore.identity_function_grad,
        np.ones_like,
        (1.0, 1.0),
    ),
    "sigmoid": (
        dlcore.sigmoid,
        _np_sigmoid,
        dlcore.sigmoid_grad,
        lambda x: _np_sigmoid(x) * (1 - _np_sigmoid(x)),
        (0.25, 0.25),
    ),
    "relu": (
        dlcore.relu,
        lambda x: np.maximum(x, 0),
        dlcore.relu_grad,
        lambda x: (x > 0).astype(float),
        (0.0, 1.0),
    ),
    "tanh": (dlcore.tanh, np.tanh, dlcore.tanh_grad, lambda x: 1 / np.cosh(x) ** 2, (1.0, 1.0)),
    "leaky_relu": (
        dlcore.leaky_relu,
        lambda x: np.where(x > 0, x, 0.01 * x),
        dlcore.leaky_relu_grad,
        lambda x: np.where(x > 0, 1.0, 0.01),
        (0.01, 1.0),
    ),
    "elu": (
        dlcore.elu,
        lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
        dlcore.elu_grad,
        lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0))),
        (1.0, 1.0),
    ),
    "selu": (
        dlcore.selu,
        lambda x: S * np.where(x > 0, x, A * np.expm1(np.minimum(x, 0))),
        dlcore.selu_grad,
        lambda x: S * np.where(x > 0, 1.0, A * np.exp(np.minimum(x, 0))),
        (S * A, S),
    ),
}


@pytest.mark.parametrize("name", sorted(REFS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_numpy_reference(backend, rng, name, dtype):
    f, ref, g, gref, _ = REFS[name]
    host = rng.normal(scale=3.0, size=(4, 5)).astype(dtype)
    x = backend.asarray(host)
    y = f(x)
    assert y.dtype == x.dtype
    assert tuple(y.shape) == host.shape
    assert_close(y, ref(host.astype(np.float64)), atol=1e-7)
    dy = g(x)
    assert dy.dtype == x.dtype
    assert_close(dy, gref(host.astype(np.float64)), atol=1e-7)


@pytest.mark.parametrize("name", sorted(REFS))
def test_grad_matches_central_difference(backend, name):
    """Analytic derivative vs the numerical derivative (float64), incl. large |x|."""
    f, _, g, _, _ = REFS[name]
    host = np.array([-30.0, -5.0, -1.3, -0.2, 0.4, 1.7, 6.0, 30.0])
    x = backend.asarray(host)
    h = 1e-5
    numeric = (dlcore.to_numpy(f(x + h)) - dlcore.to_numpy(f(x - h))) / (2 * h)
    assert_close(g(x), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", sorted(REFS))
def test_grad_at_zero_is_left_derivative(backend, name):
    """At 0 the central difference is the mean of the one-sided slopes;
    the analytic grad takes the left one (the book's Relu mask x <= 0)."""
    f, _, g, _, (left, right) = REFS[name]
    x = backend.asarray(np.array([0.0]))
    h = 1e-6
    numeric = (dlcore.to_numpy(f(x + h)) - dlcore.to_numpy(f(x - h))) / (2 * h)
    np.testing.assert_allclose(numeric, [(left + right) / 2], rtol=1e-5)
    assert_close(g(x), [left], rtol=1e-12)


def test_sigmoid_extremes_do_not_overflow(backend):
    x = backend.asarray(np.array([-1000.0, -745.0, 0.0, 745.0, 1000.0]))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = dlcore.to_numpy(dlcore.sigmoid(x))
        d = dlcore.to_numpy(dlcore.sigmoid_grad(x))
    np.testing.assert_array_equal(y[[0, 2, 4]], [0.0, 0.5, 1.0])
    assert np.all(np.isfinite(d))
    # sigmoid'(40) = e^-40 / (1 + e^-40)^2 keeps full relative precision
    d40 = dlcore.to_numpy(dlcore.sigmoid_grad(backend.asarray(np.array([40.0, -40.0]))))
    np.testing.assert_allclose(d40, [math.exp(-40)] * 2, rtol=1e-12)


def test_nan_and_inf_propagate(backend):
    x = backend.asarray(np.array([np.nan, np.inf, -np.inf]))
    np.testing.assert_array_equal(
        np.isnan(dlcore.to_numpy(dlcore.sigmoid(x))), [True, False, False]
    )
    np.testing.assert_array_equal(dlcore.to_numpy(dlcore.sigmoid(x))[1:], [1.0, 0.0])
    # the book's np.maximum(0, x) keeps NaN
    np.testing.assert_array_equal(
        dlcore.to_numpy(dlcore.relu(x)), np.maximum(0, np.asarray([np.nan, np.inf, -np.inf]))
    )
    np.testing.assert_array_equal(dlcore.to_numpy(dlcore.tanh(x))[1:], [1.0, -1.0])


def test_step_function_book_values(backend):
    x = backend.asarray(np.array([-1.0, 1.0, 2.0]))
    assert_close(dlcore.step_function(x), [0.0, 1.0, 1.0])
    assert_close(dlcore.step_function_grad(x), [0.0, 0.0, 0.0])


def test_sigmoid_book_values(backend):
    # The book, section 3.2.4: sigmoid(np.array([-1.0, 1.0, 2.0]))
    y = dlcore.sigmoid(backend.asarray(np.array([-1.0, 1.0, 2.0])))
    assert_close(y, [0.26894142, 0.73105858, 0.88079708], rtol=0, atol=5e-9)


def test_prelu_with_per_channel_slopes(backend, rng):
    host = rng.normal(size=(3, 4))
    a_host = np.array([0.1, 0.2, 0.3, 0.4])
    x, a = backend.asarray(host), backend.asarray(a_host)
    assert_close(dlcore.prelu(x, a), np.where(host > 0, host, a_host * host))
    dx, da = dlcore.prelu_grad(x, a)
    assert_close(dx, np.where(host > 0, 1.0, np.broadcast_to(a_host, host.shape)))
    assert_close(da, np.where(host > 0, 0.0, host))
    # da is the derivative w.r.t. a: check with a central difference on a[0]
    h = 1e-6
    ap, am = a_host.copy(), a_host.copy()
    ap[0] += h
    am[0] -= h
    num = (
        dlcore.to_numpy(dlcore.prelu(x, backend.asarray(ap)))
        - dlcore.to_numpy(dlcore.prelu(x, backend.asarray(am)))
    ) / (2 * h)
    np.testing.assert_allclose(dlcore.to_numpy(da)[:, 0], num[:, 0], atol=1e-8)


def test_prelu_bad_slope_shape(backend):
    x = backend.asarray(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="does not broadcast"):
        dlcore.prelu(x, backend.asarray(np.zeros(3)))


@pytest.mark.parametrize(
    "fn", [dlcore.sigmoid, dlcore.relu, dlcore.softmax, dlcore.tanh, dlcore.elu_grad]
)
def test_integer_arrays_are_refused(backend, fn):
    x = backend.asarray(np.array([1, 2, 3]))
    with pytest.raises(TypeError, match="floating-point dtype"):
        fn(x)


def test_python_lists_become_float_arrays_of_active_backend(backend):
    y = dlcore.sigmoid([0, 1])
    assert backend.owns(y)
    assert_close(y, [0.5, 0.7310585786300049])


@pytest.mark.parametrize("bad", ["abc", None, {"a": 1}])
def test_non_numeric_input(bad):
    with pytest.raises(TypeError, match="must be an array"):
        dlcore.relu(bad)
