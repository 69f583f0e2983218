"""Untrusted array files: the size cap, and ``.npz`` read without unpickling.

:func:`size_limit` is the one cap on how many bytes of array data dlcore reads
from a file from outside (a weights ``.npz`` or pickle, an IDX file, the MNIST
cache); :func:`read_npz` checks every size in an ``.npz`` against it and
against the bytes present before it decompresses or allocates anything.
"""

from __future__ import annotations

import math
import os
import struct
import zipfile
import zlib
from typing import IO

import numpy as np

from ._validate import check_count

__all__ = ["DEFAULT_MAX_BYTES", "ENV_MAX_BYTES", "read_npz", "size_limit"]

#: The most bytes of array data dlcore reads from one untrusted file (a weights
#: pickle or .npz, an IDX file, the MNIST cache) unless told otherwise: 64 MiB.
#: The MNIST cache holds 55 MB, its largest IDX file 47 MB.
DEFAULT_MAX_BYTES = 64 << 20
#: Environment variable that raises (or lowers) :data:`DEFAULT_MAX_BYTES`, in bytes.
ENV_MAX_BYTES = "DLCORE_MAX_BYTES"


def size_limit(value: int | None = None) -> int:
    """The size cap for untrusted files: ``value``, else ``$DLCORE_MAX_BYTES``, else 64 MiB.

    Sizes are checked against it from headers, before anything is decompressed
    or allocated.

    Raises
    ------
    TypeError, ValueError
        ``value`` (or the environment variable) is not an integer >= 0.

    Examples
    --------
    >>> size_limit(1000)
    1000
    """
    if value is not None:
        return check_count(value, "max_bytes", minimum=0)
    text = os.environ.get(ENV_MAX_BYTES, "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    try:
        number = int(text.replace("_", ""))
    except ValueError:
        number = -1
    if number < 0:
        msg = f"{ENV_MAX_BYTES}={text!r} must be a number of bytes >= 0, e.g. 1073741824 for 1 GiB"
        raise ValueError(msg)
    return number


def _over_limit(name: str, what: str, nbytes: int, limit: int) -> ValueError:
    msg = (
        f"{name}: {what} {nbytes} bytes, more than the limit of {limit}; if the file is "
        f"trusted, raise the limit with max_bytes= or the {ENV_MAX_BYTES} environment variable"
    )
    return ValueError(msg)


def read_npz(
    file: str | os.PathLike[str] | IO[bytes],
    *,
    name: str = "",
    what: str = ".npz file",
    max_bytes: int | None = None,
) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file, never unpickled; a header that lies is refused.

    Unlike ``np.load``, the sizes the zip directory gives are checked against
    ``max_bytes`` before anything is decompressed, and each array's header
    (shape, dtype) against the number of bytes that follow before memory is
    allocated for it, so a crafted file cannot make it allocate more than the
    file holds or expand a small file into a huge array.

    Parameters
    ----------
    max_bytes : int, optional
        The most uncompressed bytes all members together may have; default
        :func:`size_limit` (``$DLCORE_MAX_BYTES`` or 64 MiB).

    Raises
    ------
    ValueError
        Not a zip file, a member that is not a ``.npy`` array, a dtype that
        is not a plain number type (object, structured, string), a header
        that does not match the data, a member name given twice, or more data
        than ``max_bytes``. The message reads "``name`` is not a readable
        ``what``" (``name``: the file's by default).

    Examples
    --------
    >>> import io, numpy as np
    >>> buf = io.BytesIO()
    >>> np.savez(buf, a=np.arange(3))
    >>> read_npz(buf)["a"]
    array([0, 1, 2])
    """
    limit = size_limit(max_bytes)
    name = name or str(getattr(file, "name", file))
    try:
        with zipfile.ZipFile(file) as z:
            infos = z.infolist()
            total = sum(info.file_size for info in infos)
            if total > limit:
                raise _over_limit(name, "its arrays would take", total, limit)
            keys = [info.filename.removesuffix(".npy") for info in infos]
            twice = sorted({k for k in keys if keys.count(k) > 1})
            if twice:
                msg = f"member(s) {twice} appear more than once"
                raise ValueError(msg)
            return {key: _npy(z, info) for key, info in zip(keys, infos, strict=True)}
    except (
        ValueError,
        zipfile.BadZipFile,
        OSError,
        EOFError,
        zlib.error,
        NotImplementedError,  # an unsupported compression method
        RuntimeError,  # an encrypted member
        RecursionError,
        struct.error,
    ) as exc:
        msg = f"{name} is not a readable {what} ({exc})"
        raise ValueError(msg) from None


def _npy(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    fmt = np.lib.format
    name = info.filename
    if not name.endswith(".npy"):
        msg = f"member {name!r} is not a .npy array"
        raise ValueError(msg)
    with z.open(info) as member:
        version = fmt.read_magic(member)
        if version not in ((1, 0), (2, 0)):
            msg = f"member {name!r} has .npy format version {version}, expected 1.0 or 2.0"
            raise ValueError(msg)
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        try:  # NumPy's parser of the header text: TokenError, SyntaxError, ... on garbage
            shape, fortran, dtype = read_header(member)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, MemoryError):
            raise
        except Exception as exc:
            msg = f"member {name!r} has an unreadable .npy header ({type(exc).__name__}: {exc})"
            raise ValueError(msg) from None
        if dtype.kind not in "biufc" or dtype.fields is not None or dtype.subdtype is not None:
            msg = (
                f"member {name!r} has dtype {dtype}; only plain number arrays (bool, int, "
                "float, complex) are allowed"
            )
            raise ValueError(msg)
        if any(n < 0 for n in shape):
            msg = f"member {name!r} has a negative dimension in its shape {shape}"
            raise ValueError(msg)
        nbytes = math.prod(shape) * dtype.itemsize
        left = info.file_size - member.tell()
        if nbytes != left:
            msg = (
                f"member {name!r}: header promises {shape} {dtype} ({nbytes} bytes), {left} follow"
            )
            raise ValueError(msg)
        data = member.read(nbytes)
    flat = np.frombuffer(data, dtype=dtype)
    return np.array(flat.reshape(shape, order="F" if fortran else "C"), order="C", copy=True)
