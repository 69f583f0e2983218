"""``dlcore bench``: MNIST inference image by image and in batches, on every backend."""

from __future__ import annotations

import argparse
import importlib.util
from typing import Any

from dlcore.cli import CLIError, load_weights_option


def register(sub: Any) -> None:
    """Add the ``bench`` subcommand to ``sub``."""
    p = sub.add_parser(
        "bench",
        help="time MNIST inference image by image and in batches on every backend",
        description=(
            "Classify the shipped 10,000 MNIST test images with the shipped sample network, "
            "one image per call and in batches, on every available backend and two peers "
            "(the book's NumPy code, PyTorch if installed), all timed in the same interleaved "
            "rounds; print the median images/s and latency per image with the interquartile "
            "range, the speed-up of batching, the ratios to the peers and the accuracy."
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
    p.add_argument(
        "--images",
        choices=("mnist", "dense"),
        default="mnist",
        help="the MNIST test images (default) or as many dense uniform random ones",
    )
    p.add_argument(
        "--train",
        action="store_true",
        help="time the book's training recipe instead (one epoch per round, vs the book's "
        "ch05 loop; --repeats 16 trains 10,200 iterations)",
    )
    p.add_argument(
        "--weights",
        metavar="book|sample|PATH",
        help="the network to time: 'book' (the book's sample_weight.pkl), 'sample' (dlcore's "
        "shipped network, the default) or a sigmoid network saved by `dlcore train --save`",
    )
    p.add_argument("--quick", action="store_true", help="a smoke run: 0.2 s and 3 rounds each")
    p.add_argument("--budget", type=float, help="seconds of timing per configuration (default 2.0)")
    p.add_argument("--repeats", type=int, help="interleaved rounds per configuration (default 5)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--plot", metavar="PATH", help="also save a PNG chart (needs matplotlib)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``dlcore bench``; the library checks the values, this checks the options agree."""
    from dlcore.bench import DEFAULT_BATCH_SIZES, PEERS, run_bench
    from dlcore.cli._paths import check_output, check_plot

    if args.mode == "single" and args.batch_size:
        msg = "nothing selected: --batch-size was given with --mode single; drop one of them"
        raise CLIError(msg)
    if args.no_peers and args.peer:
        msg = "--no-peers and --peer contradict each other; drop one of them"
        raise CLIError(msg)
    check_output(args.json, "--json")
    check_plot(args.plot)
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        msg = '--plot needs matplotlib; install it with: pip install "dlcore[plot]"'
        raise CLIError(msg)
    if args.train:
        return _train(args)

    data = None
    if args.weights is not None:
        import dlcore

        with dlcore.use_backend("numpy"):
            host = {k: dlcore.to_numpy(v) for k, v in load_weights_option(args.weights).items()}
            x, t = dlcore.load_mnist_test(normalize=True, flatten=True, one_hot_label=False)
        slopes = sorted(key for key in host if key.startswith("alpha"))
        if slopes:
            msg = (
                f"{args.weights} is a PReLU network (it has {slopes}); bench times the book's "
                "sigmoid networks, W1, b1, ..., Wn, bn; classify it with "
                "`dlcore infer --weights PATH --activation prelu`"
            )
            raise CLIError(msg)
        data = (host, dlcore.to_numpy(x), dlcore.to_numpy(t))
    report = run_bench(
        args.backend,
        [] if args.mode == "single" else (args.batch_size or list(DEFAULT_BATCH_SIZES)),
        single=args.mode != "batch",
        peers=[] if args.no_peers else (args.peer or list(PEERS)),
        quick=args.quick,
        budget=args.budget,
        repeats=args.repeats,
        dtype=args.dtype,
        progress=not args.no_progress,
        images=args.images,
        data=data,
    )
    meta, settings = report.meta, report.meta["settings"]
    print(
        f"dlcore {meta['versions']['dlcore']}: MNIST inference, {settings['images']} "
        f"{settings['image_kind']}, {meta['network']}, {settings['dtype']}; "
        f"{meta['machine']['cpu_count']} CPUs, "
        f"median of {settings['rounds']} interleaved rounds (IQR: 25th-75th percentile)"
    )
    print(report.table())
    if args.json is not None:
        report.write_json(args.json)
        print(f"wrote {args.json}")
    if args.plot is not None:
        report.plot(args.plot)
        print(f"wrote {args.plot}")
    return 0


def _train(args: argparse.Namespace) -> int:
    """``dlcore bench --train``: the book's recipe on each backend against the book's loop."""
    from dlcore.bench.train import run_train_bench

    if args.json or args.plot:
        msg = "--train prints its table only; drop --json/--plot"
        raise CLIError(msg)
    names = args.backend or ["numpy", "numba"]
    rounds = args.repeats or (2 if args.quick else 5)
    report = run_train_bench(
        names, rounds=rounds, dtype=args.dtype, book=not args.no_peers and args.peer != []
    )
    print(
        f"training, the book's ch05 recipe (784-50-10 ReLU, batch 100, SGD lr 0.1), "
        f"{args.dtype}; median of {rounds} interleaved epochs (600 iterations each) after one "
        f"untimed epoch"
    )
    print(report.table())
    return 0
