"""The book's chapter-5 training, transcribed once: the training peer to beat.

Transcribed as the book writes it from Koki Saito, *Deep Learning from
Scratch* (O'Reilly Japan, 2016), github.com/oreilly-japan/deep-learning-from-scratch
(MIT License, notice below): ``common/layers.py`` (``Relu``, ``Sigmoid``,
``Affine``, ``SoftmaxWithLoss``), ``common/functions.py``'s label-aware
``cross_entropy_error`` (here ``cross_entropy_error_ch5``),
``ch05/two_layer_net.py`` (``TwoLayerNet``, here ``LayerTwoLayerNet``) and the
loop of ``ch05/train_neuralnet.py`` (:func:`train_neuralnet`). Changes: type
hints, docstrings, English comments, and the script made a function of its
data and iteration count (it prints nothing; chapter 5's numerical-gradient
method is left out). The book's ``sigmoid`` and ``softmax`` are in :mod:`dlcore.bench.book`.
dlcore's own implementations live elsewhere; nothing here is used by them.
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

from collections import OrderedDict
from typing import Any

import numpy as np

from .book import sigmoid, softmax

__all__ = [
    "Affine",
    "LayerTwoLayerNet",
    "Relu",
    "Sigmoid",
    "SoftmaxWithLoss",
    "cross_entropy_error_ch5",
    "train_neuralnet",
]


# -- common/functions.py (the label-aware version chapter 5 uses) ----------------------
def cross_entropy_error_ch5(y: Any, t: Any) -> Any:
    """``common/functions.py``'s ``cross_entropy_error``: one-hot ``t`` becomes labels first."""
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)

    # one-hot teacher data: convert to the index of the right label
    if t.size == y.size:
        t = t.argmax(axis=1)

    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


# -- common/layers.py -------------------------------------------------------------------
class Relu:
    """The book's ``Relu`` layer: remembers where the input was <= 0."""

    def __init__(self) -> None:
        self.mask: Any = None

    def forward(self, x: Any) -> Any:
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0

        return out

    def backward(self, dout: Any) -> Any:
        dout[self.mask] = 0
        dx = dout

        return dx  # noqa: RET504 - as the book writes it


class Sigmoid:
    """The book's ``Sigmoid`` layer: backward ``dout * (1 - out) * out``."""

    def __init__(self) -> None:
        self.out: Any = None

    def forward(self, x: Any) -> Any:
        out = sigmoid(x)
        self.out = out
        return out

    def backward(self, dout: Any) -> Any:
        dx = dout * (1.0 - self.out) * self.out

        return dx  # noqa: RET504 - as the book writes it


class Affine:
    """The book's ``Affine`` layer ``x @ W + b``, holding references to ``W`` and ``b``."""

    def __init__(self, W: Any, b: Any) -> None:
        self.W = W
        self.b = b
        self.x: Any = None
        self.original_x_shape: Any = None
        # derivatives of the weight and bias parameters
        self.dW: Any = None
        self.db: Any = None

    def forward(self, x: Any) -> Any:
        # tensor inputs
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x

        out = np.dot(self.x, self.W) + self.b

        return out  # noqa: RET504 - as the book writes it

    def backward(self, dout: Any) -> Any:
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)

        dx = dx.reshape(*self.original_x_shape)  # back to the input's shape (tensors)
        return dx  # noqa: RET504 - as the book writes it


class SoftmaxWithLoss:
    """The book's ``SoftmaxWithLoss`` layer: softmax and cross-entropy, backward ``(y - t) / N``."""

    def __init__(self) -> None:
        self.loss: Any = None
        self.y: Any = None  # softmax output
        self.t: Any = None  # teacher data

    def forward(self, x: Any, t: Any) -> Any:
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error_ch5(self.y, self.t)

        return self.loss

    def backward(self, dout: Any = 1) -> Any:
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:  # one-hot teacher data
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size

        return dx


# -- ch05/two_layer_net.py --------------------------------------------------------------
class LayerTwoLayerNet:
    """Chapter 5's ``TwoLayerNet``: Affine, Relu, Affine and SoftmaxWithLoss layers.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.bench.book_train import LayerTwoLayerNet
    >>> net = LayerTwoLayerNet(input_size=3, hidden_size=4, output_size=2)
    >>> sorted(net.gradient(np.ones((2, 3)), np.array([0, 1])))
    ['W1', 'W2', 'b1', 'b2']
    """

    def __init__(
        self, input_size: int, hidden_size: int, output_size: int, weight_init_std: float = 0.01
    ) -> None:
        # initialise the weights
        self.params: dict[str, Any] = {}
        self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)  # noqa: NPY002
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * np.random.randn(hidden_size, output_size)  # noqa: NPY002
        self.params["b2"] = np.zeros(output_size)

        # build the layers
        self.layers: OrderedDict[str, Any] = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])

        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x: Any) -> Any:
        for layer in self.layers.values():
            x = layer.forward(x)

        return x

    # x: input data, t: teacher data
    def loss(self, x: Any, t: Any) -> Any:
        y = self.predict(x)
        return self.lastLayer.forward(y, t)

    def accuracy(self, x: Any, t: Any) -> float:
        y = self.predict(x)
        y = np.argmax(y, axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)

        accuracy = np.sum(y == t) / float(x.shape[0])
        return float(accuracy)

    def gradient(self, x: Any, t: Any) -> dict[str, Any]:
        # forward
        self.loss(x, t)

        # backward
        dout = 1
        dout = self.lastLayer.backward(dout)

        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)

        # the gradients
        grads = {}
        grads["W1"], grads["b1"] = self.layers["Affine1"].dW, self.layers["Affine1"].db
        grads["W2"], grads["b2"] = self.layers["Affine2"].dW, self.layers["Affine2"].db

        return grads


# -- ch05/train_neuralnet.py ------------------------------------------------------------
def train_neuralnet(
    network: LayerTwoLayerNet,
    x_train: Any,
    t_train: Any,
    x_test: Any,
    t_test: Any,
    *,
    iters_num: int = 10000,
) -> dict[str, list[float]]:
    """The loop of ``ch05/train_neuralnet.py``: batch 100, learning rate 0.1, SGD in place.

    The batches come from NumPy's global generator (``np.random.choice``), as in
    the book; the accuracies are measured every epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.bench.book_train import LayerTwoLayerNet, train_neuralnet
    >>> x = np.eye(4); t = np.eye(4)[:, :2][[0, 1, 0, 1]]
    >>> h = train_neuralnet(LayerTwoLayerNet(4, 3, 2), x, t, x, t, iters_num=3)
    >>> len(h["train_loss_list"]), len(h["test_acc_list"])
    (3, 3)
    """
    train_size = x_train.shape[0]
    batch_size = 100
    learning_rate = 0.1

    train_loss_list = []
    train_acc_list = []
    test_acc_list = []

    iter_per_epoch = max(train_size / batch_size, 1)

    for i in range(iters_num):
        batch_mask = np.random.choice(train_size, batch_size)  # noqa: NPY002
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]

        # gradient by backpropagation
        grad = network.gradient(x_batch, t_batch)

        # update
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= learning_rate * grad[key]

        loss = network.loss(x_batch, t_batch)
        train_loss_list.append(float(loss))

        if i % iter_per_epoch == 0:
            train_acc = network.accuracy(x_train, t_train)
            test_acc = network.accuracy(x_test, t_test)
            train_acc_list.append(train_acc)
            test_acc_list.append(test_acc)

    return {
        "train_loss_list": train_loss_list,
        "train_acc_list": train_acc_list,
        "test_acc_list": test_acc_list,
    }
