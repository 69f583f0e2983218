"""MNIST inference benchmarks: one image per call ("single") and batches ("batch N").

Every dlcore backend and two peers classify the shipped test images with the
shipped sample network (784-50-100-10, float32), through the runners of
``dlcore bench`` (:func:`dlcore.bench.make_runner`: the same calls, the same
device sync):

* ``book``: the book's NumPy ``predict`` (Saito, *Deep Learning from Scratch*,
  ch03/neuralnet_mnist.py, MIT License; :mod:`dlcore.bench.book`);
* ``pytorch``: ``torch.nn.Sequential`` (Linear/Sigmoid/Softmax) with the same
  weights under ``torch.inference_mode`` (skipped when PyTorch is absent).

Each runs on the MNIST test images and on as many dense uniform random images
(``images`` = ``"dense"``: no pixel is 0, so nothing skips zeros). After the
tables, a summary gives each median's ratio to the book's and PyTorch's in the
same group ("vs book", "vs torch"). JIT compilation happens in the ``runner``
fixture, before timing; every timed
call waits for a device result before the clock stops. The tables show the
median first, the statistic ``dlcore bench`` reports. Run, save, compare, plot::

    python -m pytest benchmarks --benchmark-autosave          # .benchmarks/
    python -m pytest benchmarks --benchmark-json=bench.json
    python -m pytest benchmarks --benchmark-compare           # vs the last save
    python -m pytest benchmarks --benchmark-histogram=bench   # bench-*.svg
    python -m pytest benchmarks -k "numba or book"            # a subset
    python -m pytest benchmarks --benchmark-disable           # each call once, untimed
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from dlcore.bench import DEFAULT_BATCH_SIZES, PEERS, bench_backends

#: Every benchmarked backend (an unavailable one is skipped with the reason) and the peers.
NAMES = [*bench_backends(), *PEERS]
IMAGES = ["mnist", "dense"]


def _time(benchmark: Any, runner: Any, info: dict[str, Any], batch_size: int | None) -> None:
    """Benchmark the runner's contender call by call, cycling through the images."""
    contender = runner.contender(batch_size)
    call, sync = contender.call, contender.sync
    index = itertools.cycle(range(contender.max_iterations))

    def one() -> Any:
        y = call(next(index))
        sync(y)
        return y

    size = 1 if batch_size is None else batch_size
    mode = "single" if batch_size is None else "batch"
    benchmark.group = f"{mode} {info['images']}"
    benchmark.extra_info.update(info, batch_size=size, mode=mode)
    with contender.context():
        if batch_size is not None:
            sync(call(0))  # warm up this shape (JIT, workspace buffers)
        benchmark(one)
    if benchmark.stats is not None:  # None under --benchmark-disable
        median = benchmark.stats.stats.median
        benchmark.extra_info["images_per_s"] = size / median
        info["medians"][(benchmark.group, size, runner.name)] = median
        del benchmark.extra_info["medians"]


@pytest.mark.parametrize("images", IMAGES)
@pytest.mark.parametrize("name", NAMES)
def bench_single(benchmark: Any, runner: Any, info: dict[str, Any], name: str, images: str) -> None:
    """One image per call, image after image (the book's loop body)."""
    _time(benchmark, runner, info, None)


@pytest.mark.parametrize("images", IMAGES)
@pytest.mark.parametrize("batch_size", DEFAULT_BATCH_SIZES)
@pytest.mark.parametrize("name", NAMES)
def bench_batch(
    benchmark: Any, runner: Any, info: dict[str, Any], name: str, batch_size: int, images: str
) -> None:
    """``batch_size`` images per call, consecutive batches of the images."""
    _time(benchmark, runner, info, batch_size)
