"""Read and write IDX files (the format of the MNIST distribution), raw or gzip-compressed.

An IDX file is a 4-byte magic number ``00 00 TT NN`` (``TT`` the element
type, ``NN`` the number of dimensions), ``NN`` big-endian uint32 sizes, then
the elements in C order, big-endian. MNIST uses type ``0x08`` (uint8): images
are ``idx3`` (N, 28, 28), labels ``idx1`` (N,).

The reader trusts nothing in the file: it checks the magic number, the type
code, the number and product of the dimensions against a size limit
(:func:`dlcore.io.size_limit`: ``max_bytes=``, ``$DLCORE_MAX_BYTES`` or 64 MiB),
and that the data is exactly as long as the header says, before it builds an
array. For a gzip file the length comes from the gzip trailer, so a header that
lies is refused before anything is decompressed.
Every failure raises :class:`IDXError` naming the file and what was wrong.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import IO

import numpy as np

from dlcore.io import size_limit

__all__ = ["IDXError", "read_idx", "write_idx"]

#: IDX type code -> big-endian NumPy dtype.
_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES: dict[str, int] = {dt.newbyteorder(">").str: code for code, dt in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_MIN = 18  # a 10-byte header, an empty deflate block, the 8-byte trailer
_MAX_NDIM = 8
_CHUNK = 1 << 20


class IDXError(ValueError):
    """An IDX file is truncated, garbled or not an IDX file at all."""


def _name(source: str | os.PathLike[str] | IO[bytes]) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return str(getattr(source, "name", "<file object>"))


def _read_exactly(f: IO[bytes], n: int) -> bytes:
    """Read up to ``n`` bytes in chunks (never allocates ``n`` up front)."""
    buf = bytearray()
    while len(buf) < n:
        chunk = f.read(min(_CHUNK, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def _parse(
    f: IO[bytes], name: str, max_bytes: int, *, size: int | None, gzip_size: int | None
) -> np.ndarray:
    """The array in ``f``: ``size`` bytes long, or ``gzip_size`` (mod 2**32) decompressed."""
    head = _read_exactly(f, 4)
    if len(head) < 4:
        msg = f"{name}: not an IDX file: {len(head)} bytes, the 4-byte header is missing"
        raise IDXError(msg)
    zero, code, ndim = struct.unpack(">HBB", head)
    if zero != 0 or code not in _DTYPES:
        msg = (
            f"{name}: not an IDX file: magic number 0x{head.hex()} (expected 0x0000TTNN with "
            f"type TT one of {', '.join(f'0x{c:02x}' for c in _DTYPES)}); "
            "the file may be garbled or of another format"
        )
        raise IDXError(msg)
    if not 1 <= ndim <= _MAX_NDIM:
        msg = f"{name}: IDX header gives {ndim} dimensions, expected 1 to {_MAX_NDIM}"
        raise IDXError(msg)
    dims_raw = _read_exactly(f, 4 * ndim)
    if len(dims_raw) < 4 * ndim:
        msg = f"{name}: truncated IDX header: {ndim} dimension sizes promised, file ends early"
        raise IDXError(msg)
    shape = struct.unpack(f">{ndim}I", dims_raw)
    dtype = _DTYPES[code]
    nbytes = math.prod(shape) * dtype.itemsize  # Python ints: np.prod wraps around
    if nbytes > max_bytes:
        msg = (
            f"{name}: IDX header promises shape {shape} ({nbytes} bytes), more than the "
            f"limit of {max_bytes} bytes; the header is probably garbled (if the file is "
            "trusted, raise the limit with max_bytes= or DLCORE_MAX_BYTES)"
        )
        raise IDXError(msg)
    need = 4 + 4 * ndim + nbytes
    if gzip_size is not None and (need - gzip_size) % 2**32:
        what = "truncated" if need % 2**32 > gzip_size else "has trailing bytes"
        msg = (
            f"{name}: IDX file {what}, or corrupt or truncated gzip data: the gzip trailer "
            f"gives {gzip_size} bytes, the header shape {shape} needs {need} (nothing was "
            "decompressed beyond the header); download the file again"
        )
        raise IDXError(msg)
    if size is not None and need != size:
        what = "truncated" if need > size else "has trailing bytes"
        msg = (
            f"{name}: IDX file {what}: header shape {shape} needs {nbytes} data bytes, "
            f"the file holds {size - 4 - 4 * ndim}; download the file again"
        )
        raise IDXError(msg)
    data = _read_exactly(f, nbytes + 1)
    if len(data) != nbytes:
        what = "truncated" if len(data) < nbytes else "has trailing bytes"
        got = f"{len(data)}" if len(data) < nbytes else f"more than {nbytes}"
        msg = (
            f"{name}: IDX file {what}: header shape {shape} needs {nbytes} data bytes, "
            f"found {got}; download the file again"
        )
        raise IDXError(msg)
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(
    source: str | os.PathLike[str] | IO[bytes], *, max_bytes: int | None = None
) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed, detected from its first bytes).

    Parameters
    ----------
    source : path or binary file object
        The file to read.
    max_bytes : int, optional
        Refuse a header that promises more data than this (>= 0; default
        :func:`dlcore.io.size_limit`: ``$DLCORE_MAX_BYTES`` or 64 MiB).

    Returns
    -------
    numpy.ndarray
        A writable array in native byte order with the shape and type the
        header gives (uint8 for MNIST).

    Raises
    ------
    IDXError
        Bad magic number or type, too many or too large dimensions, data
        shorter or longer than the header says, or a corrupt gzip stream.
    TypeError, ValueError
        ``max_bytes`` is not an integer >= 0.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> buf = io.BytesIO()
    >>> write_idx(buf, np.array([[1, 2], [3, 4]], dtype=np.uint8))
    >>> _ = buf.seek(0)
    >>> read_idx(buf)
    array([[1, 2],
           [3, 4]], dtype=uint8)
    """
    limit = size_limit(max_bytes)
    name = _name(source)
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            return _read_stream(f, name, limit)
    return _read_stream(source, name, limit)


