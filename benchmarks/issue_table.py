"""The speed table of issue 13 from one run: inference, dense images, training, memory.

One command regenerates every figure (a few minutes on 2 cores)::

    python benchmarks/issue_table.py [--quick] [--train-rounds 16]

It runs ``dlcore.run_bench`` on the MNIST test images (one image per call,
batches of 100 and 10,000) and on dense random images (one per call and
every batch size), :func:`dlcore.bench.train.run_train_bench` (the book's
chapter-5 recipe, one epoch per round) and ``benchmarks/peak_memory.py``
(``predict_batches`` over 1,000,000 images), then prints each target of the
issue with the measurement, met or missed, and the achieved fraction of the
machine's limit: dense-equivalent GFLOP/s (90,400 flops per image) over
OpenBLAS's sgemm rate on a 2,000 x 2,000 product, measured in the same run
on all cores; for one image per call, a lower bound of one call measured
beside the book's (:func:`single_image_floor`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import dlcore
from dlcore.bench import run_bench
from dlcore.bench.train import run_train_bench

FLOPS_PER_IMAGE = 90_400


def sgemm_gflops(n: int = 2000, repeats: int = 5) -> float:
    """OpenBLAS's float32 matrix-product rate here (all threads): the median of ``repeats``."""
    import time

    import numpy as np

    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    a @ a
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - start)
    return 2 * n**3 / float(np.median(times)) / 1e9


PEAK_GFLOPS = [0.0]  # set by main() from sgemm_gflops()


def single_image_floor(rounds: int = 7, budget: float = 3.0) -> dict[str, float]:
    """Medians (µs per call) of the book's one-image ``predict`` and of what one call must do.

    Timed in interleaved rounds (:func:`dlcore.bench.compare`) on the shipped
    network and test images:

    * ``book``: the book's ``predict`` on one image; ``predict``: dlcore's, on numba;
    * ``call``: a compiled function taking the kernel's arguments (the image,
      the tuple of weights, the flag, the output) and doing nothing;
    * ``stream``: reading every byte of ``W1`` once in compiled code (an
      integer max over its bits: what the dense product, or the finiteness
      check that skipping zero pixels needs, cannot do without), less
      ``call1``, a no-op compiled call with ``W1`` alone;
    * ``python``: what the contract asks of every call before the kernel:
      :func:`dlcore.get_backend` (read on every call) and fetching the
      arrays from the dict.

    ``call + stream + python`` is a lower bound of one call: it leaves out
    the second and third layers, the activations and the softmax.
    """
    from operator import itemgetter

    import numpy as np
    from dlcore.backends._numba_rows import finite
    from numba import njit

    from dlcore.bench import Contender, compare
    from dlcore.bench.book import predict as book_predict

    network = dlcore.load_sample_network()
    images = np.asarray(dlcore.load_mnist_test()[0])
    fetch = itemgetter("W1", "b1", "W2", "b2", "W3", "b3")
    arrays = fetch(network)
    out = np.empty(arrays[-2].shape[1], arrays[0].dtype)

    @njit(nogil=True)
    def call(x, arrays, relu, out):  # type: ignore[no-untyped-def]
        return None

    @njit(nogil=True)
    def call1(w):  # type: ignore[no-untyped-def]
        return None

    def python(i: int) -> None:
        dlcore.get_backend()
        fetch(network)

    n = images.shape[0]
    w1 = arrays[0]
    contenders = [
        Contender("book", lambda i: book_predict(network, images[i % n])),
        Contender("predict", lambda i: dlcore.predict(network, images[i % n])),
        Contender("call", lambda i: call(images[i % n], arrays, False, out)),
        Contender("call1", lambda i: call1(w1)),
        Contender("stream", lambda i: finite(w1)),  # all_finite: one integer max over W1's bits
        Contender("python", python),
    ]
    with dlcore.use_backend("numba"):  # predict and get_backend() on numba
        timings = compare(contenders, rounds=rounds, budget=budget, settle=0.05)
    t = {x.name: x.median * 1e6 for x in timings}
    t["stream"] -= t.pop("call1")
    return t


def _best(report: dlcore.bench.BenchReport, mode: str, size: int) -> tuple[str, float, dict]:
    """The fastest dlcore backend of a configuration: (name, images/s, ratios)."""
    rows = [
        m for m in report.results if m.kind == "dlcore" and m.mode == mode and m.batch_size == size
    ]
    m = max(rows, key=lambda r: r.images_per_s)
    return m.backend, m.images_per_s, {"book": m.vs_book, "torch": m.vs_torch}


def _row(what: str, value: str, target: str, ok: bool, limit: str) -> str:
    return f"| {what} | {value} | {target} | {'met' if ok else 'MISSED'} | {limit} |"


