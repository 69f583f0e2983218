"""Networks handed over carelessly: odd dicts, dtypes that carry fields, float32 closures.

Expected gradients come from the book's backprop transcription (``tests/_book.py``)
in float64, never from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
from _book import backprop, make_params, one_hot

import dlcore
from dlcore.network import check_network

RNG = np.random.default_rng(7)
NET = make_params([5, 4, 3], RNG)
FIELDS_F8 = np.dtype((np.float64, {"a": (np.float64, 0)}))


def _with(**changes):
    net = {k: v.copy() for k, v in NET.items()}
    for key, value in changes.items():
        if value is None:
            del net[key]
        else:
            net[key] = value
    return net


@pytest.mark.parametrize(
    ("network", "error", "fragment"),
    [
        (_with(W1=np.ones((5, 4), FIELDS_F8)), TypeError, "must have a floating-point dtype"),
        (_with(W1=np.ones((5, 4), int)), TypeError, "must have a floating-point dtype"),
        (_with(b2=np.ones(3, np.complex128)), TypeError, "must have a floating-point dtype"),
        (_with(b2=None), ValueError, "missing: ['b2']"),
        (_with(W3=np.ones((3, 2))), ValueError, "missing: ['b3']"),
        (_with(extra=np.ones(2)), ValueError, "unexpected: ['extra']"),
        (_with(W1=np.ones(5)), ValueError, "must be a 2-D (inputs, outputs) matrix"),
        (_with(b1=np.ones((1, 4))), ValueError, "must be a 1-D bias vector"),
        (_with(b1=np.ones(5)), ValueError, "must have 4 entries to match W1"),
        (_with(W2=np.ones((3, 3))), ValueError, "must have 4 rows, the outputs of layer 1"),
        (_with(W1=[[1.0] * 4] * 5), TypeError, "must be an array, got list"),
        ({}, ValueError, "missing: ['W1', 'b1']"),
        ([NET["W1"], NET["b1"]], TypeError, "must be a dict of arrays"),
        ("W1", TypeError, "must be a dict of arrays"),
    ],
    ids=["fields", "int", "complex", "no-b2", "W3-alone", "extra", "W1-1d", "b1-2d",
         "b1-size", "W2-rows", "list", "empty", "list-net", "str"],
)  # fmt: skip
def test_networks_that_are_not_networks_are_named(network, error, fragment):
    with pytest.raises(error) as info:
        check_network(network)
    assert fragment in str(info.value)


@pytest.mark.parametrize("network", [_with(W1=np.ones((5, 4), FIELDS_F8)), _with(b2=None)])
def test_predict_refuses_them_too(network):
    with pytest.raises((TypeError, ValueError), match="network"):
        dlcore.predict(network, np.ones((1, 5)))


def test_a_float64_with_fields_cannot_be_saved_then_fail_to_load(tmp_path):
    with pytest.raises(TypeError, match="real floating-point dtype"):
        dlcore.save_weights(_with(W1=np.ones((5, 4), FIELDS_F8)), tmp_path / "w.npz")
    assert not (tmp_path / "w.npz").exists()


@pytest.mark.parametrize(
    ("x", "error", "fragment"),
    [
        (np.ones((2, 6)), ValueError, "5"),
        (np.ones(6), ValueError, "5"),
        (np.ones((2, 5), int), TypeError, "floating"),
        ("x", TypeError, "x"),
    ],
    ids=["features", "1-d-features", "int", "str"],
)
def test_bad_inputs_to_predict_are_named(x, error, fragment):
    with pytest.raises(error, match=fragment):
        dlcore.predict(NET, x)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_books_numerical_gradient_idiom_on_a_two_layer_net(dtype, backend):
    """``numerical_gradient(lambda W: net.loss(x, t), net.params['W1'])``: the book's
    chapter 4 call, where the loss reads the weights through ``net``."""
    if backend.name in ("jax",):
        pytest.skip("JAX arrays cannot be written in place: f must use its argument there")
    net = dlcore.TwoLayerNet(5, 4, 3, seed=1, weight_init_std=0.5, dtype=dtype)
    x_host = RNG.standard_normal((6, 5)).astype(dtype)
    t_host = np.array([0, 1, 2, 0, 1, 2])
    x, t = backend.asarray(x_host), backend.asarray(t_host)
    host = {k: dlcore.to_numpy(v).astype(np.float64) for k, v in net.params.items()}
    expected = backprop(host, x_host.astype(np.float64), one_hot(t_host, 3), with_delta=True)
    for key in ("W1", "b2"):
        g = dlcore.numerical_gradient(lambda _: net.loss(x, t), net.params[key])
        assert str(dlcore.to_numpy(g).dtype) == dtype
        got = dlcore.to_numpy(g).astype(np.float64)
        assert np.max(np.abs(got)) > 0  # the float32 bug gave all zeros
        # float32: the error bound of the default step, eps * |loss| / h, with |loss| ~ 1.1
        atol = 1e-7 if dtype == "float64" else 4 * np.finfo(np.float32).eps ** (2 / 3) * 1.5
        np.testing.assert_allclose(got, expected[key], atol=atol)
        np.testing.assert_array_equal(dlcore.to_numpy(net.params[key]), host[key].astype(dtype))


def test_inf_and_nan_weights_give_nan_or_inf_not_an_exception():
    net = _with(W2=np.full((4, 3), np.nan))
    y = dlcore.to_numpy(dlcore.predict(net, np.ones((1, 5))))
    assert np.isnan(y).all()
