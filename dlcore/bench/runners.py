"""How a dlcore backend (or a peer) classifies images: the runners both benchmarks time.

A :class:`Runner` holds the images on its device and a ``predict`` callable;
:meth:`Runner.contender` turns it into a :class:`~dlcore.bench.Contender` for
one image per call or one batch size. ``dlcore bench`` (:func:`run_bench`)
and the pytest-benchmark suite in ``benchmarks/`` both time these runners.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .engine import Contender

__all__ = [
    "DEFAULT_BATCH_SIZES",
    "Runner",
    "backend_runner",
    "bench_backends",
    "check_benchable",
    "load_shipped",
    "make_runner",
]

#: Batch sizes measured by default.
DEFAULT_BATCH_SIZES = (1, 10, 100, 1000, 10000)
#: Backends that are not benchmarked, with the reason and what to time instead.
_NOT_BENCHED = {"dask": "a lazy backend: time dlcore.predict_dask(...).compute() instead"}
#: Default order of the dlcore backends in the report.
_ORDER = ("numpy", "numba", "numba_parallel", "cupy", "torch", "jax", "array_api_strict")


@dataclass(frozen=True)
class Runner:
    """A backend or peer ready to classify images.

    Attributes
    ----------
    name, kind, device : str
        ``kind`` is ``"dlcore"`` or ``"peer"``.
    predict : callable
        Images (one, or a batch) on the runner's device -> class probabilities.
    x : array
        The images, on the runner's device.
    sync : callable
        ``sync(y)`` waits until the result ``y`` is ready.
    labels_of : callable
        A list of results -> the predicted labels, one NumPy array on the host.
    context : callable
        A context manager to time inside (``use_backend``, ``torch.inference_mode``).
    versions : dict
        Library versions, for the records.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.bench import make_runner
    >>> net = {"W1": np.eye(2), "b1": np.zeros(2)}
    >>> r = make_runner("numpy", net, np.array([[0.0, 1.0], [2.0, 0.0]]))
    >>> with r.context():
    ...     r.labels_of([r.predict(r.x)])
    array([1, 0])
    """

    name: str
    kind: str
    device: str
    predict: Callable[[Any], Any]
    x: Any
    sync: Callable[[Any], None]
    labels_of: Callable[[Sequence[Any]], np.ndarray]
    context: Callable[[], AbstractContextManager[Any]]
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """The number of images."""
        return int(self.x.shape[0])

    def contender(self, batch_size: int | None = None) -> Contender:
        """A contender classifying images in order: one per call (None) or ``batch_size``.

        Call ``i`` classifies image ``i`` or the ``i``-th batch; a round covers
        the images at most once (the last batch may be shorter).

        Examples
        --------
        >>> import numpy as np
        >>> from dlcore.bench import make_runner
        >>> r = make_runner("numpy", {"W1": np.eye(2), "b1": np.zeros(2)}, np.ones((5, 2)))
        >>> r.contender(2).max_iterations
        3
        """
        predict, x, n = self.predict, self.x, self.n
        if batch_size is None:

            def call(i: int) -> Any:
                return predict(x[i, ...])

            cap = n
        else:
            b = batch_size

            def call(i: int) -> Any:
                return predict(x[i * b : min(i * b + b, n), ...])

            cap = -(-n // b)
        return Contender(self.name, call, self.sync, self.context, cap)

    def images(self, batch_size: int | None, calls: int) -> int:
        """Images classified by ``calls`` calls of :meth:`contender`."""
        return min(calls if batch_size is None else calls * batch_size, self.n)


def host_labels(to_numpy: Callable[[Any], Any]) -> Callable[[Sequence[Any]], np.ndarray]:
    """``labels_of`` for results that ``to_numpy`` brings to the host."""

    def labels_of(ys: Sequence[Any]) -> np.ndarray:
        parts = [np.asarray(to_numpy(y)) for y in ys]
        labels = [np.argmax(p, axis=-1).reshape(-1) for p in parts]
        return np.concatenate(labels) if labels else np.empty(0, np.int64)

    return labels_of


def backend_runner(name: str, network: Mapping[str, np.ndarray], x: np.ndarray) -> Runner:
    """The runner of dlcore backend ``name``: ``dlcore.predict`` under ``use_backend(name)``.

    The network and images are moved to the backend first.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.bench import backend_runner
    >>> backend_runner("numpy", {"W1": np.eye(2), "b1": np.zeros(2)}, np.ones((3, 2))).n
    3
    """
    import dlcore

    backend = dlcore.get_backend(name)
    net = {k: backend.asarray(v) for k, v in network.items()}

    def predict(xb: Any) -> Any:
        return dlcore.predict(net, xb)

    def sync(y: Any) -> None:
        ready = getattr(y, "block_until_ready", None)  # JAX dispatches asynchronously
        if ready is not None:
            ready()
        backend.synchronize()

    return Runner(
        name=backend.name,
        kind="dlcore",
        device=str(backend.device or "cpu"),
        predict=predict,
        x=backend.asarray(x),
        sync=sync,
        labels_of=host_labels(backend.to_numpy),
        context=lambda: dlcore.use_backend(backend.name),
        versions=dict(backend.versions()),
    )


def make_runner(name: str, network: Mapping[str, np.ndarray], x: np.ndarray) -> Runner:
    """The runner of ``name``: a dlcore backend, or the peer ``"book"`` or ``"pytorch"``.

    Parameters
    ----------
    name : str
        A backend name (see :func:`bench_backends`) or a peer (see
        :data:`~dlcore.bench.PEERS`).
    network : dict
        ``W1, b1, ..., Wn, bn`` as NumPy arrays.
    x : numpy.ndarray
        The images, (N, features), on the host.

    Returns
    -------
    Runner

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.bench import make_runner
    >>> make_runner("numpy", {"W1": np.eye(2), "b1": np.zeros(2)}, np.ones((3, 2))).kind
    'dlcore'
    """
    from .peers import PEER_RUNNERS

    peer = PEER_RUNNERS.get(name.strip().lower())
    if peer is not None:
        return peer(network, x)
    return backend_runner(name, network, x)


def bench_backends() -> dict[str, tuple[bool, str]]:
    """The dlcore backends ``dlcore bench`` can time, with ``(available, reason it is not)``.

    Examples
    --------
    >>> from dlcore.bench import bench_backends
    >>> bench_backends()["numpy"]
    (True, '')
    """
    import dlcore

    status = dlcore.available_backends()
    names = [n for n in _ORDER if n in status] + sorted(set(status) - set(_ORDER))
    return {n: status[n] for n in names if n not in _NOT_BENCHED}


def check_benchable(name: str) -> str:
    """Return backend ``name`` normalised if ``dlcore bench`` can time it here; else raise.

    Raises
    ------
    ValueError
        The name is unknown, or names a backend that is not benchmarked (dask).
    dlcore.BackendError
        The backend is not available here; the message says why and lists
        the ones that are.

    Examples
    --------
    >>> from dlcore.bench import check_benchable
    >>> check_benchable(" NumPy ")
    'numpy'
    """
    import dlcore

    key = name.strip().lower()
    if key in _NOT_BENCHED:
        msg = f"backend {key!r} is not benchmarked: {_NOT_BENCHED[key]}"
        raise ValueError(msg)
    status = bench_backends()
    if key not in status:
        msg = f"unknown backend {name!r}; valid names are: {', '.join(status)}"
        raise ValueError(msg)
    try:
        dlcore.get_backend(key)
    except dlcore.BackendError as exc:
        usable = ", ".join(n for n, (ok, _) in status.items() if ok)
        msg = f"backend {key!r} is not available here: {exc} (available: {usable})"
        raise type(exc)(msg) from None
    return key


def load_shipped(dtype: str = "float32") -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The shipped sample network, 10,000 test images and labels, as host NumPy arrays.

    Examples
    --------
    >>> from dlcore.bench import load_shipped
    >>> network, x, t = load_shipped()
    >>> x.shape, x.dtype.name, t.shape
    ((10000, 784), 'float32', (10000,))
    """
    import dlcore

    with dlcore.use_backend("numpy"):
        raw = dlcore.load_sample_network()
        network = {k: np.asarray(dlcore.to_numpy(v), dtype=dtype) for k, v in raw.items()}
        x, t = dlcore.load_mnist_test(normalize=True, flatten=True, one_hot_label=False)
    images = np.ascontiguousarray(dlcore.to_numpy(x), dtype=dtype)
    return network, images, np.asarray(dlcore.to_numpy(t))
