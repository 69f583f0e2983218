"""Files: weights files, the one atomic writer, and the checks on output paths."""

from __future__ import annotations

import os

__all__ = ["check_output_path"]


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
    """
    import stat

    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip():
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
