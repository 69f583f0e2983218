"""predict_dask on a LocalCluster over images at rest against predict_batches, in one run.

The shipped 10,000 MNIST test images, tiled to ``DLCORE_BENCH_DASK_IMAGES``
(default 500,000; float32, 784 features), are written once to a folder of
``.npy`` shards and to an uncompressed zarr array (50,000 rows per shard or
chunk, so that the tasks get the chunk size chosen from the network and the
worker memory: a task reads whole stored chunks and never crosses a shard).
The contenders classify all of them with the shipped sample network
on the numpy backend, timed by :func:`dlcore.bench.compare` (interleaved
rounds, medians, a settle pause between contenders):

* ``predict_batches``: the images in this process's memory, batches of 1,000
  (and the same with BLAS held to one thread, the cost per core);
* ``cluster npy`` / ``cluster zarr``: :func:`dlcore.predict_dask` over the
  store on a :func:`dlcore.cluster.local_cluster` of worker processes (one
  per core, one thread each, single-threaded BLAS); each task reads its own
  rows from disk (the page cache after the first round), and the (N, 10)
  probabilities are gathered here.

The table has images/s (median over rounds) and each worker's peak resident
memory during the timed rounds (sampled every 10 ms), next to its resident
memory before them. Run::

    python -m pytest benchmarks/bench_dask.py -s
    DLCORE_BENCH_DASK_IMAGES=100000 python benchmarks/bench_dask.py
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dlcore
from dlcore.bench import Contender, compare

pytest.importorskip(
    "distributed", reason="distributed is not installed (pip install 'dlcore[dask]')"
)


class PeakRSS:
    """Samples the resident memory of some processes every ``interval`` s in a thread.

    (``ru_maxrss`` would not do: a worker process starts from this one, whose
    peak, the images in memory, it inherits.)
    """

    def __init__(self, pids: list[int], interval: float = 0.01) -> None:
        import psutil

        self.procs = [psutil.Process(pid) for pid in pids]
        self.peak = [p.memory_info().rss for p in self.procs]
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            for i, p in enumerate(self.procs):
                self.peak[i] = max(self.peak[i], p.memory_info().rss)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run(images: int, *, rounds: int = 5, workers: int | None = None) -> dict[str, Any]:
    """Write the stores, time the contenders, return the figures (and print a table)."""
    from distributed import Client

    from dlcore.cluster import auto_chunk_rows, blas_limited, local_cluster, memory_per_thread

    net = dlcore.load_sample_network()
    x10k, _ = dlcore.load_mnist_test()
    x = np.tile(dlcore.to_numpy(x10k), (-(-images // 10_000), 1))[:images]
    want = dlcore.to_numpy(dlcore.predict_batches(net, x, batch_size=10_000)).argmax(axis=1)
    with tempfile.TemporaryDirectory(dir=os.environ.get("DLCORE_BENCH_DIR")) as tmp:
        formats = ["npy"] + (["zarr"] if _has_zarr() else [])
        stores = {
            fmt: dlcore.save_images(Path(tmp) / f"x.{fmt}", x, chunk_rows=50_000, format=fmt)
            for fmt in formats
        }
        with local_cluster(workers) as cluster, Client(cluster) as client:
            memory = memory_per_thread(client)
            rows = auto_chunk_rows(net, np.float32, memory=memory)

            def on_cluster(fmt: str) -> Contender:
                def call(i: int) -> Any:
                    return dlcore.predict_dask(net, stores[fmt], backend="numpy").compute()

                return Contender(f"cluster {fmt}", call, max_iterations=1)

            def batches(i: int) -> Any:
                return dlcore.predict_batches(net, x, batch_size=1000)

            def one_core(i: int) -> Any:
                with blas_limited(1):
                    return dlcore.predict_batches(net, x, batch_size=1000)

            contenders = [Contender("predict_batches", batches, max_iterations=1)]
            contenders.append(Contender("  with 1 thread", one_core, max_iterations=1))
            contenders += [on_cluster(fmt) for fmt in formats]
            for c in contenders[2:]:  # imports and page cache, untimed
                c.call(0)
            pids = list(client.run(os.getpid).values())
            with PeakRSS(pids) as rss:
                before = list(rss.peak)
                timings = compare(contenders, rounds=rounds, budget=float("inf"), settle=0.5)
            peaks = rss.peak
            for t in timings:
                got = t.results[-1].argmax(axis=1)
                assert np.array_equal(got, want), f"{t.name} gave other labels"
    base = timings[0].median
    result = {
        "load_average_1min": os.getloadavg()[0],
        "images": images,
        "workers": len(peaks),
        "chunk_rows": rows,
        "memory_per_worker_thread": memory,
        "cores": os.cpu_count(),
        "rounds": rounds,
        "images_per_s": {t.name: images / t.median for t in timings},
        "vs_predict_batches": {t.name: base / t.median for t in timings},
        "worker_rss_before_mib": sorted(v / 2**20 for v in before),
        "worker_peak_rss_mib": sorted(v / 2**20 for v in peaks),
    }
    _print(result)
    return result


def _has_zarr() -> bool:
    import importlib.util

    return importlib.util.find_spec("zarr") is not None


def _print(r: dict[str, Any]) -> None:
    print(
        f"\n{r['images']:,} images, {r['workers']} workers x 1 thread on {r['cores']} cores, "
        f"{r['chunk_rows']:,} rows per chunk (from {r['memory_per_worker_thread'] / 2**30:.1f} "
        f"GiB per worker thread), median of {r['rounds']} interleaved rounds; load average "
        f"{r['load_average_1min']:.1f} at the end"
    )
    for name, rate in r["images_per_s"].items():
        ratio = r["vs_predict_batches"][name]
        print(f"  {name:<16} {rate:>12,.0f} images/s  {ratio:7.1%} of predict_batches")
    before = ", ".join(f"{v:.0f}" for v in r["worker_rss_before_mib"])
    peak = ", ".join(f"{v:.0f}" for v in r["worker_peak_rss_mib"])
    print(f"  worker peak RSS: {peak} MiB (before the timed rounds: {before} MiB)")


def test_cluster_vs_predict_batches() -> None:
    images = int(os.environ.get("DLCORE_BENCH_DASK_IMAGES", "500000"))
    result = run(images, rounds=int(os.environ.get("DLCORE_BENCH_DASK_ROUNDS", "5")))
    assert result["workers"] >= 1


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    run(args.images, rounds=args.rounds, workers=args.workers)
