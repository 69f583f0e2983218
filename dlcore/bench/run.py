"""``run_bench``: MNIST inference image by image and in batches, every backend and peer.

For each configuration (one image per call; each batch size) every selected
backend and peer classifies the images in one :func:`~dlcore.bench.compare`
call, so they are timed in the same interleaved rounds and reported by the
median with the interquartile range.
"""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from dlcore._validate import check_count, progress_bar

from .book import predict as book_predict
from .engine import Timing, check_budget, compare
from .peers import PEERS, book_skip_reason, check_peer, peer_status
from .report import BenchReport, Measurement
from .runners import (
    DEFAULT_BATCH_SIZES,
    Runner,
    bench_backends,
    check_benchable,
    load_shipped,
    make_runner,
)

__all__ = ["run_bench"]

#: (budget in seconds per configuration, rounds): the defaults, and with ``quick``.
_DEFAULTS = {False: (2.0, 5), True: (0.2, 3)}
#: Seconds of idle before each timed block when several contenders share the rounds
#: (OpenBLAS's idle threads spin for about 0.1 s; see dlcore.bench.engine), by ``quick``.
_SETTLE = {False: 0.2, True: 0.05}
_STATISTIC = "median over the rounds; spread: interquartile range (25th-75th percentile)"


def _names(values: Iterable[str] | str | None) -> list[str]:
    """A list of names; one string is one name, not its letters."""
    if values is None:
        return []
    return [values] if isinstance(values, str) else list(values)


def run_bench(
    backends: Iterable[str] | None = None,
    batch_sizes: Iterable[int] = DEFAULT_BATCH_SIZES,
    *,
    single: bool = True,
    peers: Iterable[str] | None = PEERS,
    quick: bool = False,
    budget: float | None = None,
    repeats: int | None = None,
    dtype: str = "float32",
    progress: bool = True,
    data: tuple[Mapping[str, Any], Any, Any] | None = None,
    images: str = "mnist",
) -> BenchReport:
    """Time MNIST inference image by image and in batches on each backend and peer.

    Parameters
    ----------
    backends : iterable of str, optional
        dlcore backends to time; default: every available one (see
        :func:`~dlcore.bench.bench_backends`). A named backend that cannot
        run is an error.
    batch_sizes : iterable of int
        Batch sizes of the ``"batch"`` mode (each >= 1); empty for none.
    single : bool
        Also time the single-image loop (``"single"`` mode).
    peers : iterable of str or None
        Peers to time beside dlcore: ``"book"`` (the book's NumPy code) and
        ``"pytorch"`` (``torch.nn.Sequential``, skipped with the reason when
        PyTorch is missing). None or empty for none.
    quick : bool
        A smoke run: budget 0.2 s and 3 rounds per configuration.
    budget : float, optional
        Seconds of timed calls per configuration, all backends, peers and
        rounds together (default 2.0; 0.2 with ``quick``). A slow one makes
        fewer calls per round, never fewer rounds. ``math.inf``: every round
        classifies every image once.
    repeats : int, optional
        Interleaved rounds per configuration (default 5; 3 with ``quick``).
        Before each timed block the engine idles 0.2 s (0.05 s with
        ``quick``) so the previous contender's thread pools stop spinning.
    dtype : {"float32", "float64"}
        Dtype of the images and weights (the shipped ones are float32).
    progress : bool
        Show a progress bar on stderr (needs tqdm; silently none without).
    data : (network, images, labels), optional
        Other data than the shipped sample network and test set (NumPy
        arrays; for tests and custom networks).
    images : {"mnist", "dense"}
        ``"dense"`` replaces the images by as many uniform random ones in
        [0, 1) (seed 0; no pixel is 0, so nothing can skip zeros); the
        accuracy is then the agreement with the book's ``predict``.

    Returns
    -------
    BenchReport
        One :class:`~dlcore.bench.Measurement` per backend or peer, mode and
        batch size: median images/s and µs/image with the interquartile
        range, and the ratios to the single-image loop, the book and PyTorch.

    Raises
    ------
    ValueError
        A batch size < 1, a bad budget, dtype or number of rounds, an unknown
        backend or peer, or nothing to run.
    dlcore.BackendError
        A backend that was asked for by name is not available here.

    Examples
    --------
    >>> import dlcore
    >>> report = dlcore.run_bench(["numpy"], [100], single=False, peers=(), quick=True,
    ...                           progress=False)
    >>> [(m.backend, m.mode, m.batch_size, m.rounds) for m in report.results]
    [('numpy', 'batch', 100, 3)]
    >>> report.results[0].accuracy > 0.97
    True
    """
    sizes = [check_count(b, "batch_size") for b in batch_sizes]
    if dtype not in ("float32", "float64"):
        msg = f"`dtype` must be 'float32' or 'float64', got {dtype!r}"
        raise ValueError(msg)
    if images not in ("mnist", "dense"):
        msg = f"`images` must be 'mnist' or 'dense', got {images!r}"
        raise ValueError(msg)
    default_budget, default_rounds = _DEFAULTS[bool(quick)]
    budget = default_budget if budget is None else check_budget(budget)
    rounds = default_rounds if repeats is None else check_count(repeats, "repeats")
    skipped: dict[str, str] = {}
    if backends is None:
        status = bench_backends()
        names = [n for n, (ok, _) in status.items() if ok]
        skipped.update({n: why for n, (ok, why) in status.items() if not ok})
    else:
        names = list(dict.fromkeys(check_benchable(n) for n in _names(backends)))
    peer_names: list[str] = []
    available = peer_status()
    for name in dict.fromkeys(check_peer(p) for p in _names(peers)):
        ok, why = available[name]
        if ok:
            peer_names.append(name)
        else:
            skipped[name] = why
    if not names and not peer_names:
        msg = "nothing selected: no backend or peer to time; name one or leave the defaults"
        raise ValueError(msg)
    if not sizes and not single:
        msg = "nothing selected: no batch size and the single-image loop is off; enable one"
        raise ValueError(msg)

    if data is None:
        network, x, t = load_shipped(dtype)
    else:
        network = {k: np.asarray(v, dtype=dtype) for k, v in data[0].items()}
        x = np.ascontiguousarray(data[1], dtype=dtype)
        t = np.asarray(data[2])
    if images == "dense":
        x = np.random.default_rng(0).random(x.shape, dtype=np.float64).astype(dtype)
        t = np.argmax(book_predict(network, x), axis=-1)  # agreement with the book
    if "book" in peer_names and book_skip_reason(network):
        peer_names.remove("book")
        skipped["book"] = book_skip_reason(network)

    runners = [make_runner(name, network, x) for name in names + peer_names]
    settle = _SETTLE[bool(quick)] if len(runners) > 1 else 0.0
    configs: list[int | None] = ([None] if single else []) + list(sizes)
    results: list[Measurement] = []
    bar = progress_bar(len(configs), enabled=progress, desc="bench", unit="config")
    try:
        for size in configs:
            if bar is not None:
                bar.set_description("single image" if size is None else f"batch {size}")
            contenders = [r.contender(size) for r in runners]
            timings = compare(contenders, rounds=rounds, budget=budget, settle=settle)
            results += [
                _measurement(r, timing, size, t, dtype)
                for r, timing in zip(runners, timings, strict=True)
            ]
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    meta = _meta(runners, network, dtype, int(x.shape[0]), budget, rounds, quick)
    meta["settings"]["settle_s"] = settle
    meta["settings"]["image_kind"] = "MNIST test images" if images == "mnist" else "dense random"
    return BenchReport(results=_ratios(results), skipped=skipped, meta=meta)


