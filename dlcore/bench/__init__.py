"""Benchmarks of MNIST inference: one timing engine, the runners, the peers, the report.

* :mod:`~dlcore.bench.engine`: :func:`compare` times contenders in
  interleaved rounds and reports the median and the interquartile range;
* :mod:`~dlcore.bench.runners`: how a dlcore backend classifies images;
* :mod:`~dlcore.bench.peers`: the book's NumPy code and PyTorch;
* :mod:`~dlcore.bench.book`: the one transcription of the book's code;
* :mod:`~dlcore.bench.report`: table, JSON and chart;
* :func:`run_bench`: all of them together (``dlcore bench``).
"""

from __future__ import annotations

from . import book
from .book import predict as book_predict
from .engine import Contender, Timing, compare
from .peers import PEERS, book_runner, check_peer, peer_status, torch_model, torch_runner
from .report import BenchReport, Measurement
from .run import run_bench
from .runners import (
    DEFAULT_BATCH_SIZES,
    Runner,
    backend_runner,
    bench_backends,
    check_benchable,
    load_shipped,
    make_runner,
)

__all__ = [
    "DEFAULT_BATCH_SIZES",
    "PEERS",
    "BenchReport",
    "Contender",
    "Measurement",
    "Runner",
    "Timing",
    "backend_runner",
    "bench_backends",
    "book",
    "book_predict",
    "book_runner",
    "check_benchable",
    "check_peer",
    "compare",
    "load_shipped",
    "make_runner",
    "peer_status",
    "run_bench",
    "torch_model",
    "torch_runner",
]
