"""Careless calls into the maths API: numbers of every kind, empty batches, odd labels.

Expected values come from formulas and NumPy float64 references, never from
the function under test.
"""

from __future__ import annotations

import decimal
import fractions
import warnings

import numpy as np
import pytest
from _book import cross_entropy_error as book_cross_entropy

import dlcore
from dlcore._validate import check_count, check_positive_number, check_real

RNG = np.random.default_rng(12)


def sphere(v):
    return v[0] ** 2 + v[1] ** 2


# -- numbers: NumPy scalars, numbers.Real / numbers.Integral, bool refused --------------------
@pytest.mark.parametrize(
    "value",
    [np.float16(0.5), np.float32(0.5), np.float64(0.5), fractions.Fraction(1, 2), 0.5,
     np.int8(2), np.uint16(2), np.int64(2), 2],
    ids=lambda v: type(v).__name__,
)  # fmt: skip
def test_positive_numbers_of_every_real_type_are_accepted(value):
    assert check_positive_number(value, "h") == float(value)
    assert check_real(value, "lr") == float(value)


@pytest.mark.parametrize(
    ("value", "error"),
    [(True, TypeError), (np.True_, TypeError), ("1e-4", TypeError), (None, TypeError),
     (decimal.Decimal("0.1"), TypeError), (1j, TypeError), (np.array([0.1]), TypeError),
     (0, ValueError), (-1e-4, ValueError), (float("nan"), ValueError), (np.inf, ValueError)],
    ids=["bool", "np-bool", "str", "none", "decimal", "complex", "array", "zero", "negative",
         "nan", "inf"],
)  # fmt: skip
def test_not_a_positive_finite_number_is_refused(value, error):
    with pytest.raises(error, match="`h` must be a positive finite number"):
        check_positive_number(value, "h")


@pytest.mark.parametrize(
    "value", [np.int8(3), np.int32(3), np.uint64(3), np.int64(3), 3], ids=lambda v: type(v).__name__
)
def test_counts_of_every_integer_type_are_accepted(value):
    assert check_count(value, "step_num") == 3


@pytest.mark.parametrize(
    ("value", "error"),
    [(True, TypeError), (np.True_, TypeError), (3.0, TypeError), (np.float64(3), TypeError),
     ("3", TypeError), (fractions.Fraction(3), TypeError), (0, ValueError), (-2, ValueError)],
    ids=["bool", "np-bool", "float", "np-float", "str", "fraction", "zero", "negative"],
)  # fmt: skip
def test_not_a_positive_integer_is_refused(value, error):
    with pytest.raises(error, match="`batch_size` must be a positive integer"):
        check_count(value, "batch_size")


# -- numerical_gradient -------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_the_books_closure_idiom_works_on_every_float_dtype(backend, dtype):
    """``f`` ignores its argument and reads ``w`` through the closure, as the book's
    ``lambda W: net.loss(x, t)``: ``w`` itself must be perturbed."""
    if backend.name == "jax":
        pytest.skip("JAX arrays cannot be written in place; f must use its argument there")
    host = np.array([0.5, -1.25, 2.0], dtype=dtype)
    xp = backend.xp
    if not hasattr(xp, dtype):
        pytest.skip(f"{backend.name} has no {dtype}")
    w = backend.asarray(host)

    def loss(_):
        v = xp.astype(w, xp.float64)
        return float(xp.sum(v**3))

    g = dlcore.numerical_gradient(loss, w)
    assert g.dtype == w.dtype
    eps = np.finfo(dtype).eps
    h = 1e-4 if dtype == "float64" else eps ** (1 / 3)
    expected = 3 * host.astype(np.float64) ** 2
    # rounding of x + h to the dtype is divided out; the truncation error is h**2 exactly here
    np.testing.assert_allclose(dlcore.to_numpy(g).astype(np.float64), expected,
                               atol=2 * h**2 + 8 * eps * float(np.max(expected)))  # fmt: skip
    np.testing.assert_array_equal(dlcore.to_numpy(w), host)  # restored exactly


@pytest.mark.parametrize("h", [np.float32(1e-3), np.float64(1e-3), fractions.Fraction(1, 1000)])
def test_h_may_be_any_real_number(h):
    g = dlcore.numerical_gradient(sphere, np.array([3.0, 4.0]), h=h)
    np.testing.assert_allclose(g, [6.0, 8.0], rtol=1e-9)


