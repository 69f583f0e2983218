"""The numba backend's numerical-gradient methods give the generic loop's numbers."""

from __future__ import annotations

import gc
import warnings
import weakref

import numpy as np
import pytest
from _book import book_loop, make_params, one_hot

import dlcore

numba = pytest.importorskip("numba")

from dlcore.backends import _numba_numgrad as kernels  # noqa: E402

ATOL = 1e-9


@numba.njit
def wavy(x):
    """A 2-D function with every element coupled to its neighbours."""
    s = 0.0
    rows, cols = x.shape
    for i in range(rows):
        for j in range(cols):
            v = x[i, j]
            s += np.sin(v) * v * v + 0.5 * v * x[(i + 1) % rows, (j + 1) % cols]
    return s


@numba.njit(parallel=True)
def parallel_sum(x):
    s = 0.0
    for i in numba.prange(x.size):
        s += np.cos(x.flat[i]) * x.flat[i]
    return s


@numba.njit
def not_a_scalar(x):
    return x * 2.0


@pytest.fixture
def numba_backend():
    with dlcore.use_backend("numba") as b:
        yield b


@pytest.fixture
def fresh_warnings(monkeypatch):
    """Forget which fallback warnings were shown, so each test sees its first one."""
    monkeypatch.setattr(kernels, "_warned", set())


def _generic(f, x):
    with dlcore.use_backend("numpy"):
        return dlcore.numerical_gradient(f, x)


def test_generic_kernel_equals_loop(numba_backend, rng):
    x = rng.standard_normal((6, 5))
    saved = x.copy()
    got = dlcore.numerical_gradient(wavy, x)
    np.testing.assert_array_equal(x, saved)  # x is never written
    expected = _generic(wavy, x.copy())
    assert got.shape == x.shape
    assert np.max(np.abs(got - expected)) < ATOL
    # and the formula itself: d/dx of sin(x) x^2 + coupling terms, by the central difference
    h = 1e-4
    i, j = 2, 3
    xp_, xm = x.copy(), x.copy()
    xp_[i, j] += h
    xm[i, j] -= h
    assert abs(got[i, j] - (wavy(xp_) - wavy(xm)) / (2 * h)) < 1e-12


def test_generic_kernel_float32_and_strided(numba_backend, rng):
    x = rng.standard_normal((6, 10))[:, ::2]  # not contiguous
    got = dlcore.numerical_gradient(wavy, x)
    assert np.max(np.abs(got - _generic(wavy, x.copy()))) < ATOL
    x32 = x.astype(np.float32)
    got32 = dlcore.numerical_gradient(wavy, x32)
    assert got32.dtype == np.float32
    # float32 takes the step eps**(1/3): both loops are within the central difference's
    # error bound of the float64 gradient: rounding eps * |terms| / h plus truncation h**2
    h = np.finfo(np.float32).eps ** (1 / 3)
    terms = np.sum(np.abs(x) ** 3 + np.abs(x) * np.abs(np.roll(x, (-1, -1), (0, 1))))
    bound = np.finfo(np.float32).eps * terms / h + h**2 * 10
    np.testing.assert_allclose(got32, got, atol=bound)
    np.testing.assert_allclose(_generic(wavy, x32.copy()), got, atol=bound)


def _random_f(rng):
    """A random smooth f of a (4, 6) array: quadratic form, sines and a product term."""
    a, b, c = rng.standard_normal((24, 24)), rng.standard_normal(24), rng.standard_normal(24)

    @numba.njit
    def f(x):
        v = x.reshape(24)  # x is C-contiguous: the kernel's copy and the loop's x
        return _quad(v, a) + np.sum(np.sin(b * v)) + np.prod(1.0 + 0.1 * c * v)

    return f


@numba.njit
def _quad(v, a):
    s = 0.0
    for i in range(v.size):
        for j in range(v.size):
            s += v[i] * a[i, j] * v[j]
    return s


