"""The book's own network shipped in the package: the book's printed 0.9352, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import dlcore
import dlcore.book_network
import dlcore.io
from dlcore.cli import main

#: The book's printed result for ch03/neuralnet_mnist.py with sample_weight.pkl.
BOOK_HITS = 9352


def test_book_network_gives_the_books_accuracy(backend):
    network = dlcore.load_book_network()
    assert [tuple(network[k].shape) for k in ("W1", "W2", "W3")] == [
        (784, 50),
        (50, 100),
        (100, 10),
    ]
    assert str(dlcore.to_numpy(network["W1"]).dtype) == "float32"
    x, t = dlcore.load_mnist_test(normalize=True, flatten=True)
    y = dlcore.predict(network, x)
    hits = int(np.sum(np.argmax(dlcore.to_numpy(y), axis=1) == dlcore.to_numpy(t)))
    assert hits == BOOK_HITS


def test_book_network_goes_through_the_restricted_unpickler(monkeypatch):
    calls = []
    real = dlcore.io.safe_load

    def spy(f):
        calls.append(f)
        return real(f)

    monkeypatch.setattr(dlcore.io, "safe_load", spy)
    dlcore.load_book_network()
    assert len(calls) == 1


def test_a_changed_book_file_is_refused(monkeypatch):
    monkeypatch.setattr(dlcore.book_network, "BOOK_NETWORK_SHA256", "0" * 64)
    with pytest.raises(ValueError, match=r"is not the book's sample_weight\.pkl.*reinstall"):
        dlcore.load_book_network()


def test_book_license_ships_beside_it():
    from importlib import resources

    text = resources.files("dlcore.data").joinpath("LICENSE-book.txt").read_text(encoding="utf-8")
    assert "MIT License" in text
    assert "Koki Saitoh" in text


def test_cli_infer_with_book_weights(capsys):
    assert main(["infer", "--weights", "book", "--backend", "numpy", "--batch-size", "1000"]) == 0
    out = capsys.readouterr().out
    assert "backend numpy, batch size 1000, float32: accuracy 0.9352 on 10000 images" in out
    assert "with the book network" in out


def test_cli_bench_with_book_weights(capsys):
    argv = ["bench", "--weights", "book", "--backend", "numpy", "--mode", "batch",
            "--batch-size", "10000", "--no-peers", "--quick", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| numpy"))
    assert row.rstrip(" |").endswith("0.9352")


def test_cli_infer_with_a_saved_relu_network(tmp_path, capsys):
    net = dlcore.MultiLayerNet(784, [8], 10, activation="relu", seed=0)
    path = dlcore.save_weights(net.params, tmp_path / "relu.npz")
    assert main(["infer", "--weights", str(path), "--activation", "relu"]) == 0
    name = dlcore.get_backend().name  # the CLI runs on the active backend (DLCORE_BACKEND)
    assert f"backend {name}, relu network {path}: accuracy" in capsys.readouterr().out
    assert main(["infer", "--weights", str(tmp_path / "missing.npz")]) == 1
    assert "no weights file" in capsys.readouterr().err
