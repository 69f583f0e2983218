"""Every backend's ``mlp_gradient`` (backprop) against the book's layers in float64.

The reference is built from chapter 5's layers (``dlcore.bench.book_train``:
``Affine``, ``Sigmoid``/``Relu``, ``SoftmaxWithLoss``) for any depth. The
NumPy backend runs its in-place path and the numba backend BLAS's products
with its compiled passes; the cases cover sparse and dense batches, labels,
one-hot and soft targets, NaN and inf.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from _helpers import tol

import dlcore
from dlcore.bench import book_train


def reference(arrays: list[np.ndarray], x: np.ndarray, t: np.ndarray, activation: str) -> list:
    """``[dW1, db1, ...]`` from the book's layers, in float64."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    t = np.asarray(t) if t.ndim == 1 else np.asarray(t, dtype=np.float64)
    affines = [book_train.Affine(arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2)]
    layer = book_train.Sigmoid if activation == "sigmoid" else book_train.Relu
    acts = [layer() for _ in affines[:-1]]
    last = book_train.SoftmaxWithLoss()
    z = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        for affine, act in zip(affines[:-1], acts, strict=True):
            z = act.forward(affine.forward(z))
        last.forward(affines[-1].forward(z), t)
        dout = affines[-1].backward(last.backward(1))
        for affine, act in zip(reversed(affines[:-1]), reversed(acts), strict=True):
            dout = affine.backward(act.backward(dout))
    return [g for a in affines for g in (a.dW, a.db)]


def make(rng: np.random.Generator, sizes: list[int], n: int, dtype: Any, zeros: float) -> tuple:
    arrays = []
    for m, k in itertools.pairwise(sizes):
        arrays += [rng.standard_normal((m, k)) / np.sqrt(m), 0.3 * rng.standard_normal(k)]
    x = rng.random((n, sizes[0]))
    x[rng.random(x.shape) < zeros] = 0.0
    return [a.astype(dtype) for a in arrays], x.astype(dtype)


def targets(rng: np.random.Generator, n: int, k: int, kind: str, dtype: Any) -> np.ndarray:
    labels = rng.integers(0, k, n)
    if kind == "labels":
        return labels
    if kind == "one-hot":
        return np.eye(k, dtype=dtype)[labels]
    soft = rng.random((n, k))
    return (soft / soft.sum(axis=1, keepdims=True)).astype(dtype)


def gradient(backend: dlcore.Backend, arrays: list, x: np.ndarray, t: np.ndarray, act: str):
    with np.errstate(all="ignore"):
        got = backend.mlp_gradient(
            [backend.asarray(a) for a in arrays], backend.asarray(x), backend.asarray(t),
            activation=act,
        )  # fmt: skip
    return [dlcore.to_numpy(g) for g in got]


