"""The book's own NumPy code, transcribed once: the peer to beat and the tests' reference.

Transcribed as the book writes it from Koki Saito, *Deep Learning from
Scratch* (O'Reilly Japan, 2016), github.com/oreilly-japan/deep-learning-from-scratch
(MIT License, notice below): ``common/functions.py`` (``sigmoid``,
``sigmoid_grad``, ``relu``, ``softmax``), section 4.2.4 (``cross_entropy_error``
for one-hot ``t``), ``common/gradient.py`` (``numerical_gradient``),
``ch03/neuralnet_mnist.py`` (``predict``) and ``ch04/two_layer_net.py``
(``TwoLayerNet``); chapter 5's training is in :mod:`dlcore.bench.book_train`.
Changes: type hints, docstrings, English comments, and the keyword ``h`` of
``numerical_gradient`` (the book fixes ``h = 1e-4``, the default).
dlcore's own implementations live elsewhere; nothing here is used by them.

Examples
--------
>>> import numpy as np
>>> from dlcore.bench import book
>>> book.softmax(np.array([0.0, 0.0]))
array([0.5, 0.5])
"""

# The MIT License (MIT)
#
# Copyright (c) 2016 Koki Saitoh
#
# Permission is hereby granted, free of charge, to any person obtaining a copy
# of this software and associated documentation files (the "Software"), to deal
# in the Software without restriction, including without limitation the rights
# to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
# copies of the Software, and to permit persons to whom the Software is
# furnished to do so, subject to the following conditions:
#
# The above copyright notice and this permission notice shall be included in all
# copies or substantial portions of the Software.
#
# THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
# IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
# FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
# AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
# LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
# OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
# SOFTWARE.

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "TwoLayerNet",
    "cross_entropy_error",
    "numerical_gradient",
    "predict",
    "relu",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
]


# -- common/functions.py --------------------------------------------------------
def sigmoid(x: Any) -> Any:
    """The book's ``sigmoid``: ``1 / (1 + exp(-x))``."""
    return 1 / (1 + np.exp(-x))


def sigmoid_grad(x: Any) -> Any:
    """The book's ``sigmoid_grad``: ``(1 - sigmoid(x)) * sigmoid(x)``."""
    return (1.0 - sigmoid(x)) * sigmoid(x)


def relu(x: Any) -> Any:
    """The book's ``relu``: ``max(0, x)``."""
    return np.maximum(0, x)


def softmax(x: Any) -> Any:
    """The book's ``softmax`` along the last axis, shifted by the maximum against overflow."""
    x = x - np.max(x, axis=-1, keepdims=True)  # against overflow
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


# -- section 4.2.4: mini-batch cross-entropy, one-hot t -------------------------
def cross_entropy_error(y: Any, t: Any) -> Any:
    """The book's mini-batch ``cross_entropy_error`` for one-hot (or soft) ``t``.

    ``-sum(t * log(y + 1e-7)) / batch_size``; a single sample is made a batch of one.
    """
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    batch_size = y.shape[0]
    return -np.sum(t * np.log(y + 1e-7)) / batch_size


# -- common/gradient.py -----------------------------------------------------------
def numerical_gradient(f: Callable[[Any], Any], x: Any, *, h: float = 1e-4) -> Any:
    """The book's ``numerical_gradient`` (ch. 4): central differences, one element at a time.

    Each element of ``x`` is perturbed in place by ``+h`` and ``-h`` and restored.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.bench.book import numerical_gradient
    >>> numerical_gradient(lambda x: np.sum(x**2), np.array([3.0, 4.0]))
    array([6., 8.])
    """
    grad = np.zeros_like(x)

    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        idx = it.multi_index
        tmp_val = x[idx]
        x[idx] = float(tmp_val) + h
        fxh1 = f(x)  # f(x+h)

        x[idx] = tmp_val - h
        fxh2 = f(x)  # f(x-h)
        grad[idx] = (fxh1 - fxh2) / (2 * h)

        x[idx] = tmp_val  # restore the value
        it.iternext()

    return grad


