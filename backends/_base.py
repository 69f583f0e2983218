"""The backend object: where new arrays live, and the hot loops as overridable methods.

Every hot loop of dlcore is a method of :class:`Backend` whose body here is
the generic Array-API implementation. A subclass overrides a method where it
has a faster kernel and calls ``super()`` for the inputs it does not handle
(thinc's ``Ops``/``CupyOps`` pattern): there is no kernel table and no
sentinel. The methods receive inputs that the library has already validated
(:func:`dlcore.network.check_network`, :func:`dlcore.network.check_input`),
so a kernel never decides which inputs are valid, only which it runs fast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from ._placement import Placement
from ._train_step import SGDTraining, TrainStepFn

__all__ = [
    "Backend",
    "BackendDeviceError",
    "BackendError",
    "BackendNotInstalledError",
    "NumbaFallbackWarning",
    "PredictFn",
    "SGDTraining",
    "StaleArraysError",
    "TrainStepFn",
    "array_layouts",
    "layout_checked",
]

#: What :meth:`Backend.bind_predict` returns: ``run(arrays, x) -> probabilities``.
PredictFn = Callable[[Sequence[Any], Any], Any]


class BackendError(Exception):
    """Base class of the errors a backend raises when it cannot be used."""


class BackendNotInstalledError(BackendError, ImportError):
    """The library behind a backend is not installed (the message has the pip command)."""


class BackendDeviceError(BackendError, RuntimeError):
    """The library is installed but the device it needs (e.g. a CUDA GPU) is missing."""


class StaleArraysError(ValueError):
    """A bound forward pass got arrays whose shapes or dtypes are not those it was bound to.

    :class:`dlcore.Predictor` then validates the network again and binds anew.
    """


class NumbaFallbackWarning(UserWarning):
    """The numba backend ran ``numerical_gradient`` in the slow generic loop.

    Issued once per process and reason: ``f`` is a plain Python function (decorate
    it with ``numba.njit``), or Numba could not compile the loop around ``f``.
    Silence it with ``warnings.filterwarnings("ignore", category=dlcore.NumbaFallbackWarning)``.
    """


class Backend(Placement):
    """A compute backend: where new arrays live, and how the hot loops run.

    Subclasses set :attr:`name`, implement :meth:`_load` (import the library,
    return its Array-API namespace) and override the hot-loop methods
    (:meth:`bind_predict`, :meth:`mlp_gradient`, :meth:`bind_train_step`,
    :meth:`mlp_numerical_gradient`, :meth:`numerical_gradient`) where they
    have a faster kernel, calling ``super()`` for inputs they do not handle.

    Attributes
    ----------
    name : str
        The name used in ``DLCORE_BACKEND`` and :func:`dlcore.set_backend`.
    install_hint : str
        The command that installs the library, shown when it is missing.

    Examples
    --------
    >>> import dlcore
    >>> b = dlcore.get_backend("numpy")
    >>> b.name, b.to_numpy(b.asarray([1.0, 2.0])).tolist()
    ('numpy', [1.0, 2.0])
    """

    name: str = "abstract"
    install_hint: str = ""
    description: str = ""

    def __init__(self) -> None:
        self._xp: Any = None
        self._device: Any = None  # None: the library's default device

    # -- loading ----------------------------------------------------------
    def _load(self) -> Any:  # pragma: no cover - abstract
        """Import the library and return its Array-API namespace."""
        raise NotImplementedError

    def check_available(self) -> None:
        """Raise a :class:`BackendError` that says why this backend cannot run."""
        if self._xp is None:
            self._xp = self._load()

    def is_available(self) -> tuple[bool, str]:
        """Return ``(True, "")`` or ``(False, reason)`` without raising."""
        try:
            self.check_available()
        except BackendError as exc:
            return False, str(exc)
        return True, ""

    # -- arrays -----------------------------------------------------------
    @property
    def xp(self) -> Any:
        """The Array-API namespace (imports the library on first use)."""
        if self._xp is None:
            self.check_available()
        return self._xp

    @property
    def device(self) -> Any:
        """The device new arrays are created on (the library's default unless placed).

        See :meth:`on_device` and ``dlcore.use_backend(name, device=...)``.
        """
        return self._device if self._device is not None else self.default_device()

    def asarray(self, obj: Any, dtype: Any = None) -> Any:
        """Create an array of this backend from ``obj`` (host data or another array).

        ``dtype`` may be a dtype of this namespace, a NumPy dtype or a name
        such as ``"float32"``. Arrays from other libraries are moved through
        NumPy (host memory), so any backend's array is accepted.
        """
        xp = self.xp
        dt = self.dtype(dtype) if dtype is not None else None
        if isinstance(obj, (int, float, bool, complex, list, tuple)):
            # Python data follows NumPy's dtype rules on every backend (100.0 is
            # float64 even where the library's default float is float32, as torch's).
            obj = np.asarray(obj)
        elif not _is_host_data(obj) and not self.owns(obj):
            obj = _any_to_numpy(obj)
        if isinstance(obj, np.ndarray) and any(s < 0 for s in obj.strides):
            obj = np.ascontiguousarray(obj)  # torch refuses negative strides (x[::-1])
        return xp.asarray(obj, dtype=dt, device=self._device)

    def to_numpy(self, x: Any) -> np.ndarray:
        """Copy ``x`` to a NumPy array in host memory."""
        return _any_to_numpy(x)

    def owns(self, x: Any) -> bool:
        """Whether ``x`` is an array of this backend's namespace."""
        from array_api_compat import array_namespace, is_array_api_obj

        if not is_array_api_obj(x):
            return False
        try:
            return bool(array_namespace(x) is self._compat_xp())
        except TypeError:
            return False

    def _compat_xp(self) -> Any:
        from array_api_compat import array_namespace

        return array_namespace(self.xp.asarray(0.0, device=self._device))

    def dtype(self, dtype: Any) -> Any:
        """Translate a dtype name or NumPy dtype into this namespace's dtype."""
        if isinstance(dtype, str):
            name = dtype
        elif isinstance(dtype, (np.dtype, type)):
            name = np.dtype(dtype).name
        else:
            return dtype
        try:
            return getattr(self.xp, name)
        except AttributeError:
            msg = f"backend {self.name!r} has no dtype {name!r}"
            raise TypeError(msg) from None

    def synchronize(self) -> None:
        """Wait until queued device work is done (a no-op on the CPU)."""

    def versions(self) -> dict[str, str]:
        """Library versions, for benchmark records and ``dlcore info``."""
        return {"numpy": np.__version__}

    # -- hot loops: generic Array-API implementations ----------------------
    def bind_predict(self, arrays: Sequence[Any], *, activation: str = "sigmoid") -> PredictFn:
        """Bind the forward pass of a validated network: ``run(arrays, x) -> probabilities``.

        Parameters
        ----------
        arrays : sequence of arrays
            ``(W1, b1, ..., Wn, bn)``, validated by
            :func:`dlcore.network.check_network`.
        activation : str
            The hidden-layer activation, a name of
            :data:`dlcore.network.ACTIVATIONS` (the book's ``predict``: sigmoid).

        Returns
        -------
        callable
            ``run(arrays, x)``: softmax class probabilities of the MLP for
            ``x`` (validated by :func:`dlcore.network.check_input`) and the
            network's current arrays in layer order (usually the bound
            objects, updated in place). ``run`` never uses arrays whose
            shapes or dtypes changed since binding: it raises
            :class:`StaleArraysError` (see :func:`layout_checked`) or another
            error, and the caller then validates the network again. ``run``
            holds no reference to the arrays, so a cache of bound networks
            keeps no network alive.

        Notes
        -----
        .. math:: z_0 = x,\\quad z_i = h(z_{i-1} W_i + b_i),
                  \\quad y = \\mathrm{softmax}(z_{n-1} W_n + b_n)

        The generic version is :func:`dlcore.network.forward_layers`.
        """
        from dlcore.network import forward_layers

        def run(arrays: Sequence[Any], x: Any) -> Any:
            return forward_layers(arrays, x, activation=activation, output="softmax")

        return layout_checked(run, arrays)

    def mlp_gradient(
        self, arrays: Sequence[Any], x: Any, t: Any, *, activation: str = "sigmoid"
    ) -> list[Any]:
        """Backpropagation gradient of an MLP's softmax cross-entropy loss.

        Parameters
        ----------
        arrays : sequence of arrays
            ``(W1, b1, ..., Wn, bn)``, validated.
        x : array
            A validated batch ``(N, d)`` of the network's dtype.
        t : array
            Integer labels ``(N,)`` or one-hot targets ``(N, k)``.
        activation : str
            The hidden-layer activation (a name of
            :data:`dlcore.network.ACTIVATIONS`).

        Returns
        -------
        list of arrays
            ``[dW1, db1, ..., dWn, dbn]``, each of its parameter's shape and dtype.

        Notes
        -----
        The book's layers: :math:`\\partial L / \\partial a_n = (y - t) / N` at the
        softmax-with-loss output, then back through each affine and activation
        layer. The generic version is :func:`dlcore.network.backprop`.
        """
        from dlcore.network import backprop

        return backprop(arrays, x, t, activation=activation)

    def mlp_numerical_gradient(
        self,
        arrays: Sequence[Any],
        x: Any,
        t: Any,
        *,
        h: float,
        activation: str,
        max_bytes: int,
    ) -> list[Any]:
        """Central-difference gradient of :func:`dlcore.mlp_loss` for every weight and bias.

        ``arrays`` and ``x`` (2-D) and ``t`` arrive validated. The generic
        version evaluates many perturbed losses at once in chunks of about
        ``max_bytes`` (see :func:`dlcore.mlp_numerical_gradient`, ``"batched"``).

        Returns
        -------
        list of arrays
            ``[dW1, db1, ..., dWn, dbn]`` of the parameters' dtypes.
        """
        from ._batched_numgrad import batched_gradient

        return batched_gradient(self._namespace_of(x), arrays, x, t, h, activation, max_bytes)

    def numerical_gradient(self, f: Callable[[Any], Any], x: Any, h: float) -> Any:
        """Central differences of a scalar ``f`` at ``x``, one element at a time.

        ``x`` arrives validated (a real floating array of this namespace).
        See :func:`dlcore.numerical_gradient` for the rules (in place, as the
        book, and restored afterwards).
        """
        from ._generic import numerical_gradient_loop

        return numerical_gradient_loop(self._namespace_of(x), f, x, h)

    def bind_train_step(
        self, network: Any, optimizer: Any, x: Any, t: Any, *, sgd: SGDTraining | None = None
    ) -> TrainStepFn:
        """Bind one training step on ``(x, t)``: ``step(rows) -> loss`` of the batch ``x[rows]``.

        ``network`` (``params``, ``gradient``, ``loss``), ``optimizer``
        (``update``) and the training set arrive validated by
        :func:`dlcore.train`; ``sgd`` says when the step is a plain MLP's SGD
        step (:class:`SGDTraining`), which a backend may fuse. The generic
        step is the book's loop body: gather the batch, ``network.gradient``,
        ``optimizer.update(network.params, grads)``, ``network.loss`` of the
        batch after the update (:func:`~dlcore.backends._train_step.generic_step`).
        """
        from ._train_step import generic_step

        return generic_step(network, optimizer, x, t)

    @staticmethod
    def _namespace_of(x: Any) -> Any:
        from array_api_compat import array_namespace

        return array_namespace(x)

    def __repr__(self) -> str:
        where = "" if self._device is None else f" on {self.device_label(self._device)}"
        return f"<dlcore backend {self.name!r}{where}>"


def _is_host_data(obj: Any) -> bool:
    return isinstance(obj, (np.ndarray, np.generic, int, float, bool, complex, list, tuple))


def _any_to_numpy(x: Any) -> np.ndarray:
    """Copy an array of any supported library to host NumPy memory."""
    if isinstance(x, np.ndarray):
        return x
    if _is_host_data(x):
        return np.asarray(x)
    module = type(x).__module__.split(".")[0]
    if module == "cupy":
        return x.get()
    if module == "torch":
        return x.detach().cpu().numpy()
    if module == "dask":
        return np.asarray(x.compute())
    try:
        return np.from_dlpack(x)
    except (TypeError, RuntimeError, BufferError, AttributeError, ValueError):
        pass
    try:
        return np.asarray(x)
    except (TypeError, RuntimeError, BufferError, ValueError):
        host = _host_device(x)
        if host is None:
            raise
        return np.asarray(x.to_device(host))


def _host_device(x: Any) -> Any:
    """The CPU device of ``x``'s namespace (to copy a device array home), or ``None``."""
    from array_api_compat import array_namespace

    info = getattr(array_namespace(x), "__array_namespace_info__", None)
    if info is None or not hasattr(x, "to_device"):
        return None
    return next((d for d in info().devices() if "cpu" in str(d).lower()), None)


_LAYOUT = attrgetter("shape", "dtype")


def array_layouts(arrays: Sequence[Any]) -> tuple[tuple[Any, Any], ...]:
    """The ``(shape, dtype)`` of each array (attrgetter and map keep the loop in C)."""
    return tuple(map(_LAYOUT, arrays))


def layout_checked(run: PredictFn, arrays: Sequence[Any]) -> PredictFn:
    """``run`` behind a check that its arrays keep the shapes and dtypes of ``arrays``.

    For kernels that would otherwise use a reshaped or retyped array (the
    Numba kernels need none: Numba types every call and the layer shapes are
    checked in compiled code). Raises :class:`StaleArraysError`.
    """
    layouts = array_layouts(arrays)

    def checked(arrays: Sequence[Any], x: Any) -> Any:
        if array_layouts(arrays) != layouts:
            msg = "the network's arrays changed shape or dtype since it was bound"
            raise StaleArraysError(msg)
        return run(arrays, x)

    return checked
