"""The data cache: where it lives, the MNIST cache file, an inter-process lock, quarantine.

* :func:`cache_dir` is ``$DLCORE_DATA_DIR`` when set, else the platform's
  per-user cache directory (the same path ``platformdirs.user_cache_dir
  ("dlcore", appauthor=False)`` gives, written out here so that platformdirs
  is not a runtime dependency).
* :func:`cache_lock` holds an exclusive OS lock (``fcntl.flock`` on POSIX,
  ``msvcrt.locking`` on Windows) on a lock file beside the cache file, so two
  processes never fetch into the cache at once. The operating system drops
  the lock when its holder exits or is killed, so a crashed fetcher never
  leaves a stale lock behind; the lock file itself is left in place on
  purpose (deleting it would let two processes lock two different files).
* :func:`move_aside` renames a corrupt file to ``<name>.corrupt-<UTC time>``
  so it can be inspected, and the next fetch starts clean.
* :func:`cache_file` (``mnist.npz``) is written through
  :func:`dlcore.io.atomic_write` and verified on every read
  (:func:`verify_cache`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dlcore.io import atomic_write

from .standard import IDX_FILES, read_arrays, verify

__all__ = [
    "CACHE_FILE",
    "ENV_DATA_DIR",
    "CacheLockTimeout",
    "MnistCacheWarning",
    "cache_dir",
    "cache_file",
    "cache_lock",
    "ensure_dir",
    "load_cache",
    "mnist_cache_dir",
    "move_aside",
    "quarantine",
    "verify_cache",
    "write_cache",
]

#: Name of the MNIST cache file in :func:`mnist_cache_dir`.
CACHE_FILE = "mnist.npz"

ENV_DATA_DIR = "DLCORE_DATA_DIR"
_APP = "dlcore"


class CacheLockTimeout(TimeoutError):
    """Another process held the cache lock for longer than the timeout."""


class MnistCacheWarning(UserWarning):
    """The cache file was corrupt and has been moved aside."""


def cache_dir() -> Path:
    """The directory dlcore caches downloaded data in (not created here).

    Returns
    -------
    pathlib.Path
        ``$DLCORE_DATA_DIR`` (``~`` expanded) if set and non-empty; otherwise
        ``%LOCALAPPDATA%\\dlcore\\Cache`` on Windows, ``~/Library/Caches/dlcore``
        on macOS, ``$XDG_CACHE_HOME/dlcore`` (default ``~/.cache/dlcore``)
        elsewhere.

    Examples
    --------
    >>> cache_dir()  # doctest: +SKIP
    PosixPath('/home/me/.cache/dlcore')
    """
    env = os.environ.get(ENV_DATA_DIR, "").strip()
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA", "").strip()
        root = Path(base) if base else Path.home() / "AppData" / "Local"
        return root / _APP / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / _APP
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    # The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
    root = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return root / _APP


def _fix() -> str:
    env = os.environ.get(ENV_DATA_DIR, "").strip()
    where = f"it comes from {ENV_DATA_DIR}={env!r}" if env else "it is the user cache directory"
    return f"{where}; set {ENV_DATA_DIR} to a writable folder"


def ensure_dir(folder: Path) -> Path:
    """Create the data folder ``folder`` if needed; a clear one-line error if it cannot be.

    Raises
    ------
    NotADirectoryError
        ``folder`` (or a parent) is a file.
    PermissionError
        ``folder`` cannot be created or written.
    OSError
        Any other reason, named (a read-only file system, ...).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        msg = f"the dlcore data directory {folder} is a file (or in one), not a folder; {_fix()}"
        raise NotADirectoryError(msg) from None
    except OSError as exc:
        msg = f"cannot create the dlcore data directory {folder} ({exc.strerror}); {_fix()}"
        raise type(exc)(msg) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        msg = f"the dlcore data directory {folder} is not writable; {_fix()}"
        raise PermissionError(msg)
    return folder


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def cache_lock(
    path: str | os.PathLike[str], *, timeout: float = 600.0, poll: float = 0.1
) -> Iterator[None]:
    """Hold an exclusive inter-process lock on ``path`` for the ``with`` block.

    Parameters
    ----------
    path : path-like
        The lock file (created if missing, never deleted).
    timeout : float, optional
        Seconds to wait for another holder before giving up (default 600, as
        long as a slow download may take).
    poll : float, optional
        Seconds between attempts.

    Raises
    ------
    CacheLockTimeout
        The lock was still held after ``timeout`` seconds; the message names
        the process id written in the lock file.

    Notes
    -----
    The lock is an OS lock on an open file descriptor, released by the
    kernel when the holder exits or dies, so there is no stale lock to clean
    up after a crash.
    """
    lock_path = Path(path)
    ensure_dir(lock_path.parent)
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        msg = f"cannot open the lock file {lock_path} ({exc.strerror}); {_fix()}"
        raise type(exc)(msg) from None
    try:
        deadline = time.monotonic() + timeout
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                holder = _read_holder(lock_path)
                msg = (
                    f"another process ({holder}) has held the dlcore data lock {lock_path} "
                    f"for more than {timeout:.0f} s; wait for it to finish (a fetch downloads "
                    "about 20 MB) or stop that process and retry"
                )
                raise CacheLockTimeout(msg)
            time.sleep(poll)
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"pid {os.getpid()}\n".encode())
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def _read_holder(lock_path: Path) -> str:
    try:
        text = lock_path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return "unknown pid"
    return text or "unknown pid"


