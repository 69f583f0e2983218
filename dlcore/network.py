"""Forward networks of the book's chapter 3: the 3-layer demo and the MNIST MLP.

A network is a plain dict of arrays ``W1, b1, ..., Wn, bn`` (the book's
``network`` dict and the format of its ``sample_weight.pkl``). :func:`predict`
runs it with sigmoid hidden layers and a softmax output; a backend may replace
the generic Array-API code by a compiled kernel (``"mlp_predict"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from operator import is_
from typing import Any

import numpy as np
from array_api_compat import is_numpy_array

from ._validate import as_array, check_float, is_float_dtype, namespace
from .activations import identity_function, sigmoid, softmax

__all__ = [
    "check_input",
    "check_network",
    "forward",
    "init_network",
    "load_sample_network",
    "predict",
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


_NAMESPACES: dict[type, Any] = {}


def _common_namespace(arrays: list[Any]) -> Any:
    """``namespace(*arrays)``, cheaply when all arrays have one type (the hot path).

    The namespace of an array type is looked up once and cached; arrays of
    mixed types (or unknown ones) go through :func:`dlcore._validate.namespace`,
    which raises the clear mixed-library/device error.
    """
    kind = type(arrays[0])
    if all(type(a) is kind for a in arrays):
        xp = _NAMESPACES.get(kind)
        if xp is None:
            xp = namespace(*arrays)
            if is_numpy_array(arrays[0]):  # devices cannot differ: safe to cache
                _NAMESPACES[kind] = xp
        return xp
    return namespace(*arrays)


_FLOAT: dict[tuple[int, Any], bool] = {}


def _is_float(xp: Any, dtype: Any) -> bool:
    """``is_float_dtype`` with a cache (``xp.isdtype`` costs microseconds per call)."""
    key = (id(xp), dtype)
    try:
        return _FLOAT[key]
    except (KeyError, TypeError):
        result = is_float_dtype(xp, dtype)
        with suppress(TypeError):  # an unhashable dtype is just not cached
            _FLOAT[key] = result
        return result


def check_network(network: Any, name: str = "network") -> int:
    """Check that ``network`` is a dict ``W1, b1, ..., Wn, bn`` that chains; return ``n``.

    Only keys, ranks, shapes, dtypes and the array library are checked (never
    the values), so the check is cheap enough for every call of
    :func:`predict`.

    Raises
    ------
    TypeError
        Not a mapping, a value is not a floating-point array, or the arrays
        come from different libraries.
    ValueError
        Missing or unexpected keys, or shapes that do not chain:
        ``W{i}`` must be 2-D, ``b{i}`` 1-D with ``W{i}.shape[1]`` entries and
        ``W{i+1}.shape[0] == W{i}.shape[1]``.
    """
    if not isinstance(network, Mapping):
        msg = (
            f"`{name}` must be a dict of arrays 'W1', 'b1', ..., 'Wn', 'bn', got "
            f"{type(network).__name__}"
        )
        raise TypeError(msg)
    n = sum(1 for key in network if isinstance(key, str) and key.startswith("W"))
    expected = [f"{p}{i}" for i in range(1, n + 1) for p in ("W", "b")]
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
    xp = _common_namespace([network[key] for key in expected])
    previous = None
    for i in range(1, n + 1):
        w, b = network[f"W{i}"], network[f"b{i}"]
        for key, value, ndim in ((f"W{i}", w, 2), (f"b{i}", b, 1)):
            shape = getattr(value, "shape", None)
            if shape is None or not hasattr(value, "dtype"):
                msg = f"`{name}['{key}']` must be an array, got {type(value).__name__}"
                raise TypeError(msg)
            if len(shape) != ndim:
                what = "a 2-D (inputs, outputs) matrix" if ndim == 2 else "a 1-D bias vector"
                msg = f"`{name}['{key}']` must be {what}, got shape {tuple(shape)}"
                raise ValueError(msg)
            if not _is_float(xp, value.dtype):
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


# Networks that passed check_network, keyed by ``id`` of the dict. An entry holds the
# dict, its keys and its arrays (so no id can be reused while it lives) and is used
# only while the dict still holds exactly those keys and arrays (compared by
# identity: replacing an array re-validates). The single-image loop calls predict
# 10,000 times with one network: re-validating it every time cost more than the
# numba kernel. An array reshaped in place afterwards (``a.shape = ...``) is still
# caught: the kernels check the shapes chain on every call and the generic path's
# matmul raises.
class _Checked:
    """A validated network: its depth, keys and arrays and, per backend, the
    backend's ``"prepare_mlp_predict"`` answer (a function of ``x``, or None)."""

    __slots__ = ("depth", "keys", "network", "prepared", "values")

    def __init__(self, network: dict[str, Any], depth: int) -> None:
        self.network = network
        self.depth = depth
        self.keys = tuple(network)
        self.values = tuple(network.values())
        self.prepared: dict[Any, Any] = {}


_VALIDATED: dict[int, _Checked] = {}
_VALIDATED_MAX = 8


