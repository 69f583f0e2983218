"""dlcore.io: the atomic writer, weights files (.npz and the book's pickle), read_npz, layering."""

from __future__ import annotations

import io
import os
import pickle
import signal
import stat
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dlcore
from dlcore.io import atomic_write, read_npz

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX files and signals")


@pytest.fixture
def on_numpy() -> Iterator[None]:
    """Make NumPy the active backend (the test passes NumPy arrays to new networks)."""
    with dlcore.use_backend("numpy"):
        yield


def _net(rng: np.random.Generator, dtype: Any = np.float64) -> dict[str, np.ndarray]:
    return {
        "W1": rng.standard_normal((6, 4)).astype(dtype),
        "b1": rng.standard_normal(4).astype(dtype),
        "W2": rng.standard_normal((4, 3)).astype(dtype),
        "b2": rng.standard_normal(3).astype(dtype),
    }


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_npz_round_trip(
    backend: dlcore.Backend, rng: np.random.Generator, tmp_path: Path, dtype: str
) -> None:
    host = _net(rng, dtype)
    path = dlcore.save_weights({k: backend.asarray(v) for k, v in host.items()}, tmp_path / "w")
    assert path == tmp_path / "w"  # written exactly there, no suffix added
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]  # no temporary file left
    assert path.stat().st_mode & 0o044  # readable like any new file (not mkstemp's 0600)
    loaded = dlcore.load_weights(path)
    assert list(loaded) == ["W1", "b1", "W2", "b2"]
    for key, value in loaded.items():
        assert backend.owns(value)
        got = dlcore.to_numpy(value)
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, host[key])


@pytest.mark.usefixtures("on_numpy")
def test_load_with_dtype(rng: np.random.Generator, tmp_path: Path) -> None:
    dlcore.save_weights(_net(rng, np.float64), tmp_path / "w.npz")
    loaded = dlcore.load_weights(tmp_path / "w.npz", dtype="float32")
    assert all(dlcore.to_numpy(v).dtype == np.float32 for v in loaded.values())


def test_overwrite_is_atomic_replace(rng: np.random.Generator, tmp_path: Path) -> None:
    target = tmp_path / "w.npz"
    target.write_bytes(b"old")
    dlcore.save_weights(_net(rng), target)
    assert target.read_bytes()[:4] == b"PK\x03\x04"


@pytest.mark.parametrize("protocol", [3, 4, 5])
@pytest.mark.usefixtures("on_numpy")
def test_book_pickle_format(rng: np.random.Generator, tmp_path: Path, protocol: int) -> None:
    # The book's sample_weight.pkl is pickle.dump(dict of float32 arrays W1..b3) from
    # Python 3 (protocol 3 and later store bytes natively).
    host = {
        "W1": rng.random((784, 50), dtype=np.float32),
        "b1": rng.random(50, dtype=np.float32),
        "W2": rng.random((50, 100), dtype=np.float32),
        "b2": rng.random(100, dtype=np.float32),
        "W3": rng.random((100, 10), dtype=np.float32),
        "b3": rng.random(10, dtype=np.float32),
    }
    path = tmp_path / "sample_weight.pkl"
    with path.open("wb") as f:
        pickle.dump(host, f, protocol=protocol)
    loaded = dlcore.load_weights(path)
    for key, value in host.items():
        np.testing.assert_array_equal(dlcore.to_numpy(loaded[key]), value)
    y = dlcore.predict(loaded, np.zeros((2, 784), dtype=np.float32))
    assert tuple(y.shape) == (2, 10)


