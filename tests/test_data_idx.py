"""IDX reader/writer: round trips, the byte layout of the format, and broken files."""

from __future__ import annotations

import gzip
import io
import struct
from pathlib import Path

import numpy as np
import pytest

from dlcore.data import IDXError, read_idx, write_idx


def idx_bytes(code: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    """An IDX file built by hand from the format description (magic, big-endian dims, data)."""
    return (
        struct.pack(">HBB", 0, code, len(shape)) + struct.pack(f">{len(shape)}I", *shape) + payload
    )


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (1, 1, 1, 2)])
@pytest.mark.parametrize("suffix", [".idx", ".idx.gz"])
def test_round_trip(
    tmp_path: Path, rng: np.random.Generator, dtype: type, shape: tuple[int, ...], suffix: str
) -> None:
    a = (rng.standard_normal(shape) * 100).astype(dtype)
    path = tmp_path / f"a{suffix}"
    write_idx(path, a)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == suffix.endswith(".gz")
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype)
    assert b.dtype.isnative
    np.testing.assert_array_equal(b, a)
    b[...] = 0  # the result is a writable array of its own


def test_layout_matches_the_format() -> None:
    a = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.uint8)
    buf = io.BytesIO()
    write_idx(buf, a)
    assert buf.getvalue() == idx_bytes(0x08, (2, 3), bytes([1, 2, 3, 4, 5, 6]))
    buf = io.BytesIO()
    write_idx(buf, np.array([1, -2], dtype=np.int32))
    assert buf.getvalue() == idx_bytes(0x0C, (2,), b"\x00\x00\x00\x01\xff\xff\xff\xfe")


def test_reads_hand_built_mnist_like_files(tmp_path: Path) -> None:
    images = bytes(i % 256 for i in range(2 * 784))
    raw = idx_bytes(0x08, (2, 28, 28), images)
    (tmp_path / "img").write_bytes(raw)
    (tmp_path / "img.gz").write_bytes(gzip.compress(raw))
    expected = (np.arange(2 * 784) % 256).reshape(2, 28, 28)
    for name in ("img", "img.gz"):
        got = read_idx(tmp_path / name)
        assert got.shape == (2, 28, 28)
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, expected)
    labels = idx_bytes(0x08, (3,), bytes([7, 2, 1]))
    np.testing.assert_array_equal(read_idx(io.BytesIO(labels)), [7, 2, 1])


def test_big_endian_floats() -> None:
    raw = idx_bytes(0x0D, (2,), struct.pack(">2f", 1.5, -2.0))
    got = read_idx(io.BytesIO(raw))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [1.5, -2.0])


GOOD = idx_bytes(0x08, (2, 3), bytes(6))


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "header is missing"),
        (b"\x00\x00", "header is missing"),
        (GOOD[:-1], "truncated"),
        (GOOD[:6], "truncated IDX header"),
        (GOOD + b"\x00", "trailing bytes"),
        (b"PK\x03\x04" + GOOD[4:], "magic number"),
        (b"\x00\x00\x0a\x02" + GOOD[4:], "magic number"),  # 0x0A is no IDX type
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x09" + bytes(36), "9 dimensions"),
        (idx_bytes(0x08, (60000, 28, 28), bytes(10)), "truncated"),
        (idx_bytes(0x0E, (2**31, 2**31), b""), "limit"),  # never allocated
    ],
)
def test_broken_files_raise(tmp_path: Path, data: bytes, match: str) -> None:
    for name, content in (("raw", data), ("gz.gz", gzip.compress(data))):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(IDXError, match=match) as info:
            read_idx(path)
        assert str(path) in str(info.value)


def test_garbled_and_truncated_gzip(tmp_path: Path, rng: np.random.Generator) -> None:
    a = rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    good = gzip.compress(idx_bytes(0x08, a.shape, a.tobytes()))
    cut = tmp_path / "cut.gz"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(IDXError, match="corrupt or truncated gzip"):
        read_idx(cut)
    garbled = bytearray(good)
    garbled[20:60] = rng.integers(0, 256, size=40, dtype=np.uint8).tobytes()
    bad = tmp_path / "garbled.gz"
    bad.write_bytes(bytes(garbled))
    with pytest.raises(IDXError):
        read_idx(bad)


def test_small_limit_is_enforced() -> None:
    with pytest.raises(IDXError, match="limit of 5 bytes"):
        read_idx(io.BytesIO(GOOD), max_bytes=5)


@pytest.mark.parametrize(("limit", "error"), [(-1, ValueError), (1.5, TypeError), ("9", TypeError)])
def test_limit_must_be_a_count(limit: object, error: type) -> None:
    with pytest.raises(error, match="`max_bytes` must be an integer >= 0"):
        read_idx(io.BytesIO(GOOD), max_bytes=limit)  # type: ignore[arg-type]


def test_unseekable_stream_is_refused() -> None:
    class Pipe(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

    with pytest.raises(TypeError, match="seekable"):
        read_idx(Pipe())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        ([1, 2], TypeError, "numpy.ndarray"),
        (np.array([True]), TypeError, "cannot store dtype bool"),
        (np.array([1], dtype=np.uint64), TypeError, "cannot store dtype uint64"),
        (np.array(3, dtype=np.uint8), ValueError, r"shape \(\)"),
    ],
)
def test_write_rejects_what_idx_cannot_hold(value: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        write_idx(io.BytesIO(), value)  # type: ignore[arg-type]
