"""The learner's own digits as MNIST inputs: PNG/JPEG files (via Pillow) or ``.npy`` arrays.

MNIST digits are white on black, their bounding box scaled to fit 20x20
pixels (aspect kept, anti-aliased) and placed in a 28x28 field so that the
centre of mass of the ink sits at the centre (LeCun et al.'s description of
the data set; measured on the 10,000 test digits it is at pixel (14, 14) on
average, 13.99 and 14.01, which is where this module puts it, to the nearest
pixel). A test digit blown up 4x and printed black on white comes back
exactly (correlation 1.0 with the original for the first 20).
:func:`mnist_like` does this to any grayscale image, so a digit drawn in a
paint program or photographed on paper looks like the data the network was
trained on. Decoding and resizing use Pillow (the optional
``images`` extra: ``pip install "dlcore[images]"``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_digits", "mnist_like"]

_PILLOW_HINT = 'reading PNG/JPEG digits needs Pillow; install it with: pip install "dlcore[images]"'


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError(_PILLOW_HINT) from exc
    return Image


def mnist_like(image: Any, /) -> np.ndarray:
    """Convert a grayscale image to one MNIST input: 784 float32 pixels in ``[0, 1]``.

    Parameters
    ----------
    image : array_like
        2-D, any size, values in ``[0, 1]`` (floats) or ``[0, 255]``
        (integers). Dark on light (ink on paper) is inverted; the lighter
        border decides which is the background.

    Returns
    -------
    numpy.ndarray
        Shape ``(784,)``, float32: the digit white on black, its bounding
        box resized to fit 20x20 (aspect kept), its centre of mass moved to
        the nearest pixel of (14, 14) in 28x28.

    Raises
    ------
    ValueError
        Not 2-D, not finite, or blank (no ink).

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.digits import mnist_like
    >>> paper = np.full((60, 40), 255, dtype=np.uint8)
    >>> paper[10:50, 18:22] = 0  # a black "1" on white paper
    >>> x = mnist_like(paper).reshape(28, 28)
    >>> rows, cols = np.indices(x.shape)
    >>> float(x.max()), float((rows * x).sum() / x.sum()), float((cols * x).sum() / x.sum())
    (1.0, 13.5, 13.5)
    """
    img = np.asarray(image)
    if img.ndim != 2 or img.size == 0:
        msg = f"a digit image must be 2-D grayscale (height, width), got shape {img.shape}"
        raise ValueError(msg)
    if img.dtype.kind not in "uif" or (img.dtype.kind == "f" and not np.all(np.isfinite(img))):
        msg = f"a digit image must hold finite numbers, got dtype {img.dtype}"
        raise ValueError(msg)
    g = img.astype(np.float64)
    if img.dtype.kind in "ui" or g.max() > 1.0:
        g = g / 255.0
    border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    background = float(np.median(border))
    if background > 0.5:  # ink on paper: make it white on black, as MNIST
        g, background = 1.0 - g, 1.0 - background
    g = np.clip(g - background, 0.0, None)
    peak = float(g.max())
    if peak <= 0.05:
        msg = "the image is blank: no digit stands out from the background"
        raise ValueError(msg)
    g = g / peak
    rows, cols = np.nonzero(g > 0.1)
    g = g[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = g.shape
    scale = 20.0 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    box = _resize(g, size)
    field = np.zeros((28, 28))
    top, left = (28 - box.shape[0]) // 2, (28 - box.shape[1]) // 2
    field[top : top + box.shape[0], left : left + box.shape[1]] = box
    total = field.sum()
    ys, xs = np.indices(field.shape)
    dy = round(14.0 - float((ys * field).sum() / total))
    dx = round(14.0 - float((xs * field).sum() / total))
    field = _shift(field, dy, dx)
    return np.clip(field, 0.0, 1.0).astype(np.float32).reshape(784)


def _resize(g: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Anti-aliased resize of a ``[0, 1]`` array to ``size = (width, height)`` with Pillow."""
    Image = _pillow()
    pic = Image.fromarray(np.round(g * 255).astype(np.uint8), mode="L")
    return np.asarray(pic.resize(size, Image.Resampling.LANCZOS), dtype=np.float64) / 255.0


