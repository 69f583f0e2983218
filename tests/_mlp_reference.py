"""Independent NumPy float64 references for the MLP gradient tests (not dlcore code).

``loss`` is the book's TwoLayerNet loss written out in NumPy, ``book_loop``
the book's ``numerical_gradient`` loop over it, and ``backprop`` the
analytic gradient of a sigmoid network (optionally with the book's
``delta = 1e-7`` inside the log, which backprop layers usually ignore).
"""

from __future__ import annotations

import itertools

import numpy as np

DELTA = 1e-7


def make_params(sizes: list[int], rng: np.random.Generator, scale: float = 0.5) -> dict:
    params = {}
    for k, (a, b) in enumerate(itertools.pairwise(sizes), start=1):
        params[f"W{k}"] = scale * rng.standard_normal((a, b))
        params[f"b{k}"] = 0.1 * rng.standard_normal(b)
    return params


def one_hot(t: np.ndarray, c: int) -> np.ndarray:
    return np.eye(c)[t] if np.issubdtype(t.dtype, np.integer) else np.asarray(t, dtype=float)


def _act(a: np.ndarray, activation: str) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a)) if activation == "sigmoid" else np.maximum(a, 0.0)


def loss(params: dict, x: np.ndarray, t: np.ndarray, activation: str = "sigmoid") -> float:
    n = len(params) // 2
    z = np.asarray(x, dtype=float)
    for k in range(1, n):
        z = _act(z @ params[f"W{k}"] + params[f"b{k}"], activation)
    a = z @ params[f"W{n}"] + params[f"b{n}"]
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    y = e / e.sum(axis=-1, keepdims=True)
    tt = one_hot(np.asarray(t), a.shape[-1])
    return float(-np.sum(tt * np.log(y + DELTA)) / np.atleast_2d(a).shape[0])


def book_loop(
    params: dict, x: np.ndarray, t: np.ndarray, h: float = 1e-4, activation: str = "sigmoid"
) -> dict:
    """The book's loop on float64 copies: perturb one element, two losses, restore."""
    work = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    grads = {}
    for key, w in work.items():
        g = np.zeros_like(w)
        it = np.nditer(w, flags=["multi_index"])
        while not it.finished:
            idx = it.multi_index
            tmp = float(w[idx])
            w[idx] = tmp + h
            f1 = loss(work, x, t, activation)
            w[idx] = tmp - h
            f2 = loss(work, x, t, activation)
            w[idx] = tmp
            g[idx] = (f1 - f2) / (2 * h)
            it.iternext()
        grads[key] = g
    return grads


def backprop(params: dict, x: np.ndarray, t: np.ndarray, *, with_delta: bool) -> dict:
    """Analytic gradient of a 2-layer sigmoid network's softmax cross-entropy."""
    w1, b1, w2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    n = x.shape[0]
    z1 = 1.0 / (1.0 + np.exp(-(x @ w1 + b1)))
    a2 = z1 @ w2 + b2
    e = np.exp(a2 - a2.max(axis=1, keepdims=True))
    y = e / e.sum(axis=1, keepdims=True)
    tt = one_hot(np.asarray(t), y.shape[1])
    if with_delta:  # d/da of -sum t log(y + delta), through the softmax Jacobian
        g = -tt / (y + DELTA)
        da2 = y * (g - np.sum(g * y, axis=1, keepdims=True)) / n
    else:  # the book's SoftmaxWithLoss: (y - t) / n
        da2 = (y - tt) / n
    dz1 = da2 @ w2.T
    da1 = dz1 * z1 * (1.0 - z1)
    return {"W1": x.T @ da1, "b1": da1.sum(axis=0), "W2": z1.T @ da2, "b2": da2.sum(axis=0)}
