"""Hostile and careless weights files: pickles, .npz, paths, the atomic writer.

Each case asserts the exact error class and a fragment of the message, or the
right result (values compared with the arrays the file was made from).
"""

from __future__ import annotations

import io
import os
import pickle
import stat
import struct
import zipfile
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dlcore
from dlcore.io import (
    MalformedPickleError,
    UnsafePickleError,
    read_npz,
    safe_loads,
    size_limit,
)

# weights files load to host NumPy arrays here; other backends are tested in test_io.py
pytestmark = pytest.mark.usefixtures("host_numpy")

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "book" / "sample_weight.pkl"
RNG = np.random.default_rng(20261202)
NET64 = {"W1": RNG.standard_normal((3, 4)), "b1": RNG.standard_normal(4)}
NET32 = {k: v.astype(np.float32) for k, v in NET64.items()}

_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]  # numpy(._)core.multiarray._reconstruct


class _Reduce:
    """Pickles as ``func(*args)`` then ``BUILD(state)``: how the crafted files are made."""

    def __init__(self, func: Any, args: tuple[Any, ...], state: Any = None) -> None:
        self.rv = (func, args) if state is None else (func, args, state)

    def __reduce__(self) -> Any:
        return self.rv


def dtype_with(state: tuple[Any, ...], code: str = "f8") -> _Reduce:
    return _Reduce(np.dtype, (code, False, True), state)


def array_with(dtype: Any, shape: Any, raw: Any, version: int = 1) -> _Reduce:
    state = (version, shape, dtype, False, raw) if version else (shape, dtype, False, raw)
    return _Reduce(_RECONSTRUCT, (np.ndarray, (0,), b"b"), state)


PLAIN = (3, "<", None, None, None, -1, -1, 0)
FIELDS_F8 = np.dtype((np.float64, {"a": (np.float64, 0)}))  # a float64 that carries fields


def write(tmp_path: Path, data: bytes, name: str = "w.pkl") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- legitimate pickles: every protocol, both float dtypes, containers ------------------------
@pytest.mark.parametrize("protocol", range(6))
@pytest.mark.parametrize("net", [NET64, NET32], ids=["float64", "float32"])
def test_every_protocol_loads_the_right_arrays(tmp_path, protocol, net):
    got = dlcore.load_weights(write(tmp_path, pickle.dumps(net, protocol=protocol)))
    assert list(got) == list(net)
    for key, value in net.items():
        np.testing.assert_array_equal(dlcore.to_numpy(got[key]), value)
        assert got[key].dtype == value.dtype


@pytest.mark.parametrize("protocol", [0, 2, 5])
@pytest.mark.parametrize(
    "value",
    [
        np.asfortranarray(RNG.standard_normal((3, 2))),
        np.arange(6, dtype=">f8").reshape(2, 3),
        np.zeros((0, 3)),
        np.float64(2.5),
        np.array(7, dtype=np.int16),
        np.array([True, False]),
        np.arange(4, dtype=np.complex64),
        RNG.standard_normal((2, 3))[:, ::2],
    ],
    ids=["fortran", "big-endian", "empty", "np-scalar", "0-d", "bool", "complex", "strided"],
)
def test_safe_loads_rebuilds_plain_arrays_exactly(protocol, value):
    got = safe_loads(pickle.dumps({"a": value, "t": (1, "x", None)}, protocol=protocol))
    assert type(got["a"]) is type(value)
    np.testing.assert_array_equal(got["a"], value)
    assert got["a"].dtype == value.dtype
    assert got["t"] == (1, "x", None)
    if isinstance(value, np.ndarray):
        assert got["a"].flags.c_contiguous
        assert got["a"].flags.writeable


@pytest.mark.parametrize("protocol", [2, 4])
def test_ordered_dict_and_lists_keep_their_shape(protocol):
    from collections import OrderedDict

    obj = OrderedDict([("b", [np.ones(2), (np.zeros(1),)]), ("a", {1, 2})])
    got = safe_loads(pickle.dumps(obj, protocol=protocol))
    assert isinstance(got, OrderedDict)
    assert list(got) == ["b", "a"]
    np.testing.assert_array_equal(got["b"][0], np.ones(2))
    assert got["a"] == {1, 2}


