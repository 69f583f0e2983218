"""Walk the printed numbers and formulas of the five study notes dlcore grew from.

Each case quotes a seed (``shared/seeds/``) and checks dlcore against the
number or formula the seed prints. The expected values are the seeds' own,
never computed by dlcore. Where the seed files are beside the repository (a
developer's checkout, CI), each quote is also looked up in its seed, so a
case cannot drift from the text it claims to check.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import dlcore

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
FILES = {
    "000": "000_0fb7a3aa24909879.txt",
    "001": "001_a93f700c06c07166.txt",
    "002": "002_556f1ba2f35af4a4.txt",
    "003": "003_f1b2229c07dbe5e2.txt",
    "004": "004_207a45ca8565a609.decoded.txt",
}
INPUTS = [(0, 0), (1, 0), (0, 1), (1, 1)]


def _gate(w1: float, w2: float, theta: float) -> list[int]:
    p = dlcore.Perceptron((w1, w2), -theta)
    return [int(p(a, b)) for a, b in INPUTS]


def _xor_wiring(first: Callable, second: Callable, out: Callable) -> list[str]:
    return [f"{np.array(i)} -> {out(first(*i), second(*i))}" for i in INPUTS]


def _np(x: object) -> np.ndarray:
    return np.asarray(dlcore.to_numpy(x))


def _book_accuracy() -> float:
    x, t = dlcore.load_mnist_test(normalize=True, flatten=True)
    y = dlcore.predict(dlcore.load_book_network(), x)
    return float(np.mean(np.argmax(_np(y), axis=1) == _np(t)))


def _naive_softmax_is_nan_and_dlcore_is_not() -> bool:
    a = np.array([1010.0, 1000.0, 990.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(a) / np.sum(np.exp(a))  # the seed's line
    shifted = np.exp(a - 1010.0) / np.sum(np.exp(a - 1010.0))  # the seed's fix, by hand
    return bool(np.all(np.isnan(naive))) and bool(np.allclose(_np(dlcore.softmax(a)), shifted))


def _formula(fn: Callable, reference: Callable) -> bool:
    x = np.array([-3.0, -1.0, -0.25, 0.0, 0.25, 1.0, 3.0])
    return bool(np.allclose(_np(fn(x)), reference(x), rtol=1e-12, atol=1e-15))


A2 = np.array([[1, 2], [3, 4]])
B2 = np.array([[5, 6], [7, 8]])
B32 = np.array([[1, 2], [3, 4], [5, 6]])
T = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
Y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])

#: (seed, quote from the seed, what dlcore gives, what the seed prints)
CASES: list[tuple[str, str, Callable[[], object], object]] = [
    # 000: the gates and the matrix products
    ("000", "w1, w2, theta = 0.5, 0.5, 0.7", lambda: _gate(0.5, 0.5, 0.7), [0, 0, 0, 1]),
    ("000", "w1, w2, theta = -0.5, -0.5, -0.7", lambda: _gate(-0.5, -0.5, -0.7), [1, 1, 1, 0]),
    ("000", "w1, w2, theta = 0.5, 0.5, 0.2", lambda: _gate(0.5, 0.5, 0.2), [0, 1, 1, 1]),
    ("000", "# [[19 22] [43 50]]", lambda: (A2 @ B2).tolist(), [[19, 22], [43, 50]]),
    ("000", "# [[23 34] [31 46]]", lambda: (B2 @ A2).tolist(), [[23, 34], [31, 46]]),
    # the seed's A is [1 2 3 4], which cannot multiply a (3, 2) B; [22 28] is [1 2 3] @ B
    ("000", "# [22 28]", lambda: (np.array([1, 2, 3]) @ B32).tolist(), [22, 28]),
    ("000", "XOR(x1, x2)", lambda: [dlcore.XOR(a, b) for a, b in INPUTS], [0, 1, 1, 0]),
    # 001: the XOR wirings, the step function, softmax's overflow, linear layers
    (
        "001",
        "1. (AND, NAND) - > (OR)일때",
        lambda: _xor_wiring(dlcore.AND, dlcore.NAND, dlcore.OR),
        ["[0 0] -> 1", "[1 0] -> 1", "[0 1] -> 1", "[1 1] -> 1"],
    ),
    (
        "001",
        "2. (AND, OR) -> (NAND)일때",
        lambda: _xor_wiring(dlcore.AND, dlcore.OR, dlcore.NAND),
        ["[0 0] -> 1", "[1 0] -> 1", "[0 1] -> 1", "[1 1] -> 0"],
    ),
    ("001", "print(step_function(1))", lambda: float(dlcore.step_function(np.array(1.0))), 1.0),
    (
        "001",
        "array([ nan,  nan,  nan])",
        lambda: _naive_softmax_is_nan_and_dlcore_is_not(),
        True,
    ),
    (
        "001",
        "array([  0, -10, -20])",
        lambda: (np.array([1010, 1000, 990]) - np.max([1010, 1000, 990])).tolist(),
        [0, -10, -20],
    ),
    (
        "001",
        "S(x) = \\frac{1}{1 + e^{-x}} = \\frac{e^x}{e^x + 1} = 1 - S(-x)",
        lambda: _formula(dlcore.sigmoid, lambda x: 1 - 1 / (1 + np.exp(x))),
        True,
    ),
    ("001", "`np.arange(3) + 5`", lambda: (np.arange(3) + 5).tolist(), [5, 6, 7]),
    # 002: gate parameters, the book's accuracy, the losses, the numerical derivative
    ("002", "(0.5, 0.5, 0.8)이나", lambda: _gate(0.5, 0.5, 0.8), [0, 0, 0, 1]),
    ("002", "(1.0, 1.0, 1.0) 일때", lambda: _gate(1.0, 1.0, 1.0), [0, 0, 0, 1]),
    ("002", "(w_1, w_2, θ) = (0.5, 0.5, 0.3)", lambda: _gate(0.5, 0.5, 0.3), [0, 1, 1, 1]),
    ("002", "0.9352의 정확도를 가집니다", _book_accuracy, 0.9352),
    (
        "002",
        "-log0.6으로 결과는 0.51이 됩니다",
        lambda: round(
            float(dlcore.cross_entropy_error(np.array([0.4, 0.6]), np.array([0.0, 1.0]))), 2
        ),
        0.51,
    ),
    (
        "002",
        "return 0.5 * np.sum((y-t)**2)",
        lambda: round(float(dlcore.mean_squared_error(Y, T)), 12),
        0.0975,
    ),
    (
        "002",
        "진정한 미분은 0.2와 0.3입니다",
        lambda: [
            round(dlcore.numerical_diff(lambda x: 0.01 * x**2 + 0.1 * x, v), 8) for v in (5, 10)
        ],
        [0.2, 0.3],
    ),
    # 003: the lecture's formulas
    (
        "003",
        "\\tanh(x) = \\frac{e^x - e^{-x}}{e^x + e^{-x}}",
        lambda: _formula(
            dlcore.tanh, lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))
        ),
        True,
    ),
    (
        "003",
        "\\text{LeakyReLU}(x) = \\max(0.01x, x)",
        lambda: _formula(dlcore.leaky_relu, lambda x: np.maximum(0.01 * x, x)),
        True,
    ),
    (
        "003",
        "\\text{PReLU}(x; \\alpha) = \\max(\\alpha x, x)",
        lambda: _formula(lambda x: dlcore.prelu(x, 0.3), lambda x: np.maximum(0.3 * x, x)),
        True,
    ),
    (
        "003",
        "ELU(x) = \\begin{cases} x & \\text{if } x \\geq 0 \\\\ (e^x - 1)",
        lambda: _formula(dlcore.elu, lambda x: np.where(x >= 0, x, np.exp(x) - 1)),
        True,
    ),
    (
        "003",
        "SELU(x; \\alpha) = \\begin{cases} x & \\text{if } x \\geq 0 \\\\ \\alpha(e^x - 1)",
        lambda: _formula(
            lambda x: dlcore.selu(x, alpha=1.7, scale=1.0),
            lambda x: np.where(x >= 0, x, 1.7 * (np.exp(x) - 1)),
        ),
        True,
    ),
    (
        "003",
        "\\text{softmax}(x) = \\frac{e^{x_i}}{\\sum_j e^{x_j}}",
        lambda: _formula(dlcore.softmax, lambda x: np.exp(x) / np.exp(x).sum()),
        True,
    ),
    # 004: its "mean squared error" and the partial derivatives at (3, 4)
    (
        "004",
        "return 0.5 * np.sum((y-t)**2)",
        lambda: round(float(dlcore.mean_squared_error(Y, T)), 12),
        0.0975,
    ),
    # the slide writes df/dx0 = 2 x0 + 4^2; the constant 4^2 drops out: 2 * 3 = 6
    (
        "004",
        "$x_0$ = 3, $x_1$=4",
        lambda: [
            round(v, 6)
            for v in dlcore.to_numpy(
                dlcore.numerical_gradient(lambda x: x[0] ** 2 + x[1] ** 2, np.array([3.0, 4.0]))
            ).tolist()
        ],
        [6.0, 8.0],
    ),
    ("004", "b = -0.7", lambda: [dlcore.AND(a, b) for a, b in INPUTS], [0, 0, 0, 1]),
]


@pytest.mark.parametrize(("seed", "quote", "compute", "printed"), CASES, ids=lambda v: None)
def test_seed_number(seed, quote, compute, printed):
    if SEEDS.is_dir():  # a checkout with shared/ beside it: the quote must be the seed's
        assert quote in (SEEDS / FILES[seed]).read_text(encoding="utf-8"), (seed, quote)
    got = compute()
    if isinstance(printed, float):
        assert math.isclose(float(got), printed, rel_tol=1e-12), (seed, quote, got)
    else:
        assert got == printed, (seed, quote, got)


def test_every_seed_is_walked():
    assert {case[0] for case in CASES} == set(FILES)
