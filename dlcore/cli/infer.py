"""``dlcore infer``: classify the MNIST test set, or the learner's own digit images."""

from __future__ import annotations

import argparse
import math
from contextlib import nullcontext
from typing import Any

from dlcore.cli import load_weights_option
from dlcore.network import ACTIVATIONS


def register(sub: Any) -> None:
    """Add the ``infer`` subcommand to ``sub``."""
    q = sub.add_parser(
        "infer",
        help="classify the MNIST test set, or your own digit images (--images)",
        description=(
            "Run a network over the shipped 10,000 MNIST test images in batches of N on "
            "backend B and print the accuracy and the throughput; or, with --images, classify "
            "your own digits (PNG/JPEG of any size, converted like MNIST: white on black, "
            "20x20 box centred by mass in 28x28; or .npy arrays) and print each prediction "
            "with the three most probable digits."
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
    q.add_argument(
        "--weights",
        default="sample",
        metavar="book|sample|PATH",
        help="the network: 'book' (the book's sample_weight.pkl, accuracy 0.9352), 'sample' "
        "(dlcore's shipped network, the default) or a file saved by `dlcore train --save`",
    )
    q.add_argument(
        "--activation",
        default="sigmoid",
        choices=list(ACTIVATIONS),
        help="hidden activation of a --weights PATH network (default sigmoid, as book/sample)",
    )
    q.add_argument(
        "--images",
        nargs="+",
        metavar="PATH",
        help="classify these PNG/JPEG/.npy digit files instead of the test set",
    )
    q.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``dlcore infer``."""
    import dlcore

    if args.dask is not None or args.input is not None:
        return _run_dask(args)
    if args.images or args.activation != "sigmoid":
        with dlcore.use_backend(args.backend) if args.backend else nullcontext():
            weights = load_weights_option(args.weights, dtype=args.dtype)
            net = dlcore.MultiLayerNet.from_params(weights, activation=args.activation)
            return _classify(net, args.images) if args.images else _accuracy(net, args)
    backend = args.backend if args.backend is not None else dlcore.get_backend().name
    with dlcore.use_backend("numpy"):
        host = {k: dlcore.to_numpy(v) for k, v in load_weights_option(args.weights).items()}
        x, t = dlcore.load_mnist_test(normalize=True, flatten=True, one_hot_label=False)
    report = dlcore.run_bench(
        [backend],
        [args.batch_size],
        single=False,
        peers=(),
        budget=math.inf,  # each round classifies every image once
        repeats=1,
        dtype=args.dtype,
        progress=False,
        data=(host, dlcore.to_numpy(x), dlcore.to_numpy(t)),
    )
    m = report.results[0]
    print(
        f"backend {m.backend}, batch size {m.batch_size}, {m.dtype}: accuracy {m.accuracy:.4f} "
        f"on {m.images} images with the {args.weights} network; {m.images_per_s:,.0f} images/s "
        f"({m.latency_us:.2f} µs/image, {m.seconds * 1e3:.1f} ms in all)"
    )
    return 0


def _run_dask(args: argparse.Namespace) -> int:
    """``--dask local|ADDRESS --input STORE``: the --weights network over a store on a cluster."""
    import contextlib
    import time

    import numpy as np

    import dlcore
    from dlcore.cli import CLIError
    from dlcore.stores import open_store

    if args.dask is None or args.input is None:
        msg = "--dask and --input go together: dlcore infer --dask local --input images.zarr"
        raise CLIError(msg)
    if args.images or args.activation != "sigmoid":
        msg = "--dask classifies a store with a sigmoid network; leave out --images/--activation"
        raise CLIError(msg)
    store = open_store(args.input)  # the store and the network are checked before any cluster
    with dlcore.use_backend("numpy"):
        net = load_weights_option(args.weights, dtype=str(store.dtype))
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
        start = time.perf_counter()
        y = dlcore.predict_dask(net, store, backend=backend)
        labels = np.asarray(y.argmax(axis=1).compute())
        seconds = time.perf_counter() - start
    counts = np.bincount(labels, minlength=10)
    print(
        f"classified {labels.size} images from {args.input} on {workers} Dask workers "
        f"({args.dask}), backend {backend}, the {args.weights} network: "
        f"{labels.size / seconds:,.0f} images/s "
        f"({seconds:.2f} s); images per class: "
        + ", ".join(f"{c}: {n}" for c, n in enumerate(counts))
    )
    return 0


def _classify(net: Any, paths: list[str]) -> int:
    """Print each image's digit and its three most probable digits."""
    import numpy as np

    import dlcore
    from dlcore import load_digits

    images = [load_digits([path]) for path in paths]  # every file is checked before any output
    for path, x in zip(paths, images, strict=True):
        probs = dlcore.to_numpy(net.predict(dlcore.asarray(x, dtype=net.dtype)))
        for k, p in enumerate(probs):
            top = np.argsort(-p, kind="stable")[:3]
            name = path if len(probs) == 1 else f"{path}[{k}]"
            best = ", ".join(f"{int(d)}: {float(p[d]):.3f}" for d in top)
            print(f"{name}: {int(top[0])}  (top 3: {best})")
    return 0


def _accuracy(net: Any, args: argparse.Namespace) -> int:
    import dlcore

    x, t = dlcore.load_mnist_test(normalize=True, flatten=True, one_hot_label=False)
    x = dlcore.asarray(dlcore.to_numpy(x), dtype=net.dtype)
    hits = 0.0
    size = max(int(args.batch_size), 1)
    for i in range(0, int(x.shape[0]), size):
        rows = x[i : i + size, ...]  # the Array API has no implicit trailing axes
        hits += net.accuracy(rows, t[i : i + size]) * int(rows.shape[0])
    print(
        f"backend {dlcore.get_backend().name}, {args.activation} network {args.weights}: "
        f"accuracy {hits / int(x.shape[0]):.4f} on {int(x.shape[0])} images"
    )
    return 0