@pytest.mark.skipif(not SAMPLE.is_file(), reason="the book's sample_weight.pkl is not here")
def test_the_books_sample_weight_pkl_loads():
    net = dlcore.load_weights(SAMPLE)
    shapes = {k: tuple(v.shape) for k, v in net.items()}
    assert shapes == {
        "W1": (784, 50), "W2": (50, 100), "W3": (100, 10), "b1": (50,), "b2": (100,), "b3": (10,),
    }  # fmt: skip
    assert all(str(v.dtype) == "float32" for v in net.values())


# -- refused globals and constructs ------------------------------------------------------------
@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("os", "system"),
        ("builtins", "eval"),
        ("builtins", "exec"),
        ("builtins", "getattr"),
        ("subprocess", "Popen"),
        ("numpy", "load"),
        ("numpy", "frombuffer"),
        ("copyreg", "_reconstructor"),
        ("numpy.core.multiarray", "fromstring"),
        ("builtins", "bytearray"),
    ],
)
@pytest.mark.parametrize("protocol", [0, 4])
def test_other_globals_are_refused_before_lookup(module, name, protocol):
    if protocol == 0:
        data = f"c{module}\n{name}\n(S'x'\ntR.".encode()
    else:
        enc = [s.encode() for s in (module, name)]
        data = b"\x80\x04" + b"".join(b"\x8c" + bytes([len(s)]) + s for s in enc) + b"\x93."
    with pytest.raises(UnsafePickleError, match=f"refusing to load {module}.{name}"):
        safe_loads(data)


@pytest.mark.parametrize(
    ("state", "error", "fragment"),
    [
        ((3, "<", None, ("a",), {"a": (np.dtype("f8"), 0)}, 8, 1, 16), UnsafePickleError, "fields"),
        ((3, "<", None, ("a",), {"a": (np.dtype("f8"), 1 << 20)}, 8, 1, 16), UnsafePickleError,
         "fields"),
        ((3, "<", (np.dtype("f8"), (2,)), None, None, 16, 8, 0), UnsafePickleError, "subarray"),
        ((4, "<", None, None, None, -1, -1, 0, {"k": 1}), UnsafePickleError, "metadata"),
        ((3, "<", None, None, None, 1000, -1, 0), MalformedPickleError, "dtype state"),
        ((3, "<", None, None, None, -1, -1, 0x3F), MalformedPickleError, "dtype state"),
        ((3, "x", None, None, None, -1, -1, 0), MalformedPickleError, "dtype state"),
        ((9, "<", None, None, None, -1, -1, 0), MalformedPickleError, "dtype state"),
        ("not a tuple", MalformedPickleError, "dtype state"),
    ],
    ids=["fields-at-0", "fields-out-of-bounds", "subarray", "metadata", "elsize", "flags",
         "order", "version", "str"],
)  # fmt: skip
def test_crafted_dtype_states_are_refused(tmp_path, state, error, fragment):
    evil = {"W1": array_with(dtype_with(state), (2,), b"\0" * 16)}
    path = write(tmp_path, pickle.dumps(evil, protocol=2))
    with pytest.raises(error, match=fragment):
        dlcore.load_weights(path, dtype="float64")


@pytest.mark.parametrize("code", ["O8", "V8", "U3", "S4", "M8", "m8", "f16", "<f8", "float64"])
def test_dtype_codes_other_than_plain_numbers_are_refused(code):
    evil = {"W1": array_with(dtype_with(PLAIN, code), (1,), b"\0" * 8)}
    with pytest.raises(UnsafePickleError, match=r"refusing numpy\.dtype"):
        safe_loads(pickle.dumps(evil, protocol=2))


@pytest.mark.parametrize(
    "value",
    [
        np.zeros(2, dtype=[("a", "<f8")]),
        np.array([1, None], dtype=object),
        np.array(["ab"]),
        np.zeros(2, dtype="datetime64[s]"),
    ],
    ids=["structured", "object", "str", "datetime"],
)
@pytest.mark.parametrize("protocol", [2, 5])
def test_numpys_own_pickles_of_non_numbers_are_refused(value, protocol):
    with pytest.raises(UnsafePickleError, match="only plain NumPy arrays"):
        safe_loads(pickle.dumps({"W1": value}, protocol=protocol))


def test_build_on_anything_but_an_array_is_refused():
    data = b"\x80\x02}q\x00}q\x01b."  # EMPTY_DICT, EMPTY_DICT, BUILD
    with pytest.raises(UnsafePickleError, match="to set the state of a dict"):
        safe_loads(data)


