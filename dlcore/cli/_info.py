"""``dlcore info`` (the backends here) and ``dlcore demo`` (the core on each backend)."""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from dlcore.cli import CLIError


def register(sub: Any) -> None:
    p = sub.add_parser("info", help="list the backends and whether each can run here")
    p.set_defaults(func=_info)
    d = sub.add_parser("demo", help="run the book's functions on every available backend")
    d.add_argument(
        "--backend", action="append", help="backend(s) to run (default: every available one)"
    )
    d.set_defaults(func=_demo)


def _info(args: argparse.Namespace) -> int:
    import dlcore

    active: str
    try:
        active = dlcore.get_backend().name
    except Exception as exc:  # show the table even when the requested backend is broken
        active = f"(none: {exc})"
    print(f"dlcore {dlcore.__version__}, active backend: {active}")
    print(f"{'backend':<18} {'available':<10} note")
    for name, (ok, why) in dlcore.available_backends().items():
        note = dlcore.get_backend(name).description if ok else why
        print(f"{name:<18} {'yes' if ok else 'no':<10} {note}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    import dlcore

    names = args.backend or [n for n, (ok, _) in dlcore.available_backends().items() if ok]
    for name in names:
        try:
            backend = dlcore.get_backend(name)
        except (dlcore.BackendError, ValueError) as exc:
            raise CLIError(str(exc)) from None
        t0 = time.perf_counter()
        with dlcore.use_backend(name):
            x = dlcore.asarray([1010.0, 1000.0, 990.0])
            y = dlcore.softmax(x)
            gates = [dlcore.XOR(a, b) for a, b in [(0, 0), (1, 0), (0, 1), (1, 1)]]
            g = dlcore.numerical_gradient(
                lambda v: v[0] ** 2 + v[1] ** 2, dlcore.asarray([3.0, 4.0])
            )
        dt = time.perf_counter() - t0
        with np.printoptions(precision=6):  # never change the caller's global print options
            print(f"[{backend.name}] softmax([1010, 1000, 990]) = {dlcore.to_numpy(y)}")
            print(f"[{backend.name}] XOR truth table = {gates}")
            print(f"[{backend.name}] gradient of x0^2 + x1^2 at (3, 4) = {dlcore.to_numpy(g)}")
        print(f"[{backend.name}] {dt * 1000:.1f} ms")
    return 0
