"""Peak working memory of ``dlcore.predict_batches`` over many images (peak RSS, Linux).

Run as a script, one backend per process (the peak RSS of a process only grows)::

    python benchmarks/peak_memory.py --backend numba --images 1000000 --batch-size 100

The images are the shipped 10,000 MNIST test images repeated; the working memory is
the peak RSS during the call (VmHWM, reset before it) minus the RSS before it (the
input in place) minus the result.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

import dlcore
from dlcore.bench import load_shipped


def _status_mb(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    msg = f"/proc/self/status has no {field}"
    raise RuntimeError(msg)


def _reset_peak() -> None:
    """Make the peak RSS (VmHWM) the current RSS (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
        f.write("5")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args(argv)
    network, x, _ = load_shipped("float32")
    x = np.tile(x, (-(-args.images // len(x)), 1))[: args.images]
    with dlcore.use_backend(args.backend):
        dlcore.predict_batches(network, x[:1000], args.batch_size)  # compile, warm caches
        _reset_peak()
        before = _status_mb("VmRSS")
        y = dlcore.predict_batches(network, x, args.batch_size)
    peak = _status_mb("VmHWM")
    result_mb = y.nbytes / 2**20
    record = {
        "backend": args.backend,
        "images": args.images,
        "batch_size": args.batch_size,
        "input_mb": round(x.nbytes / 2**20, 1),
        "result_mb": round(result_mb, 1),
        "working_mb": round(peak - before - result_mb, 1),
    }
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