def test_a_bare_global_as_data_is_refused():
    with pytest.raises(UnsafePickleError, match="as data"):
        safe_loads(b"cnumpy\ndtype\n.")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((np.ndarray, (1,), b"b"), "_reconstruct"),
        ((np.ndarray, (0,), b"x"), "_reconstruct"),
        ((dict, (0,), b"b"), "refusing to load builtins.dict"),
    ],
)
def test_reconstruct_with_other_arguments_is_refused(args, fragment):
    with pytest.raises(UnsafePickleError, match=fragment):
        safe_loads(pickle.dumps(_Reduce(_RECONSTRUCT, args), protocol=2))


# -- sizes that lie ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\x80\x04\x8e" + (1 << 40).to_bytes(8, "little") + b"ab", "truncated"),  # BINBYTES8
        (b"\x80\x04\x95" + (1 << 40).to_bytes(8, "little") + b"x", "unknown opcode"),  # FRAME
        (b"\x80\x04\x8d" + (1 << 40).to_bytes(8, "little") + b"x", "truncated"),  # BINUNICODE8
        (b"\x80\x05\x96" + (1 << 40).to_bytes(8, "little") + b"x", "truncated"),  # BYTEARRAY8
        (b"\x80\x02\x8b" + (1 << 31 - 1).to_bytes(4, "little") + b"x", "truncated"),  # LONG4
        (b"\x80\x02j\xff\xff\xff\x7f.", "malformed"),  # LONG_BINGET of nothing
        (b"", "truncated"),
        (b"\x80\x06N.", "protocol"),
        (b"\x80\x02(((((((((.", "malformed"),
        (b"I" + b"9" * 10000 + b"\n.", "malformed"),
    ],
    ids=["bytes8", "frame", "unicode8", "bytearray8", "long4", "binget", "empty",
         "protocol6", "marks", "huge-int"],
)  # fmt: skip
def test_lengths_that_lie_are_malformed_not_memory_errors(data, fragment):
    with pytest.raises(MalformedPickleError, match=fragment):
        safe_loads(data)


def test_a_huge_memo_index_costs_nothing():
    assert safe_loads(b"\x80\x02Nr\xff\xff\xff\x7f.") is None  # LONG_BINPUT 2**31 - 1


@pytest.mark.parametrize(
    ("shape", "raw", "fragment"),
    [
        ((2,), b"\0" * 15, "needs 16 bytes"),
        ((2,), b"\0" * 17, "needs 16 bytes"),
        ((1 << 40,), b"\0" * 8, "needs"),
        ((0, 1 << 62), b"", "needs"),
        ((-1,), b"\0" * 8, "non-negative"),
        ((2.0,), b"\0" * 16, "non-negative"),
        ((True,), b"\0" * 8, "non-negative"),
        ((1,) * 33, b"\0" * 8, "shape"),
        ([2], b"\0" * 16, "shape"),
        ((2,), [0.0, 1.0], "must be bytes"),
        ((2,), "\u1234" * 8, "latin-1"),
    ],
    ids=["short", "long", "huge", "zero-by-huge", "negative", "float-dim", "bool-dim", "ndim33",
         "list-shape", "list-data", "not-latin1"],
)  # fmt: skip
def test_array_sizes_are_checked_against_the_bytes_present(shape, raw, fragment):
    evil = {"W1": array_with(dtype_with(PLAIN), shape, raw)}
    with pytest.raises(MalformedPickleError, match=fragment):
        safe_loads(pickle.dumps(evil, protocol=2))


def test_one_buffer_reused_for_many_arrays_cannot_exceed_the_file():
    raw = b"\0" * 8000
    evil = [array_with(dtype_with(PLAIN), (1000,), raw) for _ in range(100)]
    data = pickle.dumps(evil, protocol=2)  # the memo shares raw: the file is ~10 kB
    assert len(data) < 20000
    with pytest.raises(MalformedPickleError, match="more bytes than the file holds"):
        safe_loads(data)