@pytest.mark.parametrize("seed", range(3))
def test_generic_kernel_random_f_and_repeated_calls(numba_backend, seed):
    rng = np.random.default_rng(seed)
    f = _random_f(rng)
    x = rng.standard_normal((4, 6))
    x[:, 2] = 0.0  # a column of zeros
    expected = _generic(f, x.copy())
    first = dlcore.numerical_gradient(f, x)  # compiles the loop around f
    again = dlcore.numerical_gradient(f, x)  # the compiled loop, called directly
    assert np.max(np.abs(first - expected)) < ATOL
    np.testing.assert_array_equal(again, first)
    flat = dlcore.numerical_gradient(f, x.reshape(2, 12))  # another ndim: compiled again
    np.testing.assert_array_equal(flat.reshape(4, 6), first)


def test_generic_kernel_input_layouts(numba_backend, rng):
    """Read-only, non-contiguous and one-element inputs: the same loop, the same numbers."""
    x = rng.standard_normal((6, 5))
    expected = dlcore.numerical_gradient(wavy, x)
    read_only = x.copy()
    read_only.flags.writeable = False
    np.testing.assert_array_equal(dlcore.numerical_gradient(wavy, read_only), expected)
    fortran = np.asfortranarray(x)
    np.testing.assert_array_equal(dlcore.numerical_gradient(wavy, fortran), expected)
    one = rng.standard_normal((1, 1))  # fewer coordinates than threads
    np.testing.assert_allclose(dlcore.numerical_gradient(wavy, one), _generic(wavy, one), atol=ATOL)


def test_generic_kernel_thread_count(numba_backend, rng):
    """One chunk per thread: any thread count gives the same numbers."""
    x = rng.standard_normal((6, 5))
    expected = dlcore.numerical_gradient(wavy, x)
    saved = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        np.testing.assert_array_equal(dlcore.numerical_gradient(wavy, x), expected)
    finally:
        numba.set_num_threads(saved)


def test_generic_kernel_does_not_keep_f_alive(numba_backend, rng):
    @numba.njit
    def cube(x):
        return np.sum(x**3)

    dlcore.numerical_gradient(cube, rng.standard_normal(5))
    assert cube in kernels._compiled
    ref = weakref.ref(cube)
    del cube
    gc.collect()
    assert ref() is None


def test_parallel_f_runs_the_serial_loop(numba_backend, rng):
    x = rng.standard_normal(50)
    got = dlcore.numerical_gradient(parallel_sum, x)
    assert np.max(np.abs(got - _generic(parallel_sum, x.copy()))) < ATOL


