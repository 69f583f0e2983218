"""Inference over many images: fixed-size batches in memory, or a Dask array.

:func:`predict_batches` runs :func:`dlcore.predict` over a large array in
batches of ``batch_size`` rows (bounded working memory, the batch size that
suits the backend). :func:`predict_dask` maps it over the blocks of a Dask
array chunked along the batch axis, so inference over more images than fit in
memory runs on Dask's schedulers: threads, processes or a
``dask.distributed`` cluster. Dask is optional (``pip install "dlcore[dask]"``)
and imported only by :func:`predict_dask`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from array_api_compat import device

from ._validate import as_array, check_positive_int, namespace
from .network import check_network
from .predictor import Predictor, predict

__all__ = ["predict_batches", "predict_dask"]


def predict_batches(network: Mapping[str, Any], x: Any, batch_size: int = 100) -> Any:
    """Class probabilities for a 2-D batch, computed ``batch_size`` rows at a time.

    Parameters
    ----------
    network : dict
        ``W1, b1, ..., Wn, bn`` as for :func:`dlcore.predict`.
    x : array
        Images, one per row: shape ``(N, d)``, on the same backend as the
        weights.
    batch_size : int
        Rows per call of :func:`dlcore.predict` (>= 1). Batching amortises
        the per-call overhead; the working memory beyond ``x`` and the result
        is about one batch (its activations and probabilities).

    Returns
    -------
    array
        ``(N, k)`` probabilities, the same as ``dlcore.predict(network, x)``
        up to rounding.

    Notes
    -----
    Rows are independent, so the result does not depend on ``batch_size``
    beyond the rounding of the matrix products:
    :math:`Y_{[i:i+B]} = \\mathrm{predict}(X_{[i:i+B]})`.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> network = {"W1": np.eye(2), "b1": np.zeros(2)}
    >>> dlcore.predict_batches(network, np.array([[0.0, 0.0], [1.0, 0.0]]), batch_size=1)
    array([[0.5       , 0.5       ],
           [0.73105858, 0.26894142]])
    """
    size = check_positive_int(batch_size, "batch_size")
    run = Predictor(network)
    x = as_array(x, "x")
    xp = namespace(x)
    if x.ndim != 2:
        msg = (
            f"`x` must be a 2-D batch (N, features) for predict_batches, got shape "
            f"{tuple(x.shape)}; use dlcore.predict for a single image"
        )
        raise ValueError(msg)
    n = int(x.shape[0])
    if n <= size:
        return run(x)
    # Each batch is written into the preallocated result, so the working memory is
    # one batch, not a list of all of them and its concatenation. Stops are clipped to
    # n: the Array API leaves out-of-bounds slice stops unspecified.
    first = run(x[0:size, ...])
    try:
        out = xp.empty((n, *first.shape[1:]), dtype=first.dtype, device=device(first))
        out[0:size, ...] = first
    except (TypeError, ValueError, NotImplementedError):  # immutable arrays (JAX)
        rest = [run(x[i : min(i + size, n), ...]) for i in range(size, n, size)]
        return xp.concat([first, *rest], axis=0)
    for i in range(size, n, size):
        out[i : min(i + size, n), ...] = run(x[i : min(i + size, n), ...])
    return out


def predict_dask(network: Mapping[str, Any], x: Any, *, backend: str | None = None) -> Any:
    """Lazy class probabilities for a Dask array of images, block by block.

    Parameters
    ----------
    network : dict
        ``W1, b1, ..., Wn, bn`` on any backend (copied to host NumPy arrays
        once and embedded in the task graph).
    x : dask.array.Array
        Images ``(N, d)`` of a floating dtype, chunked along the batch axis
        (a chunked feature axis is merged into one chunk).
    backend : str, optional
        The dlcore backend each block runs on (``"numba"``, ``"numpy"``,
        ...); default: the backend active when this is called. It is fixed
        now, because Dask's worker threads and processes do not see
        :func:`dlcore.use_backend` contexts.

    Returns
    -------
    dask.array.Array
        ``(N, k)`` probabilities of ``x``'s dtype, chunked as ``x`` along
        rows; nothing runs until ``.compute()`` (or ``dask.compute``,
        ``.to_zarr``, ...). Each block is a NumPy array.

    Notes
    -----
    Every block ``X_b`` becomes ``predict(network, X_b)`` on the chosen
    backend (``dask.array.map_blocks``), so the chunk size is the batch size
    and the memory in use is a few chunks per worker. On a cluster::

        >>> from dask.distributed import Client, LocalCluster  # doctest: +SKIP
        >>> import dask.array as da, dlcore  # doctest: +SKIP
        >>> cluster = LocalCluster(n_workers=2, threads_per_worker=1)  # doctest: +SKIP
        >>> client = Client(cluster)  # doctest: +SKIP
        >>> x, t = dlcore.load_mnist_test()  # doctest: +SKIP
        >>> xd = da.from_array(dlcore.to_numpy(x), chunks=(1000, 784))  # doctest: +SKIP
        >>> net = dlcore.load_sample_network()  # doctest: +SKIP
        >>> y = dlcore.predict_dask(net, xd, backend="numba")  # doctest: +SKIP
        >>> labels = y.argmax(axis=1).compute()  # runs on the cluster  # doctest: +SKIP
        >>> client.close(); cluster.close()  # doctest: +SKIP

    Examples
    --------
    >>> import numpy as np, dask.array as da, dlcore
    >>> network = {"W1": np.eye(2), "b1": np.zeros(2)}
    >>> x = da.from_array(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), chunks=(2, 2))
    >>> y = dlcore.predict_dask(network, x)
    >>> y.chunks
    ((2, 1), (2,))
    >>> y.compute()
    array([[0.5       , 0.5       ],
           [0.73105858, 0.26894142],
           [0.26894142, 0.73105858]])
    """
    try:
        import dask.array as da
    except ImportError as exc:
        msg = (
            f"predict_dask needs Dask, which could not be imported ({exc}); install it with: "
            'pip install "dlcore[dask]"'
        )
        raise ImportError(msg) from exc
    import numpy as np

    from .backends import get_backend, to_numpy

    if not isinstance(x, da.Array):
        msg = (
            f"`x` must be a dask.array.Array, got {type(x).__name__}; wrap an array with "
            "dask.array.from_array(x, chunks=(1000, x.shape[1])) or use predict_batches"
        )
        raise TypeError(msg)
    n_layers = check_network(network)
    host = {key: to_numpy(value) for key, value in network.items()}
    w1 = host["W1"]
    if x.ndim != 2 or x.shape[1] != w1.shape[0]:
        msg = (
            f"`x` must be a 2-D Dask array (N, {w1.shape[0]}) to match W1 with shape "
            f"{w1.shape}, got shape {x.shape}"
        )
        raise ValueError(msg)
    if not np.issubdtype(x.dtype, np.floating):
        msg = (
            f"`x` must have a floating-point dtype, got {x.dtype}; convert it, e.g. "
            "x.astype('float32') / 255"
        )
        raise TypeError(msg)
    name = get_backend(backend).name
    k = int(host[f"W{n_layers}"].shape[1])
    if len(x.chunks[1]) > 1:
        x = x.rechunk({1: -1})
    return da.map_blocks(
        _predict_block,
        x,
        network=host,
        backend=name,
        dtype=x.dtype,
        chunks=(x.chunks[0], (k,)),
        meta=np.empty((0, 0), dtype=x.dtype),
    )


def _predict_block(block: Any, *, network: Mapping[str, Any], backend: str) -> Any:
    """One Dask block through :func:`dlcore.predict` on ``backend``; returns NumPy."""
    from .backends import to_numpy, use_backend

    with use_backend(backend) as b:
        net = {key: b.asarray(value) for key, value in network.items()}
        return to_numpy(predict(net, b.asarray(block)))
