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
        hits += net.accuracy(x[i : i + size, ...], t[i : i + size]) * int(x[i : i + size].shape[0])
    print(
        f"backend {dlcore.get_backend().name}, {args.activation} network {args.weights}: "
        f"accuracy {hits / int(x.shape[0]):.4f} on {int(x.shape[0])} images"
    )
    return 0
