"""The network contract: the book's dict ``W1, b1, ..., Wn, bn`` and its reference maths.

A network is a plain dict of arrays ``W1, b1, ..., Wn, bn`` (the book's
``network`` dict and the format of its ``sample_weight.pkl``).
:func:`check_network` is the only definition of a valid one: any depth, any
real floating dtype, arrays of one library. :func:`forward_layers` and
:func:`backprop` are the reference forward and backward passes; every
backend's kernels compute the same numbers, or fall back to these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._validate import as_array, check_float, is_float_dtype, namespace
from .activations import softmax
from .hidden import ACTIVATIONS, PRELU_ALPHA, hidden_functions, hidden_layers
from .layers import Affine, SoftmaxWithLoss
from .losses import CROSS_ENTROPY_DELTA

__all__ = [
    "ACTIVATIONS",
    "CROSS_ENTROPY_DELTA",
    "PRELU_ALPHA",
    "backprop",
    "check_input",
    "check_network",
    "forward",
    "forward_layers",
    "init_network",
    "layer_arrays",
    "load_sample_network",
]

#: File name of the shipped sample network inside the ``dlcore.data`` package.
SAMPLE_NETWORK_FILE = "sample_network.npz"


def init_network() -> dict[str, Any]:
    """The book's 3-layer demo network (section 3.4.3), on the active backend.

    Returns
    -------
    dict
        ``W1`` (2, 3), ``b1`` (3,), ``W2`` (3, 2), ``b2`` (2,), ``W3`` (2, 2),
        ``b3`` (2,), float64.

    Examples
    --------
    >>> import dlcore
    >>> network = dlcore.init_network()
    >>> sorted(network), tuple(network["W2"].shape)
    (['W1', 'W2', 'W3', 'b1', 'b2', 'b3'], (3, 2))
    """
    from dlcore.backends import get_backend

    backend = get_backend()
    values = {
        "W1": [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]],
        "b1": [0.1, 0.2, 0.3],
        "W2": [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]],
        "b2": [0.1, 0.2],
        "W3": [[0.1, 0.3], [0.2, 0.4]],
        "b3": [0.1, 0.2],
    }
    return {key: backend.asarray(value, dtype="float64") for key, value in values.items()}


def _keys(n: int) -> list[str]:
    return [f"{p}{i}" for i in range(1, n + 1) for p in ("W", "b")]


def check_network(network: Any, name: str = "network") -> int:
    """Check that ``network`` is a dict ``W1, b1, ..., Wn, bn`` that chains; return ``n``.

    Only keys, ranks, shapes, dtypes and the array library are checked, never
    the values.

    Raises
    ------
    TypeError
        Not a mapping, a value is not a floating-point array, or the arrays
        come from different libraries.
    ValueError
        Missing or unexpected keys, or shapes that do not chain:
        ``W{i}`` must be 2-D, ``b{i}`` 1-D with ``W{i}.shape[1]`` entries and
        ``W{i+1}.shape[0] == W{i}.shape[1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.network import check_network
    >>> check_network({"W1": np.zeros((4, 3)), "b1": np.zeros(3)})
    1
    """
    if not isinstance(network, Mapping):
        msg = (
            f"`{name}` must be a dict of arrays 'W1', 'b1', ..., 'Wn', 'bn', got "
            f"{type(network).__name__}"
        )
        raise TypeError(msg)
    n = sum(1 for key in network if isinstance(key, str) and key.startswith("W"))
    expected = _keys(n)
    if n == 0 or len(network) != 2 * n or any(key not in network for key in expected):
        missing = [key for key in expected if key not in network] or (
            ["W1", "b1"] if n == 0 else []
        )
        extra = sorted(str(key) for key in network if key not in expected)
        msg = (
            f"`{name}` must hold exactly the arrays W1, b1, ..., Wn, bn of an n-layer network; "
            f"missing: {missing or 'none'}, unexpected: {extra or 'none'} (got keys "
            f"{sorted(map(str, network))})"
        )
        raise ValueError(msg)
    for key in expected:
        value = network[key]
        if getattr(value, "shape", None) is None or not hasattr(value, "dtype"):
            msg = f"`{name}['{key}']` must be an array, got {type(value).__name__}"
            raise TypeError(msg)
    xp = namespace(*(network[key] for key in expected))
    previous = None
    for i in range(1, n + 1):
        w, b = network[f"W{i}"], network[f"b{i}"]
        for key, value, ndim in ((f"W{i}", w, 2), (f"b{i}", b, 1)):
            if len(value.shape) != ndim:
                what = "a 2-D (inputs, outputs) matrix" if ndim == 2 else "a 1-D bias vector"
                msg = f"`{name}['{key}']` must be {what}, got shape {tuple(value.shape)}"
                raise ValueError(msg)
            if not is_float_dtype(xp, value.dtype):
                msg = (
                    f"`{name}['{key}']` must have a floating-point dtype, got {value.dtype}; "
                    f"convert it, e.g. dlcore.asarray(w, dtype='float32')"
                )
                raise TypeError(msg)
        if b.shape[0] != w.shape[1]:
            msg = (
                f"`{name}['b{i}']` must have {w.shape[1]} entries to match W{i} with shape "
                f"{tuple(w.shape)}, got shape {tuple(b.shape)}"
            )
            raise ValueError(msg)
        if previous is not None and w.shape[0] != previous:
            msg = (
                f"`{name}['W{i}']` must have {previous} rows, the outputs of layer {i - 1} "
                f"(W{i - 1} has shape {tuple(network[f'W{i - 1}'].shape)}), got shape "
                f"{tuple(w.shape)}"
            )
            raise ValueError(msg)
        previous = w.shape[1]
    return n


def layer_arrays(network: Mapping[str, Any], name: str = "network") -> tuple[Any, ...]:
    """Validate ``network`` and return its arrays in layer order ``(W1, b1, ..., Wn, bn)``.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.network import layer_arrays
    >>> [a.shape for a in layer_arrays({"b1": np.zeros(3), "W1": np.zeros((4, 3))})]
    [(4, 3), (3,)]
    """
    return tuple(network[key] for key in _keys(check_network(network, name)))


def check_input(network: Mapping[str, Any], x: Any) -> Any:
    """Validate ``x`` against ``W1`` (rank, features, dtype, library); return it as an array.

    A floating ``x`` of another precision is cast to ``W1``'s dtype: every
    backend computes in the network's precision (float32 -> float64 is exact).

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.network import check_input
    >>> check_input({"W1": np.zeros((2, 3)), "b1": np.zeros(3)}, np.array([1, 2], "float32")).dtype
    dtype('float64')
    """
    return _check_x(network["W1"], x)


def _check_x(w1: Any, x: Any) -> Any:
    # The single-image loop's path: a NumPy image that already matches W1.
    if (
        type(x) is np.ndarray
        and type(w1) is np.ndarray
        and (x.dtype is w1.dtype or x.dtype == w1.dtype)  # `is`: NumPy's dtypes are singletons
        and 1 <= x.ndim <= 2
        and x.shape[-1] == w1.shape[0]
    ):
        return x
    x = as_array(x, "x")
    xp = namespace(x, w1)
    check_float(xp, x, "x")
    if x.ndim not in (1, 2):
        msg = (
            f"`x` must be one image (1-D, {w1.shape[0]} features) or a batch (2-D, N x "
            f"{w1.shape[0]}), got shape {tuple(x.shape)}; flatten images first, e.g. "
            f"x.reshape(N, {w1.shape[0]})"
        )
        raise ValueError(msg)
    if x.shape[-1] != w1.shape[0]:
        msg = (
            f"`x` must have {w1.shape[0]} features per image (W1 has shape {tuple(w1.shape)}), "
            f"got shape {tuple(x.shape)}"
        )
        raise ValueError(msg)
    return x if x.dtype == w1.dtype else xp.astype(x, w1.dtype)


def forward_layers(
    arrays: Sequence[Any],
    x: Any,
    *,
    activation: str = "sigmoid",
    output: str = "identity",
    slopes: Sequence[Any] | None = None,
) -> Any:
    """The reference forward pass over validated arrays ``(W1, b1, ..., Wn, bn)``.

    Parameters
    ----------
    arrays : sequence of arrays
        The network's arrays in layer order (:func:`layer_arrays`).
    x : array
        A validated input (:func:`check_input`).
    activation : str
        Hidden-layer activation, a key of :data:`ACTIVATIONS`.
    output : {"identity", "softmax"}
        The output function.
    slopes : sequence of arrays, optional
        With ``activation="prelu"``: the learned slope of each hidden layer
        (one per unit, e.g. ``MultiLayerNet.params["alpha1"]``); without
        them every slope is :data:`PRELU_ALPHA`.

    Returns
    -------
    array
        :math:`a_n` (``"identity"``) or :math:`\\mathrm{softmax}(a_n)`.

    Notes
    -----
    .. math:: z_0 = x,\\quad z_i = h(z_{i-1} W_i + b_i)\\ (i < n),
              \\quad a_n = z_{n-1} W_n + b_n

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.network import forward_layers
    >>> forward_layers((np.eye(2), np.zeros(2)), np.array([1.0, 0.0]), output="softmax")
    array([0.73105858, 0.26894142])
    """
    acts = hidden_functions(activation, len(arrays) // 2 - 1, slopes)
    z = x
    for i, act in enumerate(acts):
        z = act(z @ arrays[2 * i] + arrays[2 * i + 1])
    a = z @ arrays[-2] + arrays[-1]
    return softmax(a) if output == "softmax" else a


def backprop(
    arrays: Sequence[Any],
    x: Any,
    t: Any,
    *,
    activation: str = "sigmoid",
    slopes: Sequence[Any] | None = None,
) -> list[Any]:
    """The reference backward pass: the book's layers, ``[dW1, db1, ..., dWn, dbn]``.

    The gradient of the mean softmax cross-entropy of a batch ``x``
    (validated) against labels or one-hot ``t``, through ``Affine``, the
    activation layers and ``SoftmaxWithLoss`` (whose backward is
    :math:`(y - t) / N`, the book's shortcut). With PReLU ``slopes`` (see
    :func:`forward_layers`) their gradients follow: ``[..., dbn, dalpha1, ...]``.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.network import backprop
    >>> dW, db = backprop((np.zeros((2, 2)), np.zeros(2)), np.array([[1.0, 0.0]]), np.array([0]))
    >>> dW
    array([[-0.5,  0.5],
           [ 0. ,  0. ]])
    """
    affines = [Affine(arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2)]
    acts = hidden_layers(activation, len(affines) - 1, slopes)
    last = SoftmaxWithLoss()
    z = x
    for affine, act in zip(affines[:-1], acts, strict=True):
        z = act.forward(affine.forward(z))
    last.forward(affines[-1].forward(z), t)
    dout = affines[-1].backward(last.backward(1))
    for affine, act in zip(reversed(affines[:-1]), reversed(acts), strict=True):
        dout = affine.backward(act.backward(dout))
    xp = namespace(x, arrays[0])
    grads: list[Any] = []
    for i, affine in enumerate(affines):
        for g, param in ((affine.dW, arrays[2 * i]), (affine.db, arrays[2 * i + 1])):
            grads.append(g if g.dtype == param.dtype else xp.astype(g, param.dtype))
    for act, a in zip(acts, slopes or (), strict=False):
        grads.append(act.dalpha if act.dalpha.dtype == a.dtype else xp.astype(act.dalpha, a.dtype))
    return grads


def forward(network: Mapping[str, Any], x: Any) -> Any:
    """The book's ``forward``: sigmoid hidden layers and an identity output.

    Parameters
    ----------
    network : dict
        ``W1, b1, ..., Wn, bn`` (e.g. :func:`init_network`).
    x : array
        One input (1-D) or a batch (2-D, one input per row).

    Returns
    -------
    array
        :math:`a_n`, the last affine output, without softmax.

    Notes
    -----
    .. math:: z_0 = x,\\quad z_i = \\sigma(z_{i-1} W_i + b_i)\\ (i < n),
              \\quad y = z_{n-1} W_n + b_n

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> network = dlcore.init_network()
    >>> x = dlcore.asarray(np.array([1.0, 0.5]))
    >>> dlcore.to_numpy(dlcore.forward(network, x))
    array([0.31682708, 0.69627909])
    """
    arrays = layer_arrays(network)
    return forward_layers(arrays, check_input(network, x))


def load_sample_network() -> dict[str, Any]:
    """The shipped 784-50-100-10 sigmoid MNIST network, trained by dlcore, on the active backend.

    The same shape as the book's ``sample_weight.pkl`` (test accuracy 0.9352);
    this one was trained with :func:`dlcore.train` (Adam, Xavier
    initialisation) and scores at least 0.975 on the 10,000 MNIST test images.
    See the README for the command that reproduces it.

    Returns
    -------
    dict
        ``W1`` (784, 50), ``b1``, ``W2`` (50, 100), ``b2``, ``W3`` (100, 10),
        ``b3``, float32, for :func:`dlcore.predict`.

    Examples
    --------
    >>> import dlcore
    >>> net = dlcore.load_sample_network()
    >>> sorted(net), tuple(net["W1"].shape), tuple(net["W3"].shape)
    (['W1', 'W2', 'W3', 'b1', 'b2', 'b3'], (784, 50), (100, 10))
    """
    from importlib import resources

    from .io import load_weights

    ref = resources.files("dlcore.data").joinpath(SAMPLE_NETWORK_FILE)
    with resources.as_file(ref) as path:
        if not path.is_file():
            msg = (
                f"the sample network {SAMPLE_NETWORK_FILE} is missing from the dlcore.data "
                "package; reinstall dlcore or train one with `dlcore train --save`"
            )
            raise FileNotFoundError(msg)
        network = load_weights(path)
    check_network(network, SAMPLE_NETWORK_FILE)
    return network
