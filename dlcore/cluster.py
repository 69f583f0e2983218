"""Dask clusters for inference: a loopback LocalCluster, chunk sizes, BLAS threads per task.

:func:`local_cluster` starts worker *processes* on 127.0.0.1 only, one Dask
thread each and single-threaded BLAS (so ``n`` workers use ``n`` cores, not
``n`` x the BLAS pool). :func:`auto_chunk_rows` sizes a chunk from the
network (the input row and every layer's activations) and the memory each
worker thread has. :func:`blas_limited` is what each inference task runs
under, on any cluster: BLAS held to a given number of threads while the
block runs, restored afterwards (threadpoolctl).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

__all__ = ["auto_chunk_rows", "blas_limited", "local_cluster", "memory_per_thread"]

#: Upper bound of one chunk's working memory when Dask's ``array.chunk-size`` is not set.
CHUNK_BYTES = 128 << 20
#: Share of a thread's memory one chunk may use: a worker holds a few chunks at once.
MEMORY_SHARE = 8
_BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
#: zarr's own reader pool and concurrency, also one per worker thread (zarr reads them at import).
_ZARR_ENV = ("ZARR_THREADING__MAX_WORKERS", "ZARR_ASYNC__CONCURRENCY")
_controller: Any = None


def memory_per_thread(client: Any = None) -> int:
    """Bytes of memory per worker thread: of the Dask client's workers, else of this machine.

    With a ``distributed`` client (``client`` or the default one) this is the
    smallest ``memory_limit / nthreads`` over its workers; otherwise the
    machine's total memory over its cores.
    """
    if client is None:
        with contextlib.suppress(ImportError, ValueError):
            from distributed import default_client

            client = default_client()
    if client is not None:
        workers = client.scheduler_info().get("workers", {}).values()
        shares = [w["memory_limit"] // max(1, w["nthreads"]) for w in workers if w["memory_limit"]]
        if shares:
            return int(min(shares))
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX
        total = 8 << 30
    return int(total // (os.cpu_count() or 1))


def auto_chunk_rows(network: Mapping[str, Any], dtype: Any, *, memory: int | None = None) -> int:
    """Rows per chunk so that one chunk's working memory fits the worker thread's share.

    A row costs its input (``d`` values), every layer's output and one
    temporary per layer, at the images' dtype; a chunk may use
    ``min(memory / 8, chunk size)``, the chunk size being Dask's own
    ``array.chunk-size`` setting (128 MiB unless configured).

    Examples
    --------
    >>> import numpy as np
    >>> net = {"W1": np.zeros((784, 50)), "b1": np.zeros(50), "W2": np.zeros((50, 10)),
    ...        "b2": np.zeros(10)}
    >>> auto_chunk_rows(net, np.float32, memory=1 << 30)  # 128 MiB / (4 B * (784 + 2 * 60))
    37117
    """
    widths = [int(v.shape[1]) for k, v in network.items() if k.startswith("W")]
    d = int(network["W1"].shape[0])
    row = np.dtype(dtype).itemsize * (d + 2 * sum(widths))
    budget = min(
        (memory if memory is not None else memory_per_thread()) // MEMORY_SHARE, chunk_bytes()
    )
    return max(1, int(budget // row))


def chunk_bytes() -> int:
    """Dask's ``array.chunk-size`` in bytes (its recommended chunk), else 128 MiB."""
    try:
        import dask
        from dask.utils import parse_bytes

        return int(parse_bytes(dask.config.get("array.chunk-size")))
    except (ImportError, KeyError, TypeError, ValueError):
        return CHUNK_BYTES


@contextlib.contextmanager
def blas_limited(threads: int | None) -> Iterator[None]:
    """Hold BLAS/OpenMP to ``threads`` threads inside the block (``None``: leave it alone)."""
    global _controller
    if threads is None:
        yield
        return
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()  # finds the loaded BLAS libraries once per process
    with _controller.limit(limits=threads):
        yield


def local_cluster(
    n_workers: int | None = None, *, threads_per_worker: int = 1, memory_limit: str | int = "auto"
) -> Any:
    """A ``distributed.LocalCluster`` of worker processes on 127.0.0.1, dashboard off.

    Each worker starts with single-threaded BLAS/OpenMP/Numba and zarr
    (environment variables read when the libraries load), so ``n_workers`` workers use
    ``n_workers * threads_per_worker`` cores. Use it as a context manager
    with a ``distributed.Client``.

    Parameters
    ----------
    n_workers : int, optional
        Default: one per core.
    threads_per_worker : int
    memory_limit : str or int
        Per worker, as for ``LocalCluster`` (``"auto"``: the machine's memory
        over the workers).
    """
    try:
        from distributed import LocalCluster
    except ImportError as exc:
        msg = (
            f"a local Dask cluster needs distributed ({exc}); install it with: "
            'pip install "dlcore[dask]"'
        )
        raise ImportError(msg) from exc
    n = n_workers if n_workers is not None else (os.cpu_count() or 1)
    return LocalCluster(
        n_workers=n,
        threads_per_worker=threads_per_worker,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        memory_limit=memory_limit,
        env=dict.fromkeys(_BLAS_ENV + _ZARR_ENV, "1"),
    )
