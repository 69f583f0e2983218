"""The book's networks: ``TwoLayerNet`` (chapters 4 and 5) and ``MultiLayerNet`` (chapter 6).

``params`` is a plain dict ``W1, b1, ..., Wn, bn`` (the network contract of
:mod:`dlcore.network`), so a trained sigmoid network can be passed straight
to :func:`dlcore.predict` and :func:`dlcore.save_weights`. Weights are drawn
on the host with a seeded NumPy generator and then moved to the active
backend, so every backend starts from the same numbers. The backprop
gradient is the active backend's :meth:`~dlcore.backends.Backend.mlp_gradient`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._validate import as_array, check_positive_int, namespace
from .activations import softmax
from .losses import cross_entropy_error
from .netparams import (
    check_decay,
    check_dtype,
    init_scale,
    initial_params,
    param_keys,
    split_params,
)
from .network import backprop, check_input, forward_layers
from .numgrad import book_loop, check_activation
from .predictor import predict_mlp as _predict_mlp

__all__ = ["MultiLayerNet", "TwoLayerNet", "accuracy_of"]


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
    """Fully connected network: ``n`` affine layers, an activation between, softmax at the end.

    Parameters
    ----------
    input_size : int
        Features per input (784 for MNIST).
    hidden_size_list : sequence of int
        Units of each hidden layer, e.g. ``[50, 100]``.
    output_size : int
        Classes.
    activation : {"sigmoid", "relu", "tanh", "leaky_relu", "prelu", "elu", "selu"}
        Hidden-layer activation (:data:`dlcore.network.ACTIVATIONS`; Leaky
        ReLU with slope 0.01, ELU with alpha 1, SELU with the
        self-normalising constants). ``"prelu"`` learns one slope per hidden
        unit, starting at 0.25.
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
        ``W1, b1, ..., Wn, bn`` on the active backend (biases start at 0);
        with ``"prelu"`` also ``alpha1, ..., alpha{n-1}`` (shape ``(units,)``
        each, after ``b{i}``): trained by every optimizer and saved with
        :func:`dlcore.save_weights` like the weights. :meth:`from_params`
        builds a network around saved ones.

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
        self.weight_decay_lambda = check_decay(weight_decay_lambda)
        if isinstance(hidden_size_list, (int, str)) or not isinstance(hidden_size_list, Sequence):
            msg = f"`hidden_size_list` must be a list of layer sizes, got {hidden_size_list!r}"
            raise TypeError(msg)
        sizes = [
            check_positive_int(input_size, "input_size"),
            *(check_positive_int(h, "hidden_size_list[i]") for h in hidden_size_list),
            check_positive_int(output_size, "output_size"),
        ]
        self.activation = check_activation(activation)
        self.dtype = check_dtype(dtype)
        scales = [init_scale(weight_init_std, n) for n in sizes[:-1]]
        host = initial_params(sizes, scales, np.random.default_rng(seed), self.activation)
        self.params: dict[str, Any] = self._to_backend(host)

    @classmethod
    def from_params(
        cls,
        params: Mapping[str, Any],
        *,
        activation: str = "sigmoid",
        weight_decay_lambda: float = 0.0,
    ) -> MultiLayerNet:
        """A network around existing parameters, e.g. ``dlcore.load_weights(path)``.

        Parameters
        ----------
        params : dict
            ``W1, b1, ..., Wn, bn`` (plus ``alpha1, ...`` for ``"prelu"``),
            as in :attr:`params`; the dict is copied, the arrays are not.
        activation, weight_decay_lambda
            As for the constructor; the file does not record them.

        Examples
        --------
        >>> import os, tempfile, dlcore
        >>> net = dlcore.MultiLayerNet(4, [3], 2, activation="prelu", seed=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "prelu.npz")
        >>> _ = dlcore.save_weights(net.params, path)
        >>> back = dlcore.MultiLayerNet.from_params(dlcore.load_weights(path), activation="prelu")
        >>> sorted(back.params)
        ['W1', 'W2', 'alpha1', 'b1', 'b2']
        """
        net = cls.__new__(cls)
        net.activation = check_activation(activation)
        net.weight_decay_lambda = check_decay(weight_decay_lambda)
        arrays, _ = split_params(params, net.activation)
        xp = namespace(arrays[0])
        net.dtype = "float32" if arrays[0].dtype == xp.float32 else "float64"
        net.params = dict(params)
        return net

    def _to_backend(self, host: dict[str, np.ndarray]) -> dict[str, Any]:
        from dlcore.backends import get_backend

        backend = get_backend()
        return {key: backend.asarray(value, dtype=self.dtype) for key, value in host.items()}

    @property
    def n_layers(self) -> int:
        """Number of affine layers ``n`` (keys ``W1 .. Wn``)."""
        return len(split_params(self.params, self.activation)[0]) // 2

    def _scores(self, params: dict[str, Any], x: Any) -> Any:
        arrays, slopes = split_params(params, self.activation)
        x = check_input(params, x)
        return forward_layers(arrays, x, activation=self.activation, slopes=slopes)

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
        n = sum(1 for key in params if key.startswith("W"))
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
            uses it there, and for PReLU (whose slopes only the loop perturbs).

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
            if self.weight_decay_lambda == 0 and self.activation != "prelu":
                from .numgrad import mlp_numerical_gradient

                return mlp_numerical_gradient(
                    self.params, x, t, activation=self.activation, method=method
                )
            if method != "auto":
                msg = (
                    f"method={method!r} differentiates the loss of the weights alone; this "
                    f"network has PReLU slopes or weight decay, use method='loop'"
                )
                raise ValueError(msg)
        arrays, slopes = split_params(self.params, self.activation)
        x = check_input(self.params, x)
        t = as_array(t, "t", float_default=False)
        xp = namespace(x, t, *arrays)
        act = self.activation
        cross_entropy_error(softmax(forward_layers(arrays, x, activation=act, slopes=slopes)), t)
        keys = list(self.params)
        weight_keys, slope_keys = param_keys(len(arrays) // 2, slopes is not None)
        work = dict(self.params)
        if any(a.dtype != xp.float64 for a in work.values()):
            work = {key: xp.astype(value, xp.float64, copy=True) for key, value in work.items()}
            x = xp.astype(x, xp.float64)

        def loss_at(params: dict[str, Any]) -> Any:
            # validated once above: the loop only evaluates (shapes cannot change)
            a, s = [params[k] for k in weight_keys], [params[k] for k in slope_keys]
            scores = forward_layers(a, x, activation=act, slopes=s if slope_keys else None)
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

        arrays, slopes = split_params(self.params, self.activation)
        x = check_input(self.params, x)
        t = as_array(t, "t", float_default=False)
        if slopes is None:
            grads = get_backend().mlp_gradient(arrays, x, t, activation=self.activation)
        else:  # the backends' kernels take no slopes: the reference layers do
            grads = backprop(arrays, x, t, activation="prelu", slopes=slopes)
        weight_keys, slope_keys = param_keys(len(arrays) // 2, slopes is not None)
        out = dict(zip(weight_keys + slope_keys, grads, strict=True))
        if self.weight_decay_lambda:
            xp = namespace(x, *arrays)
            for key in weight_keys[0::2]:
                g = out[key] + self.weight_decay_lambda * self.params[key]
                want = self.params[key].dtype
                out[key] = g if g.dtype == want else xp.astype(g, want)
        return {key: out[key] for key in self.params}


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
    activation : str
        Hidden activation, as for :class:`MultiLayerNet`; ``"sigmoid"`` is
        the book's chapter-4 network.
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
        scale = init_scale(weight_init_std, sizes[0])
        self.weight_decay_lambda = 0.0
        self.activation = check_activation(activation)
        self.dtype = check_dtype(dtype)
        rng = np.random.default_rng(seed)
        self.params = self._to_backend(initial_params(sizes, [scale, scale], rng, self.activation))
