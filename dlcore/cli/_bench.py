"""``dlcore bench`` (batch vs single-image inference on every backend) and ``dlcore infer``."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np

from dlcore.cli import CLIError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="time MNIST inference image by image and in batches on every backend",
        description=(
            "Classify the shipped 10,000 MNIST test images with the shipped sample network, "
            "one image per call and in batches, on every available backend and two peers "
            "(the book's NumPy code, PyTorch if installed); print images/s, latency per "
            "image, the speed-up of batching and the accuracy."
        ),
    )
    p.add_argument(
        "--backend",
        action="append",
        metavar="B",
        help="backend to time (repeatable; default: every available one)",
    )
    p.add_argument(
        "--batch-size",
        action="append",
        type=int,
        metavar="N",
        help="batch size to time (repeatable; default: 1 10 100 1000 10000)",
    )
    p.add_argument(
        "--mode",
        choices=("single", "batch", "both"),
        default="both",
        help="time the single-image loop, the batches, or both (default)",
    )
    p.add_argument(
        "--peer",
        action="append",
        metavar="P",
        help="peer to compare with: book, pytorch (repeatable; default: both)",
    )
    p.add_argument("--no-peers", action="store_true", help="time dlcore backends only")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--quick", action="store_true", help="a smoke run: one short run each")
    p.add_argument("--budget", type=float, help="seconds per timed run (default 0.25)")
    p.add_argument("--repeats", type=int, help="timed runs per configuration (default 3)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--plot", metavar="PATH", help="also save a PNG chart (needs matplotlib)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_bench)

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
    q.set_defaults(func=_infer)


def _check_sizes(sizes: list[int] | None) -> None:
    for size in sizes or ():
        if size < 1:
            msg = f"--batch-size must be a positive integer (images per call), got {size}"
            raise CLIError(msg)


def _check_backend(name: str) -> None:
    import dlcore
    from dlcore.bench import _NOT_BENCHED, bench_backends

    status = dlcore.available_backends()
    key = name.strip().lower()
    if key in _NOT_BENCHED:
        msg = f"backend {key!r} is not benchmarked: {_NOT_BENCHED[key]}"
        raise CLIError(msg)
    if key not in status:
        msg = f"unknown backend {name!r}; valid names are: {', '.join(sorted(status))}"
        raise CLIError(msg)
    ok, why = status[key]
    if not ok:
        usable = ", ".join(n for n, (good, _) in bench_backends().items() if good)
        msg = f"backend {key!r} is not available here: {why} (available: {usable})"
        raise CLIError(msg)


def _check_output(path: str | None, option: str) -> None:
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        msg = f"{option} {path}: the folder {folder} does not exist; create it or choose another"
        raise CLIError(msg)


def _bench(args: argparse.Namespace) -> int:
    from dlcore.bench import DEFAULT_BATCH_SIZES, PEERS, run_bench

    _check_sizes(args.batch_size)
    for name in args.backend or ():
        _check_backend(name)
    if args.mode == "single" and args.batch_size:
        msg = "nothing selected: --batch-size was given with --mode single; drop one of them"
        raise CLIError(msg)
    if args.no_peers and args.peer:
        msg = "--no-peers and --peer contradict each other; drop one of them"
        raise CLIError(msg)
    if args.budget is not None and not args.budget > 0:
        msg = f"--budget must be a positive number of seconds, got {args.budget}"
        raise CLIError(msg)
    if args.repeats is not None and args.repeats < 1:
        msg = f"--repeats must be a positive integer, got {args.repeats}"
        raise CLIError(msg)
    _check_output(args.json, "--json")
    _check_output(args.plot, "--plot")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            msg = '--plot needs matplotlib; install it with: pip install "dlcore[plot]"'
            raise CLIError(msg) from None

    sizes = [] if args.mode == "single" else (args.batch_size or list(DEFAULT_BATCH_SIZES))
    peers = [] if args.no_peers else (args.peer or list(PEERS))
    try:
        report = run_bench(
            args.backend,
            sizes,
            single=args.mode != "batch",
            peers=peers,
            quick=args.quick,
            budget=args.budget,
            repeats=args.repeats,
            dtype=args.dtype,
            progress=not args.no_progress,
        )
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    meta = report.meta
    print(
        f"dlcore {meta['versions']['dlcore']}: MNIST inference, {meta['settings']['images']} "
        f"test images, {meta['network']}, {args.dtype}; "
        f"{meta['machine']['cpu_count']} CPUs, best of {meta['settings']['repeats']} run(s)"
    )
    print(report.table())
    if args.json:
        report.write_json(args.json)
        print(f"wrote {args.json}")
    if args.plot:
        report.plot(args.plot)
        print(f"wrote {args.plot}")
    return 0


def _infer(args: argparse.Namespace) -> int:
    import dlcore
    from dlcore.bench import _block_until_ready

    _check_sizes([args.batch_size])
    if args.backend is not None:
        _check_backend(args.backend)
    backend = dlcore.get_backend(args.backend)
    with dlcore.use_backend(backend.name):
        network = {
            k: backend.asarray(dlcore.to_numpy(v), dtype=args.dtype)
            for k, v in dlcore.load_sample_network().items()
        }
        x, t = dlcore.load_mnist_test(normalize=True, flatten=True, one_hot_label=False)
        x = backend.asarray(dlcore.to_numpy(x), dtype=args.dtype)
        n = int(x.shape[0])
        dlcore.predict_batches(network, x[: min(args.batch_size, n), ...], args.batch_size)  # warm
        backend.synchronize()
        start = time.perf_counter()
        y = dlcore.predict_batches(network, x, args.batch_size)
        _block_until_ready(y)
        backend.synchronize()
        seconds = time.perf_counter() - start
        labels = np.asarray(dlcore.to_numpy(backend.xp.argmax(y, axis=-1)))
    n = labels.shape[0]
    accuracy = float(np.mean(labels == dlcore.to_numpy(t)))
    print(
        f"backend {backend.name}, batch size {args.batch_size}, {args.dtype}: accuracy "
        f"{accuracy:.4f} on {n} images; {n / seconds:,.0f} images/s "
        f"({seconds / n * 1e6:.2f} µs/image, {seconds * 1e3:.1f} ms in all)"
    )
    return 0
