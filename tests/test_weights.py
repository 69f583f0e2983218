"""Weights I/O: .npz round trip, the book's pickle format, refusal of crafted pickles."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dlcore


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


def test_missing_keys_and_bad_shapes(rng: np.random.Generator, tmp_path: Path) -> None:
    net = _net(rng)
    del net["b2"]
    np.savez(tmp_path / "missing.npz", **net)
    with pytest.raises(ValueError, match=r"weights in missing\.npz.*missing: \['b2'\]"):
        dlcore.load_weights(tmp_path / "missing.npz")
    net = _net(rng)
    net["W2"] = np.zeros((5, 3))
    np.savez(tmp_path / "shapes.npz", **net)
    with pytest.raises(ValueError, match=r"\['W2'\]` must have 4 rows"):
        dlcore.load_weights(tmp_path / "shapes.npz")
    with pytest.raises(ValueError, match=r"missing: \['b2'\]"):
        dlcore.save_weights({k: v for k, v in _net(rng).items() if k != "b2"}, tmp_path / "x")


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
