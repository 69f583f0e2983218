"""The ``dlcore`` command line: one subcommand per module in this package.

Each module defines ``register(subparsers)``, which adds its subcommand and
sets ``func`` (returning the exit code) on its parser. Subcommands use only
dlcore's public names; the library validates, and :func:`main` turns its
errors into one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["CLIError", "count", "load_weights_option", "main", "positive_int"]

# Subcommand modules, in the order --help lists them.
_COMMANDS = ["info", "demo", "data", "train", "gradcheck", "bench", "infer", "check_backend"]


class CLIError(Exception):
    """An error the user can fix; printed as one line without a traceback."""


def _integer(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        want = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        msg = f"expected {want}, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def positive_int(text: str) -> int:
    """An argparse ``type``: an integer >= 1 (sizes, counts)."""
    return _integer(text, 1)


def count(text: str) -> int:
    """An argparse ``type``: an integer >= 0."""
    return _integer(text, 0)


def load_weights_option(spec: str, *, dtype: str | None = None) -> dict[str, Any]:
    """The network a ``--weights`` option names, on the active backend.

    ``"book"`` is :func:`dlcore.load_book_network`, ``"sample"``
    :func:`dlcore.load_sample_network`; anything else is a weights file for
    :func:`dlcore.load_weights` (``.npz`` from ``dlcore train --save``, or a
    pickle like the book's). ``dtype`` converts the arrays.
    """
    import dlcore

    if spec == "book":
        network = dlcore.load_book_network()
    elif spec == "sample":
        network = dlcore.load_sample_network()
    else:
        return dlcore.load_weights(spec, dtype=dtype)
    return (
        network
        if dtype is None
        else {k: dlcore.asarray(v, dtype=dtype) for k, v in network.items()}
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    from dlcore import __version__

    parser = argparse.ArgumentParser(
        prog="dlcore",
        description="Deep Learning from Scratch on NumPy, Numba, CuPy or any Array-API library.",
    )
    parser.add_argument("--version", action="version", version=f"dlcore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 error, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except _user_errors() as exc:
        print(f"dlcore {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"dlcore {args.command}: interrupted", file=sys.stderr)
        return 130


def _user_errors() -> tuple[type[BaseException], ...]:
    """What the library raises for a mistake the user can fix: one line, no traceback.

    Anything else is a bug and keeps its traceback.
    """
    import pickle

    from dlcore.backends import BackendError
    from dlcore.data import MnistFetchError

    return (
        CLIError,
        ValueError,  # bad values, files that are not what they claim, MnistVerificationError
        TypeError,
        OSError,  # missing files, permissions, CacheLockTimeout
        ImportError,  # a missing optional package
        BackendError,  # BackendDeviceError is a RuntimeError
        pickle.UnpicklingError,  # UnsafePickleError
        MnistFetchError,
    )
