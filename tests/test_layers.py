"""Backprop layers: the book's apple/orange graph and analytic vs numerical gradients."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from _helpers import assert_close

import dlcore
from dlcore import AddLayer, Affine, MulLayer, Relu, Sigmoid, SoftmaxWithLoss

#: Per-layer agreement of backprop with the float64 central difference.
LAYER_ATOL = 1e-7


def _sum_times(xp: Any, y: Any, r: Any) -> Any:
    """Scalar ``sum(y * r)``: its gradient with respect to ``y`` is ``r`` (the ``dout``)."""
    return xp.sum(y * r)


def _max_abs(a: Any, b: Any) -> float:
    return float(np.max(np.abs(dlcore.to_numpy(a) - dlcore.to_numpy(b))))


def test_apple_book_values() -> None:
    # The book's section 5.4.1: apple 100 yen x 2, tax 1.1.
    mul_apple, mul_tax = MulLayer(), MulLayer()
    apple_price = mul_apple.forward(100, 2)
    price = mul_tax.forward(apple_price, 1.1)
    assert price == pytest.approx(220.0, rel=1e-15)
    dapple_price, dtax = mul_tax.backward(1)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    assert (dapple, dapple_num, dtax) == pytest.approx((2.2, 110.0, 200.0), rel=1e-15)


def test_apple_orange_book_values_on_backend(backend: dlcore.Backend) -> None:
    # The book's section 5.4.2: price 715; dapple 2.2, dapple_num 110, dorange 3.3,
    # dorange_num 165, dtax 650.
    a = backend.asarray
    apple, apple_num, orange, orange_num, tax = a(100.0), a(2.0), a(150.0), a(3.0), a(1.1)
    mul_apple, mul_orange, add, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    apple_price = mul_apple.forward(apple, apple_num)
    orange_price = mul_orange.forward(orange, orange_num)
    all_price = add.forward(apple_price, orange_price)
    price = mul_tax.forward(all_price, tax)
    dall_price, dtax = mul_tax.backward(a(1.0))
    dapple_price, dorange_price = add.backward(dall_price)
    dorange, dorange_num = mul_orange.backward(dorange_price)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    got = [price, dapple, dapple_num, dorange, dorange_num, dtax]
    expected = [715.0, 2.2, 110.0, 3.3, 165.0, 650.0]
    for g, e in zip(got, expected, strict=True):
        assert_close(g, e, rtol=1e-14)


def test_mul_add_layers_on_arrays(backend: dlcore.Backend, rng: np.random.Generator) -> None:
    x, y, d = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    mul = MulLayer()
    assert_close(mul.forward(backend.asarray(x), backend.asarray(y)), x * y)
    dx, dy = mul.backward(backend.asarray(d))
    assert_close(dx, d * y)
    assert_close(dy, d * x)
    dx, dy = AddLayer().backward(backend.asarray(d))
    assert_close(dx, d)
    assert_close(dy, d)


def test_relu_forward_backward(backend: dlcore.Backend) -> None:
    x = np.array([[1.0, -0.5, 0.0], [-2.0, 3.0, 1e-300]])
    layer = Relu()
    assert_close(layer.forward(backend.asarray(x)), np.maximum(x, 0.0))
    dout = np.arange(1.0, 7.0).reshape(2, 3)
    # mask x <= 0 as the book: the gradient at exactly 0 is 0
    assert_close(layer.backward(backend.asarray(dout)), np.where(x > 0, dout, 0.0))


def test_sigmoid_layer_gradient(backend: dlcore.Backend, rng: np.random.Generator) -> None:
    xp = backend.xp
    x = backend.asarray(rng.standard_normal((4, 3)) * 3)
    r = backend.asarray(rng.standard_normal((4, 3)))
    layer = Sigmoid()
    assert_close(layer.forward(x), 1 / (1 + np.exp(-dlcore.to_numpy(x))))
    analytic = layer.backward(r)
    numeric = dlcore.numerical_gradient(lambda v: _sum_times(xp, Sigmoid().forward(v), r), x)
    assert _max_abs(analytic, numeric) < LAYER_ATOL


def test_relu_layer_gradient(backend: dlcore.Backend, rng: np.random.Generator) -> None:
    xp = backend.xp
    host = rng.standard_normal((4, 3))
    host[np.abs(host) < 1e-3] = 0.5  # keep the kink out of reach of h = 1e-4
    x, r = backend.asarray(host), backend.asarray(rng.standard_normal((4, 3)))
    layer = Relu()
    layer.forward(x)
    analytic = layer.backward(r)
    numeric = dlcore.numerical_gradient(lambda v: _sum_times(xp, Relu().forward(v), r), x)
    assert _max_abs(analytic, numeric) < LAYER_ATOL


@pytest.mark.parametrize("x_shape", [(5, 6), (5, 2, 3), (6,)])
def test_affine_layer_gradients(
    backend: dlcore.Backend, rng: np.random.Generator, x_shape: tuple[int, ...]
) -> None:
    xp = backend.xp
    x = backend.asarray(rng.standard_normal(x_shape))
    w = backend.asarray(rng.standard_normal((6, 4)))
    b = backend.asarray(rng.standard_normal(4))
    out_shape = (x_shape[0], 4) if len(x_shape) > 1 else (4,)
    r = backend.asarray(rng.standard_normal(out_shape))
    layer = Affine(w, b)
    out = layer.forward(x)
    assert tuple(out.shape) == out_shape
    expected = dlcore.to_numpy(x).reshape(-1, 6) @ dlcore.to_numpy(w) + dlcore.to_numpy(b)
    assert_close(out, expected.reshape(out_shape))
    dx = layer.backward(r)
    assert tuple(dx.shape) == x_shape
    num_dx = dlcore.numerical_gradient(lambda v: _sum_times(xp, Affine(w, b).forward(v), r), x)
    num_dw = dlcore.numerical_gradient(lambda v: _sum_times(xp, Affine(v, b).forward(x), r), w)
    num_db = dlcore.numerical_gradient(lambda v: _sum_times(xp, Affine(w, v).forward(x), r), b)
    assert _max_abs(dx, num_dx) < LAYER_ATOL
    assert _max_abs(layer.dW, num_dw) < LAYER_ATOL
    assert _max_abs(layer.db, num_db) < LAYER_ATOL


@pytest.mark.parametrize("one_hot", [False, True])
def test_softmax_with_loss_gradient(
    backend: dlcore.Backend, rng: np.random.Generator, one_hot: bool
) -> None:
    xp = backend.xp
    n, classes = 10, 3
    labels = rng.integers(0, classes, size=n)
    x = backend.asarray(rng.standard_normal((n, classes)))
    mask = backend.asarray(np.eye(classes)[labels])
    t = mask if one_hot else backend.asarray(labels)
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    host = dlcore.to_numpy(x)
    p = np.exp(host) / np.exp(host).sum(axis=1, keepdims=True)
    p_true = p[np.arange(n), labels]
    assert_close(loss, -np.mean(np.log(p_true + 1e-7)))
    analytic = layer.backward()
    assert_close(analytic, (p - np.eye(classes)[labels]) / n)

    # backward is the exact gradient of the loss without the book's delta
    def loss_without_delta(v: Any) -> Any:
        return -xp.sum(mask * xp.log(dlcore.softmax(v))) / n

    exact = dlcore.numerical_gradient(loss_without_delta, x)
    assert _max_abs(analytic, exact) < LAYER_ATOL
    # against the layer's own loss (delta = 1e-7 inside the log) the difference is the
    # documented floor: |d/dx log(y + delta) - d/dx log(y)| <= delta / (n * y_t) per sample
    numeric = dlcore.numerical_gradient(lambda v: SoftmaxWithLoss().forward(v, t), x)
    floor = float(np.max(1e-7 / (n * p_true)))
    assert _max_abs(analytic, numeric) < floor + LAYER_ATOL / 10


def test_layers_keep_float32(backend: dlcore.Backend, rng: np.random.Generator) -> None:
    f32 = backend.xp.float32
    x = backend.asarray(rng.standard_normal((3, 4)), dtype="float32")
    w = backend.asarray(rng.standard_normal((4, 2)), dtype="float32")
    b = backend.asarray(np.zeros(2), dtype="float32")
    layer = Affine(w, b)
    out = layer.forward(x)
    assert out.dtype == f32
    assert layer.backward(out).dtype == f32
    assert layer.dW.dtype == f32
    assert layer.db.dtype == f32
    assert Sigmoid().forward(x).dtype == f32
    assert Relu().forward(x).dtype == f32
    last = SoftmaxWithLoss()
    last.forward(out, backend.asarray(np.array([0, 1, 1])))
    assert last.backward().dtype == f32


def test_backward_before_forward_is_an_error() -> None:
    for layer in (MulLayer(), Relu(), Sigmoid(), SoftmaxWithLoss()):
        with pytest.raises(RuntimeError, match="call forward first"):
            layer.backward(np.ones(2))


def test_affine_shape_errors() -> None:
    with pytest.raises(ValueError, match=r"W of shape \(D, M\) and b of shape \(M,\)"):
        Affine(np.zeros((3, 2)), np.zeros(3))
    layer = Affine(np.zeros((6, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"6 features per sample .* got shape \(4, 5\)"):
        layer.forward(np.zeros((4, 5)))
    layer.forward(np.zeros((4, 6)))
    with pytest.raises(ValueError, match=r"`dout` must have the forward output's shape \(4, 2\)"):
        layer.backward(np.zeros((4, 3)))
