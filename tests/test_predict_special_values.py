"""Every backend's forward pass on sparse, dense, NaN and inf inputs equals NumPy's, NaN for NaN.

``0 * inf`` is NaN in NumPy, so an inf or NaN weight on a zero pixel must
give NaN: a kernel that skipped the zero pixels of layer 1 would give a
finite number. Each case runs
one image (numba: one compiled call), a batch of one row, and small and large
batches (numba: BLAS's products with compiled bias and activation passes),
sparse and dense, against the book's forward pass in float64 (``tests/_book.py``).
"""

from __future__ import annotations

import itertools
from typing import Any

import _book
import numpy as np
import pytest
from _helpers import tol

import dlcore

SIZES = [64, 24, 16, 10]
#: One image, a batch of one row, a small batch, a large one.
ROWS = [None, 1, 3, 300]


def reference(network: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    net64 = {k: v.astype(np.float64) for k, v in network.items()}
    with np.errstate(over="ignore", invalid="ignore"):
        return _book.forward(net64, np.asarray(x, dtype=np.float64))


def make_network(rng: np.random.Generator, dtype: Any) -> dict[str, np.ndarray]:
    net = {}
    for i, (m, k) in enumerate(itertools.pairwise(SIZES), start=1):
        net[f"W{i}"] = (rng.standard_normal((m, k)) * 3 / np.sqrt(m)).astype(dtype)
        net[f"b{i}"] = (rng.standard_normal(k) * 0.5).astype(dtype)
    return net


def images(rng: np.random.Generator, rows: int | None, dtype: Any, zeros: float) -> np.ndarray:
    """Images in [0, 1], a fraction ``zeros`` of them exactly 0 (MNIST: about 0.8)."""
    x = rng.random((rows or 1, SIZES[0]))
    x[rng.random(x.shape) < zeros] = 0.0
    x = x.astype(dtype)
    return x[0] if rows is None else x


def run_on(backend: dlcore.Backend, network: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    net = {k: backend.asarray(v) for k, v in network.items()}
    with np.errstate(over="ignore", invalid="ignore"):
        return dlcore.to_numpy(dlcore.predict(net, backend.asarray(x)))


def check(got: np.ndarray, network: dict[str, np.ndarray], x: np.ndarray) -> None:
    expected = reference(network, x)
    assert got.shape == expected.shape
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=tol(x.dtype), atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("zeros", [0.8, 0.0], ids=["sparse", "dense"])
def test_sparse_and_dense_images(backend, dtype, rows, zeros, rng):
    network = make_network(rng, dtype)
    x = images(rng, rows, dtype, zeros)
    check(run_on(backend, network, x), network, x)


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("zeros", [0.8, 0.0], ids=["sparse", "dense"])
def test_non_finite_weight_on_a_zero_pixel_gives_nan(backend, rows, bad, zeros, rng):
    """``W1[i, j] = inf`` on a pixel ``i`` that is 0: NaN (0 * inf) as NumPy, on every backend."""
    network = make_network(rng, np.float32)
    x = images(rng, rows, np.float32, zeros)
    x[..., 5] = 0.0
    network["W1"][5, 3] = bad
    got = run_on(backend, network, x)
    assert np.isnan(got).all()
    check(got, network, x)


@pytest.mark.parametrize("rows", ROWS)
def test_inf_weight_behind_a_saturated_sigmoid_gives_nan(backend, rows, rng):
    """A hidden unit that is exactly 0 (sigmoid(-1e4)) times an inf weight of W2 is NaN."""
    network = make_network(rng, np.float64)
    network["b1"][2] = -1e4
    network["W2"][2, 0] = np.inf
    x = images(rng, rows, np.float64, 0.8)
    got = run_on(backend, network, x)
    assert np.isnan(got).all()
    check(got, network, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e30])
def test_non_finite_and_huge_pixels(backend, dtype, rows, value, rng):
    """A NaN, inf or huge pixel in the first image: NaN or saturated rows as in NumPy."""
    network = make_network(rng, dtype)
    x = images(rng, rows, dtype, 0.8)
    first = x if rows is None else x[0]
    first[7] = value
    got = run_on(backend, network, x)
    check(got, network, x)
    if rows is not None:  # the other images are untouched by the first
        check(got[1:], network, x[1:])


def test_mnist_images_on_the_shipped_network(backend):
    """The shipped network on 200 real test images (about 80 % zeros), one by one and at once."""
    network, x, _ = dlcore.bench.load_shipped("float32")
    x = x[:200]
    check(run_on(backend, network, x), network, x)
    for i in (0, 17, 199):
        check(run_on(backend, network, x[i]), network, x[i])


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("zeros", [0.8, 0.0], ids=["sparse", "dense"])
@pytest.mark.parametrize("bad", [None, np.inf, np.nan])
def test_relu_networks(backend, rows, zeros, bad, rng):
    """``Predictor(network, activation="relu")``: the book's ReLU forward, NaN where it has NaN.

    The book's ``relu`` is ``np.maximum(0, x)`` (NaN stays NaN), as are the NumPy
    and Numba kernels, the ``Relu`` layer and the generic path's
    ``dlcore.activations.relu``.
    """
    network = make_network(rng, np.float64)
    x = images(rng, rows, np.float64, zeros)
    if bad is not None:
        x[..., 5] = 0.0
        network["W1"][5, 3] = bad
    net = {k: backend.asarray(v) for k, v in network.items()}
    with np.errstate(invalid="ignore"):
        got = dlcore.to_numpy(dlcore.Predictor(net, activation="relu")(backend.asarray(x)))
        expected = _book.forward(network, x, activation="relu")
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=tol(x.dtype), atol=1e-12)