def _read_stream(f: IO[bytes], name: str, max_bytes: int) -> np.ndarray:
    if not f.seekable():
        msg = f"{name}: read_idx needs a seekable file object (open the file from disk)"
        raise TypeError(msg)
    pos = f.tell()
    is_gzip = f.read(2) == _GZIP_MAGIC
    size = f.seek(0, os.SEEK_END) - pos
    if is_gzip and size >= _GZIP_MIN:  # ISIZE: the uncompressed length mod 2**32
        f.seek(pos + size - 4)
        total = int.from_bytes(f.read(4), "little")
    f.seek(pos)
    if not is_gzip:
        return _parse(f, name, max_bytes, size=size, gzip_size=None)
    if size < _GZIP_MIN:
        msg = f"{name}: truncated gzip file ({size} bytes); download the file again"
        raise IDXError(msg)
    try:
        with gzip.GzipFile(fileobj=f, mode="rb") as gz:
            return _parse(gz, name, max_bytes, size=None, gzip_size=total)  # type: ignore[arg-type]
    except (OSError, EOFError, zlib.error) as exc:
        msg = f"{name}: corrupt or truncated gzip data ({exc}); download the file again"
        raise IDXError(msg) from None


def write_idx(
    target: str | os.PathLike[str] | IO[bytes], array: np.ndarray, *, compress: bool | None = None
) -> None:
    """Write ``array`` as an IDX file.

    Parameters
    ----------
    target : path or binary file object
        Where to write. A path is written in place (not atomically).
    array : numpy.ndarray
        1 to 8 dimensions, of dtype uint8, int8, int16, int32, float32 or
        float64; each dimension below 2**32.
    compress : bool or None, optional
        gzip the output; ``None`` (default) means "if the path ends in
        ``.gz``" (never for a file object).

    Raises
    ------
    TypeError
        ``array`` is not a NumPy array or its dtype has no IDX type code.
    ValueError
        Wrong number of dimensions or a dimension too large for the header.
    """
    if not isinstance(array, np.ndarray):
        msg = f"write_idx needs a numpy.ndarray, got {type(array).__name__}"
        raise TypeError(msg)
    key = array.dtype.newbyteorder(">").str
    if key not in _CODES:
        msg = (
            f"IDX cannot store dtype {array.dtype}; use one of uint8, int8, int16, int32, "
            "float32, float64 (convert with array.astype(...))"
        )
        raise TypeError(msg)
    if not 1 <= array.ndim <= _MAX_NDIM or any(s >= 2**32 for s in array.shape):
        msg = f"IDX needs 1 to {_MAX_NDIM} dimensions each below 2**32, got shape {array.shape}"
        raise ValueError(msg)
    header = struct.pack(">HBB", 0, _CODES[key], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=np.dtype(key)).tobytes()
    is_path = isinstance(target, (str, os.PathLike))
    if compress is None:
        compress = is_path and os.fspath(target).endswith(".gz")  # type: ignore[arg-type]
    if compress:
        payload = gzip.compress(payload, mtime=0)
    if is_path:
        Path(target).write_bytes(payload)  # type: ignore[arg-type]
    else:
        target.write(payload)  # type: ignore[union-attr]