def _checked(network: Any) -> _Checked | None:
    """The cached validation of a dict network (validating it on a miss); None for
    other mappings, which the caller validates on every call."""
    if type(network) is not dict:
        return None
    hit = _VALIDATED.get(id(network))
    if (
        hit is not None
        and hit.network is network
        and len(network) == len(hit.values)
        and False not in map(is_, network.values(), hit.values)
        and False not in map(is_, network, hit.keys)
    ):
        return hit
    entry = _Checked(network, check_network(network))
    if len(_VALIDATED) >= _VALIDATED_MAX:
        _VALIDATED.clear()
    _VALIDATED[id(network)] = entry
    return entry


def check_input(network: Mapping[str, Any], x: Any, n: int) -> Any:
    """Validate ``x`` against ``W1`` (rank, features, dtype, library); return it as an array.

    A floating ``x`` of another precision is cast to the network's dtype.
    """
    w1 = network["W1"]
    # Fast path for the single-image loop: NumPy image and weights that already agree.
    if (
        type(x) is np.ndarray
        and type(w1) is np.ndarray
        and x.dtype == w1.dtype
        and x.dtype.kind == "f"
        and 1 <= x.ndim <= 2
        and x.shape[-1] == w1.shape[0]
    ):
        return x
    x = as_array(x, "x")
    xp = _common_namespace([x, w1])
    if not _is_float(xp, x.dtype):
        check_float(xp, x, "x")  # raises the message that says how to convert
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
    if x.dtype != w1.dtype:
        # MNIST images are float32, the book's networks float64: NumPy promotes the
        # mixed product silently, torch refuses it. Computing in the network's
        # precision on every backend is the one rule (float32 -> float64 is exact).
        x = xp.astype(x, w1.dtype)
    return x


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
    n = check_network(network)
    x = check_input(network, x, n)
    z = x
    for i in range(1, n):
        z = sigmoid(z @ network[f"W{i}"] + network[f"b{i}"])
    return identity_function(z @ network[f"W{n}"] + network[f"b{n}"])


def predict(network: Mapping[str, Any], x: Any) -> Any:
    """Class probabilities of an MLP with sigmoid hidden layers and a softmax output.

    Parameters
    ----------
    network : dict
        ``W1, b1, ..., Wn, bn`` of any depth ``n >= 1`` (the book's
        ``sample_weight.pkl`` has ``n = 3``); arrays of one library, floating
        dtype.
    x : array
        One image (1-D, ``W1.shape[0]`` features) or a batch (2-D, one image
        per row), floating dtype, same library as the weights.

    Returns
    -------
    array
        Shape ``(W_n.shape[1],)`` for one image, ``(N, W_n.shape[1])`` for a
        batch; each row sums to 1.

    Notes
    -----
    .. math:: z_0 = x,\\quad z_i = \\sigma(z_{i-1} W_i + b_i)\\ (i < n),
              \\quad y = \\mathrm{softmax}(z_{n-1} W_n + b_n)

    The checks look only at keys, shapes, dtypes and libraries (cheap on the
    single-image path). Then the active backend's ``"mlp_predict"`` kernel
    runs if it has one and accepts the inputs; otherwise the generic
    Array-API code does.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> network = dlcore.init_network()
    >>> x = dlcore.asarray(np.array([1.0, 0.5]))
    >>> dlcore.to_numpy(dlcore.predict(network, x))
    array([0.40625907, 0.59374093])
    """
    from dlcore.backends import get_backend

    entry = _checked(network)
    backend = get_backend()
    if entry is not None:
        # the single-image fast path: the backend's kernel bound to this network once
        run = entry.prepared.get(backend, _UNPREPARED)
        if run is _UNPREPARED:
            prepare = backend.get_kernel("prepare_mlp_predict")
            run = entry.prepared[backend] = None if prepare is None else prepare(network)
        if run is not None:
            result = run(x)
            if result is not NotImplemented:
                return result
        try:
            return _predict(network, x, entry.depth, backend)
        except (ValueError, TypeError):
            # an array changed in place since the network was validated (``a.shape =``):
            # validate again, so the error names the array rather than a matmul
            _VALIDATED.pop(id(network), None)
            check_network(network)
            raise
    return _predict(network, x, check_network(network), backend)


def _predict(network: Mapping[str, Any], x: Any, n: int, backend: Any) -> Any:
    """``predict`` after the network's checks: ``x``'s checks, then the backend's
    ``"mlp_predict"`` kernel if it takes the inputs, else the generic code."""
    x = check_input(network, x, n)
    kernel = backend.get_kernel("mlp_predict")
    if kernel is not None:
        result = kernel(network, x)
        if result is not NotImplemented:
            return result
    z = x
    for i in range(1, n):
        z = sigmoid(z @ network[f"W{i}"] + network[f"b{i}"])
    return softmax(z @ network[f"W{n}"] + network[f"b{n}"])


_UNPREPARED = object()


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
        ``b3``, float32, for :func:`predict`.

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
        return load_weights(path)
