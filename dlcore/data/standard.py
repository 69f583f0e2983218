"""What the standard MNIST is, and the check that data is it; the shipped test set.

Whatever the source, MNIST is decoded to uint8 arrays ``x_train, t_train,
x_test, t_test`` and checked against :data:`EXPECTED` (shapes, class counts
and SHA-256 of the bytes) before it is cached, and again each time the cache
or the shipped t10k file is read.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from dlcore.io import read_npz

__all__ = [
    "EXPECTED",
    "IDX_FILES",
    "SHIPPED_TEST_FILE",
    "SHIPPED_TEST_SHA256",
    "MnistVerificationError",
    "Split",
    "load_shipped_test",
    "read_arrays",
    "shipped_test_file",
    "verify",
    "verify_shipped_test",
]

#: The shipped t10k set (package data of ``dlcore.data``) and the SHA-256 of that file.
SHIPPED_TEST_FILE = "mnist_t10k.npz"
SHIPPED_TEST_SHA256 = "dce914c609db34274237a3dc58856063c6da708b472d038bb9fc3af611adb93d"

#: Standard IDX file stems; the key is the array name in the book and in the cache file.
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "t_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "t_test": "t10k-labels-idx1-ubyte",
}

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class Split:
    """What one split must be: count, per-class counts and SHA-256 of the uint8 bytes."""

    n: int
    counts: tuple[int, ...]
    images_sha256: str
    labels_sha256: str


#: Digests of ``array.tobytes()`` of the C-contiguous uint8 arrays: images (N, 28, 28) and
#: labels (N,), as decoded from the standard IDX files. Class counts are the published ones.
EXPECTED = {
    "train": Split(
        60000,
        (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
        "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
        "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    ),
    "test": Split(
        10000,
        (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
        "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
        "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
    ),
}


class MnistVerificationError(ValueError):
    """MNIST data (a source, the cache or the shipped file) is not the standard data."""


def _sha256(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).data).hexdigest()  # the buffer, no copy


def verify(arrays: Arrays, parts: Iterable[str], origin: str) -> None:
    """Check dtype, shape, class counts and SHA-256 of each part; raise on the first mismatch.

    Raises
    ------
    MnistVerificationError
        The message names ``origin``, the part and what differs.
    """
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


def read_arrays(
    data: str | os.PathLike[str] | IO[bytes], keys: Sequence[str], origin: str
) -> Arrays:
    """The arrays ``keys`` of an .npz (never unpickled); read errors are verification errors."""
    try:
        arrays = read_npz(data, name=origin, what="MNIST .npz file")
    except ValueError as exc:
        raise MnistVerificationError(str(exc)) from None
    missing = [k for k in keys if k not in arrays]
    if missing:
        msg = f"{origin}: missing arrays {missing} (has {list(arrays)})"
        raise MnistVerificationError(msg)
    return {k: arrays[k] for k in keys}


def shipped_test_file() -> Path:
    """The path of the t10k set shipped inside the package."""
    return Path(str(importlib.resources.files("dlcore.data").joinpath(SHIPPED_TEST_FILE)))


def load_shipped_test() -> Arrays:
    """``x_test``, ``t_test`` (uint8) from the shipped file, checked against its SHA-256.

    Raises
    ------
    MnistVerificationError
        The file is missing or damaged (reinstall dlcore).
    """
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
    arrays = read_arrays(io.BytesIO(data), ("x_test", "t_test"), origin)
    verify(arrays, ["test"], origin)
    return arrays


def verify_shipped_test() -> Path:
    """Check the shipped t10k file (SHA-256 and content) and return its path.

    Raises
    ------
    MnistVerificationError
        The file is missing or damaged (reinstall dlcore).

    Examples
    --------
    >>> from dlcore.data import verify_shipped_test
    >>> verify_shipped_test().name
    'mnist_t10k.npz'
    """
    load_shipped_test()
    return shipped_test_file()