class _Payload:
    """Unpickling this runs ``exec`` (creating a marker file) in a normal unpickler."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def test_crafted_pickle_is_refused_without_running(tmp_path: Path) -> None:
    proof, marker = tmp_path / "proof", tmp_path / "marker"
    pickle.loads(pickle.dumps(_Payload(proof)))  # a plain unpickler does run it
    assert proof.exists()
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"W1": np.zeros((2, 2)), "b1": _Payload(marker)}))
    with pytest.raises(dlcore.UnsafePickleError, match=r"refusing to load builtins\.exec"):
        dlcore.load_weights(path)
    assert not marker.exists()


def test_npz_with_object_arrays_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "obj.npz"
    np.savez(path, W1=np.array([{"a": 1}], dtype=object), b1=np.zeros(1))
    with pytest.raises(ValueError, match=r"not a readable \.npz weights file"):
        dlcore.load_weights(path)


@pytest.mark.usefixtures("on_numpy")
def test_missing_keys_and_bad_shapes(rng: np.random.Generator, tmp_path: Path) -> None:
    """io stores and reads any named float arrays; the network chain is checked on use."""
    net = _net(rng)
    del net["b2"]
    np.savez(tmp_path / "missing.npz", **net)
    loaded = dlcore.load_weights(tmp_path / "missing.npz")
    assert list(loaded) == ["W1", "b1", "W2"]
    x = np.zeros((1, 6))
    with pytest.raises(ValueError, match=r"missing: \['b2'\]"):
        dlcore.predict(loaded, x)
    net = _net(rng)
    net["W2"] = np.zeros((5, 3))
    np.savez(tmp_path / "shapes.npz", **net)
    with pytest.raises(ValueError, match=r"\['W2'\]` must have 4 rows"):
        dlcore.predict(dlcore.load_weights(tmp_path / "shapes.npz"), x)
    partial = {k: v for k, v in _net(rng).items() if k != "b2"}
    np.testing.assert_array_equal(
        dlcore.load_weights(dlcore.save_weights(partial, tmp_path / "x"))["W2"], partial["W2"]
    )


def test_not_a_weights_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(b"this is not a weights file")
    with pytest.raises(ValueError, match=r"neither an \.npz file nor a pickled dict"):
        dlcore.load_weights(path)
    path.write_bytes(pickle.dumps([np.zeros(2)]))
    with pytest.raises(ValueError, match="must hold a dict of NumPy arrays"):
        dlcore.load_weights(path)
    with pytest.raises(FileNotFoundError, match="no weights file at"):
        dlcore.load_weights(tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        dlcore.save_weights({"W1": np.zeros((1, 1)), "b1": np.zeros(1)}, tmp_path / "a" / "b")


# --------------------------------------------------------------------------- what io checks


def test_save_refuses_what_is_not_a_weights_mapping(tmp_path: Path) -> None:
    strict = pytest.importorskip("array_api_strict")
    w = np.zeros((2, 2))
    cases: list[tuple[Any, type, str]] = [
        ([w], TypeError, r"`network` must be a dict of arrays"),
        ({}, ValueError, r"`network` is empty"),
        ({1: w}, TypeError, r"keys must be str.*got 1 \(int\)"),
        ({"W1": [[0.0, 1.0]]}, TypeError, r"\['W1'\] must be an array, got list"),
        ({"W1": np.zeros(2, dtype=np.int64)}, TypeError, r"real floating-point dtype.*int64"),
        ({"W1": np.zeros(2, dtype=np.complex128)}, TypeError, "got complex128"),
        ({"W1": np.zeros(2, dtype=np.longdouble)}, TypeError, "got float128|got float96"),
        ({"W1": w, "b1": strict.zeros(2)}, TypeError, "different libraries"),
    ]
    if np.dtype(np.longdouble).itemsize == 8:  # Windows, some ARM: long double is float64
        cases.pop(6)
    for network, error, match in cases:
        with pytest.raises(error, match=match):
            dlcore.save_weights(network, tmp_path / "w.npz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("on_numpy")
def test_load_refuses_arrays_that_are_not_float(tmp_path: Path) -> None:
    np.savez(tmp_path / "int.npz", W1=np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(TypeError, match=r"weights file int\.npz\['W1'\].*got int64"):
        dlcore.load_weights(tmp_path / "int.npz")
    np.savez(tmp_path / "ok.npz", W1=np.zeros((2, 2)))
    with pytest.raises(TypeError, match="`dtype` must be a floating-point dtype"):
        dlcore.load_weights(tmp_path / "ok.npz", dtype="int32")


@pytest.mark.usefixtures("on_numpy")
def test_byte_order_keys_and_layout_round_trip(tmp_path: Path) -> None:
    # big-endian and Fortran-ordered arrays, and names np.savez reserves for itself
    big = np.arange(6, dtype=">f8").reshape(2, 3)
    net = {"file": big, "allow_pickle": np.asfortranarray(big.astype("f4"))}
    loaded = dlcore.load_weights(dlcore.save_weights(net, tmp_path / "w.npz"))
    assert list(loaded) == ["file", "allow_pickle"]
    assert loaded["file"].dtype == np.dtype("=f8")
    np.testing.assert_array_equal(loaded["file"], big)
    np.testing.assert_array_equal(loaded["allow_pickle"], big)
    assert loaded["allow_pickle"].flags.writeable


def test_read_npz_matches_np_load(rng: np.random.Generator, tmp_path: Path) -> None:
    arrays = {
        "x": rng.integers(0, 256, (4, 5), dtype=np.uint8),
        "f": np.asfortranarray(rng.random((3, 2))),
        "s": np.float32(2.5),
        "e": np.zeros((0, 3)),
    }
    for save in (np.savez, np.savez_compressed):
        buf = io.BytesIO()
        save(buf, **arrays)
        got = read_npz(io.BytesIO(buf.getvalue()))
        assert list(got) == list(arrays)
        for key, want in arrays.items():
            np.testing.assert_array_equal(got[key], want)
            assert got[key].dtype == np.asarray(want).dtype


def _lying_npz(path: Path, shape: tuple[int, ...]) -> None:
    """An .npz whose one header promises ``shape`` float64 but holds 16 bytes of data."""
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        head, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("W1.npy", head.getvalue() + bytes(16))


@pytest.mark.parametrize("shape", [(1 << 40,), (3,)])
def test_npz_header_that_lies_is_refused_before_allocating(tmp_path: Path, shape: tuple) -> None:
    path = tmp_path / "lie.npz"
    _lying_npz(path, shape)
    with pytest.raises(ValueError, match=r"not a readable \.npz weights file.*header promises"):
        dlcore.load_weights(path)  # 8 TiB promised: refused, not allocated


# --------------------------------------------------------------------------- atomic_write


def _leftovers(directory: Path, *names: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in names)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_atomic_write_creates_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "file.bin"
    target.parent.mkdir()
    with atomic_write(target) as f:
        f.write(b"first")
    assert target.read_bytes() == b"first"
    assert oct(stat.S_IMODE(target.stat().st_mode)) == oct(0o666 & ~_umask())  # not 0600
    with atomic_write(target) as f:
        f.write(b"second")
    assert target.read_bytes() == b"second"
    assert _leftovers(target.parent, "file.bin") == []


def test_atomic_write_needs_an_existing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "file.bin"
    with (
        pytest.raises(FileNotFoundError, match=r"folder .*missing does not exist"),
        atomic_write(missing),
    ):
        pytest.fail("the block must not run")
    assert _leftovers(tmp_path) == []


@posix_only
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604])
def test_atomic_write_keeps_the_permission_bits(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")
    target.chmod(mode)
    with atomic_write(target) as f:
        f.write(b"new")
    assert target.read_bytes() == b"new"
    assert oct(stat.S_IMODE(target.stat().st_mode)) == oct(mode)


@posix_only
def test_atomic_write_writes_through_a_symlink(tmp_path: Path) -> None:
    real_dir, link_dir = tmp_path / "real", tmp_path / "links"
    real_dir.mkdir()
    link_dir.mkdir()
    real = real_dir / "weights.npz"
    real.write_bytes(b"old")
    real.chmod(0o640)
    link = link_dir / "current.npz"
    link.symlink_to(real)
    with atomic_write(link) as f:
        f.write(b"new")
    assert link.is_symlink()
    assert os.readlink(link) == str(real)
    assert real.read_bytes() == b"new"
    assert oct(stat.S_IMODE(real.stat().st_mode)) == oct(0o640)
    assert _leftovers(real_dir, "weights.npz") == []
    assert _leftovers(link_dir, "current.npz") == []


@posix_only
def test_atomic_write_refuses_dev_null_and_leaves_it_alone() -> None:
    before = os.stat("/dev/null")
    with pytest.raises(ValueError, match=r"/dev/null: is not a regular"), atomic_write("/dev/null"):
        pytest.fail("the block must not run")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_mode, after.st_rdev, after.st_ino) == (
        before.st_mode,
        before.st_rdev,
        before.st_ino,
    )


@posix_only
def test_atomic_write_refuses_a_fifo_a_link_to_it_and_a_folder(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    # (opening the FIFO for writing would block this test: it returns, so it was not opened)
    for path, match in ((fifo, "pipe: is not a regular"), (link, "link: is not a regular")):
        with pytest.raises(ValueError, match=match), atomic_write(path):
            pytest.fail("the block must not run")
    with pytest.raises(ValueError, match="is a directory"), atomic_write(tmp_path):
        pytest.fail("the block must not run")
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert link.is_symlink()
    assert _leftovers(tmp_path, "pipe", "link") == []


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_write_keeps_old_file(tmp_path: Path, error: BaseException) -> None:
    target = tmp_path / "file.bin"
    target.write_bytes(b"old content")

    def interrupted_write() -> None:
        with atomic_write(target) as f:
            f.write(b"half of the new cont")
            raise error

    with pytest.raises(type(error)):
        interrupted_write()
    assert target.read_bytes() == b"old content"
    assert _leftovers(tmp_path, "file.bin") == []


def test_exception_while_saving_leaves_no_file(tmp_path: Path, monkeypatch: Any) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("simulated write failure")

    monkeypatch.setattr(np.lib.format, "write_array", broken)
    with pytest.raises(OSError, match="simulated write failure"):
        dlcore.save_weights({"W1": np.zeros((2, 2))}, tmp_path / "w.npz")
    assert _leftovers(tmp_path) == []


def test_failed_rename_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "file.bin"
    target.write_bytes(b"old content")

    def broken_replace(src: object, dst: object) -> None:
        raise PermissionError("simulated rename failure")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(PermissionError), atomic_write(target) as f:
        f.write(b"new content")
    assert target.read_bytes() == b"old content"
    assert _leftovers(tmp_path, "file.bin") == []


@posix_only
def test_killed_writer_leaves_old_file(tmp_path: Path) -> None:
    """A process killed in the middle of a write cannot damage the target."""
    target = tmp_path / "file.bin"
    target.write_bytes(b"old content")
    code = textwrap.dedent(
        f"""
        import os, signal
        from dlcore.io import atomic_write
        with atomic_write({str(target)!r}) as f:
            f.write(b"partial new")
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False)
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == b"old content"
    # The killed process could not clean up: its temporary file is the only other entry.
    left = _leftovers(tmp_path, "file.bin")
    assert len(left) == 1
    assert left[0].startswith(".file.bin.")


