"""Images at rest: a chunked on-disk store that Dask workers read piece by piece.

Two formats hold an ``(N, d)`` array of floating-point images, one per row:

* a **zarr** array (``pip install zarr``; uncompressed by default, so reading
  costs what copying from the page cache costs);
* a **folder of .npy shards** (``part-00000.npy``, ``part-00001.npy``, ...),
  read in name order, each a 2-D array of the same width and dtype (NumPy
  only; read with ``np.load(mmap_mode="r")``, never unpickled).

:func:`open_store` reads only the metadata. A :class:`ImageStore` splits its
rows into pieces of at most ``chunk_rows`` (aligned to zarr's stored chunks,
never crossing a shard), and :func:`read_piece` reads one of them: a task
names a file and a row range, so a worker reads its own rows from disk and no
image travels through the scheduler.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._validate import check_positive_int

__all__ = ["ImageStore", "open_store", "read_piece", "save_images"]

#: A piece of a store: (format, file, first row, stop row) within that file.
Piece = tuple[str, str, int, int]


@dataclass(frozen=True)
class ImageStore:
    """The metadata of an image store: where it is, its rows, width, dtype and layout.

    Attributes
    ----------
    path : Path
    format : {"zarr", "npy"}
    shape : tuple of int
        ``(N, d)``.
    dtype : numpy.dtype
    files : tuple of (str, int)
        Each file and its rows (the zarr array is one "file").
    stored_rows : int
        Rows of one stored chunk (zarr) or of the largest shard.
    """

    path: Path
    format: str
    shape: tuple[int, int]
    dtype: np.dtype
    files: tuple[tuple[str, int], ...]
    stored_rows: int

    def pieces(self, chunk_rows: int | None = None) -> list[Piece]:
        """Row ranges of at most ``chunk_rows`` (default: the stored chunks or shards)."""
        rows = self.stored_rows if chunk_rows is None else check_positive_int(chunk_rows, "rows")
        if self.format == "zarr":  # whole stored chunks: no chunk is read by two tasks
            rows = max(self.stored_rows, rows - rows % self.stored_rows)
        out: list[Piece] = []
        for file, n in self.files:
            out += [(self.format, file, i, min(i + rows, n)) for i in range(0, n, rows)]
        return out

    def to_dask(self, chunk_rows: int | None = None) -> Any:
        """The images as a Dask array whose tasks read their own pieces (see :meth:`pieces`)."""
        import dask.array as da
        from dask.base import tokenize
        from dask.highlevelgraph import HighLevelGraph

        pieces = self.pieces(chunk_rows)
        name = "dlcore-images-" + tokenize(str(self.path), self.files, pieces, _mtime(self.path))
        dsk: dict[Any, Any] = {(name, i, 0): (read_piece, *piece) for i, piece in enumerate(pieces)}
        graph = HighLevelGraph.from_collections(name, dsk, dependencies=[])
        chunks = (tuple(stop - start for _, _, start, stop in pieces), (self.shape[1],))
        return da.Array(graph, name, chunks, dtype=self.dtype, meta=np.empty((0, 0), self.dtype))


def read_piece(fmt: str, file: str, start: int, stop: int, *, copy: bool = True) -> np.ndarray:
    """Rows ``start:stop`` of one store file, as an in-memory NumPy array.

    With ``copy=False`` a ``.npy`` piece is a read-only memory map of the file
    (no copy: a consumer that reads it once, as inference does, saves one
    pass over the data).
    """
    if fmt == "zarr":
        import zarr

        return np.asarray(zarr.open_array(file, mode="r")[start:stop])
    rows = np.load(file, mmap_mode="r", allow_pickle=False)[start:stop]
    return np.array(rows) if copy else rows


def open_store(path: str | os.PathLike[str]) -> ImageStore:
    """Read the metadata of a zarr array or a folder of ``.npy`` shards (no image data).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        ``path`` is neither store, or its shards differ in width or dtype, or
        the images are not 2-D rows of a floating dtype.
    """
    root = Path(path)
    if not root.exists():
        msg = f"image store {str(root)!r} does not exist; write one with dlcore.save_images"
        raise FileNotFoundError(msg)
    if (root / "zarr.json").is_file() or (root / ".zarray").is_file():
        store = _open_zarr(root)
    elif root.is_dir() and any(root.glob("*.npy")):
        store = _open_shards(root)
    else:
        msg = (
            f"{str(root)!r} is not an image store: expected a zarr array (a folder with "
            "zarr.json) or a folder of .npy shards"
        )
        raise ValueError(msg)
    if not np.issubdtype(store.dtype, np.floating):
        msg = (
            f"image store {str(root)!r} holds {store.dtype} images; dlcore classifies floating "
            "images: save them as float32, e.g. save_images(path, x.astype('float32') / 255)"
        )
        raise ValueError(msg)
    return store


def _open_zarr(root: Path) -> ImageStore:
    try:
        import zarr
    except ImportError as exc:
        msg = f"reading the zarr store {str(root)!r} needs zarr ({exc}); pip install zarr"
        raise ImportError(msg) from exc
    z = zarr.open_array(str(root), mode="r")
    if len(z.shape) != 2:
        msg = f"image store {str(root)!r} must be 2-D (N, features), got shape {z.shape}"
        raise ValueError(msg)
    shape = (int(z.shape[0]), int(z.shape[1]))
    return ImageStore(root, "zarr", shape, np.dtype(z.dtype), ((str(root), shape[0]),), z.chunks[0])


def _open_shards(root: Path) -> ImageStore:
    files, widths, dtypes = [], set(), set()
    for file in sorted(root.glob("*.npy")):
        try:
            a = np.load(file, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            msg = f"shard {file.name!r} of {str(root)!r} is not a readable .npy array ({exc})"
            raise ValueError(msg) from exc
        if a.ndim != 2:
            msg = f"shard {file.name!r} must be 2-D (rows, features), got shape {a.shape}"
            raise ValueError(msg)
        files.append((str(file), int(a.shape[0])))
        widths.add(int(a.shape[1]))
        dtypes.add(a.dtype)
    if len(widths) > 1 or len(dtypes) > 1:
        msg = (
            f"the shards of {str(root)!r} differ: widths {sorted(widths)}, dtypes "
            f"{sorted(map(str, dtypes))}; every shard needs the same width and dtype"
        )
        raise ValueError(msg)
    n = sum(rows for _, rows in files)
    stored = max(rows for _, rows in files)
    return ImageStore(root, "npy", (n, widths.pop()), dtypes.pop(), tuple(files), max(stored, 1))


def save_images(
    path: str | os.PathLike[str], x: Any, *, chunk_rows: int = 10_000, format: str = "zarr"
) -> ImageStore:
    """Write images ``x`` (N, d) as a zarr array or a folder of ``.npy`` shards.

    The store is written into a temporary folder beside ``path`` and renamed
    into place, so a failed write leaves nothing half-written.

    Parameters
    ----------
    path : str or PathLike
        The store to create (must not exist).
    x : array
        Floating images, one per row (any backend; copied to the host).
    chunk_rows : int
        Rows per zarr chunk or per shard.
    format : {"zarr", "npy"}

    Examples
    --------
    >>> import numpy as np, tempfile, os, dlcore
    >>> folder = tempfile.mkdtemp()
    >>> store = dlcore.save_images(os.path.join(folder, "x"), np.ones((5, 3)), chunk_rows=2,
    ...                            format="npy")
    >>> store.shape, [rows for _, rows in store.files]
    ((5, 3), [2, 2, 1])
    """
    from .backends import to_numpy

    rows = check_positive_int(chunk_rows, "chunk_rows")
    if format not in ("zarr", "npy"):
        msg = f"`format` must be 'zarr' or 'npy', got {format!r}"
        raise ValueError(msg)
    target = Path(path)
    if target.exists() or target.is_symlink():
        msg = f"{str(target)!r} already exists; choose a new path or remove it first"
        raise FileExistsError(msg)
    if not target.parent.is_dir():
        msg = f"cannot write {str(target)!r}: the folder {str(target.parent)!r} does not exist"
        raise FileNotFoundError(msg)
    host = to_numpy(x)
    if host.ndim != 2 or not host.shape[0] or not np.issubdtype(host.dtype, np.floating):
        msg = (
            f"`x` must be floating images, one per row (N >= 1, d), got {host.dtype} of "
            f"shape {host.shape}"
        )
        raise ValueError(msg)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        if format == "zarr":
            import zarr

            z = zarr.create_array(
                store=str(tmp), shape=host.shape, chunks=(rows, host.shape[1]),
                dtype=host.dtype, compressors=None, overwrite=True,
            )  # fmt: skip
            for i in range(0, host.shape[0], rows):
                z[i : i + rows] = host[i : i + rows]
        else:
            for part, i in enumerate(range(0, host.shape[0], rows)):
                np.save(tmp / f"part-{part:05d}.npy", host[i : i + rows])
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return open_store(target)


def _mtime(path: Path) -> float:
    return path.stat().st_mtime
