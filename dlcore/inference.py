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

import os
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


def predict_dask(
    network: Mapping[str, Any],
    x: Any,
    *,
    backend: str | None = None,
    chunk_rows: int | None = None,
    blas_threads: int | None = 1,
) -> Any:
    """Lazy class probabilities for images in a Dask array or a chunked store on disk.

    Parameters
    ----------
    network : dict
        ``W1, b1, ..., Wn, bn`` on any backend (copied to host NumPy arrays
        once; one key of the task graph, so each worker receives it once).
    x : dask.array.Array, path or dlcore.stores.ImageStore
        Images ``(N, d)`` of a floating dtype: a Dask array chunked along the
        batch axis (a chunked feature axis is merged into one chunk), or a
        zarr array / folder of ``.npy`` shards on disk (see
        :mod:`dlcore.stores`), whose pieces each task reads itself.
    backend : str, optional
        The dlcore backend each block runs on (``"numba"``, ``"numpy"``,
        ...); default: the backend active when this is called. It is fixed
        now, because Dask's worker threads and processes do not see
        :func:`dlcore.use_backend` contexts.
    chunk_rows : int, optional
        Rows per task. Default for a store: from the network and the memory
        per worker thread (:func:`dlcore.cluster.auto_chunk_rows`), aligned
        to the stored chunks; for a Dask array: its own chunks.
    blas_threads : int or None
        BLAS threads while a block runs (restored afterwards): 1 by default,
        since Dask already runs one task per core; ``None`` leaves BLAS alone
        (e.g. for the single-threaded ``"sync"`` scheduler).

    Returns
    -------
    dask.array.Array
        ``(N, k)`` probabilities of the images' dtype, one chunk per task;
        nothing runs until ``.compute()`` (or ``dask.compute``,
        ``.to_zarr``, ...). Each block is a NumPy array.

    Notes
    -----
    Every block ``X_b`` becomes ``predict(network, X_b)`` on the chosen
    backend, so the chunk size is the batch size and a worker holds a few
    chunks at a time. On a cluster, with the images at rest::

        >>> import dlcore  # doctest: +SKIP
        >>> from dask.distributed import Client  # doctest: +SKIP
        >>> from dlcore.cluster import local_cluster  # doctest: +SKIP
        >>> x, t = dlcore.load_mnist_test()  # doctest: +SKIP
        >>> dlcore.save_images("mnist-test.zarr", x, chunk_rows=2000)  # doctest: +SKIP
        >>> net = dlcore.load_sample_network()  # doctest: +SKIP
        >>> with local_cluster(2) as cluster, Client(cluster):  # doctest: +SKIP
        ...     y = dlcore.predict_dask(net, "mnist-test.zarr", backend="numba")
        ...     labels = y.argmax(axis=1).compute()

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
    from .stores import ImageStore, open_store

    at_rest = isinstance(x, (str, os.PathLike, ImageStore))
    if not at_rest and not isinstance(x, da.Array):
        msg = (
            f"`x` must be a dask.array.Array or the path of an image store, got "
            f"{type(x).__name__}; wrap an array with dask.array.from_array(x, chunks=(1000, "
            "x.shape[1])), write it with dlcore.save_images, or use predict_batches"
        )
        raise TypeError(msg)
    rows = None if chunk_rows is None else check_positive_int(chunk_rows, "chunk_rows")
    if blas_threads is not None:
        check_positive_int(blas_threads, "blas_threads")
        try:
            import threadpoolctl  # noqa: F401  (the tasks hold BLAS threads with it)
        except ImportError as exc:
            msg = (
                f"predict_dask(blas_threads={blas_threads}) needs threadpoolctl ({exc}); "
                'install it with pip install "dlcore[dask]", or pass blas_threads=None'
            )
            raise ImportError(msg) from exc
    n_layers = check_network(network)
    host = {key: to_numpy(value) for key, value in network.items()}
    store = (x if isinstance(x, ImageStore) else open_store(x)) if at_rest else None
    shape, dtype = (store.shape, store.dtype) if store is not None else (x.shape, x.dtype)
    w1 = host["W1"]
    if len(shape) != 2 or shape[1] != w1.shape[0]:
        what = "image store" if store is not None else "Dask array"
        msg = (
            f"`x` must be a 2-D {what} (N, {w1.shape[0]}) to match W1 with shape "
            f"{w1.shape}, got shape {shape}"
        )
        raise ValueError(msg)
    if not np.issubdtype(dtype, np.floating):
        msg = (
            f"`x` must have a floating-point dtype, got {dtype}; convert it, e.g. "
            "x.astype('float32') / 255"
        )
        raise TypeError(msg)
    name = get_backend(backend).name
    k = int(host[f"W{n_layers}"].shape[1])
    if store is not None:
        from .cluster import auto_chunk_rows

        pieces = store.pieces(rows if rows is not None else auto_chunk_rows(host, dtype))
        return _predict_pieces(pieces, host, name, k, dtype, blas_threads)
    if len(x.chunks[1]) > 1 or rows is not None:
        x = x.rechunk({0: rows if rows is not None else x.chunks[0], 1: -1})
    return da.map_blocks(
        _predict_block,
        x,
        network=host,
        backend=name,
        blas_threads=blas_threads,
        dtype=x.dtype,
        chunks=(x.chunks[0], (k,)),
        meta=np.empty((0, 0), dtype=x.dtype),
    )


def _predict_pieces(
    pieces: list[Any], host: dict[str, Any], backend: str, k: int, dtype: Any, blas: int | None
) -> Any:
    """One task per store piece: read it on the worker, classify it there."""
    import dask.array as da
    import numpy as np
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    token = tokenize(pieces, host, backend, blas)
    name, net_key = f"dlcore-predict-{token}", f"dlcore-network-{token}"
    dsk: dict[Any, Any] = {net_key: host}
    for i, piece in enumerate(pieces):
        dsk[(name, i, 0)] = (_predict_piece, *piece, net_key, backend, blas)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[])
    chunks = (tuple(stop - start for _, _, start, stop in pieces), (k,))
    return da.Array(graph, name, chunks, dtype=dtype, meta=np.empty((0, 0), dtype=dtype))


def _predict_piece(
    fmt: str, file: str, start: int, stop: int, network: Any, backend: str, blas: int | None
) -> Any:
    from .stores import read_piece

    rows = read_piece(fmt, file, start, stop, copy=False)  # read once, by the first matmul
    return _predict_block(rows, network=network, backend=backend, blas_threads=blas)


def _predict_block(
    block: Any, *, network: Mapping[str, Any], backend: str, blas_threads: int | None = 1
) -> Any:
    """One block through :func:`dlcore.predict` on ``backend``, BLAS limited; returns NumPy."""
    from .backends import to_numpy, use_backend
    from .cluster import blas_limited

    with blas_limited(blas_threads), use_backend(backend) as b:
        net = {key: b.asarray(value) for key, value in network.items()}
        return to_numpy(predict(net, b.asarray(block)))