def _gflops(images_per_s: float) -> str:
    g = FLOPS_PER_IMAGE * images_per_s / 1e9
    peak = PEAK_GFLOPS[0]
    return f"{g:.1f} GFLOP/s dense-equivalent = {g / peak:.0%} of sgemm's {peak:.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (short budgets)")
    parser.add_argument("--train-rounds", type=int, default=5, help="timed training epochs")
    parser.add_argument("--no-memory", action="store_true", help="skip the 3 GB memory run")
    args = parser.parse_args(argv)
    PEAK_GFLOPS[0] = sgemm_gflops()
    common = {
        "backends": ["numpy", "numba", "numba_parallel"],
        "quick": args.quick,
        "progress": False,
    }
    mnist = run_bench(batch_sizes=[100, 10_000], **common)
    dense = run_bench(batch_sizes=[1, 10, 100, 1000, 10_000], images="dense", **common)
    train = run_train_bench(["numpy", "numba"], rounds=2 if args.quick else args.train_rounds)
    print(mnist.table(), "", dense.table(), "", train.table(), "", sep="\n")
    print(f"OpenBLAS sgemm, 2000 x 2000 float32: {PEAK_GFLOPS[0]:.0f} GFLOP/s\n")

    lines = [
        "| target | measured | goal | | fraction of the machine's limit |",
        "|---|---|---|---|---|",
    ]
    name, rate, r = _best(mnist, "single", 1)
    numba_single = next(m for m in mnist.results if m.backend == "numba" and m.mode == "single")
    torch_single = next(
        (m for m in mnist.results if m.backend == "pytorch" and m.mode == "single"),
        None,
    )
    floor = single_image_floor()
    bound = floor["call"] + floor["stream"] + floor["python"]
    torch_goal = f"{torch_single.latency_us / 15:.2f}" if torch_single else "n/a"
    lines.append(
        _row(
            "one image per call, numba",
            f"{numba_single.images_per_s:,.0f} img/s ({numba_single.latency_us:.2f} µs); "
            f"{numba_single.vs_book or 0:.2f}x book, {numba_single.vs_torch or 0:.2f}x torch",
            ">= 8x book, >= 15x torch",
            (numba_single.vs_book or 0) >= 8 and (numba_single.vs_torch or 0) >= 15,
            f"lower bound {bound:.2f} µs = call {floor['call']:.2f} + W1 from L2 "
            f"{floor['stream']:.2f} + get_backend and fetch {floor['python']:.2f}; "
            f"8x book needs {floor['book'] / 8:.2f} µs (book {floor['book']:.2f}, "
            f"predict {floor['predict']:.2f} in the same rounds), 15x torch {torch_goal} µs; "
            f"predict reaches {bound / floor['predict']:.0%} of the bound's speed",
        )
    )
    for size, goal_book, goal_torch in ((100, 1.5, 1.5), (10_000, None, 1.5)):
        name, rate, r = _best(mnist, "batch", size)
        ok = (goal_book is None or (r["book"] or 0) >= goal_book) and (
            r["torch"] or 0
        ) >= goal_torch
        goal = (f">= {goal_book}x book, " if goal_book else "") + f">= {goal_torch}x torch"
        lines.append(
            _row(
                f"batches of {size:,} (best: {name})",
                f"{rate:,.0f} img/s; {r['book'] or 0:.2f}x book, {r['torch'] or 0:.2f}x torch",
                goal,
                ok,
                _gflops(rate),
            )
        )
    worst = min((m for m in dense.results if m.kind == "dlcore"), key=lambda m: m.vs_book or 0)
    best_by = {
        (m.mode, m.batch_size): max(
            (
                d
                for d in dense.results
                if d.kind == "dlcore" and (d.mode, d.batch_size) == (m.mode, m.batch_size)
            ),
            key=lambda d: d.images_per_s,
        )
        for m in dense.results
    }
    slowest = min(best_by.values(), key=lambda m: m.vs_book or 0)
    single = best_by[("single", 1)]
    lines.append(
        _row(
            "dense random images",
            f"best backend per size: worst {slowest.vs_book or 0:.2f}x book "
            f"({slowest.mode} {slowest.batch_size}, {slowest.backend}); one per call "
            f"{single.vs_book or 0:.2f}x ({single.backend}); slowest row overall: "
            f"{worst.backend} {worst.mode} {worst.batch_size} {worst.vs_book or 0:.2f}x",
            ">= 1x at every size, >= 4x one per call",
            (slowest.vs_book or 0) >= 1 and (single.vs_book or 0) >= 4,
            _gflops(max(m.images_per_s for m in dense.results if m.kind == "dlcore")),
        )
    )
    by = {m.name: m for m in train.results}
    for name, goal in (("numba", 5.0), ("numpy", 1.2)):
        m = by[name]
        lines.append(
            _row(
                f"training, the book's recipe ({name})",
                f"{m.ms_per_iteration:.3f} ms/iteration, {m.vs_book or 0:.2f}x book; test "
                f"accuracy {m.test_accuracy:.4f} after {m.iterations} iterations",
                f">= {goal}x book",
                (m.vs_book or 0) >= goal,
                f"book {by['book'].ms_per_iteration:.3f} ms/iteration",
            )
        )
    if not args.no_memory:
        script = Path(__file__).with_name("peak_memory.py")
        done = subprocess.run(
            [sys.executable, str(script), "--backend", "numba"],
            capture_output=True,
            text=True,
            check=True,
        )
        record = json.loads(done.stdout.strip().splitlines()[-1])
        lines.append(
            _row(
                "predict_batches, 1,000,000 images",
                f"{record['working_mb']} MB working memory (input {record['input_mb']} MB, "
                f"result {record['result_mb']} MB)",
                "< 100 MB",
                record["working_mb"] < 100,
                "",
            )
        )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
