"""``dlcore infer``: classify the MNIST test set once on one backend and batch size."""

from __future__ import annotations

import argparse
import math
from typing import Any


def register(sub: Any) -> None:
    """Add the ``infer`` subcommand to ``sub``."""
    q = sub.add_parser(
        "infer",
        help="classify the MNIST test set once on one backend and batch size",
        description=(
            "Run the shipped sample network over the shipped 10,000 MNIST test images in "
            "batches of N on backend B; print the accuracy and the throughput."
        ),
    )
    q.add_argument("--backend", metavar="B", help="backend (default: the active one)")
    q.add_argument("--batch-size", type=int, default=100, metavar="N", help="default 100")
    q.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    q.add_argument(
        "--dask",
        metavar="local|ADDRESS",
        help="classify the images of --input on a Dask cluster: 'local' starts one worker "
        "process per core on 127.0.0.1, ADDRESS (tcp://host:port) joins a running scheduler",
    )
    q.add_argument(
        "--input", metavar="STORE", help="a zarr array or folder of .npy shards (with --dask)"
    )
    q.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``dlcore infer``: one timed pass over every image (after a warm-up)."""
    import dlcore

    if args.dask is not None or args.input is not None:
        return _run_dask(args)
    backend = args.backend if args.backend is not None else dlcore.get_backend().name
    report = dlcore.run_bench(
        [backend],
        [args.batch_size],
        single=False,
        peers=(),
        budget=math.inf,  # each round classifies every image once
        repeats=1,
        dtype=args.dtype,
        progress=False,
    )
    m = report.results[0]
    print(
        f"backend {m.backend}, batch size {m.batch_size}, {m.dtype}: accuracy "
        f"{m.accuracy:.4f} on {m.images} images; {m.images_per_s:,.0f} images/s "
        f"({m.latency_us:.2f} µs/image, {m.seconds * 1e3:.1f} ms in all)"
    )
    return 0


def _run_dask(args: argparse.Namespace) -> int:
    """``--dask local|ADDRESS --input STORE``: the sample network over a store on a cluster."""
    import contextlib
    import time

    import numpy as np

    import dlcore
    from dlcore.cli import CLIError
    from dlcore.stores import open_store

    if args.dask is None or args.input is None:
        msg = "--dask and --input go together: dlcore infer --dask local --input images.zarr"
        raise CLIError(msg)
    store = open_store(args.input)  # checked before any cluster starts
    backend = args.backend if args.backend is not None else dlcore.get_backend().name
    from distributed import Client

    from dlcore.cluster import local_cluster

    with contextlib.ExitStack() as stack:
        if args.dask == "local":
            cluster = stack.enter_context(local_cluster())
            client = stack.enter_context(Client(cluster))
        else:
            client = stack.enter_context(Client(args.dask, timeout="10s"))
        workers = len(client.scheduler_info().get("workers", {}))
        net = dlcore.load_sample_network()
        start = time.perf_counter()
        y = dlcore.predict_dask(net, store, backend=backend)
        labels = np.asarray(y.argmax(axis=1).compute())
        seconds = time.perf_counter() - start
    counts = np.bincount(labels, minlength=10)
    print(
        f"classified {labels.size} images from {args.input} on {workers} Dask workers "
        f"({args.dask}), backend {backend}: {labels.size / seconds:,.0f} images/s "
        f"({seconds:.2f} s); images per class: "
        + ", ".join(f"{c}: {n}" for c, n in enumerate(counts))
    )
    return 0
