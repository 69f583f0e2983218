"""Saving and loading network weights: ``.npz`` without pickle, and the book's ``.pkl``.

``.npz`` files are read with ``allow_pickle=False``. The book's
``sample_weight.pkl`` (a pickled dict of NumPy arrays) is read through
:func:`dlcore._safe_pickle.safe_load`, which builds NumPy arrays only and
refuses anything else before it runs. The format is recognised from the
file's first bytes, not its name.
"""

from __future__ import annotations

import os
import secrets
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._safe_pickle import safe_load
from .network import check_network

__all__ = ["load_weights", "save_weights"]

_ZIP_MAGIC = b"PK\x03\x04"


def save_weights(network: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``network`` (``W1, b1, ..., Wn, bn``) to an ``.npz`` file, atomically.

    Parameters
    ----------
    network : dict
        Arrays of any backend; they are copied to host memory, dtype kept.
    path : str or path-like
        The file to write, exactly (no suffix is added). The data go to a
        temporary file in the same folder first, which then replaces ``path``,
        so a crash never leaves a half-written file.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import numpy as np, dlcore, tempfile, os
    >>> net = {"W1": np.ones((2, 3)), "b1": np.zeros(3)}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = dlcore.save_weights(net, os.path.join(tmp, "w.npz"))
    ...     sorted(dlcore.load_weights(p))
    ['W1', 'b1']
    """
    check_network(network)
    from dlcore.backends import to_numpy

    host = {str(key): np.ascontiguousarray(to_numpy(value)) for key, value in network.items()}
    target = Path(path)
    if target.is_dir():
        msg = f"`path` must be a file name, got the folder {str(target)!r}"
        raise IsADirectoryError(msg)
    folder = target.parent
    if not folder.is_dir():
        msg = f"cannot save weights to {str(target)!r}: the folder {str(folder)!r} does not exist"
        raise FileNotFoundError(msg)
    tmp_name = folder / f".{target.name}.{secrets.token_hex(8)}.tmp"
    # O_EXCL: never clobber another writer's file; mode 0o666 minus the umask, like any
    # new file (tempfile.mkstemp would make it 0600)
    fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **host)  # type: ignore[arg-type]
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def load_weights(path: str | os.PathLike[str], *, dtype: Any = None) -> dict[str, Any]:
    """Read a network saved by :func:`save_weights` or the book's ``sample_weight.pkl``.

    Parameters
    ----------
    path : str or path-like
        An ``.npz`` file (read with ``allow_pickle=False``) or a pickle of a
        dict of NumPy arrays (read with a restricted unpickler).
    dtype : str or dtype, optional
        Convert the arrays to this floating dtype (e.g. ``"float64"``);
        by default they keep the dtype they were saved with.

    Returns
    -------
    dict
        ``W1, b1, ..., Wn, bn`` as arrays of the active backend.

    Raises
    ------
    dlcore.UnsafePickleError
        The pickle refers to anything but NumPy arrays and containers; nothing
        in it was run.
    ValueError
        The file is not a weights file, a key is missing or the shapes do not
        chain (the message names the key).

    Examples
    --------
    >>> import os, tempfile, dlcore
    >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> _ = dlcore.save_weights(dlcore.init_network(), path)  # returns the path written
    >>> net = dlcore.load_weights(path)
    >>> sorted(net), tuple(net["W1"].shape)
    (['W1', 'W2', 'W3', 'b1', 'b2', 'b3'], (2, 3))
    """
    target = Path(path)
    if not target.is_file():
        msg = f"no weights file at {str(target)!r}"
        raise FileNotFoundError(msg)
    with target.open("rb") as f:
        head = f.read(4)
        f.seek(0)
        host = _read_npz(f, target) if head == _ZIP_MAGIC else _read_pickle(f, target)

    from dlcore.backends import get_backend

    backend = get_backend()
    network = {key: backend.asarray(value, dtype=dtype) for key, value in host.items()}
    check_network(network, name=f"weights in {target.name}")
    return network


def _read_npz(f: Any, target: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(f, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (ValueError, zipfile.BadZipFile, OSError) as exc:
        msg = f"{str(target)!r} is not a readable .npz weights file ({exc})"
        raise ValueError(msg) from exc


def _read_pickle(f: Any, target: Path) -> dict[str, np.ndarray]:
    import pickle

    from ._safe_pickle import UnsafePickleError

    try:
        obj = safe_load(f)
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        msg = (
            f"{str(target)!r} is neither an .npz file nor a pickled dict of NumPy arrays "
            f"(the book's sample_weight.pkl format): {exc}"
        )
        raise ValueError(msg) from exc
    if not isinstance(obj, dict) or not all(
        isinstance(k, str) and isinstance(v, np.ndarray) for k, v in obj.items()
    ):
        msg = (
            f"{str(target)!r} must hold a dict of NumPy arrays keyed 'W1', 'b1', ..., got "
            f"{type(obj).__name__}"
        )
        raise ValueError(msg)
    return obj