def check(got: list, arrays: list, x: np.ndarray, t: np.ndarray, act: str) -> None:
    expected = reference(arrays, x, t, act)
    assert len(got) == len(expected)
    finite = [float(np.max(np.abs(e[np.isfinite(e)]))) for e in expected if np.isfinite(e).any()]
    scale = max(finite, default=1.0)
    for g, e, a in zip(got, expected, arrays, strict=True):
        assert g.shape == a.shape
        assert g.dtype == a.dtype
        np.testing.assert_array_equal(np.isnan(g), np.isnan(e))
        np.testing.assert_allclose(g, e, rtol=tol(a.dtype), atol=tol(a.dtype) * scale * 1e-2)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("kind", ["labels", "one-hot", "soft"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("zeros", [0.8, 0.0], ids=["sparse", "dense"])
def test_two_layers_against_the_book(backend, activation, kind, dtype, zeros, rng):
    arrays, x = make(rng, [64, 20, 10], 40, dtype, zeros)
    t = targets(rng, 40, 10, kind, dtype)
    check(gradient(backend, arrays, x, t, activation), arrays, x, t, activation)


@pytest.mark.parametrize("sizes", [[12, 5], [30, 9, 8, 7, 5], [784, 50, 100, 10]], ids=str)
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_any_depth_and_odd_batch_sizes(backend, sizes, activation, rng):
    for n in (1, 3, 101):
        arrays, x = make(rng, sizes, n, np.float64, 0.8)
        t = targets(rng, n, sizes[-1], "labels", np.float64)
        check(gradient(backend, arrays, x, t, activation), arrays, x, t, activation)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("case", ["inf_weight_on_zero_pixel", "nan_pixel", "inf_pixel"])
def test_non_finite_inputs_as_numpy(backend, activation, case, rng):
    """NaN where NumPy has NaN: an inf weight on a zero pixel is 0 * inf, never skipped."""
    arrays, x = make(rng, [40, 12, 6], 30, np.float64, 0.8)
    t = targets(rng, 30, 6, "labels", np.float64)
    if case == "inf_weight_on_zero_pixel":
        x[:, 3] = 0.0
        arrays[0][3, 2] = np.inf
    else:
        x[4, 7] = np.nan if case == "nan_pixel" else np.inf
    got = gradient(backend, arrays, x, t, activation)
    assert any(np.isnan(g).any() for g in got)
    check(got, arrays, x, t, activation)


@pytest.mark.parametrize("t", [np.array([0, 5]), np.array([0, -1])], ids=["too_big", "negative"])
def test_labels_out_of_range_are_refused(backend, t, rng):
    arrays, x = make(rng, [8, 4, 5], 2, np.float64, 0.5)
    with pytest.raises(ValueError, match="out of range"):
        gradient(backend, arrays, x, t, "sigmoid")


def test_numba_and_numpy_training_agree(rng):
    """The book's recipe on MNIST-like data: the weights after 200 SGD steps on both backends.

    Both draw the same batches from the seed; the remaining difference is float
    rounding (the compiled kernel adds in another order than BLAS) growing with the steps.
    """
    pytest.importorskip("numba", reason="numba is not installed (pip install 'dlcore[numba]')")
    x = rng.random((600, 64))
    x[rng.random(x.shape) < 0.8] = 0.0
    t = rng.integers(0, 10, 600)
    weights = {}
    for name in ("numpy", "numba"):
        with dlcore.use_backend(name):
            net = dlcore.TwoLayerNet(64, 20, 10, seed=3, activation="relu")
            b = dlcore.get_backend()
            xs, ts = b.asarray(x), b.asarray(t)
            dlcore.train(net, xs, ts, xs, ts, iters_num=200, batch_size=50, lr=0.1, progress=False)
            weights[name] = {k: dlcore.to_numpy(v) for k, v in net.params.items()}
    for k, w in weights["numpy"].items():
        np.testing.assert_allclose(weights["numba"][k], w, rtol=1e-9, atol=1e-12)


def test_numba_runs_its_kernel_for_float_batches(rng, monkeypatch):
    """Sparse and dense float batches stay in numba's kernel; other activations go to NumPy."""
    pytest.importorskip("numba", reason="numba is not installed (pip install 'dlcore[numba]')")
    from dlcore.backends.numpy_backend import NumpyBackend

    calls: list[str] = []
    original = NumpyBackend.mlp_gradient

    def spy(self, arrays, x, t, *, activation="sigmoid"):
        calls.append(activation)
        return original(self, arrays, x, t, activation=activation)

    monkeypatch.setattr(NumpyBackend, "mlp_gradient", spy)
    numba_backend = dlcore.get_backend("numba")
    arrays, x = make(rng, [30, 8, 4], 20, np.float32, 0.8)
    t = targets(rng, 20, 4, "labels", np.float32)
    check(gradient(numba_backend, arrays, x, t, "relu"), arrays, x, t, "relu")
    dense = rng.random((20, 30)).astype(np.float32)
    check(gradient(numba_backend, arrays, dense, t, "relu"), arrays, dense, t, "relu")
    assert calls == []
    got = gradient(numba_backend, arrays, dense, t, "tanh")
    assert calls == ["tanh"]
    want = gradient(dlcore.get_backend("numpy"), arrays, dense, t, "tanh")
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