@pytest.mark.parametrize(
    ("obj", "fragment"),
    [
        ("self-list", "refers to itself"),
        ("deep", "nested too deeply"),
        ("array-key", "dict key"),
        ("unfinished", "without its data"),
        ("twice", "set twice"),
    ],
)
def test_structures_that_cannot_be_weights_are_malformed(obj, fragment):
    if obj == "self-list":
        loop: list[Any] = []
        loop.append(loop)
        data = pickle.dumps(loop)
    elif obj == "deep":
        deep: list[Any] = []
        for _ in range(200):
            deep = [deep]
        data = pickle.dumps(deep)
    elif obj == "array-key":
        data = pickle.dumps({(1,): 0}, protocol=2).replace(b"K\x01\x85", b"K\x01\x85", 1)
        data = b"\x80\x02}q\x00" + pickle.dumps(np.zeros(1), protocol=2)[2:-1] + b"K\x00s."
    elif obj == "unfinished":
        data = pickle.dumps(_Reduce(_RECONSTRUCT, (np.ndarray, (0,), b"b")), protocol=2)
    else:
        one = pickle.dumps(np.zeros(1), protocol=2)[:-1]  # ..., state, BUILD
        state = pickle.dumps((1, (1,), np.dtype("f8"), False, b"\0" * 8), protocol=2)[2:-1]
        data = one + state + b"b."
    with pytest.raises(MalformedPickleError, match=fragment):
        safe_loads(data)


# -- files that are not weights files ----------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "error", "fragment"),
    [
        (b"", MalformedPickleError, "neither an .npz file nor a pickled dict"),
        (b"hello world\n", MalformedPickleError, "neither an .npz"),
        (b'{"W1": [1, 2]}', MalformedPickleError, "neither an .npz"),
        (b"\x93NUMPY\x01\x00v\x00", MalformedPickleError, "neither an .npz"),
        (bytes(range(256)), MalformedPickleError, "neither an .npz"),
        (pickle.dumps([np.ones(2)]), ValueError, "must hold a dict"),
        (pickle.dumps({"W1": [1.0, 2.0]}), ValueError, "must hold a dict of NumPy arrays"),
        (pickle.dumps({}), ValueError, "is empty"),
        (pickle.dumps({"W1": np.arange(3)}), TypeError, "real floating-point dtype"),
        (pickle.dumps({"W1": np.ones(2, np.complex128)}), TypeError, "real floating-point"),
        (pickle.dumps({1: np.ones(2)}), TypeError, "keys must be str"),
        (pickle.dumps(3.5), ValueError, "must hold a dict"),
    ],
    ids=["empty", "text", "json", "npy", "binary", "list", "list-value", "empty-dict",
         "int-array", "complex", "int-key", "number"],
)  # fmt: skip
def test_files_that_are_not_weights_say_so(tmp_path, content, error, fragment):
    with pytest.raises(error, match=fragment):
        dlcore.load_weights(write(tmp_path, content))


def test_load_weights_path_mistakes(tmp_path):
    with pytest.raises(FileNotFoundError, match="no weights file at"):
        dlcore.load_weights(tmp_path / "missing.npz")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        dlcore.load_weights(tmp_path)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no weights file at"):
        dlcore.load_weights(tmp_path / "dangling")


@pytest.mark.parametrize(
    "path", [b"w.npz", 3, None, ["w.npz"]], ids=["bytes", "int", "none", "list"]
)
@pytest.mark.parametrize("function", ["load", "save"])
def test_a_path_that_is_not_a_str_is_named(path, function):
    call = dlcore.load_weights if function == "load" else partial(dlcore.save_weights, NET64)
    with pytest.raises(TypeError, match=r"the path must be a str or a pathlib\.Path, got"):
        call(path)


def test_a_latin1_str_as_array_data_loads_like_python_2_pickles():
    raw = np.array([1.5, -2.0]).tobytes().decode("latin1")  # how Python 2 stored the bytes
    got = safe_loads(pickle.dumps({"W1": array_with(dtype_with(PLAIN), (2,), raw)}, protocol=2))
    np.testing.assert_array_equal(got["W1"], [1.5, -2.0])


def test_load_weights_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        dlcore.load_weights(fifo)


