"""The ``dlcore`` command line: one subcommand per module in this package.

Each ``_<name>.py`` module defines ``register(subparsers)``, which adds its
subcommand and sets ``func`` (returning the exit code) on its parser.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["CLIError", "main"]

# Subcommand modules, in the order --help lists them.
_COMMANDS = ["_info", "_data", "_train", "bench", "infer"]


class CLIError(Exception):
    """An error the user can fix; printed as one line without a traceback."""


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
    from dlcore.backends import BackendError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (CLIError, BackendError, ValueError, FileNotFoundError) as exc:
        print(f"dlcore {args.command}: error: {exc}", file=sys.stderr)
        return 1