def test_a_float32_step_below_the_default_warns_with_the_error_to_expect():
    x = np.array([1.5, -2.0], dtype=np.float32)
    with pytest.warns(RuntimeWarning, match=r"h=0.0001 is small for it.*error of about"):
        g = dlcore.numerical_gradient(lambda v: float(np.sum(v.astype(np.float64) ** 2)), x, h=1e-4)
    np.testing.assert_allclose(g, [3.0, -4.0], atol=1e-2)  # never zeros


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_a_step_below_the_resolution_is_a_clear_error(dtype):
    x = np.array([1000.0, 1.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="below the resolution of"):
            dlcore.numerical_gradient(sphere, x, h=1e-9)
    np.testing.assert_array_equal(x, [1000.0, 1.0])


def test_the_default_float64_step_is_the_books():
    x = np.array([3.0, 4.0])
    got = dlcore.numerical_gradient(lambda v: float(v[0] ** 3), x)
    h = 1e-4
    assert got[0] == ((3.0 + h) ** 3 - (3.0 - h) ** 3) / (2 * h)


@pytest.mark.parametrize("at", [0, 1, 3])
def test_an_exception_in_f_propagates_and_x_is_restored(backend, at):
    if backend.name == "jax":
        pytest.skip("JAX arrays are never written")
    host = np.arange(4.0)
    x = backend.asarray(host)
    calls = []

    def f(v):
        calls.append(1)
        if len(calls) > 2 * at:
            raise ZeroDivisionError("f failed")
        return float(backend.xp.sum(v))

    with pytest.raises(ZeroDivisionError, match="f failed"):
        dlcore.numerical_gradient(f, x)
    np.testing.assert_array_equal(dlcore.to_numpy(x), host)


@pytest.mark.parametrize(
    ("f", "error", "fragment"),
    [
        (lambda v: v, TypeError, "must return a scalar"),
        (lambda v: "x", TypeError, "must return a scalar"),
        (lambda v: None, TypeError, "must return a scalar"),
        (lambda v: [1.0], TypeError, "must return a scalar"),
        (3, TypeError, "`f` must be callable"),
    ],
    ids=["array", "str", "none", "list", "not-callable"],
)
def test_bad_f_is_named(f, error, fragment):
    with pytest.raises(error, match=fragment):
        dlcore.numerical_gradient(f, np.array([1.0, 2.0]))


@pytest.mark.parametrize(
    ("x", "error", "fragment"),
    [
        (np.array([1, 2]), TypeError, "floating-point"),
        (np.array([True]), TypeError, "floating-point"),
        ("12", TypeError, "must be an array"),
        ({"a": 1}, TypeError, "must be an array"),
        ([[1.0], [2.0, 3.0]], TypeError, "rectangular"),
    ],
    ids=["int", "bool", "str", "dict", "ragged"],
)
def test_bad_x_is_named(x, error, fragment):
    with pytest.raises(error, match=fragment):
        dlcore.numerical_gradient(sphere, x)


def test_an_empty_x_gives_an_empty_gradient():
    g = dlcore.numerical_gradient(lambda v: 0.0, np.zeros((0, 3)))
    assert g.shape == (0, 3)


@pytest.mark.parametrize(
    ("x", "atol"),
    [(np.float32(5.0), 1e-4), (np.float16(5.0), 0.05), (np.float64(5.0), 1e-9), (5, 1e-9),
     (fractions.Fraction(5), 1e-9), (np.array([5.0, 5.0], dtype=np.float32), 1e-4)],
    ids=["float32", "float16", "float64", "int", "fraction", "float32-array"],
)  # fmt: skip
def test_numerical_diff_takes_any_real_x(x, atol):
    got = dlcore.numerical_diff(lambda v: 0.01 * v**2 + 0.1 * v, x)  # d/dx = 0.02 x + 0.1
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), 0.2, atol=atol)


def test_numerical_diff_refuses_a_bool():
    with pytest.raises(TypeError, match="got a bool"):
        dlcore.numerical_diff(lambda v: v, True)


