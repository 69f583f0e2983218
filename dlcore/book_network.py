"""The book's own trained network, ``sample_weight.pkl``, shipped in ``dlcore.data``.

The file is the pickled weight dict of *Deep Learning from Scratch*'s
``ch03/sample_weight.pkl`` (Koki Saito, MIT License: ``LICENSE-book.txt``
beside it), read through dlcore's restricted unpickler
(:func:`dlcore.load_weights`), never plain :mod:`pickle`. dlcore's own
network is :func:`dlcore.load_sample_network`.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any

from .io import load_weights
from .network import check_network

__all__ = ["BOOK_NETWORK_FILE", "BOOK_NETWORK_SHA256", "load_book_network"]

#: File name inside the ``dlcore.data`` package.
BOOK_NETWORK_FILE = "sample_weight.pkl"
#: SHA-256 of the book's file (181,853 bytes), checked on every load.
BOOK_NETWORK_SHA256 = "b7f55a27988ba34c3777b0f1bbd464817c8a4db855723e6ff26f703501917a13"


def load_book_network() -> dict[str, Any]:
    """The book's 784-50-100-10 sigmoid MNIST network, ``sample_weight.pkl``, on the active backend.

    On the 10,000 MNIST test images (:func:`dlcore.load_mnist_test`, pixels
    / 255) it classifies 9,352 correctly: the book's ``Accuracy:0.9352``.

    Returns
    -------
    dict
        ``W1`` (784, 50), ``b1``, ``W2`` (50, 100), ``b2``, ``W3`` (100, 10),
        ``b3``, float32, for :func:`dlcore.predict`.

    Raises
    ------
    FileNotFoundError, ValueError
        The shipped file is missing or not the book's (its SHA-256 differs):
        the installation is damaged; reinstall dlcore.

    Examples
    --------
    >>> import numpy as np, dlcore
    >>> network = dlcore.load_book_network()
    >>> x, t = dlcore.load_mnist_test(normalize=True, flatten=True)
    >>> y = dlcore.to_numpy(dlcore.predict(network, x))
    >>> print("Accuracy:" + str(float(np.mean(np.argmax(y, axis=1) == dlcore.to_numpy(t)))))
    Accuracy:0.9352
    """
    ref = resources.files("dlcore.data").joinpath(BOOK_NETWORK_FILE)
    with resources.as_file(ref) as path:
        if not path.is_file():
            msg = (
                f"the book's network {BOOK_NETWORK_FILE} is missing from the dlcore.data "
                "package; reinstall dlcore"
            )
            raise FileNotFoundError(msg)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != BOOK_NETWORK_SHA256:
            msg = (
                f"{path} is not the book's {BOOK_NETWORK_FILE} (SHA-256 {digest}, expected "
                f"{BOOK_NETWORK_SHA256}); the installation is damaged, reinstall dlcore"
            )
            raise ValueError(msg)
        network = load_weights(path)
    check_network(network, BOOK_NETWORK_FILE)
    return network
