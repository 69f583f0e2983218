"""MNIST inference benchmarks: one image per call ("single") and batches ("batch").

Every dlcore backend and two peers classify the shipped test images with the
shipped sample network (784-50-100-10, float32):

* ``book``: the book's NumPy ``predict`` (Saito, *Deep Learning from Scratch*,
  ch03/neuralnet_mnist.py, MIT License; see :func:`dlcore.bench.book_predict`);
* ``pytorch``: ``torch.nn.Sequential`` (Linear/Sigmoid/Softmax) with the same
  weights under ``torch.inference_mode`` (skipped when PyTorch is absent).

JIT compilation happens in the ``runner`` fixture, before timing; every timed
call waits for a device result (``sync``) before the clock stops. Run, save,
compare and plot::

    python -m pytest benchmarks --benchmark-autosave          # .benchmarks/
    python -m pytest benchmarks --benchmark-json=bench.json
    python -m pytest benchmarks --benchmark-compare           # vs the last save
    python -m pytest benchmarks --benchmark-histogram=bench   # bench-*.svg
    python -m pytest benchmarks -k "numba or book"            # a subset
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from conftest import BACKENDS, BATCH_SIZES, PEERS


@pytest.mark.parametrize("name", BACKENDS + PEERS)
def bench_single(benchmark: Any, runner: Any, info: dict[str, Any], name: str) -> None:
    """One image per call, cycling through the test set (the book's loop body)."""
    benchmark.group = "single"
    x, predict, sync = runner.x, runner.predict, runner.sync
    n = int(x.shape[0])
    index = itertools.cycle(range(n))

    def one() -> Any:
        y = predict(x[next(index), ...])
        sync(y)
        return y

    benchmark.extra_info.update(info, batch_size=1, mode="single")
    with runner.context():
        benchmark(one)
    benchmark.extra_info["images_per_s"] = 1.0 / benchmark.stats.stats.mean


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("name", BACKENDS + PEERS)
def bench_batch(
    benchmark: Any, runner: Any, info: dict[str, Any], name: str, batch_size: int
) -> None:
    """``batch_size`` images per call, consecutive batches of the test set."""
    benchmark.group = "batch"
    x, predict, sync = runner.x, runner.predict, runner.sync
    n = int(x.shape[0])
    starts = itertools.cycle(range(0, n - batch_size + 1, batch_size))
    with runner.context():
        sync(predict(x[:batch_size, ...]))  # warm up this shape (JIT, workspace buffers)

        def batch() -> Any:
            i = next(starts)
            y = predict(x[i : i + batch_size, ...])
            sync(y)
            return y

        benchmark.extra_info.update(info, batch_size=batch_size, mode="batch")
        benchmark(batch)
    benchmark.extra_info["images_per_s"] = batch_size / benchmark.stats.stats.mean
