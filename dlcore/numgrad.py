"""Numerical gradient of an MLP's loss: the book's loop, and two fast ways to the same numbers.

The book's ``TwoLayerNet.numerical_gradient`` perturbs every weight and bias in
turn and runs two full forward passes for each: for TwoLayerNet(784, 50, 10)
on 100 images that is 79,520 forward passes (about a minute). The loss is
always :func:`mlp_loss`, and :func:`mlp_numerical_gradient` offers three ways
to evaluate the same central differences of it:

``"loop"``
    the book's algorithm, :func:`dlcore.numerical_gradient` per parameter array.
``"batched"``
    pure Array-API code (NumPy, CuPy, PyTorch, array-api-strict, ...): a
    perturbation of ``W_k[i, j]`` changes only column ``j`` of layer ``k``'s
    pre-activation, so many perturbed losses are evaluated at once from cached
    activations as a few large array operations, in chunks of bounded memory.
``"kernel"``
    the active backend's compiled kernel (the numba backend has one).

``"batched"`` is the generic body of
:meth:`dlcore.backends.Backend.mlp_numerical_gradient`, which a backend
overrides with its kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from array_api_compat import device as device_of

from ._validate import (
    as_array,
    check_float,
    check_positive_int,
    check_positive_number,
    namespace,
)
from .losses import cross_entropy_error
from .network import ACTIVATIONS, check_network, forward_layers

__all__ = [
    "CPU_MAX_BYTES",
    "DEVICE_MAX_BYTES",
    "book_loop",
    "check_activation",
    "mlp_loss",
    "mlp_numerical_gradient",
]

#: Default chunk budget of ``"batched"`` on the CPU: chunks that stay in cache run fastest.
CPU_MAX_BYTES = 2 * 2**20
#: Default chunk budget on other devices (GPUs): fewer, larger kernels.
DEVICE_MAX_BYTES = 256 * 2**20

_METHODS = ("auto", "batched", "kernel", "loop")


def check_activation(activation: Any) -> str:
    """Return ``activation`` if it names a hidden-layer activation of :data:`ACTIVATIONS`."""
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        msg = (
            f"`activation` must be one of {sorted(ACTIVATIONS)} (the hidden-layer activation; "
            f"the book's TwoLayerNet uses 'sigmoid'), got {activation!r}"
        )
        raise ValueError(msg)
    return activation


def _check_params(params: Any) -> list[str]:
    """Validate ``W1, b1, ..., Wn, bn`` (as :func:`dlcore.predict` does); return the keys."""
    n = check_network(params, "params")
    return [f"{p}{k}" for k in range(1, n + 1) for p in ("W", "b")]


def _check_data(params: Mapping[str, Any], keys: list[str], x: Any, t: Any) -> tuple[Any, Any]:
    """Validate ``x`` and ``t`` against the network; return them as arrays."""
    x = as_array(x, "x")
    t = as_array(t, "t", float_default=False)
    xp = namespace(x, t, *(params[k] for k in keys))
    check_float(xp, x, "x")
    d_in = int(params["W1"].shape[0])
    n_out = int(params[keys[-2]].shape[1])
    if x.ndim not in (1, 2) or x.shape[-1] != d_in:
        msg = (
            f"`x` must have shape ({d_in},) or (batch, {d_in}) to match W1 of shape "
            f"{tuple(params['W1'].shape)}, got {tuple(x.shape)}"
        )
        raise ValueError(msg)
    batch = tuple(x.shape[:-1])
    if xp.isdtype(t.dtype, "integral"):
        if tuple(t.shape) != batch:
            msg = (
                f"integer labels `t` must have shape {batch} (one class per sample of x), "
                f"got {tuple(t.shape)}"
            )
            raise ValueError(msg)
        if t.size:
            lo, hi = int(xp.min(t)), int(xp.max(t))
            if lo < 0 or hi >= n_out:
                msg = f"labels must lie in 0..{n_out - 1} (the network's outputs), got {lo}..{hi}"
                raise ValueError(msg)
    elif xp.isdtype(t.dtype, "real floating"):
        if tuple(t.shape) != (*batch, n_out):
            msg = (
                f"one-hot `t` must have shape {(*batch, n_out)} (x's batch by the network's "
                f"{n_out} outputs), got {tuple(t.shape)}"
            )
            raise ValueError(msg)
    else:
        msg = f"`t` must be integer labels or floating one-hot targets, got dtype {t.dtype}"
        raise TypeError(msg)
    return x, t


def mlp_loss(params: Mapping[str, Any], x: Any, t: Any, *, activation: str = "sigmoid") -> Any:
    """Cross-entropy loss of a fully connected network with a softmax output.

    Parameters
    ----------
    params : dict of arrays
        ``W1, b1, ..., Wn, bn`` (``W_k`` of shape ``(inputs, units)``), as
        ``TwoLayerNet.params``; any depth ``n >= 1``.
    x : array
        One input of shape ``(d,)`` or a batch ``(batch, d)``.
    t : array
        One-hot targets of the output's shape, or integer labels.
    activation : {"sigmoid", "relu"}
        Hidden-layer activation (the book's TwoLayerNet uses the sigmoid).

    Returns
    -------
    0-d array
        The loss, in the namespace of the inputs.

    Notes
    -----
    .. math:: L = \\mathrm{CE}\\big(\\mathrm{softmax}(h(\\cdots h(x W_1 + b_1)
              \\cdots) W_n + b_n),\\ t\\big)

    with :func:`dlcore.cross_entropy_error` (the book's :math:`\\delta = 10^{-7}`
    inside the log), the reference loss that :func:`mlp_numerical_gradient`
    differentiates.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> params = {"W1": np.zeros((2, 3)), "b1": np.zeros(3),
    ...           "W2": np.zeros((3, 2)), "b2": np.zeros(2)}
    >>> round(float(dlcore.mlp_loss(params, np.array([[1.0, 2.0]]), np.array([0]))), 6)
    0.693147
    """
    check_activation(activation)
    keys = _check_params(params)
    x, t = _check_data(params, keys, x, t)
    return _loss([params[k] for k in keys], x, t, activation)


def _loss(arrays: Sequence[Any], x: Any, t: Any, activation: str) -> Any:
    """:func:`mlp_loss` on validated inputs (the book's loop calls it ~80,000 times)."""
    y = forward_layers(arrays, x, activation=activation, output="softmax")
    return cross_entropy_error(y, t)


def book_loop(f: Callable[[Any], Any], x: Any, h: float = 1e-4, *, backend: Any = None) -> Any:
    """The book's element-by-element loop of :func:`dlcore.numerical_gradient`, on any backend.

    The generic body of :meth:`dlcore.backends.Backend.numerical_gradient`,
    called on the base class: the loop runs as the book writes it even where
    the backend would run a compiled kernel (``method="loop"`` asks for it).
    """
    from dlcore.backends import Backend, get_backend

    return Backend.numerical_gradient(get_backend(backend), f, x, h)


def _loop(
    xp: Any, params: Mapping[str, Any], keys: list[str], x: Any, t: Any, h: float, activation: str
) -> dict[str, Any]:
    f64 = xp.float64
    if all(params[k].dtype == f64 for k in keys):
        work = dict(params)  # the caller's arrays, perturbed in place and restored (the book)
    else:
        work = {k: xp.astype(params[k], f64, copy=True) for k in keys}
    x = xp.astype(x, f64) if x.dtype != f64 else x
    grads: dict[str, Any] = {}
    for i, key in enumerate(keys):

        def f(w: Any, i: int = i) -> Any:
            arrays = [work[k] for k in keys]
            arrays[i] = w  # the array perturbed in place, or its float64 copy
            return _loss(arrays, x, t, activation)

        grads[key] = xp.astype(book_loop(f, work[key], h), params[key].dtype)
    return grads


def mlp_numerical_gradient(
    params: Mapping[str, Any],
    x: Any,
    t: Any,
    *,
    h: float = 1e-4,
    activation: str = "sigmoid",
    method: str = "auto",
    max_bytes: int | None = None,
) -> dict[str, Any]:
    """Central-difference gradient of :func:`mlp_loss` for every weight and bias.

    Parameters
    ----------
    params : dict of arrays
        ``W1, b1, ..., Wn, bn`` of any depth ``n >= 1`` (``TwoLayerNet.params``).
    x : array
        Inputs, ``(batch, d)`` or one input ``(d,)``.
    t : array
        One-hot targets or integer labels.
    h : float
        The step, 1e-4 as in the book.
    activation : {"sigmoid", "relu"}
        Hidden-layer activation.
    method : {"auto", "loop", "batched", "kernel"}
        ``"loop"``: the book's algorithm, :func:`dlcore.numerical_gradient` on
        each parameter array in place. ``"batched"``: Array-API code that
        evaluates many perturbed losses at once (any backend). ``"kernel"``:
        the active backend's compiled kernel (``DLCORE_BACKEND=numba``); an
        error where there is none. ``"auto"``: the kernel if the backend has
        one, else ``"batched"``.
    max_bytes : int, optional
        Memory budget of one chunk of ``"batched"`` (the peak is a small
        multiple of it, and never less than one perturbed layer column).
        Default: 2 MiB for arrays on the CPU (cache-sized chunks are fastest
        there), 256 MiB on other devices.

    Returns
    -------
    dict of arrays
        The gradient of every key of ``params``, same shapes and dtypes.

    Notes
    -----
    Each method evaluates, for every parameter :math:`w`,

    .. math:: \\frac{\\partial L}{\\partial w} \\approx
              \\frac{L(w + h) - L(w - h)}{2h}

    of the same loss :func:`mlp_loss`, with :math:`w \\pm h` rounded to
    float64 as the book's loop stores it; the methods agree to about
    :math:`10^{-12}` (the rounding error of :math:`L` divided by :math:`2h`).
    ``"batched"`` and ``"kernel"`` use that a perturbation of
    :math:`W_k[i, j]` moves only column :math:`j` of layer :math:`k`'s
    pre-activation, by :math:`\\pm h\\,z_{k-1}[:, i]`: the changed losses are
    evaluated from cached activations, only samples with
    :math:`z_{k-1}[n, i] \\ne 0` change, and an input that is zero across
    the batch gives exactly 0, as the loop does. For the layer below the
    softmax, ``"batched"`` evaluates the softmax denominator
    :math:`\\sum_k e_k \\exp(\\Delta z\\, W_n[j, k])` from precomputed moments
    :math:`\\sum_k e_k W_n[j, k]^m`, truncating the exponential series where
    the remainder is below :math:`2^{-56}` relative (it falls back to the
    direct sum when the perturbation is too large for that).

    Differences are taken in float64: float32 (or float16) parameters and
    inputs are promoted, and the gradients are cast back to each parameter's
    dtype. ``params`` holds exactly its old values afterwards, also when an
    error interrupts the computation.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> rng = np.random.default_rng(0)
    >>> params = {"W1": 0.1 * rng.standard_normal((3, 4)), "b1": np.zeros(4),
    ...           "W2": 0.1 * rng.standard_normal((4, 2)), "b2": np.zeros(2)}
    >>> x, t = rng.standard_normal((5, 3)), np.array([0, 1, 1, 0, 1])
    >>> fast = dlcore.mlp_numerical_gradient(params, x, t, method="batched")
    >>> book = dlcore.mlp_numerical_gradient(params, x, t, method="loop")
    >>> max(float(np.max(np.abs(fast[k] - book[k]))) for k in params) < 1e-10
    True
    """
    if method not in _METHODS:
        msg = f"unknown method {method!r}; expected one of {list(_METHODS)}"
        raise ValueError(msg)
    h = check_positive_number(h, "h")
    if max_bytes is not None:
        max_bytes = check_positive_int(max_bytes, "max_bytes")
    check_activation(activation)
    keys = _check_params(params)
    x, t = _check_data(params, keys, x, t)
    xp = namespace(x, t, *(params[k] for k in keys))
    if x.ndim == 1:  # one sample: a batch of one has the same loss
        x = xp.reshape(x, (1, -1))
        t = xp.reshape(t, (1, *t.shape))
    arrays = {k: as_array(params[k]) for k in keys}

    if method == "loop":
        return _loop(xp, arrays, keys, x, t, h, activation)

    from dlcore.backends import Backend, get_backend

    backend = get_backend()
    has_kernel = type(backend).mlp_numerical_gradient is not Backend.mlp_numerical_gradient
    if method == "kernel" and not has_kernel:
        msg = (
            f"backend {backend.name!r} has no compiled mlp_numerical_gradient kernel; use "
            "method='batched' (any backend) or run with DLCORE_BACKEND=numba"
        )
        raise ValueError(msg)
    if method == "kernel" and not backend.owns(x):
        msg = (
            f"the {backend.name!r} backend's compiled kernel runs on its own arrays, not on "
            f"arrays of {type(x).__module__.split('.')[0]}; use method='batched', or move the "
            f"data with dlcore.asarray(..., backend={backend.name!r})"
        )
        raise TypeError(msg)
    if max_bytes is None:
        on_cpu = "cpu" in str(device_of(x)).lower() or type(x).__module__ == "numpy"
        max_bytes = CPU_MAX_BYTES if on_cpu else DEVICE_MAX_BYTES
    # "batched" is the generic body of the method: the base class's, whatever the backend
    method_of = Backend if method == "batched" else type(backend)
    grads = method_of.mlp_numerical_gradient(
        backend, [arrays[k] for k in keys], x, t, h=h, activation=activation, max_bytes=max_bytes
    )
    return dict(zip(keys, grads, strict=True))
