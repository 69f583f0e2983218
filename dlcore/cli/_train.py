"""``dlcore train`` (mini-batch training on MNIST) and ``dlcore gradcheck`` (backprop check)."""

from __future__ import annotations

import argparse
import math
from contextlib import nullcontext
from typing import Any

import numpy as np

from dlcore.cli import CLIError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train a network on MNIST (default: the book's TwoLayerNet recipe)",
        description=(
            "Train an MLP on MNIST with mini-batch backprop. The defaults are the book's recipe: "
            "TwoLayerNet(784, 50, 10), sigmoid, SGD lr 0.1, batch 100, 10,000 iterations."
        ),
    )
    p.add_argument("--backend", help="backend to train on (default: the active one)")
    steps = p.add_mutually_exclusive_group()
    steps.add_argument("--iters", type=int, default=None, help="updates (default 10000)")
    steps.add_argument("--epochs", type=int, default=None, help="passes over the 60,000 images")
    p.add_argument("--batch-size", type=int, default=100, help="mini-batch size (default 100)")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    p.add_argument(
        "--optimizer",
        default="sgd",
        choices=["sgd", "momentum", "adagrad", "adam"],
        help="update rule (default sgd)",
    )
    p.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        default=[50],
        metavar="UNITS",
        help="hidden layer sizes (default: 50; e.g. --hidden 50 100 for the sample network)",
    )
    p.add_argument("--activation", default="sigmoid", choices=["sigmoid", "relu"])
    p.add_argument(
        "--init",
        default=None,
        help="initial weight std: a number, 'xavier' or 'he' (default: 0.01 with one hidden "
        "layer, as the book; xavier otherwise)",
    )
    p.add_argument(
        "--weight-decay",
        type=float,
        default=0.0,
        metavar="LAMBDA",
        help="L2 weight decay lambda (the book's chapter 6; default 0, needs 2+ hidden layers)",
    )
    p.add_argument(
        "--augment-shift",
        type=int,
        default=0,
        metavar="PIXELS",
        help="shift each training image by up to this many pixels at random (default 0: off)",
    )
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and batches")
    p.add_argument("--plot", metavar="PNG", help="save the training curves here")
    p.add_argument("--save", metavar="NPZ", help="save the trained weights here (.npz)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_train)

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
    g.add_argument("--hidden", type=int, default=50, help="hidden units (default 50, the book)")
    g.set_defaults(func=_gradcheck)


def _load_mnist() -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    try:
        from dlcore.mnist import load_mnist  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        msg = f"MNIST support is not available in this dlcore ({exc})"
        raise CLIError(msg) from None
    try:
        result: tuple[tuple[Any, Any], tuple[Any, Any]] = load_mnist(
            normalize=True, flatten=True, one_hot_label=False
        )
    except (OSError, RuntimeError) as exc:
        msg = f"could not load MNIST ({exc}); run `dlcore data fetch` first"
        raise CLIError(msg) from None
    return result


def _init(value: str | None, default: float | str) -> float | str:
    if value is None:
        return default
    if value.lower() in ("xavier", "sigmoid", "he", "relu"):
        return value.lower()
    try:
        return float(value)
    except ValueError:
        msg = f"--init must be a number, 'xavier' or 'he', got {value!r}"
        raise CLIError(msg) from None


def _train(args: argparse.Namespace) -> int:
    import dlcore

    with dlcore.use_backend(args.backend) if args.backend else nullcontext():
        (x_train, t_train), (x_test, t_test) = _load_mnist()
        n_in, n_out = int(x_train.shape[1]), 10
        if len(args.hidden) == 1 and args.weight_decay:
            msg = "--weight-decay needs a MultiLayerNet (2 or more --hidden layers)"
            raise CLIError(msg)
        if len(args.hidden) == 1:
            net: Any = dlcore.TwoLayerNet(
                n_in,
                args.hidden[0],
                n_out,
                weight_init_std=_init(args.init, 0.01),  # type: ignore[arg-type]
                seed=args.seed,
                activation=args.activation,
                dtype=args.dtype,
            )
        else:
            net = dlcore.MultiLayerNet(
                n_in,
                args.hidden,
                n_out,
                activation=args.activation,
                weight_init_std=_init(args.init, "xavier"),
                weight_decay_lambda=args.weight_decay,
                seed=args.seed,
                dtype=args.dtype,
            )
        if args.batch_size < 1:
            msg = f"--batch-size must be >= 1, got {args.batch_size}"
            raise CLIError(msg)
        if args.epochs is not None:
            iters = args.epochs * math.ceil(int(x_train.shape[0]) / args.batch_size)
        else:
            iters = 10000 if args.iters is None else args.iters
        backend = dlcore.get_backend()
        sizes = "-".join(str(s) for s in [n_in, *args.hidden, n_out])
        print(
            f"training a {sizes} {args.activation} network ({args.dtype}) on {backend.name}: "
            f"{iters} iterations, batch {args.batch_size}, {args.optimizer} lr {args.lr}, "
            f"seed {args.seed}"
        )
        history = dlcore.train(
            net,
            x_train,
            t_train,
            x_test,
            t_test,
            iters_num=iters,
            batch_size=args.batch_size,
            lr=args.lr,
            optimizer=args.optimizer,
            seed=args.seed,
            progress=not args.no_progress,
            augment_shift=args.augment_shift,
        )
    seconds = history["seconds"]
    per_10k = seconds / iters * 10000 if iters else float("nan")
    print(
        f"done in {seconds:.1f} s ({per_10k:.1f} s per 10,000 iterations incl. evaluation): "
        f"train acc {history['train_acc'][-1]:.4f}, test acc {history['test_acc'][-1]:.4f}"
    )
    if args.plot:
        try:
            dlcore.plot_history(history, args.plot)
        except ImportError as exc:
            raise CLIError(str(exc)) from None
        print(f"training curves saved to {args.plot}")
    if args.save:
        dlcore.save_weights(net.params, args.save)
        print(f"weights saved to {args.save}")
    return 0


def _gradcheck(args: argparse.Namespace) -> int:
    import dlcore

    with dlcore.use_backend(args.backend) if args.backend else nullcontext():
        backend = dlcore.get_backend()
        if args.synthetic:
            rng = np.random.default_rng(args.seed)
            x = backend.asarray(rng.random((3, 784)), dtype="float64")
            t = backend.asarray(np.array([7, 2, 1]))
        else:
            (x_train, t_train), _ = _load_mnist()
            x, t = x_train[:3, ...], t_train[:3, ...]
        if args.hidden < 1:
            msg = f"--hidden must be >= 1, got {args.hidden}"
            raise CLIError(msg)
        net = dlcore.TwoLayerNet(784, args.hidden, 10, seed=args.seed)
        diffs = dlcore.gradient_check(net, x, t)
    source = "3 random inputs" if args.synthetic else "the first 3 MNIST training images"
    print(
        f"TwoLayerNet(784, {args.hidden}, 10) on {backend.name}, {source}: |backprop - numerical|"
    )
    for key, d in diffs.items():
        print(f"{key}: mean {d['mean']:.3e}  max {d['max']:.3e}")
    return 0