def move_aside(path: str | os.PathLike[str]) -> Path:
    """Rename a corrupt file to ``<name>.corrupt-<UTC time>`` and return the new path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.npz"
    >>> _ = p.write_bytes(b"garbage")
    >>> q = move_aside(p)
    >>> p.exists(), q.name.startswith("x.npz.corrupt-")
    (False, True)
    """
    src = Path(path)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    dst = src.with_name(f"{src.name}.corrupt-{stamp}")
    n = 1
    while dst.exists():
        dst = src.with_name(f"{src.name}.corrupt-{stamp}-{n}")
        n += 1
    os.replace(src, dst)
    return dst


def mnist_cache_dir() -> Path:
    """The directory holding the MNIST cache file (``$DLCORE_DATA_DIR`` or the user cache dir).

    Returns
    -------
    pathlib.Path
        :func:`cache_dir`: ``$DLCORE_DATA_DIR`` if set, else ``~/.cache/dlcore``
        on Linux (``$XDG_CACHE_HOME/dlcore``), ``~/Library/Caches/dlcore`` on
        macOS, ``%LOCALAPPDATA%\\dlcore\\Cache`` on Windows. It may not exist yet.

    Examples
    --------
    >>> from dlcore.data import mnist_cache_dir
    >>> mnist_cache_dir()  # doctest: +SKIP
    PosixPath('/home/me/.cache/dlcore')
    """
    return cache_dir()


def cache_file() -> Path:
    """The path of the MNIST cache file (``mnist.npz`` in :func:`mnist_cache_dir`)."""
    return mnist_cache_dir() / CACHE_FILE


def load_cache() -> dict[str, np.ndarray]:
    """The four uint8 arrays of the cache file, verified (raises MnistVerificationError)."""
    path = cache_file()
    origin = f"cache file {path}"
    arrays = read_arrays(path, tuple(IDX_FILES), origin)
    verify(arrays, ["train", "test"], origin)
    return arrays


def verify_cache() -> Path:
    """Check the MNIST cache file (class counts, SHA-256 of every array); return its path.

    Raises
    ------
    MnistVerificationError
        The file is missing, unreadable or not the standard MNIST data; run
        ``dlcore data fetch`` to replace it.

    Examples
    --------
    >>> from dlcore.data import verify_cache
    >>> verify_cache()  # doctest: +SKIP
    PosixPath('/home/me/.cache/dlcore/mnist.npz')
    """
    load_cache()
    return cache_file()


def write_cache(arrays: dict[str, np.ndarray]) -> Path:
    """Write verified arrays to the cache file atomically (compressed .npz, no pickle)."""
    path = cache_file()
    with atomic_write(path, what="MNIST cache file") as f:
        np.savez_compressed(
            f,
            x_train=arrays["x_train"],
            t_train=arrays["t_train"],
            x_test=arrays["x_test"],
            t_test=arrays["t_test"],
        )
    return path


def quarantine(path: Path, reason: Exception) -> None:
    """Move a corrupt cache file aside with a :class:`MnistCacheWarning`."""
    dst = move_aside(path)
    msg = f"{reason}; moved it aside to {dst.name} and fetching MNIST again"
    warnings.warn(msg, MnistCacheWarning, stacklevel=4)
