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
    q.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``dlcore infer``: one timed pass over every image (after a warm-up)."""
    import dlcore

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
