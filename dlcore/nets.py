"""The book's networks: ``TwoLayerNet`` (chapters 4 and 5) and ``MultiLayerNet`` (chapter 6).

``params`` is a plain dict ``W1, b1, ..., Wn, bn`` (the network contract of
:mod:`dlcore.network`), so a trained sigmoid network can be passed straight
to :func:`dlcore.predict` and :func:`dlcore.save_weights`. Weights are drawn
on the host with a seeded NumPy generator and then moved to the active
backend, so every backend starts from the same numbers. The backprop
gradient is the active backend's :meth:`~dlcore.backends.Backend.mlp_gradient`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._validate import as_array, check_positive_int, namespace
from .activations import softmax
from .losses import cross_entropy_error
from .network import check_input, forward_layers, layer_arrays
from .numgrad import book_loop, check_activation
from .predictor import predict_mlp as _predict_mlp

__all__ = ["MultiLayerNet", "TwoLayerNet", "accuracy_of"]

_DTYPES = ("float32", "float64")


def _check_dtype(dtype: Any) -> str:
    name = dtype if isinstance(dtype, str) else getattr(np.dtype(dtype), "name", str(dtype))
    if name not in _DTYPES:
        msg = f"`dtype` must be 'float32' or 'float64', got {dtype!r}"
        raise ValueError(msg)
    return str(name)


def accuracy_of(y: Any, t: Any) -> float:
    """Fraction of rows of ``y`` whose argmax equals the label ``t`` (or argmax of one-hot ``t``).

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.nets import accuracy_of
    >>> accuracy_of(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
    0.5
    """
    t = as_array(t, "t", float_default=False)
    xp = namespace(y, t)
    if xp.isdtype(t.dtype, "real floating"):
        if tuple(t.shape) != tuple(y.shape):
            msg = f"one-hot `t` must have shape {tuple(y.shape)}, got {tuple(t.shape)}"
            raise ValueError(msg)
        t = xp.argmax(t, axis=-1)
    elif tuple(t.shape) != tuple(y.shape[:-1]):
        msg = f"labels `t` must have shape {tuple(y.shape[:-1])}, got {tuple(t.shape)}"
        raise ValueError(msg)
    hits = xp.astype(xp.argmax(y, axis=-1) == t, xp.float64 if y.dtype == xp.float64 else y.dtype)
    return float(xp.mean(hits)) if hits.ndim else float(hits)


class MultiLayerNet:
    """Fully connected network: ``n`` affine layers, sigmoid or ReLU between, softmax at the end.

    Parameters
    ----------
    input_size : int
        Features per input (784 for MNIST).
    hidden_size_list : sequence of int
        Units of each hidden layer, e.g. ``[50, 100]``.
    output_size : int
        Classes.
    activation : {"sigmoid", "relu"}
        Hidden-layer activation.
    weight_init_std : float or {"xavier", "sigmoid", "he", "relu"}
        Standard deviation of the Gaussian initial weights; ``"xavier"``
        (alias ``"sigmoid"``) is :math:`\\sqrt{1/n_{in}}`, ``"he"`` (alias
        ``"relu"``) is :math:`\\sqrt{2/n_{in}}` (the book's chapter 6).
    weight_decay_lambda : float
        L2 weight decay :math:`\\lambda` (the book's chapter 6): the loss gets
        :math:`\\frac{\\lambda}{2} \\sum_i \\lVert W_i \\rVert^2` (biases excluded)
        and each gradient :math:`\\lambda W_i`. Default 0 (none).
    seed : int or None
        Seed of the host ``numpy.random.default_rng`` that draws the weights.
    dtype : {"float64", "float32"}
        Dtype of the parameters.

    Attributes
    ----------
    params : dict
        ``W1, b1, ..., Wn, bn`` on the active backend (biases start at 0).

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> net = dlcore.MultiLayerNet(4, [5, 3], 2, seed=0)
    >>> [tuple(net.params[k].shape) for k in net.params]
    [(4, 5), (5,), (5, 3), (3,), (3, 2), (2,)]
    """

    def __init__(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        *,
        activation: str = "sigmoid",
        weight_init_std: float | str = "xavier",
        weight_decay_lambda: float = 0.0,
        seed: int | None = None,
        dtype: str = "float64",
    ) -> None:
        self.weight_decay_lambda = _check_decay(weight_decay_lambda)
        if isinstance(hidden_size_list, (int, str)) or not isinstance(hidden_size_list, Sequence):
            msg = f"`hidden_size_list` must be a list of layer sizes, got {hidden_size_list!r}"
            raise TypeError(msg)
        sizes = [
            check_positive_int(input_size, "input_size"),
            *(check_positive_int(h, "hidden_size_list[i]") for h in hidden_size_list),
            check_positive_int(output_size, "output_size"),
        ]
        self.activation = check_activation(activation)
        self.dtype = _check_dtype(dtype)
        rng = np.random.default_rng(seed)
        host: dict[str, np.ndarray] = {}
        for i in range(1, len(sizes)):
            scale = _init_scale(weight_init_std, sizes[i - 1])
            host[f"W{i}"] = scale * rng.standard_normal((sizes[i - 1], sizes[i]))
            host[f"b{i}"] = np.zeros(sizes[i])
        self.params: dict[str, Any] = self._to_backend(host)

    def _to_backend(self, host: dict[str, np.ndarray]) -> dict[str, Any]:
        from dlcore.backends import get_backend

        backend = get_backend()
        return {key: backend.asarray(value, dtype=self.dtype) for key, value in host.items()}

    @property
    def n_layers(self) -> int:
        """Number of affine layers ``n`` (keys ``W1 .. Wn``)."""
        return len(layer_arrays(self.params, "params")) // 2

    def _scores(self, params: dict[str, Any], x: Any) -> Any:
        arrays = layer_arrays(params, "params")
        return forward_layers(arrays, check_input(params, x), activation=self.activation)

    def predict(self, x: Any) -> Any:
        """Class probabilities ``softmax(scores)`` for one input (1-D) or a batch (2-D).

        Sigmoid and ReLU networks go through :func:`dlcore.predict`'s cache (and so
        through a backend's bound kernel, :meth:`dlcore.backends.Backend.bind_predict`).
        """
        if self.activation in ("sigmoid", "relu"):
            return _predict_mlp(self.params, x, self.activation)
        return softmax(self._scores(self.params, x))

    def loss(self, x: Any, t: Any) -> Any:
        """Cross-entropy of ``softmax(scores(x))`` against ``t`` (one-hot or labels).

        Notes
        -----
        For two layers with sigmoid:
        ``cross_entropy_error(softmax(sigmoid(x @ W1 + b1) @ W2 + b2), t)``,
        with the book's :math:`\\delta = 10^{-7}` inside the log; plus
        :math:`\\frac{\\lambda}{2} \\sum_i \\lVert W_i \\rVert^2` when
        ``weight_decay_lambda`` is set.
        """
        return self._decayed(self.params, cross_entropy_error(self.predict(x), t))

    def _decayed(self, params: dict[str, Any], loss: Any) -> Any:
        if not self.weight_decay_lambda:
            return loss
        xp = namespace(loss)
        n = len(params) // 2
        penalty = sum(xp.sum(params[f"W{i}"] * params[f"W{i}"]) for i in range(1, n + 1))
        return loss + 0.5 * self.weight_decay_lambda * penalty

    def accuracy(self, x: Any, t: Any) -> float:
        """Fraction of inputs whose most probable class is the label (a Python float)."""
        return accuracy_of(self.predict(x), t)

    def numerical_gradient(self, x: Any, t: Any, *, method: str = "auto") -> dict[str, Any]:
        """Gradient of :meth:`loss` for every parameter by central differences.

        Parameters
        ----------
        x, t : array
            A batch of inputs and its labels (integer or one-hot).
        method : {"auto", "loop", "batched", "kernel"}
            ``"loop"`` is the book's algorithm: each parameter is perturbed
            element by element, in place (the book's
            ``lambda W: self.loss(x, t)``), with :func:`dlcore.numerical_gradient`.
            The others compute the same central differences of the same loss
            with :func:`dlcore.mlp_numerical_gradient`: ``"kernel"`` the active
            backend's compiled kernel (``DLCORE_BACKEND=numba``), ``"batched"``
            the Array-API version that evaluates many perturbations at once,
            ``"auto"`` (default) the kernel where the backend has one, else
            ``"batched"``. They agree with the loop to about 1e-11. With weight
            decay only the loop differentiates the decayed loss, so ``"auto"``
            uses it there.

        Returns
        -------
        dict
            Same keys, shapes and dtypes as :attr:`params`.

        Notes
        -----
        float32 parameters are differentiated on float64 copies (``x`` too),
        since a float32 central difference with ``h = 1e-4`` is meaningless;
        the gradients are cast back to the parameters' dtype.
        """
        if method not in ("auto", "loop", "batched", "kernel"):
            msg = f"`method` must be 'auto', 'loop', 'batched' or 'kernel', got {method!r}"
            raise ValueError(msg)
        if method != "loop":
            if self.weight_decay_lambda == 0:
                from .numgrad import mlp_numerical_gradient

                return mlp_numerical_gradient(
                    self.params, x, t, activation=self.activation, method=method
                )
            if method != "auto":
                msg = (
                    f"method={method!r} differentiates the loss without weight decay; this network "
                    f"has weight_decay_lambda={self.weight_decay_lambda}, use method='loop'"
                )
                raise ValueError(msg)
        arrays = layer_arrays(self.params, "params")
        x = check_input(self.params, x)
        t = as_array(t, "t", float_default=False)
        xp = namespace(x, t, *arrays)
        cross_entropy_error(softmax(forward_layers(arrays, x, activation=self.activation)), t)
        keys = list(self.params)
        in_order = sorted(keys, key=_layer_order)
        work = dict(self.params)
        if any(a.dtype != xp.float64 for a in arrays):
            work = {key: xp.astype(value, xp.float64, copy=True) for key, value in work.items()}
            x = xp.astype(x, xp.float64)

        def loss_at(params: dict[str, Any]) -> Any:
            # validated once above: the loop only evaluates (shapes cannot change)
            scores = forward_layers([params[k] for k in in_order], x, activation=self.activation)
            return self._decayed(params, cross_entropy_error(softmax(scores), t))

        grads: dict[str, Any] = {}
        for key in keys:
            original = work[key]

            def f(w: Any, key: str = key) -> Any:
                work[key] = w  # the same array when perturbed in place (the book's closure)
                return loss_at(work)

            try:
                grads[key] = book_loop(f, work[key])
            finally:
                work[key] = original
        return {key: xp.astype(g, self.params[key].dtype) for key, g in grads.items()}

    def gradient(self, x: Any, t: Any) -> dict[str, Any]:
        """Gradient of :meth:`loss` for every parameter by backpropagation through the layers.

        Returns
        -------
        dict
            Same keys, shapes and dtypes as :attr:`params`.
        """
        from dlcore.backends import get_backend

        arrays = layer_arrays(self.params, "params")
        x = check_input(self.params, x)
        t = as_array(t, "t", float_default=False)
        grads = get_backend().mlp_gradient(arrays, x, t, activation=self.activation)
        keys = sorted(self.params, key=_layer_order)
        out = dict(zip(keys, grads, strict=True))
        if self.weight_decay_lambda:
            xp = namespace(x, *arrays)
            for key in keys[0::2]:
                g = out[key] + self.weight_decay_lambda * self.params[key]
                want = self.params[key].dtype
                out[key] = g if g.dtype == want else xp.astype(g, want)
        return {key: out[key] for key in self.params}


def _layer_order(key: str) -> tuple[int, bool]:
    """Sort key putting ``W1, b1, W2, b2, ...`` in layer order."""
    return int(key[1:]), key[0] != "W"


def _check_decay(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        msg = f"`weight_decay_lambda` must be a non-negative number, got {value!r}"
        raise ValueError(msg)
    return float(value)


def _init_scale(weight_init_std: float | str, fan_in: int) -> float:
    if isinstance(weight_init_std, str):
        key = weight_init_std.lower()
        if key in ("xavier", "sigmoid"):
            return math.sqrt(1.0 / fan_in)
        if key in ("he", "relu"):
            return math.sqrt(2.0 / fan_in)
        msg = f"`weight_init_std` must be a number, 'xavier' or 'he', got {weight_init_std!r}"
        raise ValueError(msg)
    if (
        isinstance(weight_init_std, bool)
        or not isinstance(weight_init_std, (int, float))
        or not math.isfinite(weight_init_std)
        or weight_init_std <= 0
    ):
        msg = f"`weight_init_std` must be a positive number, got {weight_init_std!r}"
        raise ValueError(msg)
    return float(weight_init_std)


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
            check_positive_int(input_size, "input_size"),
            check_positive_int(hidden_size, "hidden_size"),
            check_positive_int(output_size, "output_size"),
        ]
        scale = _init_scale(weight_init_std, sizes[0])
        self.weight_decay_lambda = 0.0
        self.activation = check_activation(activation)
        self.dtype = _check_dtype(dtype)
        rng = np.random.default_rng(seed)
        host = {
            "W1": scale * rng.standard_normal((sizes[0], sizes[1])),
            "b1": np.zeros(sizes[1]),
            "W2": scale * rng.standard_normal((sizes[1], sizes[2])),
            "b2": np.zeros(sizes[2]),
        }
        self.params = self._to_backend(host)
