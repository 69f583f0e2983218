"""Mini-batch training: learning, reproducibility across backends, history, plot, CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dlcore
from dlcore.cli import main


@pytest.fixture
def on_numpy() -> Iterator[None]:
    """Make NumPy the active backend (the test passes NumPy arrays to new networks)."""
    with dlcore.use_backend("numpy"):
        yield


def _blobs(n: int = 300, d: int = 6, classes: int = 3, seed: int = 5) -> tuple[Any, Any]:
    """Linearly separable synthetic data: one Gaussian blob per class."""
    rng = np.random.default_rng(seed)
    centers = 3.0 * rng.standard_normal((classes, d))
    labels = np.arange(n) % classes
    x = centers[labels] + 0.5 * rng.standard_normal((n, d))
    return x, labels


def _train_on(backend_name: str, **kwargs: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    x, t = _blobs()
    with dlcore.use_backend(backend_name) as b:
        net = dlcore.TwoLayerNet(6, 8, 3, weight_init_std=0.1, seed=1)
        xs, ts = b.asarray(x), b.asarray(t)
        options = {"iters_num": 60, "batch_size": 30, "lr": 0.5, "progress": False, "seed": 3}
        history = dlcore.train(net, xs, ts, xs, ts, **{**options, **kwargs})
        return history, {k: dlcore.to_numpy(v) for k, v in net.params.items()}


def test_short_run_reduces_loss_and_raises_accuracy(backend: dlcore.Backend) -> None:
    history, _ = _train_on(backend.name)
    assert len(history["loss"]) == 60
    assert np.mean(history["loss"][-10:]) < 0.5 * np.mean(history["loss"][:10])
    assert history["train_acc"][0] < 0.7
    assert history["train_acc"][-1] > 0.95
    assert history["test_acc"][-1] > 0.95


def test_same_seed_same_weights_on_every_backend(backend: dlcore.Backend) -> None:
    _, reference = _train_on("numpy", optimizer="adam", lr=0.05)
    _, got = _train_on(backend.name, optimizer="adam", lr=0.05)
    for key, value in reference.items():
        if backend.name == "numpy":  # the same NumPy operations: bit for bit
            np.testing.assert_array_equal(got[key], value)
        else:
            np.testing.assert_allclose(got[key], value, rtol=1e-9, atol=1e-12)


def test_different_seed_different_batches() -> None:
    _, a = _train_on("numpy", seed=3)
    _, b = _train_on("numpy", seed=4)
    assert not np.array_equal(a["W1"], b["W1"])


def test_history_follows_the_book_epochs() -> None:
    # 300 samples / batch 30 -> an epoch every 10 iterations, from iteration 0 (the book),
    # plus one measurement after the last update.
    history, _ = _train_on("numpy", iters_num=25)
    assert history["eval_iters"] == [0, 10, 20, 25]
    assert len(history["train_acc"]) == len(history["test_acc"]) == 4
    assert history["optimizer"] == "SGD"
    assert history["backend"] == "numpy"
    assert history["seconds"] > 0
    history, _ = _train_on("numpy", iters_num=20, eval_every_epoch=False)
    assert history["eval_iters"] == [20]


@pytest.mark.usefixtures("on_numpy")
def test_train_input_errors() -> None:
    x, t = _blobs()
    net = dlcore.TwoLayerNet(6, 8, 3, seed=0)
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
        dlcore.train(net, x, t, x, t, batch_size=0)
    with pytest.raises(ValueError, match="unknown optimizer 'foo'"):
        dlcore.train(net, x, t, x, t, optimizer="foo")
    with pytest.raises(ValueError, match="same N"):
        dlcore.train(net, x, t[:-1], x, t)
    with pytest.raises(TypeError, match="must have a `params` dict"):
        dlcore.train(object(), x, t, x, t)
    with pytest.raises(
        ValueError,
        match=r"`x` must have 5 features per image \(W1 has shape \(5, 8\)\), got shape \(300, 6\)",
    ):
        dlcore.train(dlcore.TwoLayerNet(5, 8, 3), x, t, x, t, iters_num=1, progress=False)


def test_progress_bar_runs(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    _train_on("numpy", iters_num=12, progress=True)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "iter      0: loss   -   , train acc" in text  # no loss before the first update
    assert "iter     12: loss " in text
    assert "12/12" in captured.err  # the bar itself


def test_plot_history_writes_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    history, _ = _train_on("numpy", iters_num=12)
    out = tmp_path / "curve.png"
    dlcore.plot_history(history, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="has no 'loss'"):
        dlcore.plot_history({}, out)


@pytest.fixture
def fake_mnist(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace MNIST by 200 random 784-pixel images so the CLI runs without the data."""
    rng = np.random.default_rng(0)
    labels = np.arange(200) % 10
    images = rng.random((200, 784)) * 0.2 + 0.8 * (np.arange(784) % 10 == labels[:, None])

    def load(**options: Any) -> Any:
        b = dlcore.get_backend()
        x, t = b.asarray(images, dtype="float32"), b.asarray(labels)
        return (x, t), (x, t)

    monkeypatch.setattr("dlcore.load_mnist", load)  # what the CLI calls