@pytest.mark.parametrize("dtype", ["int32", "banana", np.int64, "bool", object])
def test_load_weights_dtype_must_be_floating(tmp_path, dtype):
    path = dlcore.save_weights(NET64, tmp_path / "w.npz")
    with pytest.raises(TypeError, match="`dtype` must be a floating-point dtype"):
        dlcore.load_weights(path, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64", np.float16])
def test_load_weights_converts_to_a_float_dtype(tmp_path, dtype):
    path = dlcore.save_weights(NET64, tmp_path / "w.npz")
    got = dlcore.load_weights(path, dtype=dtype)
    assert str(got["W1"].dtype) == np.dtype(dtype).name
    np.testing.assert_allclose(got["W1"], NET64["W1"].astype(dtype))


# -- caps ----------------------------------------------------------------------------------------
def _bomb(tmp_path: Path, nbytes: int) -> Path:
    buf = io.BytesIO()
    np.savez_compressed(buf, W1=np.zeros(nbytes // 8))
    return write(tmp_path, buf.getvalue(), "bomb.npz")


def test_a_small_npz_that_expands_past_the_cap_is_refused_before_decompressing(tmp_path):
    path = _bomb(tmp_path, 8 << 20)
    assert path.stat().st_size < 100_000
    with pytest.raises(ValueError, match="more than the limit of 4194304; if the file is trusted"):
        dlcore.load_weights(path, max_bytes=4 << 20)


def test_the_cap_is_raised_by_the_environment(tmp_path, monkeypatch):
    path = _bomb(tmp_path, 1 << 20)
    monkeypatch.setenv("DLCORE_MAX_BYTES", str(1 << 19))
    with pytest.raises(ValueError, match="DLCORE_MAX_BYTES"):
        dlcore.load_weights(path)
    monkeypatch.setenv("DLCORE_MAX_BYTES", str(2 << 20))
    assert dlcore.load_weights(path)["W1"].shape == (1 << 17,)


def test_a_pickle_over_the_cap_is_refused_unread(tmp_path):
    path = write(tmp_path, pickle.dumps({"W1": np.ones(1000)}))
    with pytest.raises(ValueError, match="the pickle has"):
        dlcore.load_weights(path, max_bytes=1000)


@pytest.mark.parametrize(
    ("value", "error", "fragment"),
    [
        (-1, ValueError, "integer >= 0"),
        ("1e6", TypeError, "integer >= 0"),
        (1.5, TypeError, "integer >= 0"),
        (True, TypeError, "integer >= 0"),
    ],
)
def test_max_bytes_must_be_a_count(value, error, fragment):
    with pytest.raises(error, match=fragment):
        size_limit(value)


@pytest.mark.parametrize("text", ["lots", "-5", "1.5"])
def test_a_bad_environment_cap_names_the_variable(monkeypatch, text):
    monkeypatch.setenv("DLCORE_MAX_BYTES", text)
    with pytest.raises(ValueError, match=r"DLCORE_MAX_BYTES=.* must be a number of bytes"):
        size_limit()


@pytest.mark.parametrize(("text", "expected"), [("", 64 << 20), ("1_000", 1000), (" 7 ", 7)])
def test_the_environment_cap_is_read(monkeypatch, text, expected):
    monkeypatch.setenv("DLCORE_MAX_BYTES", text)
    assert size_limit() == expected


# -- .npz members ------------------------------------------------------------------------------
def _npz(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, content in members:
            z.writestr(name, content)
    return buf.getvalue()


def _npy(array: np.ndarray, **header: Any) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=True)
    data = buf.getvalue()
    if not header:
        return data
    d = np.lib.format.header_data_from_array_1_0(array)
    d.update(header)
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, d)
    return out.getvalue() + data[len(out.getvalue()) :]


@pytest.mark.parametrize(
    ("members", "fragment"),
    [
        ([("W1.npy", _npy(np.array([1, None], dtype=object)))], "only plain number arrays"),
        ([("W1.npy", _npy(np.zeros(2, dtype=[("a", "f8")])))], "only plain number arrays"),
        ([("W1.npy", _npy(np.array(["abc"])))], "only plain number arrays"),
        ([("W1.npy", _npy(np.zeros(2)))] * 2, "more than once"),
        ([("W1.txt", b"hello")], "is not a .npy array"),
        ([("W1.npy", _npy(np.zeros(2), shape=(3,)))], "header promises"),
        ([("W1.npy", _npy(np.zeros(2), shape=(1 << 40,)))], "header promises"),
        ([("W1.npy", _npy(np.zeros(2), shape=(-1, -2)))], "negative dimension"),
        ([("W1.npy", b"\x93NUMPY\x03\x00" + b"\0" * 20)], "format version"),
        ([("W1.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f8', ")], "unreadable .npy header"),
        ([("W1.npy", b"not npy at all")], "not a readable"),
    ],
    ids=["object", "structured", "str", "duplicate", "not-npy", "shape-lie", "huge-shape",
         "negative", "version3", "header-eof", "garbage"],
)  # fmt: skip
@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_npz_members_that_lie_are_refused(tmp_path, members, fragment):
    path = write(tmp_path, _npz(members), "w.npz")
    with pytest.raises(ValueError, match=fragment):
        dlcore.load_weights(path)


@pytest.mark.parametrize("cut", [10, 100, -30, -1])
def test_a_truncated_npz_is_not_readable(tmp_path, cut):
    data = _npz([("W1.npy", _npy(np.ones(50)))], zipfile.ZIP_DEFLATED)
    with pytest.raises(ValueError, match=r"is not a readable \.npz weights file"):
        dlcore.load_weights(write(tmp_path, data[:cut], "w.npz"))


def test_an_unsupported_compression_method_is_a_clear_error(tmp_path):
    data = bytearray(_npz([("W1.npy", _npy(np.ones(3)))]))
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):  # local header and central directory entry
        at = data.index(sig)
        offset = 8 if sig == b"PK\x03\x04" else 10
        struct.pack_into("<H", data, at + offset, 99)
    with pytest.raises(ValueError, match="is not a readable"):
        read_npz(io.BytesIO(bytes(data)))


def test_a_fortran_npz_member_loads_c_contiguous(tmp_path):
    value = np.asfortranarray(RNG.standard_normal((3, 2)))
    got = read_npz(io.BytesIO(_npz([("W1.npy", _npy(value))])))["W1"]
    np.testing.assert_array_equal(got, value)
    assert got.flags.c_contiguous


# -- saving: targets, permissions, symlinks, dtypes ---------------------------------------------
def test_save_weights_refuses_a_device_and_leaves_it(tmp_path):
    with pytest.raises(ValueError, match="not a regular file"):
        dlcore.save_weights(NET64, "/dev/null")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_save_weights_refuses_a_fifo(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ValueError, match="not a regular file"):
        dlcore.save_weights(NET64, tmp_path / "pipe")
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe").st_mode)


@pytest.mark.parametrize(
    ("target", "error", "fragment"),
    [
        ("", ValueError, "the path is empty"),
        (".", ValueError, "is a directory"),
        ("missing/w.npz", FileNotFoundError, "does not exist"),
    ],
)
def test_save_weights_path_mistakes(tmp_path, monkeypatch, target, error, fragment):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=fragment):
        dlcore.save_weights(NET64, target)


