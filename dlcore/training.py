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

from ._validate import check_count, namespace, progress_bar
from .backends._base import SGDTraining
from .netparams import param_keys, split_params
from .nets import MultiLayerNet
from .optimizers import SGD, Optimizer, get_optimizer

__all__ = ["plot_history", "shift_images", "train"]


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


def _check_labels(t: Any, classes: int) -> None:
    """Integer training labels must be class indices (checked once, before any step)."""
    xp = namespace(t)
    if t.ndim != 1 or not xp.isdtype(t.dtype, "integral") or t.shape[0] == 0:
        return
    low, high = int(xp.min(t)), int(xp.max(t))
    if low < 0 or high >= classes:
        msg = (
            f"`t_train` labels are out of range: they must be class indices in [0, {classes}) "
            f"for the network's {classes} outputs, got labels from {low} to {high}"
        )
        raise ValueError(msg)


def _sgd_training(network: Any, opt: Optimizer) -> SGDTraining | None:
    """The plain case a backend may fuse: a dlcore MLP as it is, trained by plain SGD."""
    cls = type(network)
    if (
        type(opt) is not SGD
        or not isinstance(network, MultiLayerNet)
        or network.weight_decay_lambda
        or network.activation == "prelu"
        or any(getattr(cls, m, None) is not getattr(MultiLayerNet, m, None) for m in _MLP_METHODS)
    ):
        return None
    arrays, _ = split_params(network.params, network.activation, "network.params")
    keys = tuple(param_keys(len(arrays) // 2, prelu=False)[0])
    if set(network.params) != set(keys):
        return None
    return SGDTraining(keys=keys, activation=network.activation, lr=opt.lr)


#: What the fused step reproduces: a subclass that overrides one of these takes the generic step.
_MLP_METHODS = ("gradient", "loss", "predict", "_decayed", "_scores")


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
    augment_shift: int = 0,
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
    augment_shift : int
        Data augmentation (off by default): translate each training image of
        a batch by a random whole number of pixels in ``[-k, k]`` along each
        axis, filling with zeros. Needs square images (784 = 28 x 28
        features). The shifts are drawn with the same host generator, after
        the batch indices, and applied on the host, so a run stays
        reproducible on every backend (the batch is then moved to the
        backend; the test set is never shifted).

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
    >>> x, t = dlcore.asarray(x), dlcore.asarray(t)  # onto the active backend, like the net
    >>> net = dlcore.TwoLayerNet(2, 8, 2, weight_init_std=0.5, seed=0)
    >>> h = dlcore.train(net, x, t, x, t, iters_num=300, batch_size=20, lr=0.5, progress=False)
    >>> h["test_acc"][-1] > 0.9
    True
    """
    iters_num = check_count(iters_num, "iters_num", minimum=0)
    batch_size = check_count(batch_size, "batch_size")
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
    sgd = _sgd_training(network, opt)
    if isinstance(network, MultiLayerNet):
        arrays, _ = split_params(network.params, network.activation, "network.params")
        _check_labels(t_train, int(arrays[-1].shape[0]))
    xp = namespace(x_train)

    from dlcore.backends import get_backend

    backend = get_backend()
    train_size = int(x_train.shape[0])
    iter_per_epoch = max(train_size / batch_size, 1)
    rng = np.random.default_rng(seed)
    where = device(x_train)
    shift = check_count(augment_shift, "augment_shift", minimum=0)
    x_host, side = None, 0
    if shift:
        side = math.isqrt(int(x_train.shape[1]))
        if side * side != x_train.shape[1] or shift >= side:
            msg = (
                f"`augment_shift` needs square images (e.g. 784 = 28 x 28 features) and a "
                f"shift below their side, got {int(x_train.shape[1])} features and {shift}"
            )
            raise ValueError(msg)
        x_host = backend.to_numpy(x_train)

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
        "augment_shift": shift,
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
        # before the first update there is no mini-batch loss yet: say so, not "nan"
        loss = f"{history['loss'][-1]:.4f}" if history["loss"] else "  -   "
        report(f"iter {i:>6}: loss {loss}, train acc {train_acc:.4f}, test acc {test_acc:.4f}")

    start = time.perf_counter()
    # rng.choice(train_size, batch_size), the book's draw, is exactly these integers (with
    # half its Python overhead; tests/test_training_step.py checks that they agree)
    step = backend.bind_train_step(network, opt, x_train, t_train, sgd=sgd)
    whole = np.arange(batch_size)
    next_eval = 0.0
    try:
        for i in range(iters_num):
            if eval_every_epoch and i >= next_eval:
                evaluate(i)
                next_eval += iter_per_epoch
            indices = rng.integers(0, train_size, size=batch_size, dtype=np.int64)
            if x_host is None:
                pending.append(step(indices))
            else:  # the shifted batch is a training set of its own, taken whole
                offsets = rng.integers(-shift, shift + 1, size=(2, batch_size))
                shifted = shift_images(x_host[indices], side, offsets[0], offsets[1])
                x_batch = xp.asarray(shifted, device=where)
                t_batch = xp.take(t_train, xp.asarray(indices, device=where), axis=0)
                shifted_step = backend.bind_train_step(network, opt, x_batch, t_batch, sgd=sgd)
                pending.append(shifted_step(whole))
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


def shift_images(x: np.ndarray, side: int, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Translate each flattened ``side x side`` image ``x[i]`` by ``(dy[i], dx[i])`` pixels.

    Pixels shifted in from outside are 0; the dtype is kept.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.training import shift_images
    >>> img = np.arange(9.0).reshape(1, 9)
    >>> shift_images(img, 3, np.array([1]), np.array([-1])).reshape(3, 3)
    array([[0., 0., 0.],
           [1., 2., 0.],
           [4., 5., 0.]])
    """
    n = x.shape[0]
    k = int(max(np.max(np.abs(dy)), np.max(np.abs(dx)), 0)) if n else 0
    padded = np.pad(x.reshape(n, side, side), ((0, 0), (k, k), (k, k)))
    rows = (k - dy)[:, None] + np.arange(side)
    cols = (k - dx)[:, None] + np.arange(side)
    out = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.reshape(n, side * side)


def _progress(total: int, enabled: bool) -> tuple[Any, Any]:
    """A progress bar (or None) and a function that prints one line without breaking the bar."""
    bar = progress_bar(
        total, enabled=enabled, unit="it", desc="train", dynamic_ncols=True, leave=True
    )
    if bar is not None:
        return bar, bar.write
    if not enabled:
        return None, lambda line: None
    return None, lambda line: print(line, file=sys.stderr)


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

    Examples
    --------
    >>> import os, tempfile, dlcore
    >>> history = {"loss": [2.3, 1.9, 1.2], "eval_iters": [0, 3],
    ...            "train_acc": [0.10, 0.62], "test_acc": [0.11, 0.60]}
    >>> path = os.path.join(tempfile.mkdtemp(), "curve.png")
    >>> dlcore.plot_history(history, path)  # needs matplotlib (the plot extra)
    >>> os.path.getsize(path) > 0
    True
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