@pytest.mark.usefixtures("fake_mnist")
def test_cli_train_saves_weights_and_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weights, plot = tmp_path / "w.npz", tmp_path / "curve.png"
    code = main(
        [
            "train",
            "--backend", "numpy",
            "--iters", "30",
            "--batch-size", "20",
            "--hidden", "8", "6",
            "--optimizer", "adam",
            "--lr", "0.01",
            "--dtype", "float32",
            "--no-progress",
            "--save", str(weights),
            "--plot", str(plot),
        ]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "784-8-6-10 sigmoid network (float32) on numpy: 30 iterations" in out
    net = dlcore.load_weights(weights)
    assert [tuple(v.shape) for v in net.values()] == [(784, 8), (8,), (8, 6), (6,), (6, 10), (10,)]
    assert plot.is_file()


@pytest.mark.usefixtures("fake_mnist")
def test_cli_train_epochs_and_bad_init(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--epochs", "1", "--batch-size", "50", "--no-progress"]) == 0
    assert "4 iterations" in capsys.readouterr().out
    assert main(["train", "--init", "big", "--iters", "1"]) == 1
    assert "--init must be a number, 'xavier' or 'he', got 'big'" in capsys.readouterr().err


def test_cli_gradcheck_synthetic(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gradcheck", "--synthetic", "--backend", "numpy", "--hidden", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("TwoLayerNet(784, 2, 10) on numpy")
    assert [line.split(":")[0] for line in out[1:]] == ["W1", "b1", "W2", "b2"]
    worst = max(float(line.split("max")[1]) for line in out[1:])
    assert worst < 1e-6  # the delta floor (see dlcore.gradient_check)


def test_shift_images_matches_padded_roll(rng: np.random.Generator) -> None:
    from dlcore.training import shift_images

    x = rng.random((5, 16))
    dy, dx = np.array([0, 1, -1, 2, -2]), np.array([0, -1, 2, 1, 0])
    got = shift_images(x, 4, dy, dx).reshape(5, 4, 4)
    for i in range(5):
        padded = np.pad(x[i].reshape(4, 4), 4)
        expected = np.roll(padded, (dy[i], dx[i]), axis=(0, 1))[4:8, 4:8]
        np.testing.assert_array_equal(got[i], expected)


def test_augmented_training_is_reproducible_on_every_backend(backend: dlcore.Backend) -> None:
    rng = np.random.default_rng(1)
    x, t = rng.random((60, 16)), np.arange(60) % 2

    def run(name: str) -> np.ndarray:
        with dlcore.use_backend(name) as b:
            net = dlcore.TwoLayerNet(16, 5, 2, weight_init_std=0.1, seed=0)
            xs, ts = b.asarray(x), b.asarray(t)
            h = dlcore.train(
                net, xs, ts, xs, ts, iters_num=8, batch_size=10, progress=False, augment_shift=1
            )
            assert h["augment_shift"] == 1
            return dlcore.to_numpy(net.params["W1"])

    reference, got = run("numpy"), run(backend.name)
    if backend.name == "numpy":
        np.testing.assert_array_equal(got, reference)
    else:
        np.testing.assert_allclose(got, reference, rtol=1e-9, atol=1e-12)
    with dlcore.use_backend("numpy"):
        plain = dlcore.TwoLayerNet(16, 5, 2, weight_init_std=0.1, seed=0)
        dlcore.train(plain, x, t, x, t, iters_num=8, batch_size=10, progress=False)
    assert not np.array_equal(dlcore.to_numpy(plain.params["W1"]), reference)


@pytest.mark.usefixtures("on_numpy")
def test_augment_shift_needs_square_images() -> None:
    x, t = _blobs()
    net = dlcore.TwoLayerNet(6, 4, 3, seed=0)
    with pytest.raises(ValueError, match=r"needs square images .* got 6 features and 1"):
        dlcore.train(net, x, t, x, t, augment_shift=1, progress=False)


@pytest.mark.usefixtures("fake_mnist")
@pytest.mark.parametrize("name", ["tanh", "leaky_relu", "prelu", "elu", "selu"])
def test_cli_train_every_activation(tmp_path: Path, capsys: pytest.CaptureFixture[str], name):
    weights = tmp_path / "w.npz"
    argv = ["train", "--backend", "numpy", "--iters", "60", "--batch-size", "50",
            "--hidden", "16", "--activation", name, "--optimizer", "adam", "--lr", "0.01",
            "--init", "he", "--no-progress", "--save", str(weights)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"784-16-10 {name} network" in out
    acc = float(out.rsplit("test acc ", 1)[1].split()[0])
    assert acc > 0.9, out  # the fake digits are separable: every activation learns them
    saved = dlcore.load_weights(weights)
    assert ("alpha1" in saved) == (name == "prelu")
    assert f"--activation {name}`" in out  # how to read the file back
    assert main(["infer", "--weights", str(weights), "--activation", name]) == 0
    assert f"{name} network {weights}: accuracy" in capsys.readouterr().out
    if name == "prelu":
        assert main(["bench", "--weights", str(weights), "--quick", "--no-peers"]) == 1
        assert "is a PReLU network" in capsys.readouterr().err


def test_cli_gradcheck_prelu_checks_the_slopes(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["gradcheck", "--synthetic", "--backend", "numpy", "--hidden", "2", "--activation",
            "prelu"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("TwoLayerNet(784, 2, 10) on numpy, prelu,")
    assert [line.split(":")[0] for line in out[1:]] == ["W1", "b1", "alpha1", "W2", "b2"]
    assert max(float(line.split("max")[1]) for line in out[1:]) < 1e-6