def test_overwriting_keeps_the_permission_bits(tmp_path):
    path = tmp_path / "w.npz"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    dlcore.save_weights(NET64, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    np.testing.assert_array_equal(dlcore.load_weights(path)["W1"], NET64["W1"])


def test_saving_onto_a_symlink_writes_its_target(tmp_path):
    real = tmp_path / "real.npz"
    real.write_bytes(b"old")
    link = tmp_path / "link.npz"
    link.symlink_to(real)
    dlcore.save_weights(NET32, link)
    assert link.is_symlink()
    assert os.readlink(link) == str(real)
    np.testing.assert_array_equal(dlcore.load_weights(real)["b1"], NET32["b1"])


@pytest.mark.parametrize(
    ("network", "error", "fragment"),
    [
        ({"W1": np.ones(2, FIELDS_F8)}, TypeError, "real floating"),
        ({"W1": np.arange(3)}, TypeError, "real floating-point dtype"),
        ({"W1": np.ones(2, np.longdouble)}, TypeError, "float16, float32 or float64"),
        ({}, ValueError, "is empty"),
        ([np.ones(2)], TypeError, "must be a dict of arrays"),
        ({1: np.ones(2)}, TypeError, "keys must be str"),
        ({"W1": [1.0, 2.0]}, TypeError, "must be an array"),
        ({"W1": None}, TypeError, "must be an array"),
    ],
    ids=["fields", "int", "longdouble", "empty", "list", "int-key", "list-value", "none"],
)  # fmt: skip
def test_save_weights_refuses_what_cannot_be_read_back(tmp_path, network, error, fragment):
    path = tmp_path / "w.npz"
    with pytest.raises(error, match=fragment):
        dlcore.save_weights(network, path)
    assert not path.exists()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, ">f8"])
def test_save_and_load_round_trip_keeps_values_and_dtype(tmp_path, dtype):
    net = {k: v.astype(dtype) for k, v in NET64.items()}
    got = dlcore.load_weights(dlcore.save_weights(net, tmp_path / "w.npz"))
    for k, v in net.items():
        np.testing.assert_array_equal(got[k], v)
        assert got[k].dtype == np.dtype(dtype).newbyteorder("=")
