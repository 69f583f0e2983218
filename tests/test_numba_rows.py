"""The zero-skipping row-wise forward pass (numba, numba_parallel) against NumPy float64.

The intrinsics are checked against ``np.flatnonzero`` and a float64 sum,
the pass against the book's forward pass (``tests/_book.py``) on the shipped
network and test images, on random networks of every depth with odd widths,
sigmoid and ReLU; then the cases it must hand to BLAS (a non-finite weight,
dense rows, non-C layouts), a forked child and two Python threads at once;
last, the sparse product and the training gradient built on it against BLAS's.
"""

from __future__ import annotations

import itertools
import multiprocessing
import sys
import threading
from typing import Any

import _book
import numpy as np
import pytest
from _helpers import tol

import dlcore

numba = pytest.importorskip("numba")

from dlcore.backends import _numba_gather as gather  # noqa: E402
from dlcore.backends import _numba_rows as rows  # noqa: E402
from numba import njit  # noqa: E402

DTYPES = [np.float32, np.float64]


@njit(cache=False)
def _positions(x: Any) -> Any:  # pragma: no cover - compiled
    idx = np.empty(x.shape[0] + gather.INDEX_SLACK, np.int32)
    k = gather.nonzero_index(x, idx)
    return idx[:k].copy()


@njit(cache=False)
def _product(x: Any, W: Any) -> Any:  # pragma: no cover - compiled
    idx = np.empty(x.shape[0] + gather.INDEX_SLACK, np.int32)
    out = np.full(W.shape[1], np.nan, x.dtype)
    gather.gather_rows(x, idx, gather.nonzero_index(x, idx), W, out)
    return out


def reference(arrays: tuple[np.ndarray, ...], x: np.ndarray, relu: bool = False) -> np.ndarray:
    """The book's forward pass in float64 (sigmoid, or ReLU hidden layers) with softmax."""
    z = np.asarray(x, np.float64)
    n = len(arrays) // 2
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(n):
            a = z @ arrays[2 * i].astype(np.float64) + arrays[2 * i + 1].astype(np.float64)
            z = (np.maximum(a, 0) if relu else _book.sigmoid(a)) if i < n - 1 else a
        return _book.softmax(z)


def network(rng: np.random.Generator, sizes: list[int], dtype: Any) -> tuple[np.ndarray, ...]:
    arrays: list[np.ndarray] = []
    for m, k in itertools.pairwise(sizes):
        arrays += [(rng.standard_normal((m, k)) * 2 / np.sqrt(m)).astype(dtype)]
        arrays += [(rng.standard_normal(k) * 0.5).astype(dtype)]
    return tuple(arrays)