def test_plain_python_f_warns_once_and_falls_back(numba_backend, fresh_warnings):
    def f(x):
        return float(np.sum(x**2))

    x = np.array([3.0, 4.0])
    with pytest.warns(
        kernels.NumbaFallbackWarning, match=r"plain Python function.*numba\.njit"
    ) as record:
        got = dlcore.numerical_gradient(f, x)
    assert record[0].filename == __file__  # points at the caller
    np.testing.assert_allclose(got, [6.0, 8.0], rtol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise
        dlcore.numerical_gradient(f, x)
    assert dlcore.NumbaFallbackWarning is kernels.NumbaFallbackWarning


def test_uncompilable_f_warns_and_the_loop_reports(numba_backend, fresh_warnings):
    with (
        pytest.warns(kernels.NumbaFallbackWarning, match="could not compile") as record,
        pytest.raises(TypeError, match="must return a scalar"),
    ):
        dlcore.numerical_gradient(not_a_scalar, np.ones(3))
    assert record[0].filename == __file__


def test_methods_hand_what_they_do_not_take_to_numpy(numba_backend, rng, monkeypatch):
    """float16 and 0-d ``x``, arrays of another library: the NumPy backend's code runs."""
    numpy_backend = dlcore.get_backend("numpy")

    def cube_sum(x):
        return float(np.sum(x**3))

    for x in (np.ones(3, dtype=np.float16), np.array(2.0)):
        expected = numpy_backend.numerical_gradient(cube_sum, x.copy(), 1e-3)
        got = numba_backend.numerical_gradient(cube_sum, x.copy(), 1e-3)
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == x.dtype
    monkeypatch.setattr(kernels, "mlp_numerical_gradient", None)  # must not be reached
    xps = pytest.importorskip("array_api_strict")
    arrays = [xps.asarray(v) for v in make_params([3, 2], rng).values()]
    x, t = xps.asarray(np.ones((1, 3))), xps.asarray(np.zeros(1, dtype=np.int64))
    got = numba_backend.mlp_numerical_gradient(
        arrays, x, t, h=1e-4, activation="sigmoid", max_bytes=2**20
    )
    expected = numpy_backend.mlp_numerical_gradient(
        arrays, x, t, h=1e-4, activation="sigmoid", max_bytes=2**20
    )
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(dlcore.to_numpy(g), dlcore.to_numpy(e))


@pytest.mark.parametrize("sizes", [[7, 5, 3], [7, 3], [7, 5, 4, 3]], ids=str)
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("kind", ["labels", "one-hot", "soft"])
def test_network_kernel_equals_book_loop(numba_backend, rng, sizes, activation, kind):
    params = make_params(sizes, rng)
    x = rng.standard_normal((4, sizes[0]))
    x[:, 2] = 0.0  # an input that is zero across the batch
    x[1, 4] = 0.0  # and one zero pixel
    labels = rng.integers(0, sizes[-1], 4)
    t = {"labels": labels, "one-hot": one_hot(labels, sizes[-1])}.get(kind)
    if t is None:
        t = rng.dirichlet(np.ones(sizes[-1]), 4)
    saved = {k: v.copy() for k, v in params.items()}
    got = dlcore.mlp_numerical_gradient(params, x, t, activation=activation, method="kernel")
    expected = book_loop(params, x, t, activation=activation)
    for k in expected:
        assert got[k].shape == params[k].shape
        assert np.max(np.abs(got[k] - expected[k])) < ATOL, k
        np.testing.assert_array_equal(params[k], saved[k])
    assert np.all(got["W1"][2] == 0.0)


@pytest.mark.parametrize("h", [1e-4, 0.3])
def test_network_kernel_large_steps_and_batch_of_one(numba_backend, rng, h):
    # 40x inputs: |dz * W_out| is too large for the series, the direct sum runs
    params = make_params([7, 5, 3], rng)
    for x, t in ((40.0 * rng.standard_normal((4, 7)), rng.integers(0, 3, 4)),
                 (rng.standard_normal((1, 7)), np.array([2]))):  # fmt: skip
        got = dlcore.mlp_numerical_gradient(params, x, t, h=h, method="kernel")
        expected = book_loop(params, x, t, h=h)
        assert max(np.max(np.abs(got[k] - expected[k])) for k in expected) < ATOL


def test_network_kernel_float32(numba_backend, rng):
    params = {k: v.astype(np.float32) for k, v in make_params([7, 5, 3], rng).items()}
    x, t = rng.standard_normal((4, 7)).astype(np.float32), rng.integers(0, 3, 4)
    got = dlcore.mlp_numerical_gradient(params, x, t)  # auto: the kernel
    expected = book_loop(params, x, t)
    for k in expected:
        assert got[k].dtype == np.float32
        np.testing.assert_allclose(got[k], expected[k].astype(np.float32), rtol=1e-6, atol=1e-9)


def test_auto_falls_back_to_batched_for_other_arrays(numba_backend, rng):
    xps = pytest.importorskip("array_api_strict")
    params = make_params([7, 5, 3], rng)
    x, t = rng.standard_normal((4, 7)), rng.integers(0, 3, 4)
    moved = {k: xps.asarray(v) for k, v in params.items()}
    got = dlcore.mlp_numerical_gradient(moved, xps.asarray(x), xps.asarray(t))
    expected = book_loop(params, x, t)
    assert max(np.max(np.abs(dlcore.to_numpy(got[k]) - expected[k])) for k in expected) < ATOL
    with pytest.raises(TypeError, match="runs on its own arrays"):
        dlcore.mlp_numerical_gradient(moved, xps.asarray(x), xps.asarray(t), method="kernel")
