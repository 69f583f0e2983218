"""The book's two-layer network (chapters 4 and 5): numerical and backprop gradients.

``TwoLayerNet(784, 50, 10)`` is the network the book trains on MNIST. It is a
:class:`~dlcore.multi_layer_net.MultiLayerNet` with one hidden layer and the
book's initialisation: ``weight_init_std * N(0, 1)`` weights and zero biases.
"""

from __future__ import annotations

import numpy as np

from .multi_layer_net import (
    MultiLayerNet,
    _check_activation,
    _check_dtype,
    _init_scale,
    _positive_int,
)

__all__ = ["TwoLayerNet"]


class TwoLayerNet(MultiLayerNet):
    """Affine - sigmoid (or ReLU) - affine - softmax, as in the book's ``TwoLayerNet``.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        Layer sizes (the book: 784, 50, 10).
    weight_init_std : float
        Standard deviation of the initial weights (the book's 0.01).
    seed : int or None
        Seed of the host ``numpy.random.default_rng`` that draws ``W1`` then
        ``W2``; the arrays are then moved with the active backend's
        ``asarray``, so every backend starts from the same numbers.
    activation : {"sigmoid", "relu"}
        Hidden activation; ``"sigmoid"`` is the book's chapter-4 network.
    dtype : {"float64", "float32"}
        Dtype of the parameters.

    Attributes
    ----------
    params : dict
        ``W1`` (input, hidden), ``b1`` (hidden,), ``W2`` (hidden, output),
        ``b2`` (output,).

    Notes
    -----
    ``loss(x, t)`` is ``cross_entropy_error(softmax(sigmoid(x @ W1 + b1) @ W2 + b2), t)``;
    ``numerical_gradient(x, t)`` differentiates it by central differences
    (``method="loop"``: the book's ``numerical_gradient`` with
    ``lambda W: self.loss(x, t)``; the default computes the same differences
    with a compiled kernel on the numba backend, or batched Array-API code) and
    ``gradient(x, t)`` by backpropagation through ``Affine``, ``Sigmoid``,
    ``Affine`` and ``SoftmaxWithLoss`` layers.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> net = dlcore.TwoLayerNet(input_size=784, hidden_size=100, output_size=10, seed=0)
    >>> {k: tuple(v.shape) for k, v in net.params.items()}
    {'W1': (784, 100), 'b1': (100,), 'W2': (100, 10), 'b2': (10,)}
    >>> tuple(net.predict(dlcore.asarray(np.zeros((3, 784)))).shape)
    (3, 10)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float = 0.01,
        seed: int | None = None,
        *,
        activation: str = "sigmoid",
        dtype: str = "float64",
    ) -> None:
        sizes = [
            _positive_int(input_size, "input_size"),
            _positive_int(hidden_size, "hidden_size"),
            _positive_int(output_size, "output_size"),
        ]
        scale = _init_scale(weight_init_std, sizes[0])
        self.weight_decay_lambda = 0.0
        self.activation = _check_activation(activation)
        self.dtype = _check_dtype(dtype)
        rng = np.random.default_rng(seed)
        host = {
            "W1": scale * rng.standard_normal((sizes[0], sizes[1])),
            "b1": np.zeros(sizes[1]),
            "W2": scale * rng.standard_normal((sizes[1], sizes[2])),
            "b2": np.zeros(sizes[2]),
        }
        self.params = self._to_backend(host)
