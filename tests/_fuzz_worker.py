"""Fuzz worker: mutate valid weights pickles, ``.npz`` and IDX files, load each, classify.

Run by ``tests/test_hostile_fuzz.py`` in a subprocess, so that a crash (a
segfault, an abort) fails the test instead of killing pytest::

    python tests/_fuzz_worker.py pickle 200 [seed]

prints one JSON line: the examples run, the outcome classes with their
counts, the worst time of one load, the peak memory (``ru_maxrss``), and the
failures (an error dlcore does not document, or arrays over the cap) with a
few of their inputs in hex. The cap is lowered to 4 MiB (``DLCORE_MAX_BYTES``)
so "no load over the cap" is a check, not a hope.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import resource
import struct
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import dlcore
from dlcore.data import IDXError, read_idx, write_idx
from dlcore.io import MalformedPickleError, UnsafePickleError

CAP = 4 << 20  # set as DLCORE_MAX_BYTES by main(), never at import (pytest imports this file)

FORMATS = ("pickle", "npz", "idx")
#: The errors each loader documents; anything else is a failure.
DOCUMENTED: dict[str, tuple[type[BaseException], ...]] = {
    "pickle": (UnsafePickleError, MalformedPickleError, ValueError, TypeError),
    "npz": (ValueError, TypeError),
    "idx": (IDXError,),
}
_EXTREMES = [0, 1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 2**31 - 1, 2**32 - 1, 2**40, 2**62, 2**63 - 1]


def _net(rng: np.random.Generator, dtype: str) -> dict[str, np.ndarray]:
    return {
        "W1": rng.standard_normal((4, 3)).astype(dtype),
        "b1": rng.standard_normal(3).astype(dtype),
        "W2": rng.standard_normal((3, 2)).astype(dtype),
        "b2": np.zeros(2, dtype=dtype),
    }


def seeds(fmt: str) -> list[bytes]:
    """Valid files of the format: the raw material the mutations start from."""
    rng = np.random.default_rng(0)
    nets = [_net(rng, "float64"), _net(rng, "float32")]
    out: list[bytes] = []
    if fmt == "pickle":
        for proto in range(6):
            out += [pickle.dumps(net, protocol=proto) for net in nets]
    elif fmt == "npz":
        for net in nets:
            for save in (np.savez, np.savez_compressed):
                buf = io.BytesIO()
                save(buf, **net)
                out.append(buf.getvalue())
    else:
        for a in (rng.integers(0, 256, (3, 4, 4), dtype=np.uint8), np.arange(7, dtype=np.uint8)):
            for compress in (False, True):
                buf = io.BytesIO()
                write_idx(buf, a, compress=compress)
                out.append(buf.getvalue())
    return out


def mutate(data: bytes, ops: list[tuple[int, int, int, bytes]]) -> bytes:
    """Apply ``(kind, position, number, payload)`` edits to ``data``."""
    buf = bytearray(data)
    for kind, pos, number, payload in ops:
        pos = pos % (len(buf) + 1)
        if kind == 0:  # overwrite bytes
            buf[pos : pos + len(payload)] = payload
        elif kind == 1:  # insert bytes
            buf[pos:pos] = payload
        elif kind == 2:  # delete a range
            del buf[pos : pos + number % 64 + 1]
        elif kind == 3:  # truncate
            del buf[pos:]
        elif kind == 4:  # a size lie: an extreme integer, 4 or 8 bytes, either endianness
            value = _EXTREMES[number % len(_EXTREMES)]
            width, order = (4, 8)[number // 16 % 2], ("<", ">")[number // 32 % 2]
            code = {4: "I", 8: "Q"}[width]
            buf[pos : pos + width] = struct.pack(order + code, value % 2 ** (8 * width))
        else:  # duplicate a range
            buf[pos:pos] = buf[pos : pos + number % 256 + 1]
    return bytes(buf)


def rewrap(fmt: str, data: bytes, inner: Callable[[bytes], bytes]) -> bytes:
    """Mutate *inside* the compression: the .npy members of an .npz, or the gzip'd IDX."""
    if fmt == "idx" and data[:2] == b"\x1f\x8b":
        return gzip.compress(inner(gzip.decompress(data)), mtime=0)
    if fmt == "npz":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = [(i.filename, z.read(i), i.compress_type) for i in z.infolist()]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for k, (name, content, how) in enumerate(members):
                z.writestr(name, inner(content) if k == 0 else content, compress_type=how)
        return buf.getvalue()
    return inner(data)


def load(fmt: str, data: bytes, folder: Path) -> Any:
    if fmt == "idx":
        return read_idx(io.BytesIO(data))
    path = folder / ("w.npz" if fmt == "npz" else "w.pkl")
    path.write_bytes(data)
    return dlcore.load_weights(path)


def _nbytes(obj: Any) -> int:
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, dict):
        return sum(_nbytes(v) for v in obj.values())
    return 0


def main(fmt: str, examples: int, seed: int) -> dict[str, Any]:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    os.environ["DLCORE_MAX_BYTES"] = str(CAP)
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))  # a runaway allocation fails
    bases = seeds(fmt)
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    worst = [0.0]
    slowest = [""]
    payload = st.binary(min_size=1, max_size=9)
    op = st.tuples(st.integers(0, 5), st.integers(0, 1 << 16), st.integers(0, 255), payload)
    edits = st.lists(op, min_size=1, max_size=6)

    @hseed(seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[p for p in settings.default.phases if p.name != "shrink"],
    )
    @given(st.sampled_from(range(len(bases))), st.booleans(), edits)
    def run(which: int, inside: bool, ops: list[tuple[int, int, int, bytes]]) -> None:
        base = bases[which]
        try:
            data = rewrap(fmt, base, lambda b: mutate(b, ops)) if inside else mutate(base, ops)
        except (zipfile.BadZipFile, OSError, EOFError):
            data = mutate(base, ops)
        t0 = time.perf_counter()
        try:
            result = load(fmt, data, folder)
        except DOCUMENTED[fmt] as exc:
            outcomes[f"{type(exc).__name__}"] += 1
        except BaseException as exc:
            outcomes[f"UNDOCUMENTED {type(exc).__name__}"] += 1
            failures.append(f"{type(exc).__name__}: {exc!s:.200} <- {data[:120].hex()}")
        else:
            if _nbytes(result) > CAP:
                failures.append(f"loaded {_nbytes(result)} bytes, over the cap {CAP}")
            outcomes["loaded"] += 1
        took = time.perf_counter() - t0
        if took > worst[0]:
            worst[0] = took
            slowest[0] = data[:160].hex()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run()
    return {
        "format": fmt,
        "examples": sum(outcomes.values()),
        "outcomes": dict(outcomes.most_common()),
        "worst_load_s": round(worst[0], 4),
        "slowest_input": slowest[0],
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "failures": failures[:20],
        "n_failures": len(failures),
    }


if __name__ == "__main__":
    fmt_arg, n_arg = sys.argv[1], int(sys.argv[2])
    seed_arg = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    if fmt_arg not in FORMATS:
        sys.exit(f"format must be one of {FORMATS}, got {fmt_arg!r}")
    print(json.dumps(main(fmt_arg, n_arg, seed_arg)))
