"""NumPy float64 references for the conformance kit, written from the formulas.

Nothing here calls dlcore: each function is the textbook formula in NumPy
float64 (the book's chapters 2-6 and the papers its activations come from),
so a backend is compared with an independent computation, not with itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

F = np.ndarray
DELTA = 1e-7  # the book's cross-entropy delta
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def sigmoid(x: F) -> F:
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x: F) -> F:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def elu(x: F, alpha: float) -> F:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


#: name -> (f, f') of the element-wise activations, with their default parameters.
ACTIVATIONS: dict[str, tuple[Callable[[F], F], Callable[[F], F]]] = {
    "identity_function": (lambda x: x, np.ones_like),
    "step_function": (lambda x: (x > 0).astype(np.float64), np.zeros_like),
    "sigmoid": (sigmoid, lambda x: sigmoid(x) * (1.0 - sigmoid(x))),
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(np.float64)),
    "tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2),
    "leaky_relu": (lambda x: np.where(x > 0, x, 0.01 * x), lambda x: np.where(x > 0, 1.0, 0.01)),
    "elu": (lambda x: elu(x, 1.0), lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0)))),
    "selu": (
        lambda x: SELU_SCALE * elu(x, SELU_ALPHA),
        lambda x: SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0.0))),
    ),
}


def cross_entropy(y: F, t: F) -> float:
    """Mean over the batch of ``-sum(t * log(y + delta))`` (``t`` one-hot)."""
    n = y.shape[0] if y.ndim == 2 else 1
    return float(-np.sum(t * np.log(y + DELTA)) / n)


def one_hot(labels: F, classes: int) -> F:
    return np.eye(classes)[labels]


def forward(arrays: Sequence[F], x: F, activation: str = "sigmoid") -> F:
    """The book's MLP: affine + activation per hidden layer, softmax at the end."""
    act = ACTIVATIONS[activation][0]
    h = x
    for i in range(0, len(arrays), 2):
        h = h @ arrays[i] + arrays[i + 1]
        if i < len(arrays) - 2:
            h = act(h)
    return softmax(h)


def mlp_loss(arrays: Sequence[F], x: F, t: F, activation: str = "sigmoid") -> float:
    return cross_entropy(forward(arrays, x, activation), t)


def backprop(arrays: Sequence[F], x: F, t: F, activation: str = "sigmoid") -> list[F]:
    """Analytic gradient of :func:`mlp_loss` without the delta: (y - t) / N backwards."""
    act, grad = ACTIVATIONS[activation]
    zs, hs = [], [x]
    for i in range(0, len(arrays), 2):
        z = hs[-1] @ arrays[i] + arrays[i + 1]
        zs.append(z)
        hs.append(act(z) if i < len(arrays) - 2 else softmax(z))
    d = (hs[-1] - t) / x.shape[0]
    out: list[F] = [np.empty(0)] * len(arrays)
    for layer in range(len(arrays) // 2 - 1, -1, -1):
        out[2 * layer] = hs[layer].T @ d
        out[2 * layer + 1] = d.sum(axis=0)
        if layer:
            d = (d @ arrays[2 * layer].T) * grad(zs[layer - 1])
    return out


def numerical_gradient(f: Callable[[F], float], x: F, h: float = 1e-4) -> F:
    """Central differences, one element at a time (the book's algorithm), in float64."""
    x = x.astype(np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        keep = x[i]
        x[i] = keep + h
        up = f(x)
        x[i] = keep - h
        down = f(x)
        x[i] = keep
        g[i] = (up - down) / (2 * h)
    return g


def mlp_numerical_gradient(
    arrays: Sequence[F], x: F, t: F, activation: str = "sigmoid", h: float = 1e-4
) -> list[F]:
    work = [a.astype(np.float64) for a in arrays]
    grads = []
    for k in range(len(work)):

        def f(w: F, k: int = k) -> float:
            return mlp_loss([w if j == k else a for j, a in enumerate(work)], x, t, activation)

        grads.append(numerical_gradient(f, work[k], h))
    return grads