def test_predictor_refuses_an_unknown_activation():
    network = {"W1": np.eye(2), "b1": np.zeros(2)}
    with pytest.raises(ValueError, match="`activation` must be one of"):
        dlcore.Predictor(network, activation="swish")


#: A first layer of 256 x 40 = 10,240 weights: numba compiles its one-image kernel
#: for that width (``SPECIALIZE_WEIGHTS``), so the cases above run on it too.
WIDE = [256, 40, 12, 10]


def make_wide(rng: np.random.Generator, dtype: Any, sizes: list[int] = WIDE) -> dict[str, Any]:
    net = {}
    for i, (m, k) in enumerate(itertools.pairwise(sizes), start=1):
        net[f"W{i}"] = (rng.standard_normal((m, k)) * 3 / np.sqrt(m)).astype(dtype)
        net[f"b{i}"] = (rng.standard_normal(k) * 0.5).astype(dtype)
    return net


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [None, 1])
@pytest.mark.parametrize("zeros", [0.8, 0.0], ids=["sparse", "dense"])
@pytest.mark.parametrize("bad", [None, np.inf, np.nan])
def test_wide_first_layer_one_image(backend, dtype, rows, zeros, bad, rng):
    """One image through a 256-40-12-10 network: NumPy's result, NaN for an inf weight on a 0."""
    network = make_wide(rng, dtype)
    x = rng.random((1, WIDE[0]))
    x[rng.random(x.shape) < zeros] = 0.0
    x = x.astype(dtype)
    x = x[0] if rows is None else x
    if bad is not None:
        x[..., 9] = 0.0
        network["W1"][9, 39] = bad  # the last column: the end of the vectorised row loop
    got = run_on(backend, network, x)
    assert np.isnan(got).all() == (bad is not None)
    check(got, network, x)


def test_wide_first_layer_of_another_width_between_calls(backend, rng):
    """The dict's first layer replaced by one of another width: bound again, never misread."""
    network = make_wide(rng, np.float32)
    net = {k: backend.asarray(v) for k, v in network.items()}
    run = dlcore.Predictor(net)
    x = rng.random(WIDE[0]).astype(np.float32)
    check(dlcore.to_numpy(run(backend.asarray(x))), network, x)
    other = make_wide(rng, np.float32, [256, 48, 12, 10])
    net.update({k: backend.asarray(v) for k, v in other.items()})
    check(dlcore.to_numpy(run(backend.asarray(x))), other, x)
    check(dlcore.to_numpy(dlcore.predict(net, backend.asarray(x))), other, x)


def test_numba_width_kernel_refuses_another_width(rng):
    """Called directly, numba's kernel compiled for 40 columns refuses a W1 of 48 by name."""
    pytest.importorskip("numba")
    from dlcore.backends import _numba_forward as kernels

    kernel = kernels.predict_one_for(256, 40)
    assert kernel is not kernels.predict_one
    assert kernels.predict_one_for(256, 40) is kernel  # compiled once per width
    assert kernels.predict_one_for(64, 24) is kernels.predict_one  # a small layer: shared
    network = make_wide(rng, np.float64)
    arrays = tuple(network[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    x = rng.random(WIDE[0])
    out = np.full(10, np.nan)
    kernel(x, arrays, False, out)
    np.testing.assert_allclose(out, reference(network, x), rtol=1e-12)
    with pytest.raises(ValueError, match="`out` does not have the last layer's width"):
        kernel(x, arrays, False, np.empty(9))
    other = make_wide(rng, np.float64, [256, 48, 12, 10])
    arrays = tuple(other[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    with pytest.raises(ValueError, match="W1 is not of the width"):
        kernel(x, arrays, False, out)


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_numba_batch_passes_on_any_layout(layout, rng):
    """Numba's bias-and-activation passes give NumPy's result whatever ``z``'s memory layout.

    A C-contiguous batch runs the activation over all its rows at once (in
    passes longer than a row), any other layout row by row; 700 rows of 3
    span several passes and end inside one.
    """
    pytest.importorskip("numba")
    from dlcore.backends import _numba_forward as kernels

    z = rng.standard_normal((700, 3)) * 4
    z[5, 1], z[9, 2] = np.nan, np.inf
    b = rng.standard_normal(3)
    with np.errstate(over="ignore", invalid="ignore"):
        want_hidden = _book.sigmoid(z + b)
        want_relu = np.maximum(z + b, 0)
        want_softmax = _book.softmax(z + b)
    for kind, want in (("sigmoid", want_hidden), ("relu", want_relu), ("softmax", want_softmax)):
        if layout == "strided":  # every other column of a wider array
            wide = np.zeros((700, 6))
            wide[:, ::2] = z
            got = wide[:, ::2]
        else:
            got = z.copy(order=layout)
        if kind == "softmax":
            kernels.bias_softmax_rows(got, b)
        else:
            kernels.bias_hidden_rows(got, b, kind == "relu")
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=kind)
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-300, err_msg=kind)
