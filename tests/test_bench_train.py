"""The training benchmark (dlcore.bench.train) and run_bench's dense images, on small data."""

from __future__ import annotations

import numpy as np
import pytest

import dlcore
from dlcore.bench import book_train, run_bench
from dlcore.bench.train import run_train_bench


def _data(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Separable 784-feature data: class k lights up pixels 70k..70k+69 (80 % zeros)."""
    t = rng.integers(0, 10, 400)
    x = np.zeros((400, 784), np.float32)
    for k in range(10):
        x[t == k, 70 * k : 70 * k + 70] = rng.random(((t == k).sum(), 70)) + 0.5
    return x[:300], t[:300], x[300:], t[300:]


def test_train_bench_times_the_book_and_the_backends(rng):
    pytest.importorskip("numba", reason="numba is not installed (pip install 'dlcore[numba]')")
    report = run_train_bench(["numpy", "numba"], rounds=1, data=_data(rng), epoch=40)
    names = [m.name for m in report.results]
    assert names == ["book", "numpy", "numba"]
    for m in report.results:
        assert m.iterations == 2 * 40
        assert m.rounds == 1
        assert 0 < m.q1_ms <= m.ms_per_iteration <= m.q3_ms
        assert 0.0 <= m.test_accuracy <= 1.0
    book = report.results[0].ms_per_iteration
    for m in report.results:
        assert m.vs_book == pytest.approx(book / m.ms_per_iteration)
    # numpy and numba draw the same batches: the same network up to rounding
    assert report.results[1].test_accuracy == report.results[2].test_accuracy
    assert "| numba |" in report.table()
    assert "| book (peer) |" in report.table()


def test_train_bench_refuses_bad_arguments():
    with pytest.raises(ValueError, match="`dtype` must be"):
        run_train_bench(["numpy"], dtype="float16")
    with pytest.raises(ValueError, match="nothing to train"):
        run_train_bench([], book=False)


def test_book_training_loop_learns(rng):
    """The transcribed ch05 loop trains: separable data, 300 steps, evaluated every epoch."""
    x, t, xt, tt = (a[:, ::28] if a.ndim == 2 else a for a in _data(rng))  # 28 features
    np.random.seed(0)  # noqa: NPY002 - the book's global generator
    net = book_train.LayerTwoLayerNet(28, 20, 10, weight_init_std=0.5)
    history = book_train.train_neuralnet(net, x, np.eye(10)[t], xt, np.eye(10)[tt], iters_num=300)
    assert len(history["train_loss_list"]) == 300
    assert len(history["test_acc_list"]) == 100  # 300 images: an epoch is 3 batches of 100
    assert history["test_acc_list"][-1] > 0.9
    assert history["train_loss_list"][-1] < history["train_loss_list"][0]


def test_run_bench_dense_images():
    network, x, t = dlcore.bench.load_shipped()
    report = run_bench(["numpy"], [50], single=False, peers=["book"], quick=True, progress=False,
                       data=(network, x[:200], t[:200]), images="dense")  # fmt: skip
    assert report.meta["settings"]["image_kind"] == "dense random"
    numpy_row = next(m for m in report.results if m.backend == "numpy")
    assert numpy_row.accuracy == 1.0  # agreement with the book's predict on the same images
    with pytest.raises(ValueError, match="`images` must be"):
        run_bench(["numpy"], [50], images="noise", progress=False)
