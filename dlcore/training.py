"""Mini-batch training (the book's ``train_neuralnet.py``) and a training-curve plot.

:func:`train` works with any network that has ``params``, ``gradient(x, t)``,
``loss(x, t)`` and ``accuracy(x, t)`` (:class:`~dlcore.TwoLayerNet`,
:class:`~dlcore.MultiLayerNet`). The mini-batch indices are drawn on the host
with ``numpy.random.default_rng(seed)``, so a run is reproducible from its
seed and the same on every backend.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

import numpy as np
from array_api_compat import device

from ._array import namespace
from .optimizers import Optimizer, get_optimizer

__all__ = ["plot_history", "train"]


def _count(value: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        msg = f"`{name}` must be an integer >= {minimum}, got {value!r}"
        raise ValueError(msg)
    return int(value)


def _check_data(x: Any, t: Any, names: tuple[str, str], params: dict[str, Any]) -> None:
    namespace(x, t, *params.values())
    if x.ndim != 2 or t.ndim not in (1, 2) or t.shape[0] != x.shape[0]:
        msg = (
            f"`{names[0]}` must be (N, features) and `{names[1]}` labels (N,) or one-hot "
            f"(N, classes) with the same N, got {tuple(x.shape)} and {tuple(t.shape)}"
        )
        raise ValueError(msg)
    if x.shape[0] == 0:
        msg = f"`{names[0]}` is empty"
        raise ValueError(msg)


def train(
    network: Any,
    x_train: Any,
    t_train: Any,
    x_test: Any,
    t_test: Any,
    *,
    iters_num: int = 10000,
    batch_size: int = 100,
    lr: float = 0.1,
    optimizer: str | Optimizer = "sgd",
    seed: int = 0,
    progress: bool = True,
    eval_every_epoch: bool = True,
) -> dict[str, Any]:
    """Train ``network`` with mini-batch gradient descent (backprop gradients).

    Parameters
    ----------
    network : TwoLayerNet or MultiLayerNet
        Anything with ``params``, ``gradient``, ``loss`` and ``accuracy``;
        its ``params`` are updated.
    x_train, t_train, x_test, t_test : array
        Inputs ``(N, features)`` and labels (integers ``(N,)`` or one-hot),
        arrays of the network's backend.
    iters_num : int
        Number of updates (the book: 10,000).
    batch_size : int
        Mini-batch size (the book: 100). Each batch is drawn *with
        replacement*, as the book's ``np.random.choice(train_size, batch_size)``.
    lr : float
        Learning rate (the book: 0.1 with SGD; about 1e-3 suits Adam).
    optimizer : {"sgd", "momentum", "adagrad", "adam"} or Optimizer
        The update rule.
    seed : int
        Seed of the host NumPy generator that draws the batches.
    progress : bool
        Show a tqdm progress bar (if tqdm is installed; else one line per
        epoch on stderr).
    eval_every_epoch : bool
        Measure train and test accuracy every epoch (every
        ``max(N / batch_size, 1)`` iterations, from iteration 0, as the book).
        The accuracy after the last update is always measured.

    Returns
    -------
    dict
        ``loss`` (list of float, the mini-batch loss after each update, as the
        book's ``train_loss_list``), ``train_acc`` and ``test_acc`` (lists of
        float), ``eval_iters`` (the iteration of each accuracy measurement),
        ``seconds`` (wall time), ``backend``, ``optimizer``, ``lr``,
        ``batch_size``, ``seed``.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((200, 2)); t = (x[:, 0] > 0).astype(np.int64)
    >>> net = dlcore.TwoLayerNet(2, 8, 2, weight_init_std=0.5, seed=0)
    >>> h = dlcore.train(net, x, t, x, t, iters_num=300, batch_size=20, lr=0.5, progress=False)
    >>> h["test_acc"][-1] > 0.9
    True
    """
    iters_num = _count(iters_num, "iters_num", minimum=0)
    batch_size = _count(batch_size, "batch_size")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        msg = f"`seed` must be an integer, got {seed!r}"
        raise TypeError(msg)
    params = getattr(network, "params", None)
    if not isinstance(params, dict) or not all(
        callable(getattr(network, m, None)) for m in ("gradient", "loss", "accuracy")
    ):
        msg = (
            "`network` must have a `params` dict and `gradient`, `loss` and `accuracy` "
            f"methods (e.g. dlcore.TwoLayerNet), got {type(network).__name__}"
        )
        raise TypeError(msg)
    _check_data(x_train, t_train, ("x_train", "t_train"), params)
    _check_data(x_test, t_test, ("x_test", "t_test"), params)
    opt = get_optimizer(optimizer, lr)
    xp = namespace(x_train)

    from dlcore.backends import get_backend

    backend = get_backend()
    train_size = int(x_train.shape[0])
    iter_per_epoch = max(train_size / batch_size, 1)
    rng = np.random.default_rng(seed)
    where = device(x_train)

    history: dict[str, Any] = {
        "loss": [],
        "train_acc": [],
        "test_acc": [],
        "eval_iters": [],
        "backend": backend.name,
        "optimizer": type(opt).__name__,
        "lr": getattr(opt, "lr", lr),
        "batch_size": batch_size,
        "seed": int(seed),
    }
    pending: list[Any] = []  # losses still on the device, copied in one go per epoch

    def flush() -> None:
        if pending:
            history["loss"].extend(float(v) for v in backend.to_numpy(xp.stack(pending)))
            pending.clear()

    bar, report = _progress(iters_num, progress)

    def evaluate(i: int) -> None:
        flush()
        train_acc = float(network.accuracy(x_train, t_train))
        test_acc = float(network.accuracy(x_test, t_test))
        history["train_acc"].append(train_acc)
        history["test_acc"].append(test_acc)
        history["eval_iters"].append(i)
        loss = history["loss"][-1] if history["loss"] else math.nan
        report(f"iter {i:>6}: loss {loss:.4f}, train acc {train_acc:.4f}, test acc {test_acc:.4f}")

    start = time.perf_counter()
    next_eval = 0.0
    try:
        for i in range(iters_num):
            if eval_every_epoch and i >= next_eval:
                evaluate(i)
                next_eval += iter_per_epoch
            batch_mask = xp.asarray(rng.choice(train_size, batch_size), device=where)
            x_batch = xp.take(x_train, batch_mask, axis=0)
            t_batch = xp.take(t_train, batch_mask, axis=0)
            grads = network.gradient(x_batch, t_batch)
            opt.update(network.params, grads)
            pending.append(network.loss(x_batch, t_batch))
            if bar is not None:
                bar.update(1)
        if not history["eval_iters"] or history["eval_iters"][-1] != iters_num:
            evaluate(iters_num)
        backend.synchronize()
    finally:
        if bar is not None:
            bar.close()
    history["seconds"] = time.perf_counter() - start
    return history


def _progress(total: int, enabled: bool) -> tuple[Any, Any]:
    """A tqdm bar (or None) and a function that prints one line without breaking the bar."""
    if not enabled:
        return None, lambda line: None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None, lambda line: print(line, file=sys.stderr)
    bar = tqdm(total=total, unit="it", desc="train", dynamic_ncols=True)
    return bar, bar.write


def plot_history(history: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Save the training curves of :func:`train` (loss per iteration, accuracy per epoch) as PNG.

    Parameters
    ----------
    history : dict
        The result of :func:`train`.
    path : str or path-like
        The PNG file to write.

    Raises
    ------
    ImportError
        matplotlib is not installed (``pip install "dlcore[plot]"``).
    """
    for key in ("loss", "train_acc", "test_acc", "eval_iters"):
        if key not in history:
            msg = f"`history` must be the dict dlcore.train returns; it has no {key!r}"
            raise ValueError(msg)
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        msg = 'plot_history needs matplotlib; install it with: pip install "dlcore[plot]"'
        raise ImportError(msg) from exc
    fig = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(np.arange(1, len(history["loss"]) + 1), history["loss"], linewidth=0.5)
    ax_loss.set(xlabel="iteration", ylabel="mini-batch loss", title="loss")
    ax_acc.plot(history["eval_iters"], history["train_acc"], marker="o", label="train")
    ax_acc.plot(
        history["eval_iters"], history["test_acc"], marker="s", linestyle="--", label="test"
    )
    ax_acc.set(xlabel="iteration", ylabel="accuracy", title="accuracy", ylim=(0, 1.0))
    ax_acc.legend(loc="lower right")
    fig.savefig(os.fspath(path), format="png", dpi=100)