# -- gradient_descent ---------------------------------------------------------------------------
@pytest.mark.parametrize("lr", [np.float32(0.1), np.float64(0.1), fractions.Fraction(1, 10)])
@pytest.mark.parametrize("step_num", [np.int64(2), np.int32(2), 2])
def test_gradient_descent_takes_numpy_numbers(lr, step_num):
    x, history = dlcore.gradient_descent(sphere, np.array([1.0, 2.0]), lr=lr, step_num=step_num)
    # x <- x - lr * 2x twice: x * (1 - 2 lr)**2
    np.testing.assert_allclose(x, np.array([1.0, 2.0]) * (1 - 2 * float(lr)) ** 2, rtol=1e-7)
    assert history.shape == (2, 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"lr": "0.1"}, TypeError, "`lr` must be a finite real number"),
        ({"lr": True}, TypeError, "`lr` must be a finite real number"),
        ({"lr": float("inf")}, ValueError, "`lr` must be a finite real number"),
        ({"step_num": 2.0}, TypeError, "`step_num` must be an integer >= 0"),
        ({"step_num": True}, TypeError, "`step_num` must be an integer >= 0"),
        ({"step_num": -1}, ValueError, "`step_num` must be an integer >= 0"),
    ],
)
def test_gradient_descent_bad_options(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        dlcore.gradient_descent(sphere, np.array([1.0, 2.0]), **kwargs)


# -- losses -------------------------------------------------------------------------------------
Y = RNG.dirichlet(np.ones(10), size=4)
LABELS = np.array([3, 0, 9, 3])


@pytest.mark.parametrize(
    "t",
    [np.eye(10, dtype=int)[LABELS], np.eye(10, dtype=np.int8)[LABELS],
     np.eye(10, dtype=np.uint8)[LABELS], np.eye(10, dtype=bool)[LABELS],
     np.eye(10)[LABELS], LABELS, LABELS.astype(np.uint8), np.eye(10)[LABELS].tolist()],
    ids=["int-onehot", "int8-onehot", "uint8-onehot", "bool-onehot", "float-onehot",
         "labels", "uint8-labels", "list-onehot"],
)  # fmt: skip
def test_cross_entropy_takes_the_books_label_forms(t):
    expected = book_cross_entropy(Y, np.eye(10)[LABELS])
    assert float(dlcore.cross_entropy_error(Y, t)) == pytest.approx(expected, rel=1e-12)


def test_integer_one_hot_with_other_values_is_refused():
    t = np.eye(10, dtype=int)[LABELS] * 2
    with pytest.raises(ValueError, match="read as one-hot targets and must hold only 0 and 1"):
        dlcore.cross_entropy_error(Y, t)


@pytest.mark.parametrize(
    ("loss", "shape"),
    [
        (dlcore.cross_entropy_error, (0, 10)),
        (dlcore.cross_entropy_error, (4, 0)),
        (dlcore.cross_entropy_error, (0,)),
        (dlcore.sum_squared_error, (0, 10)),
        (dlcore.sum_squared_error, (3, 0, 10)),
        (dlcore.softmax_loss, (0, 10)),
    ],
)
def test_an_empty_batch_is_an_error_not_nan(loss, shape):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way either
        with pytest.raises(ValueError, match="an empty batch has no mean loss"):
            loss(np.zeros(shape), np.zeros(shape))


def test_empty_labels_are_an_error_too():
    with pytest.raises(ValueError, match="an empty batch"):
        dlcore.cross_entropy_error(np.zeros((0, 10)), np.zeros(0, dtype=int))


@pytest.mark.parametrize(
    ("y", "t", "error", "fragment"),
    [
        (Y, np.array([3, 0, 10, 3]), ValueError, "out of range for 10 classes"),
        (Y, np.array([3, 0, -1, 3]), ValueError, "out of range"),
        (Y, np.array([3, 0]), ValueError, r"must have shape y\.shape\[:-1\]"),
        (Y, np.eye(10)[:3], ValueError, "must have y's shape"),
        (Y, "3", TypeError, "must be an array"),
        (Y, np.array([1 + 0j] * 4), TypeError, "integer class labels or floating one-hot"),
        (np.ones((4, 10), dtype=int), LABELS, TypeError, "floating-point dtype"),
        (np.float64(0.5), np.float64(1.0), ValueError, "at least one axis"),
    ],
    ids=["label-10", "label-neg", "short", "onehot-rows", "str", "complex", "int-y", "0-d"],
)
def test_cross_entropy_bad_inputs_are_named(y, t, error, fragment):
    with pytest.raises(error, match=fragment):
        dlcore.cross_entropy_error(y, t)


@pytest.mark.parametrize(
    "t", [[[0.0, 1.0]], [1], [[0, 1]]], ids=["float-list", "label-list", "int-onehot-list"]
)
def test_python_labels_take_the_library_of_y(t):
    xs = pytest.importorskip("array_api_strict")
    y = xs.asarray([[0.25, 0.75]])
    got = dlcore.cross_entropy_error(y, t)
    assert float(got) == pytest.approx(-np.log(0.75 + 1e-7), rel=1e-12)


def test_python_targets_take_the_library_of_y_in_sum_squared_error():
    xs = pytest.importorskip("array_api_strict")
    y = xs.asarray([[0.25, 0.75]])
    assert float(dlcore.sum_squared_error(y, [[0.0, 1.0]])) == pytest.approx(0.0625)


def test_arrays_of_two_libraries_are_named():
    xs = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match="arrays from different libraries"):
        dlcore.cross_entropy_error(xs.asarray([[0.25, 0.75]]), np.array([[0.0, 1.0]]))


@pytest.mark.parametrize(
    ("y", "t", "fragment"),
    [
        (np.zeros((2, 3)), np.zeros((3, 2)), "must have the same shape"),
        (np.zeros((2, 3)), np.zeros(3), "must have the same shape"),
        (np.zeros((2, 3), dtype=int), np.zeros((2, 3)), "floating-point"),
    ],
)
def test_sum_squared_error_bad_inputs_are_named(y, t, fragment):
    with pytest.raises((ValueError, TypeError), match=fragment):
        dlcore.sum_squared_error(y, t)