def _measurement(
    runner: Runner, timing: Timing, size: int | None, labels: np.ndarray, dtype: str
) -> Measurement:
    images = runner.images(size, timing.iterations)
    predicted = runner.labels_of(timing.results)
    accuracy = float(np.mean(predicted[:images] == np.asarray(labels)[:images]))
    per_image = np.asarray(timing.times) / images * 1e6  # µs per image in each round
    q1, median, q3 = (float(v) for v in np.percentile(per_image, [25.0, 50.0, 75.0]))
    seconds = float(np.median(timing.times))
    return Measurement(
        backend=runner.name,
        kind=runner.kind,
        mode="single" if size is None else "batch",
        batch_size=1 if size is None else size,
        images=images,
        rounds=timing.rounds,
        seconds=seconds,
        images_per_s=images / seconds,
        latency_us=median,
        latency_q1_us=q1,
        latency_q3_us=q3,
        latency_min_us=float(np.min(per_image)),
        latency_max_us=float(np.max(per_image)),
        speedup=None,
        vs_book=None,
        vs_torch=None,
        accuracy=accuracy,
        device=runner.device,
        dtype=dtype,
    )


def _ratios(results: list[Measurement]) -> list[Measurement]:
    """Fill in ``speedup`` (vs the same backend's single loop), ``vs_book`` and ``vs_torch``."""
    rate = {(m.backend, m.mode, m.batch_size): m.images_per_s for m in results}

    def over(name: str, m: Measurement, mode: str, size: int) -> float | None:
        base = rate.get((name, mode, size))
        return None if base is None else m.images_per_s / base

    return [
        replace(
            m,
            speedup=over(m.backend, m, "single", 1),
            vs_book=over("book", m, m.mode, m.batch_size),
            vs_torch=over("pytorch", m, m.mode, m.batch_size),
        )
        for m in results
    ]


def _meta(
    runners: list[Runner],
    network: Mapping[str, np.ndarray],
    dtype: str,
    n: int,
    budget: float,
    rounds: int,
    quick: bool,
) -> dict[str, Any]:
    import dlcore

    versions: dict[str, str] = {"dlcore": dlcore.__version__, "python": platform.python_version()}
    for runner in runners:
        versions.update(runner.versions)
    depth = len(network) // 2
    sizes = [network["W1"].shape[0]] + [network[f"W{i}"].shape[1] for i in range(1, depth + 1)]
    layers = "-".join(map(str, sizes)) + " sigmoid hidden layers, softmax output"
    return {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
        "versions": versions,
        "settings": {
            "dtype": dtype,
            "images": n,
            "budget_s": None if math.isinf(budget) else budget,
            "rounds": rounds,
            "quick": quick,
            "statistic": _STATISTIC,
        },
        "network": layers,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