# --------------------------------------------------------------------------- layering

#: Modules above io and data in the house (see ARCHITECTURE.md): never imported by them.
ABOVE = ("dlcore.network", "dlcore.nets", "dlcore.training", "dlcore.bench", "dlcore.cli")


def test_io_and_data_do_not_import_the_network_layer(tmp_path: Path) -> None:
    """Import io and data (and use them) without running dlcore/__init__: nothing above loads."""
    code = textwrap.dedent(
        """
        import importlib.util, sys, types
        spec = importlib.util.find_spec("dlcore")
        stub = types.ModuleType("dlcore")  # the package without its __init__ re-exports
        stub.__path__, stub.__spec__ = list(spec.submodule_search_locations), spec
        sys.modules["dlcore"] = stub
        import numpy as np
        import dlcore.data, dlcore.io
        path = dlcore.io.save_weights({"W1": np.ones((2, 2))}, sys.argv[1])
        dlcore.io.load_weights(path)
        dlcore.data.load_mnist_test()
        dlcore.data.verify_shipped_test()
        print(" ".join(sorted(m for m in sys.modules if m.startswith("dlcore"))))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "w.npz")],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = out.stdout.split()
    assert "dlcore.io" in loaded
    assert {f"dlcore.data.{m}" for m in ("cache", "idx", "mnist", "sources", "standard")} <= set(
        loaded
    )
    assert [m for m in loaded if m.startswith(ABOVE)] == []