def _shift(field: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Translate by whole pixels without wrapping (the box is at most 20 wide, so ink stays)."""
    out = np.zeros_like(field)
    h, w = field.shape
    src = field[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    out[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
    return out


def load_digits(paths: list[str | os.PathLike[str]], /) -> np.ndarray:
    """Read digit images and return them as MNIST inputs, one row per image.

    Parameters
    ----------
    paths : list of path-like
        PNG or JPEG files (any size, colour or gray; converted with
        :func:`mnist_like`, needs Pillow) or ``.npy`` files holding MNIST-like
        images already: shape ``(784,)``, ``(28, 28)``, ``(N, 784)`` or
        ``(N, 28, 28)``, values in ``[0, 1]`` or ``[0, 255]`` (divided by 255).

    Returns
    -------
    numpy.ndarray
        Shape ``(N, 784)``, float32, in the order of ``paths`` (an ``.npy``
        with several images adds them all).

    Raises
    ------
    FileNotFoundError, ValueError, ImportError
        A missing file, an unreadable or unsuitable image, or Pillow missing
        for a PNG/JPEG; the message names the file.

    Examples
    --------
    >>> import os, tempfile, numpy as np, dlcore
    >>> path = os.path.join(tempfile.mkdtemp(), "two.npy")
    >>> np.save(path, np.zeros((2, 28, 28), dtype=np.uint8))
    >>> dlcore.load_digits([path]).shape
    (2, 784)
    """
    rows: list[np.ndarray] = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            msg = f"no image file at {str(path)!r}; check the path"
            raise FileNotFoundError(msg)
        try:
            rows.extend(_npy_digits(path) if path.suffix.lower() == ".npy" else [_picture(path)])
        except ValueError as exc:
            msg = f"{path}: {exc}"
            raise ValueError(msg) from None
    if not rows:
        msg = "no images given; pass PNG, JPEG or .npy files"
        raise ValueError(msg)
    return np.stack(rows)


def _picture(path: Path) -> np.ndarray:
    Image = _pillow()
    try:
        with Image.open(path) as pic:
            pic.load()
            if pic.mode in ("RGBA", "LA", "PA") or "transparency" in pic.info:
                rgba = pic.convert("RGBA")  # transparent background: put it on white paper
                paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                pic = Image.alpha_composite(paper, rgba)
            gray = np.asarray(pic.convert("L"))
    except (OSError, Image.DecompressionBombError) as exc:
        msg = f"not a readable image ({exc})"
        raise ValueError(msg) from None
    return mnist_like(gray)


def _npy_digits(path: Path) -> list[np.ndarray]:
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        msg = f"not a readable .npy array ({exc})"
        raise ValueError(msg) from None
    if arr.dtype.kind not in "uif" or arr.size == 0:
        msg = f"a .npy digit must hold numbers, got dtype {arr.dtype} and shape {arr.shape}"
        raise ValueError(msg)
    if arr.shape in ((784,), (28, 28)):
        arr = arr.reshape(1, 784)
    elif arr.ndim == 3 and arr.shape[1:] == (28, 28):
        arr = arr.reshape(arr.shape[0], 784)
    elif not (arr.ndim == 2 and arr.shape[1] == 784):
        msg = (
            f"a .npy digit must have shape (784,), (28, 28), (N, 784) or (N, 28, 28), got "
            f"{arr.shape}; for a picture of another size save it as PNG"
        )
        raise ValueError(msg)
    x = arr.astype(np.float64)
    if not np.all(np.isfinite(x)):
        msg = "a .npy digit must hold finite numbers"
        raise ValueError(msg)
    if arr.dtype.kind in "ui" or x.max() > 1.0:
        x = x / 255.0
    return list(np.clip(x, 0.0, 1.0).astype(np.float32))
