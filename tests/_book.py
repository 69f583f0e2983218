"""The book's code for the tests: :mod:`dlcore.bench.book` re-exported, plus test-only helpers.

The book's functions (``sigmoid``, ``relu``, ``softmax``, ``cross_entropy_error``,
``numerical_gradient``, ch. 3 ``predict``, ch. 4 ``TwoLayerNet``) have one
transcription, ``dlcore/bench/book.py``. What is defined here is not the
book's code: ``make_params`` and ``one_hot`` build inputs; ``forward``,
``loss`` and ``book_loop`` are the book's ``predict``, ``TwoLayerNet.loss`` and
``TwoLayerNet.numerical_gradient`` for any depth and for ReLU, built from the
book's functions; ``backprop`` is ``TwoLayerNet.gradient`` or, with the book's
``delta = 1e-7`` inside the log, the exact derivative (which backprop layers
usually ignore).
"""

from __future__ import annotations

import itertools

import numpy as np

from dlcore.bench.book import (
    TwoLayerNet,
    cross_entropy_error,
    numerical_gradient,
    predict,
    relu,
    sigmoid,
    sigmoid_grad,
    softmax,
)

__all__ = [
    "DELTA",
    "TwoLayerNet",
    "backprop",
    "book_loop",
    "cross_entropy_error",
    "forward",
    "loss",
    "make_params",
    "numerical_gradient",
    "one_hot",
    "predict",
    "relu",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
]

DELTA = 1e-7  # the book's delta inside the log of cross_entropy_error


def make_params(sizes: list[int], rng: np.random.Generator, scale: float = 0.5) -> dict:
    """``W1, b1, ..., Wn, bn`` for layer sizes ``sizes``, drawn from ``rng`` (float64)."""
    params = {}
    for k, (a, b) in enumerate(itertools.pairwise(sizes), start=1):
        params[f"W{k}"] = scale * rng.standard_normal((a, b))
        params[f"b{k}"] = 0.1 * rng.standard_normal(b)
    return params


def one_hot(t: np.ndarray, c: int) -> np.ndarray:
    """Integer labels as one-hot rows of ``c`` classes; other targets as float unchanged."""
    return np.eye(c)[t] if np.issubdtype(t.dtype, np.integer) else np.asarray(t, dtype=float)


def forward(params: dict, x: np.ndarray, activation: str = "sigmoid") -> np.ndarray:
    """The book's ``predict`` for any depth: ``activation`` hidden layers, softmax output."""
    act = sigmoid if activation == "sigmoid" else relu
    n = len(params) // 2
    z = x
    for k in range(1, n):
        z = act(np.dot(z, params[f"W{k}"]) + params[f"b{k}"])
    return softmax(np.dot(z, params[f"W{n}"]) + params[f"b{n}"])


def loss(params: dict, x: np.ndarray, t: np.ndarray, activation: str = "sigmoid") -> float:
    """The book's ``TwoLayerNet.loss`` for any depth, in float64; labels become one-hot."""
    y = forward(params, np.asarray(x, dtype=float), activation)
    return float(cross_entropy_error(y, one_hot(np.asarray(t), y.shape[-1])))


def book_loop(
    params: dict, x: np.ndarray, t: np.ndarray, h: float = 1e-4, activation: str = "sigmoid"
) -> dict:
    """The book's ``TwoLayerNet.numerical_gradient`` for any depth, on float64 copies."""
    work = {k: np.array(v, dtype=np.float64) for k, v in params.items()}

    def loss_w(w: np.ndarray) -> float:  # the book's ``lambda W: self.loss(x, t)``
        return loss(work, x, t, activation)

    return {key: numerical_gradient(loss_w, work[key], h=h) for key in work}


def backprop(params: dict, x: np.ndarray, t: np.ndarray, *, with_delta: bool) -> dict:
    """The gradient of a 2-layer sigmoid network's softmax cross-entropy.

    ``with_delta=False``: the book's ``TwoLayerNet.gradient`` (``dy = (y - t) / N``).
    ``with_delta=True``: the derivative of ``-sum(t log(y + delta)) / N`` itself,
    through the softmax Jacobian (not the book's code).
    """
    w1, b1, w2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    tt = one_hot(np.asarray(t), w2.shape[1])
    if not with_delta:
        net = TwoLayerNet.__new__(TwoLayerNet)  # the book's methods on these params
        net.params = dict(params)
        return net.gradient(x, tt)
    n = x.shape[0]
    z1 = sigmoid(x @ w1 + b1)
    y = softmax(z1 @ w2 + b2)
    g = -tt / (y + DELTA)
    da2 = y * (g - np.sum(g * y, axis=1, keepdims=True)) / n
    da1 = (da2 @ w2.T) * z1 * (1.0 - z1)
    return {"W1": x.T @ da1, "b1": da1.sum(axis=0), "W2": z1.T @ da2, "b2": da2.sum(axis=0)}
