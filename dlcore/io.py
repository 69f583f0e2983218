"""Files: the one atomic writer, weights files, and the check on output paths.

* :func:`atomic_write` is how dlcore writes every file (weights, the MNIST
  cache, CLI outputs), so none is ever left half-written.
* :func:`save_weights` / :func:`load_weights` store a dict of named float
  arrays as ``.npz`` (never pickled) and read it back, or read the book's
  pickled ``sample_weight.pkl`` through the restricted unpickler.
* :func:`read_npz` reads any ``.npz`` without unpickling, checking each array
  header against the data that follows before it allocates.
* :func:`safe_load` / :func:`safe_loads` (from :mod:`dlcore._unpickle`) are
  the restricted unpickler every pickle from outside goes through.

This module sits below :mod:`dlcore.network`: it checks the file format (str
keys, real floating-point arrays of one library), not whether the arrays form
a network; :func:`dlcore.predict` checks that when the weights are used.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from ._npz import DEFAULT_MAX_BYTES, ENV_MAX_BYTES, _over_limit, read_npz, size_limit
from ._unpickle import MalformedPickleError, UnsafePickleError, safe_load, safe_loads
from ._validate import namespace

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ENV_MAX_BYTES",
    "MalformedPickleError",
    "UnsafePickleError",
    "atomic_write",
    "check_output_path",
    "load_weights",
    "read_npz",
    "safe_load",
    "safe_loads",
    "save_weights",
    "size_limit",
]

_ZIP_MAGIC = b"PK\x03\x04"


def check_output_path(path: str | os.PathLike[str], what: str = "output") -> str:
    """Check, before any long work, that a file can be written at ``path``; return it as str.

    The folder must exist and be writable, and ``path`` must not be a
    directory or another non-regular file (a device, a FIFO). Nothing is
    created.

    Raises
    ------
    ValueError
        ``path`` is empty, names a directory or a non-regular file.
    FileNotFoundError
        The folder does not exist.
    PermissionError
        The folder (or an existing file) is not writable.
    TypeError
        ``path`` is not a str or path-like of str.
    """
    text = _path_text(path, what)
    if not text.strip():
        msg = f"{what}: the path is empty; give a file name, e.g. results.json"
        raise ValueError(msg)
    full = os.path.abspath(text)
    if os.path.isdir(full):
        msg = f"{what} {text}: is a directory; give a file name inside it"
        raise ValueError(msg)
    if os.path.lexists(full):
        try:
            mode = os.stat(full).st_mode
        except OSError as exc:
            msg = f"{what} {text}: cannot be inspected ({exc.strerror})"
            raise ValueError(msg) from None
        if not stat.S_ISREG(mode):
            msg = f"{what} {text}: is not a regular file (a device or a pipe); choose another path"
            raise ValueError(msg)
        if not os.access(full, os.W_OK):
            msg = f"{what} {text}: the file is not writable; change its permissions"
            raise PermissionError(msg)
    folder = os.path.dirname(full)
    if not os.path.isdir(folder):
        msg = f"{what} {text}: the folder {folder} does not exist; create it or choose another"
        raise FileNotFoundError(msg)
    if not os.access(folder, os.W_OK | os.X_OK):
        msg = f"{what} {text}: the folder {folder} is not writable; choose another"
        raise PermissionError(msg)
    return text


def _path_text(path: object, what: str) -> str:
    """``path`` as a str; a clear TypeError for bytes, numbers, None, ..."""
    try:
        text = os.fspath(path)  # type: ignore[call-overload]
    except TypeError:
        text = None
    if not isinstance(text, str):
        msg = (
            f"{what}: the path must be a str or a pathlib.Path, got {type(path).__name__}; "
            "e.g. 'weights.npz'"
        )
        raise TypeError(msg)
    return text


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], *, what: str = "output") -> Iterator[IO[bytes]]:
    """Open a temporary file that replaces ``path`` only if the ``with`` block succeeds.

    Parameters
    ----------
    path : str or path-like
        The file to create or replace; its folder must exist. A symlink is
        written through: its target is replaced, the link is kept.
    what : str, optional
        What the file is, for error messages (e.g. ``"weights file"``).

    Yields
    ------
    file object
        A binary file open for writing, in the same folder as the target.

    Raises
    ------
    ValueError, FileNotFoundError, PermissionError
        As :func:`check_output_path`: ``path`` is a directory, a device, a
        FIFO or another non-regular file (left untouched), its folder is
        missing, or it is not writable.

    Notes
    -----
    The data go to ``.<name>.<random>.tmp`` beside the target, are fsync-ed,
    renamed over the target with ``os.replace``, and the folder is fsync-ed,
    so a reader sees the old file or the whole new one. If the block raises
    (``KeyboardInterrupt`` too), the temporary file is removed and the target
    is unchanged. An existing target keeps its permission bits; a new file
    gets ``0o666`` minus the umask, like any other new file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.bin"
    >>> with atomic_write(path) as f:
    ...     _ = f.write(b"done")
    >>> path.read_bytes()
    b'done'
    """
    check_output_path(path, what)
    target = Path(os.path.realpath(path))
    if target != Path(os.path.abspath(path)):
        check_output_path(target, what)  # through a symlink: the target's folder counts
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: never another writer's file; 0o666 minus the umask (mkstemp would give 0600)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    f = os.fdopen(os.open(tmp, flags, 0o666), "wb")
    try:
        with f:
            if mode is not None:
                os.chmod(tmp, mode)
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable (POSIX; some file systems cannot sync a folder: then skipped)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _check_weights(weights: object, label: str) -> dict[str, np.ndarray]:
    """Host copies of the arrays of ``weights`` if it is a weights mapping; raise otherwise."""
    if not isinstance(weights, Mapping):
        msg = f"{label} must be a dict of arrays keyed by name ('W1', 'b1', ...), got "
        raise TypeError(msg + type(weights).__name__)
    if not weights:
        msg = f"{label} is empty; a weights file holds at least one array, e.g. 'W1'"
        raise ValueError(msg)
    for key, value in weights.items():
        if not isinstance(key, str):
            msg = f"{label} keys must be str such as 'W1', got {key!r} ({type(key).__name__})"
            raise TypeError(msg)
        if not hasattr(value, "dtype") or not hasattr(value, "shape"):
            msg = f"{label}[{key!r}] must be an array, got {type(value).__name__}"
            raise TypeError(msg + "; convert it with dlcore.asarray(...)")
    namespace(*weights.values())  # one library, one device
    from dlcore.backends import to_numpy

    host = {key: to_numpy(value) for key, value in weights.items()}
    for key, value in host.items():
        if (
            value.dtype.kind != "f"
            or value.dtype.itemsize not in (2, 4, 8)
            or value.dtype.fields is not None
        ):
            msg = (
                f"{label}[{key!r}] must have a real floating-point dtype (float16, float32 or "
                f"float64), got {value.dtype}; convert it, e.g. dlcore.asarray(w, dtype='float32')"
            )
            raise TypeError(msg)
    return {k: np.ascontiguousarray(v, v.dtype.newbyteorder("=")) for k, v in host.items()}


def save_weights(network: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write named float arrays (a network ``W1, b1, ..., Wn, bn``) to an ``.npz``, atomically.

    Parameters
    ----------
    network : dict
        str keys, real floating-point arrays of one library (any backend);
        they are copied to host memory, dtype kept.
    path : str or path-like
        The file to write, exactly (no suffix is added), through
        :func:`atomic_write`: never half-written.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TypeError
        Not a mapping, a key is not a str, a value is not a real floating
        array, or the arrays come from different libraries.
    ValueError, FileNotFoundError, PermissionError
        ``network`` is empty, or ``path`` cannot be written (see
        :func:`atomic_write`).

    Examples
    --------
    >>> import numpy as np, dlcore, tempfile, os
    >>> net = {"W1": np.ones((2, 3)), "b1": np.zeros(3)}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = dlcore.save_weights(net, os.path.join(tmp, "w.npz"))
    ...     sorted(dlcore.load_weights(p))
    ['W1', 'b1']
    """
    host = _check_weights(network, "`network`")
    target = Path(check_output_path(path, "weights file"))
    with atomic_write(target, what="weights file") as f, zipfile.ZipFile(f, "w") as z:
        for key, value in host.items():  # np.savez, without its reserved keyword names
            with z.open(f"{key}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, value, allow_pickle=False)
    return target


def load_weights(
    path: str | os.PathLike[str], *, dtype: Any = None, max_bytes: int | None = None
) -> dict[str, Any]:
    """Read weights saved by :func:`save_weights`, or the book's ``sample_weight.pkl``.

    Parameters
    ----------
    path : str or path-like
        An ``.npz`` file (read by :func:`read_npz`, never unpickled) or a
        pickle of a dict of NumPy arrays (read with a restricted unpickler);
        the format is recognised from the first bytes, not the name.
    dtype : str or dtype, optional
        Convert the arrays to this floating dtype (e.g. ``"float64"``);
        by default they keep the dtype they were saved with.
    max_bytes : int, optional
        Refuse a file (or, for ``.npz``, arrays) larger than this; default
        :func:`size_limit`: ``$DLCORE_MAX_BYTES`` or 64 MiB.

    Returns
    -------
    dict
        The arrays by name, in the file's order, on the active backend.

    Raises
    ------
    dlcore.UnsafePickleError
        The pickle refers to anything but plain NumPy arrays and containers;
        nothing in it was run.
    ValueError
        The file is not a weights file (neither ``.npz`` nor a pickled dict),
        is truncated or garbled, or is larger than ``max_bytes``.
    TypeError
        An array is not real floating-point, or ``dtype`` is not.
    FileNotFoundError
        No file at ``path``.

    Examples
    --------
    >>> import os, tempfile, numpy as np, dlcore
    >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> _ = dlcore.save_weights({"W1": np.ones((2, 3)), "b1": np.zeros(3)}, path)
    >>> net = dlcore.load_weights(path, dtype="float32")
    >>> sorted(net), tuple(net["W1"].shape), str(dlcore.to_numpy(net["W1"]).dtype)
    (['W1', 'b1'], (2, 3), 'float32')
    """
    limit = size_limit(max_bytes)
    target = Path(_path_text(path, "weights file"))
    from dlcore.backends import get_backend

    backend = get_backend()
    if dtype is not None:
        _check_float_dtype(backend, dtype)
    _check_input_file(target, "weights file")
    size = target.stat().st_size
    with target.open("rb") as f:
        head = f.read(4)
        f.seek(0)
        if head == _ZIP_MAGIC:
            stored: object = read_npz(
                f, name=repr(str(target)), what=".npz weights file", max_bytes=limit
            )
        elif size > limit:
            raise _over_limit(repr(str(target)), "the pickle has", size, limit)
        else:
            stored = _read_pickle(f, target)
    host = _check_weights(stored, f"weights file {target.name}")
    return {key: backend.asarray(value, dtype=dtype) for key, value in host.items()}


def _check_float_dtype(backend: Any, dtype: Any) -> None:
    try:
        resolved = backend.dtype(dtype)
        ok = backend.xp.isdtype(resolved, "real floating")
    except (TypeError, ValueError, AttributeError, KeyError):
        ok = False
    if not ok:
        msg = (
            f"`dtype` must be a floating-point dtype such as 'float32' or 'float64', got {dtype!r}"
        )
        raise TypeError(msg)


def _check_input_file(target: Path, what: str) -> None:
    """A clear error unless ``target`` is an existing regular file."""
    if not os.path.lexists(target) or (target.is_symlink() and not target.exists()):
        msg = f"no {what} at {str(target)!r}; check the path"
        raise FileNotFoundError(msg)
    if target.is_dir():
        msg = f"{what} {str(target)!r} is a directory; give the file inside it"
        raise IsADirectoryError(msg)
    if not target.is_file():
        msg = f"{what} {str(target)!r} is not a regular file (a device or a pipe); give a file"
        raise ValueError(msg)


def _read_pickle(f: IO[bytes], target: Path) -> object:
    try:
        obj = safe_load(f)
    except MalformedPickleError as exc:
        msg = (
            f"{str(target)!r} is neither an .npz file nor a pickled dict of NumPy arrays "
            f"(the book's sample_weight.pkl format): {exc}"
        )
        raise MalformedPickleError(msg) from None
    except UnsafePickleError as exc:
        msg = f"{str(target)!r}: {exc}; nothing in it was run"
        raise UnsafePickleError(msg) from None
    if not isinstance(obj, dict) or not all(isinstance(v, np.ndarray) for v in obj.values()):
        msg = (
            f"{str(target)!r} must hold a dict of NumPy arrays keyed 'W1', 'b1', ..., got "
            f"{type(obj).__name__}"
        )
        raise ValueError(msg)
    return obj
