"""``run_train_bench``: the book's training recipe, epoch by epoch, on each backend and the book.

The recipe of ``ch05/train_neuralnet.py``: a 784-50-10 ReLU network
(weights ``0.01 * randn``), mini-batches of 100 drawn with replacement, SGD
with learning rate 0.1, the mini-batch loss after every update and the train
and test accuracy once per epoch (600 iterations on the 60,000 MNIST training
images). Each timed call is one epoch: the book's loop
(:func:`dlcore.bench.book_train.train_neuralnet`, 600 iterations, which
evaluates at its first) against :func:`dlcore.train` (600 iterations,
evaluated after the last). The networks keep training from call to call,
so ``rounds + 1`` epochs are run in all (the first is untimed) and the
accuracy reported is the test accuracy after them (17 epochs are 10,200
iterations, the book's 10,000).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlcore._validate import check_count

from .engine import Contender, compare

__all__ = ["TrainMeasurement", "TrainReport", "run_train_bench"]

EPOCH = 600  # iterations per epoch: 60,000 images / batches of 100


@dataclass(frozen=True)
class TrainMeasurement:
    """One contender's training epochs: median ms per iteration, the spread, the accuracy."""

    name: str
    kind: str
    ms_per_iteration: float
    q1_ms: float
    q3_ms: float
    rounds: int
    iterations: int
    test_accuracy: float
    vs_book: float | None


@dataclass
class TrainReport:
    """The measurements of one :func:`run_train_bench` call."""

    results: list[TrainMeasurement]
    meta: dict[str, Any] = field(default_factory=dict)

    def table(self) -> str:
        """A Markdown table: ms per iteration (median, IQR), vs the book, test accuracy."""
        head = "| trainer | ms/iteration | IQR ms | vs book | iterations | test accuracy |"
        lines = [head, "|---|---:|---:|---:|---:|---:|"]
        for m in self.results:
            name = m.name if m.kind == "dlcore" else f"{m.name} (peer)"
            ratio = "" if m.vs_book is None else f"{m.vs_book:.2f}x"
            lines.append(
                f"| {name} | {m.ms_per_iteration:.3f} | {m.q1_ms:.3f}-{m.q3_ms:.3f} | {ratio} "
                f"| {m.iterations} | {m.test_accuracy:.4f} |"
            )
        return "\n".join(lines)


def _book_contender(data: tuple[Any, ...], seed: int) -> tuple[Contender, Callable[[], float]]:
    from . import book_train

    x, t, x_test, t_test = data
    t1, tt1 = np.eye(10)[t], np.eye(10)[t_test]  # the book's one_hot_label=True
    np.random.seed(seed)  # noqa: NPY002 - the book draws from NumPy's global generator
    net = book_train.LayerTwoLayerNet(input_size=784, hidden_size=50, output_size=10)

    def call(i: int) -> Any:
        return book_train.train_neuralnet(net, x, t1, x_test, tt1, iters_num=EPOCH)

    return Contender("book", call, max_iterations=1), lambda: net.accuracy(x_test, tt1)


def _dlcore_contender(
    name: str, data: tuple[Any, ...], seed: int, dtype: str
) -> tuple[Contender, Callable[[], float]]:
    import dlcore

    backend = dlcore.get_backend(name)
    x, t, x_test, t_test = (backend.asarray(a) for a in data)
    with dlcore.use_backend(name):
        net = dlcore.TwoLayerNet(784, 50, 10, 0.01, seed, activation="relu", dtype=dtype)
        x, x_test = backend.asarray(x, dtype=dtype), backend.asarray(x_test, dtype=dtype)
    epochs = [0]

    def call(i: int) -> Any:
        epochs[0] += 1
        return dlcore.train(
            net, x, t, x_test, t_test, iters_num=EPOCH, batch_size=100, lr=0.1,
            seed=seed + epochs[0], progress=False, eval_every_epoch=False,
        )  # fmt: skip

    def sync(y: Any) -> None:
        backend.synchronize()

    contender = Contender(name, call, sync, lambda: dlcore.use_backend(name), max_iterations=1)
    return contender, lambda: float(net.accuracy(x_test, t_test))


def run_train_bench(
    backends: Iterable[str] = ("numpy", "numba"),
    *,
    rounds: int = 5,
    dtype: str = "float32",
    book: bool = True,
    seed: int = 0,
    data: tuple[Any, Any, Any, Any] | None = None,
) -> TrainReport:
    """Time the book's training recipe, one epoch per call, in interleaved rounds.

    Parameters
    ----------
    backends : iterable of str
        dlcore backends to train on (each must be available).
    rounds : int
        Timed epochs per trainer (after one untimed epoch); 16 makes
        10,200 iterations, the book's 10,000.
    dtype : {"float32", "float64"}
        dlcore's network dtype (the book computes in float64: float32
        images times float64 weights).
    book : bool
        Also run the book's loop (the ``vs book`` column).
    seed : int
        Seeds the weights and the batches.
    data : (x_train, t_train, x_test, t_test), optional
        NumPy arrays, integer labels (default: MNIST, normalised, flattened).

    Returns
    -------
    TrainReport
    """
    import dlcore

    rounds = check_count(rounds, "rounds")
    if dtype not in ("float32", "float64"):
        msg = f"`dtype` must be 'float32' or 'float64', got {dtype!r}"
        raise ValueError(msg)
    names = [dlcore.get_backend(n).name for n in dict.fromkeys(backends)]
    if not names and not book:
        msg = "nothing to train: name a backend or keep the book"
        raise ValueError(msg)
    if data is None:
        with dlcore.use_backend("numpy"):
            (x, t), (x_test, t_test) = dlcore.load_mnist(normalize=True, flatten=True)
        data = (x, t, x_test, t_test)
    host = tuple(np.asarray(dlcore.to_numpy(a)) for a in data)
    pairs = [_book_contender(host, seed)] if book else []
    pairs += [_dlcore_contender(n, host, seed, dtype) for n in names]
    start = time.perf_counter()
    timings = compare([c for c, _ in pairs], rounds=rounds, budget=float("inf"), warmup=0)
    results = []
    book_ms = None
    for (contender, accuracy), timing in zip(pairs, timings, strict=True):
        ms = np.asarray(timing.times) / EPOCH * 1e3
        q1, median, q3 = (float(v) for v in np.percentile(ms, [25.0, 50.0, 75.0]))
        book_ms = median if contender.name == "book" else book_ms
        results.append(
            TrainMeasurement(
                name=contender.name,
                kind="peer" if contender.name == "book" else "dlcore",
                ms_per_iteration=median,
                q1_ms=q1,
                q3_ms=q3,
                rounds=timing.rounds,
                iterations=(timing.rounds + 1) * EPOCH,
                test_accuracy=float(accuracy()),
                vs_book=None,
            )
        )
    if book_ms is not None:
        results = [
            TrainMeasurement(**{**m.__dict__, "vs_book": book_ms / m.ms_per_iteration})
            for m in results
        ]
    meta = {
        "dtype": dtype,
        "rounds": rounds,
        "epoch": EPOCH,
        "seconds": time.perf_counter() - start,
    }
    return TrainReport(results=results, meta=meta)
