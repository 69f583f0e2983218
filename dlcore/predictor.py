"""Inference with a network validated once: :class:`Predictor` and the book's :func:`predict`.

A :class:`Predictor` checks the network once and binds the active backend's
kernel (:meth:`dlcore.backends.Backend.bind_predict`). On every call it
checks the input and that the dict still has the same number of entries,
fetches ``W1, b1, ..., Wn, bn`` by key, and runs the kernel on these current
arrays. Weights updated in place (``params[k] -= lr * g``) are seen; the
kernel refuses arrays whose shape or dtype changed (the NumPy kernels check
the layouts, Numba types every call and checks the shapes in compiled code),
and the network is then validated again (and refused if invalid), never
used wrongly.

:func:`predict` reuses one binding per network dict (by ``id``, the 32 most
recently used) through a cache that holds no network alive: its entries keep
no arrays, only keys, shapes and dtypes. A binding is only ever run on the
dict it is called with, fetched and checked as above, so an entry survives
its arrays being replaced (an optimizer's ``params[k] = params[k] - lr * g``
needs no new binding), and a new dict that reuses a freed one's ``id`` is
either run on its own arrays or validated and bound anew.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from operator import itemgetter
from typing import Any

import numpy as np

from .backends import get_backend
from .backends._base import StaleArraysError, array_layouts
from .network import ACTIVATIONS, _check_x, _keys, check_network

__all__ = ["Predictor", "predict"]


class _Binding:
    """A validated network's layout and the backend's kernel bound to it (holds no arrays).

    The kernel gets the dict's current arrays on every call, so an array
    updated in place or replaced by one of the same shape and dtype is simply
    used; a changed key, shape or dtype raises :class:`_Stale` and the caller
    validates again.
    """

    __slots__ = (
        "__weakref__",
        "activation",
        "backend",
        "dtype",
        "fetch",
        "keys",
        "layouts",
        "n_in",
        "run",
        "size",
    )

    def __init__(self, network: Mapping[str, Any], backend: Any, activation: str) -> None:
        self.keys = tuple(_keys(check_network(network)))
        self.size = len(self.keys)
        self.fetch = itemgetter(*self.keys)  # W1, b1, ..., Wn, bn in layer order, in C
        arrays = self.fetch(network)
        self.layouts = array_layouts(arrays)
        # an x that needs no check_input: a NumPy array of W1's dtype with W1's rows
        self.dtype = arrays[0].dtype if type(arrays[0]) is np.ndarray else None
        self.n_in = arrays[0].shape[0]
        self.backend = backend
        self.activation = activation
        # the book's sigmoid network without the keyword: backends written before it
        # (an override of bind_predict(arrays)) keep working
        self.run = (
            backend.bind_predict(arrays)
            if activation == "sigmoid"
            else backend.bind_predict(arrays, activation=activation)
        )

    def __call__(self, network: Mapping[str, Any], x: Any) -> Any:
        """The bound kernel on the network's current arrays and ``x`` (checked).

        Raises :class:`_Stale` (before any work) when the network's keys, or
        the shape or dtype of an array, are no longer those bound.
        """
        try:
            if len(network) != self.size:  # every key is fetched: no other may be there
                raise _Stale
            arrays = self.fetch(network)
        except (KeyError, TypeError):  # a key gone, or not a mapping
            raise _Stale from None
        try:
            if (
                not (
                    type(x) is np.ndarray
                    and self.dtype is not None  # (np.dtype == None is float64's test)
                    and (x.dtype is self.dtype or x.dtype == self.dtype)
                    and 0 < x.ndim < 3
                )
                or x.shape[-1] != self.n_in
            ):
                x = _check_x(arrays[0], x)
            return self.run(arrays, x)
        except StaleArraysError:
            raise _Stale from None
        except Exception:
            check_network(network)  # changed beyond what the kernel takes: name the array
            if array_layouts(arrays) != self.layouts:
                raise _Stale from None  # valid, but not the network bound: bind again
            raise


class _Stale(Exception):
    """The network changed since it was bound: validate and bind it again."""


class Predictor:
    """A network bound to a backend for fast repeated inference.

    Parameters
    ----------
    network : dict
        ``W1, b1, ..., Wn, bn`` as for :func:`predict` (validated now).
    backend : str or Backend, optional
        The backend whose kernel runs it (default: the active one, now).
    activation : str
        The hidden-layer activation, a name of :data:`dlcore.network.ACTIVATIONS`
        (default ``"sigmoid"``, the book's ``predict``).

    Notes
    -----
    Calling it gives what :func:`predict` gives:

    .. math:: z_0 = x,\\quad z_i = \\sigma(z_{i-1} W_i + b_i),
              \\quad y = \\mathrm{softmax}(z_{n-1} W_n + b_n)

    The Predictor holds the dict (not copies): in-place updates of its arrays
    are used on the next call; a changed key or array layout is validated
    again first.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> network = {"W1": np.eye(2), "b1": np.zeros(2)}
    >>> run = dlcore.Predictor(network)
    >>> run(np.array([1.0, 0.0]))
    array([0.73105858, 0.26894142])
    >>> network["b1"] += 1.0  # in place: seen on the next call
    >>> run(np.array([1.0, 0.0]))
    array([0.73105858, 0.26894142])
    """

    __slots__ = ("_binding", "_network")

    def __init__(
        self, network: Mapping[str, Any], *, backend: Any = None, activation: str = "sigmoid"
    ) -> None:
        self._network = network
        self._binding = _Binding(network, get_backend(backend), _check_activation(activation))

    @property
    def backend(self) -> Any:
        """The backend this network is bound to."""
        return self._binding.backend

    @property
    def network(self) -> Mapping[str, Any]:
        """The network dict (the caller's object, not a copy)."""
        return self._network

    def __call__(self, x: Any) -> Any:
        """Class probabilities for one image ``(d,)`` or a batch ``(N, d)``."""
        try:
            return self._binding(self._network, x)
        except _Stale:  # a key, or an array's shape or dtype, changed: validate again
            old = self._binding
            self._binding = _Binding(self._network, old.backend, old.activation)
            return self._binding(self._network, x)

    def __repr__(self) -> str:
        shapes = [tuple(self._network[k].shape) for k in self._binding.keys[::2]]
        sizes = [shapes[0][0], *(s[1] for s in shapes)] if shapes else []
        return f"Predictor({'-'.join(map(str, sizes))}, backend={self.backend.name!r})"


#: predict()'s bindings by ``id`` of the network dict, least recently used first.
_CACHE: OrderedDict[int, _Entry] = OrderedDict()
_CACHE_SIZE = 32
_LOCK = threading.Lock()


class _Entry:
    """A cached binding with what it was bound for (no arrays)."""

    __slots__ = ("activation", "backend", "binding")

    def __init__(self, binding: _Binding) -> None:
        self.binding = binding
        self.backend = binding.backend
        self.activation = binding.activation


def _bind_cached(network: Mapping[str, Any], backend: Any, activation: str) -> _Binding:
    binding = _Binding(network, backend, activation)
    key = id(network)
    with _LOCK:
        _CACHE[key] = _Entry(binding)
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return binding


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

    The first call with a network validates it and binds the active
    backend's kernel, as :class:`Predictor` does; later calls with the same
    dict reuse that binding while its keys, shapes and dtypes stay the same.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> network = dlcore.init_network()
    >>> x = dlcore.asarray(np.array([1.0, 0.5]))
    >>> dlcore.to_numpy(dlcore.predict(network, x))
    array([0.40625907, 0.59374093])
    """
    backend = get_backend()
    entry = _CACHE.get(id(network))
    if entry is not None and entry.backend is backend and entry.activation == "sigmoid":
        try:
            return entry.binding(network, x)
        except _Stale:
            pass
    return _bind_cached(network, backend, "sigmoid")(network, x)


def predict_mlp(network: Mapping[str, Any], x: Any, activation: str) -> Any:
    """:func:`predict` with another hidden-layer activation (a validated name), same cache.

    For :class:`dlcore.MultiLayerNet`; the cache keeps one binding per network dict,
    so alternating activations on one dict binds again each time.
    """
    backend = get_backend()
    entry = _CACHE.get(id(network))
    if entry is not None and entry.backend is backend and entry.activation == activation:
        try:
            return entry.binding(network, x)
        except _Stale:
            pass
    return _bind_cached(network, backend, activation)(network, x)


def _check_activation(activation: Any) -> str:
    """Return ``activation`` if it names a hidden-layer activation of :data:`ACTIVATIONS`."""
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        msg = f"`activation` must be one of {sorted(ACTIVATIONS)}, got {activation!r}"
        raise ValueError(msg)
    return activation