def sparse(rng: np.random.Generator, shape: tuple[int, int], dtype: Any, zeros: float = 0.8) -> Any:
    x = rng.random(shape)
    x[rng.random(shape) < zeros] = 0.0
    return np.ascontiguousarray(x.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d", [1, 7, 8, 9, 16, 23, 784])
def test_nonzero_index_is_flatnonzero(dtype, d, rng):
    x = rng.standard_normal(d).astype(dtype)
    x[rng.random(d) < 0.6] = 0.0
    specials = [np.nan, np.inf, -np.inf, -0.0]
    for j, v in zip(rng.choice(d, min(d, 4), replace=False), specials, strict=False):
        x[j] = v
    np.testing.assert_array_equal(_positions(x), np.flatnonzero(x != 0))  # NaN kept, -0.0 not


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m", [1, 2, 3, 5, 8, 10, 15, 16, 17, 31, 33, 48, 50, 63, 64, 65, 100, 129])
def test_gather_rows_is_the_product_over_the_nonzero_entries(dtype, m, rng):
    d = 37
    x = rng.standard_normal(d).astype(dtype)
    x[rng.random(d) < 0.7] = 0.0
    W = rng.standard_normal((d, m)).astype(dtype)
    expected = x.astype(np.float64) @ W.astype(np.float64)
    scale = np.abs(x).astype(np.float64) @ np.abs(W) + 1
    got = _product(x, W)
    assert got.dtype == dtype
    assert np.all(np.abs(got - expected) <= scale * 8 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_rows_every_width_of_two_panels(dtype, rng):
    """Every width up to two full panels and more: each way the last pass splits its columns.

    Every column is checked against a float64 product, so a vector placed
    wrongly (or an overlapping one that differs) cannot pass.
    """
    d = 23
    x = rng.standard_normal(d).astype(dtype)
    x[rng.random(d) < 0.5] = 0.0
    lanes = gather.VECTOR_BYTES // np.dtype(dtype).itemsize
    for m in range(1, 2 * gather.PANEL * lanes + lanes + 2):
        W = rng.standard_normal((d, m)).astype(dtype)
        expected = x.astype(np.float64) @ W.astype(np.float64)
        scale = np.abs(x).astype(np.float64) @ np.abs(W) + 1
        got = _product(x, W)
        assert np.all(np.abs(got - expected) <= scale * 8 * np.finfo(dtype).eps), m


def test_intrinsics_refuse_what_they_would_misread():
    with pytest.raises(numba.core.errors.TypingError):
        _positions(np.zeros(8, np.int64))
    with pytest.raises(numba.core.errors.TypingError):
        _product(np.zeros(8, np.float32), np.zeros((8, 3), np.float64))
    with pytest.raises(numba.core.errors.TypingError):
        _product(np.zeros(8, np.float32), np.zeros((3, 8), np.float32).T)


@pytest.mark.parametrize("parallel", [False, True], ids=["one-thread", "threads"])
def test_shipped_network_on_the_test_images(parallel):
    with dlcore.use_backend("numpy"):  # NumPy arrays whatever DLCORE_BACKEND says
        net = dlcore.load_sample_network()
        x = np.ascontiguousarray(np.asarray(dlcore.load_mnist_test()[0])[:1000])
    arrays = tuple(net[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    assert rows.plan(x, arrays)
    got = rows.forward_rows(arrays, x, False, parallel=parallel)
    np.testing.assert_allclose(got, reference(arrays, x), rtol=tol(np.float32), atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("relu", [False, True], ids=["sigmoid", "relu"])
@pytest.mark.parametrize(
    "sizes", [[20, 3], [33, 17, 5], [64, 50, 100, 10], [9, 65, 1, 31, 2]], ids=str
)
@pytest.mark.parametrize("n", [2, 31, 70])  # a block and a part, and the threads' split
def test_random_networks_every_depth(dtype, relu, sizes, n, rng):
    arrays = network(rng, sizes, dtype)
    x = sparse(rng, (n, sizes[0]), dtype)
    x[0] = 0.0  # an image with no nonzero entry at all
    expected = reference(arrays, x, relu)
    for parallel in (False, True):
        got = rows.forward_rows(arrays, x, relu, parallel=parallel)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=tol(dtype), atol=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_pixels_propagate_as_in_numpy(bad, rng):
    arrays = network(rng, [40, 12, 4], np.float32)
    x = sparse(rng, (64, 40), np.float32)
    x[3, 7] = bad  # a nonzero entry: its row is taken, as in NumPy
    got = rows.forward_rows(arrays, x, False, parallel=True)
    expected = reference(arrays, x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    ok = ~np.isnan(expected)
    np.testing.assert_allclose(got[ok], expected[ok], rtol=tol(np.float32), atol=1e-7)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_weight_hands_the_batch_to_blas(bad, rng):
    """``0 * inf`` is NaN: with a non-finite weight the zero entries may not be skipped."""
    arrays = network(rng, [40, 12, 4], np.float32)
    arrays[2][5, 3] = bad  # layer 2: every hidden activation is > 0 anyway
    arrays[0][7, 2] = bad  # layer 1, on a pixel that is 0 in every image
    x = sparse(rng, (64, 40), np.float32)
    x[:, 7] = 0.0
    assert not rows.plan(x, arrays)
    net = dict(zip(("W1", "b1", "W2", "b2"), arrays, strict=True))
    with dlcore.use_backend("numba_parallel"), np.errstate(invalid="ignore"):
        got = dlcore.predict(net, x)
    assert np.isnan(got).all()  # NaN in one logit of every row makes its softmax NaN
    np.testing.assert_array_equal(np.isnan(got), np.isnan(reference(arrays, x)))


def test_dense_rows_take_blas(rng):
    arrays = network(rng, [40, 12, 4], np.float32)
    x = sparse(rng, (64, 40), np.float32, zeros=0.0)
    assert not rows.plan(x, arrays)
    x[:] = 0.0
    assert rows.plan(x, arrays)


@pytest.mark.parametrize("layout", ["F", "strided"])
def test_other_layouts_give_the_same_result(layout, rng):
    net = {"W1": rng.standard_normal((40, 12)).astype(np.float32),
           "b1": np.zeros(12, np.float32),
           "W2": rng.standard_normal((12, 4)).astype(np.float32),
           "b2": np.zeros(4, np.float32)}  # fmt: skip
    base = sparse(rng, (128, 40), np.float32)
    x = np.asfortranarray(base) if layout == "F" else base[::2]
    with dlcore.use_backend("numba_parallel"):
        got = dlcore.predict(net, x)
    expected = reference(tuple(net.values()), x)
    np.testing.assert_allclose(got, expected, rtol=tol(np.float32), atol=1e-7)


def test_two_python_threads_at_once(rng):
    arrays = network(rng, [64, 50, 10], np.float32)
    xs = [sparse(rng, (256, 64), np.float32) for _ in range(2)]
    results: list[Any] = [None, None]

    def work(j: int) -> None:
        for _ in range(20):
            results[j] = rows.forward_rows(arrays, xs[j], False, parallel=True)

    threads = [threading.Thread(target=work, args=(j,)) for j in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for j in range(2):
        np.testing.assert_allclose(results[j], reference(arrays, xs[j]), rtol=tol(np.float32))


def _child(queue: Any, arrays: Any, x: Any) -> None:
    queue.put(rows.forward_rows(arrays, x, False, parallel=True))


@pytest.mark.skipif(sys.platform != "linux", reason="fork is the start method this checks")
def test_a_forked_child_runs_on_one_thread(rng):
    """GNU OpenMP aborts a forked child that launches: the child's batches run on one thread."""
    arrays = network(rng, [64, 50, 10], np.float32)
    x = sparse(rng, (256, 64), np.float32)
    rows.forward_rows(arrays, x, False, parallel=True)  # the parent has launched
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue, arrays, x))
    child.start()
    got = queue.get(timeout=120)
    child.join(timeout=60)
    assert child.exitcode == 0
    np.testing.assert_allclose(got, reference(arrays, x), rtol=tol(np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_product_is_the_dense_product(dtype, rng):
    """``a @ b`` over each row's nonzero entries; NaN and inf entries of ``a`` are kept."""
    a = sparse(rng, (40, 37), dtype)
    a[3, 5], a[7, 0], a[9, 36] = np.nan, np.inf, -np.inf
    b = rng.standard_normal((37, 21)).astype(dtype)
    out = np.full((40, 21), 7.0, dtype)
    rows.sparse_product(a, b, out)
    with np.errstate(invalid="ignore"):
        expected = a.astype(np.float64) @ b.astype(np.float64)
    scale = np.nan_to_num(np.abs(a).astype(np.float64), posinf=0) @ np.abs(b) + 1
    assert np.array_equal(np.isnan(out), np.isnan(expected))
    assert np.array_equal(np.isinf(out), np.isinf(expected))
    finite = np.isfinite(expected)
    error = np.abs(out[finite] - expected[finite])
    assert np.all(error <= scale[finite] * 8 * np.finfo(dtype).eps)
    narrow = np.empty((40, 20), dtype)
    for wrong in ((a, b[:-1], out), (a, b, out[:-1]), (a, b, narrow)):
        with pytest.raises(ValueError, match="sparse_product: the shapes"):
            rows.sparse_product(*wrong)
    with pytest.raises(numba.core.errors.TypingError):  # a view it would misread
        rows.sparse_product(a, b, out[:, :-1])


def test_training_batches_that_skip_zero_inputs(rng):
    """Sparse batches of finite networks skip zeros; dense, non-finite or large ones take BLAS."""
    from dlcore.backends import _numba_train as train

    arrays = network(rng, [37, 9, 4], np.float32)
    x = sparse(rng, (50, 37), np.float32)
    assert train.sparse_batch(arrays, x)
    assert not train.sparse_batch(arrays, rng.random((50, 37), dtype=np.float32))
    assert not train.sparse_batch(arrays, sparse(rng, (train.SPARSE_ROWS + 1, 37), np.float32))
    for k in (0, 2):
        bad = list(arrays)
        bad[k] = bad[k].copy()
        bad[k].flat[5] = np.inf
        assert not train.sparse_batch(tuple(bad), x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_skipping_gradient_is_blas_gradient(dtype, rng, monkeypatch):
    """The gradient with both first-layer products skipping zeros equals BLAS's within rounding."""
    from dlcore.backends import _numba_train as train

    arrays = network(rng, [37, 9, 6, 4], dtype)
    x = sparse(rng, (50, 37), dtype)
    labels = rng.integers(0, 4, 50)
    assert train.sparse_batch(arrays, x)
    got = train.mlp_gradient(arrays, x, labels, "relu")
    monkeypatch.setattr(train, "SPARSE_ROWS", 0)
    want = train.mlp_gradient(arrays, x, labels, "relu")
    assert got is not None
    assert want is not None
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=50 * np.finfo(dtype).eps, atol=1e-7 * np.abs(w).max())
