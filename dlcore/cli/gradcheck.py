"""``dlcore gradcheck``: backprop against numerical gradients (the book's gradient_check.py)."""

from __future__ import annotations

import argparse
from contextlib import nullcontext
from typing import Any

import numpy as np

from dlcore.cli import positive_int
from dlcore.network import ACTIVATIONS


def register(sub: Any) -> None:
    g = sub.add_parser(
        "gradcheck",
        help="compare backprop with numerical gradients (the book's gradient_check.py)",
    )
    g.add_argument("--backend", help="backend to run on (default: the active one)")
    g.add_argument(
        "--synthetic",
        action="store_true",
        help="use 3 random inputs instead of the first 3 MNIST training images",
    )
    g.add_argument("--seed", type=int, default=0, help="seed of the network weights")
    g.add_argument(
        "--hidden", type=positive_int, default=50, help="hidden units (default 50, the book)"
    )
    g.add_argument(
        "--activation",
        default="sigmoid",
        choices=list(ACTIVATIONS),
        help="hidden activation (default sigmoid, the book's; prelu also checks its slopes)",
    )
    g.set_defaults(func=_gradcheck)


def _gradcheck(args: argparse.Namespace) -> int:
    import dlcore

    with dlcore.use_backend(args.backend) if args.backend else nullcontext():
        backend = dlcore.get_backend()
        if args.synthetic:
            rng = np.random.default_rng(args.seed)
            x = backend.asarray(rng.random((3, 784)), dtype="float64")
            t = backend.asarray(np.array([7, 2, 1]))
        else:
            (x_train, t_train), _ = dlcore.load_mnist(
                normalize=True, flatten=True, one_hot_label=False
            )
            x, t = x_train[:3, ...], t_train[:3, ...]
        net = dlcore.TwoLayerNet(784, args.hidden, 10, seed=args.seed, activation=args.activation)
        diffs = dlcore.gradient_check(net, x, t)
    source = "3 random inputs" if args.synthetic else "the first 3 MNIST training images"
    print(
        f"TwoLayerNet(784, {args.hidden}, 10) on {backend.name}, {args.activation}, {source}: "
        "|backprop - numerical|"
    )
    for key, d in diffs.items():
        print(f"{key}: mean {d['mean']:.3e}  max {d['max']:.3e}")
    return 0
