"""``dlcore demo``: the book's core functions on every available backend."""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np


def register(sub: Any) -> None:
    d = sub.add_parser("demo", help="run the book's functions on every available backend")
    d.add_argument(
        "--backend", action="append", help="backend(s) to run (default: every available one)"
    )
    d.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    import dlcore

    names = args.backend or [n for n, (ok, _) in dlcore.available_backends().items() if ok]
    for name in names:
        backend = dlcore.get_backend(name)  # errors: one line, by dlcore.cli.main
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