# -- ch03/neuralnet_mnist.py --------------------------------------------------------
def predict(network: Mapping[str, Any], x: Any) -> Any:
    """The book's ``predict`` (ch. 3): three layers, sigmoid hidden layers, softmax output.

    Parameters
    ----------
    network : dict
        ``W1, b1, W2, b2, W3, b3`` as NumPy arrays (the book's ``sample_weight.pkl``).
    x : numpy.ndarray
        One image (784,) or a batch (N, 784).

    Returns
    -------
    numpy.ndarray
        Softmax probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.bench.book import predict
    >>> net = {f"{p}{i}": np.zeros((2, 2)) if p == "W" else np.zeros(2)
    ...        for i in (1, 2, 3) for p in "Wb"}
    >>> predict(net, np.array([1.0, 2.0]))
    array([0.5, 0.5])
    """
    W1, W2, W3 = network["W1"], network["W2"], network["W3"]
    b1, b2, b3 = network["b1"], network["b2"], network["b3"]

    a1 = np.dot(x, W1) + b1
    z1 = sigmoid(a1)
    a2 = np.dot(z1, W2) + b2
    z2 = sigmoid(a2)
    a3 = np.dot(z2, W3) + b3
    y = softmax(a3)

    return y  # noqa: RET504 - as the book writes it


# -- ch04/two_layer_net.py ----------------------------------------------------------
class TwoLayerNet:
    """The book's ``TwoLayerNet`` (ch. 4): loss, numerical gradient and the backprop gradient.

    ``t`` is one-hot, as in the book's training script (``one_hot_label=True``).

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.bench.book import TwoLayerNet
    >>> net = TwoLayerNet(input_size=3, hidden_size=2, output_size=2)
    >>> sorted(net.params)
    ['W1', 'W2', 'b1', 'b2']
    >>> x, t = np.ones((1, 3)), np.array([[0.0, 1.0]])
    >>> g = net.gradient(x, t)
    >>> n = net.numerical_gradient(x, t)
    >>> bool(np.allclose(g["W2"], n["W2"], atol=1e-6))
    True
    """

    def __init__(
        self, input_size: int, hidden_size: int, output_size: int, weight_init_std: float = 0.01
    ) -> None:
        # initialise the weights (the book draws from NumPy's global generator)
        self.params: dict[str, Any] = {}
        self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)  # noqa: NPY002
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * np.random.randn(hidden_size, output_size)  # noqa: NPY002
        self.params["b2"] = np.zeros(output_size)

    def predict(self, x: Any) -> Any:
        """Class probabilities: sigmoid hidden layer, softmax output."""
        W1, W2 = self.params["W1"], self.params["W2"]
        b1, b2 = self.params["b1"], self.params["b2"]

        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        y = softmax(a2)

        return y  # noqa: RET504 - as the book writes it

    # x: input data, t: teacher labels (one-hot)
    def loss(self, x: Any, t: Any) -> Any:
        """``cross_entropy_error(predict(x), t)``."""
        y = self.predict(x)

        return cross_entropy_error(y, t)

    def accuracy(self, x: Any, t: Any) -> float:
        """The fraction of rows whose argmax matches ``t``'s."""
        y = self.predict(x)
        y = np.argmax(y, axis=1)
        t = np.argmax(t, axis=1)

        accuracy = np.sum(y == t) / float(x.shape[0])
        return float(accuracy)

    # x: input data, t: teacher labels (one-hot)
    def numerical_gradient(self, x: Any, t: Any) -> dict[str, Any]:
        """The gradient of :meth:`loss` by :func:`numerical_gradient`, parameter by parameter."""
        loss_W = lambda W: self.loss(x, t)  # noqa: E731 - as the book writes it

        grads = {}
        grads["W1"] = numerical_gradient(loss_W, self.params["W1"])
        grads["b1"] = numerical_gradient(loss_W, self.params["b1"])
        grads["W2"] = numerical_gradient(loss_W, self.params["W2"])
        grads["b2"] = numerical_gradient(loss_W, self.params["b2"])

        return grads

    def gradient(self, x: Any, t: Any) -> dict[str, Any]:
        """The gradient of :meth:`loss` by backpropagation (``dy = (y - t) / batch_num``)."""
        W1, W2 = self.params["W1"], self.params["W2"]
        b1, b2 = self.params["b1"], self.params["b2"]
        grads = {}

        batch_num = x.shape[0]

        # forward
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        y = softmax(a2)

        # backward
        dy = (y - t) / batch_num
        grads["W2"] = np.dot(z1.T, dy)
        grads["b2"] = np.sum(dy, axis=0)

        da1 = np.dot(dy, W2.T)
        dz1 = sigmoid_grad(a1) * da1
        grads["W1"] = np.dot(x.T, dz1)
        grads["b1"] = np.sum(dz1, axis=0)

        return grads
