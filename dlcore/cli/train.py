"""``dlcore train``: an MLP on MNIST with mini-batch backprop (default: the book's recipe)."""

from __future__ import annotations

import argparse
import math
from contextlib import nullcontext
from typing import Any

from dlcore.cli import CLIError, count, positive_int
from dlcore.network import ACTIVATIONS


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
    steps.add_argument("--iters", type=count, default=None, help="updates (default 10000)")
    steps.add_argument(
        "--epochs", type=positive_int, default=None, help="passes over the 60,000 images"
    )
    p.add_argument(
        "--batch-size", type=positive_int, default=100, help="mini-batch size (default 100)"
    )
    p.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    p.add_argument(
        "--optimizer",
        default="sgd",
        choices=["sgd", "momentum", "adagrad", "adam"],
        help="update rule (default sgd)",
    )
    p.add_argument(
        "--hidden",
        type=positive_int,
        nargs="+",
        default=[50],
        metavar="UNITS",
        help="hidden layer sizes (default: 50; e.g. --hidden 50 100 for the sample network)",
    )
    p.add_argument(
        "--activation",
        default="sigmoid",
        choices=list(ACTIVATIONS),
        help="hidden-layer activation (default sigmoid, the book's); prelu learns one slope "
        "per hidden unit, saved with --save",
    )
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
        type=count,
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
    from dlcore.cli._paths import check_output, check_plot

    check_plot(args.plot)  # before the training run, not after it
    check_output(args.save, "--save")
    if len(args.hidden) == 1 and args.weight_decay:
        msg = "--weight-decay needs a MultiLayerNet (2 or more --hidden layers)"
        raise CLIError(msg)
    init = _init(args.init, 0.01 if len(args.hidden) == 1 else "xavier")
    with dlcore.use_backend(args.backend) if args.backend else nullcontext():
        (x_train, t_train), (x_test, t_test) = dlcore.load_mnist(
            normalize=True, flatten=True, one_hot_label=False
        )
        n_in, n_out = int(x_train.shape[1]), 10
        if len(args.hidden) == 1:
            net: Any = dlcore.TwoLayerNet(
                n_in,
                args.hidden[0],
                n_out,
                weight_init_std=init,  # type: ignore[arg-type]
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
                weight_init_std=init,
                weight_decay_lambda=args.weight_decay,
                seed=args.seed,
                dtype=args.dtype,
            )
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
    if args.plot is not None:
        dlcore.plot_history(history, args.plot)
        print(f"training curves saved to {args.plot}")
    if args.save is not None:
        dlcore.save_weights(net.params, args.save)
        print(f"weights saved to {args.save}")
        if args.activation != "sigmoid":  # the file holds arrays only: say how to read it back
            print(
                f"the file does not record the activation: use it with `dlcore infer --weights "
                f"{args.save} --activation {args.activation}` or "
                f"MultiLayerNet.from_params(load_weights(path), activation={args.activation!r})"
            )
    return 0
