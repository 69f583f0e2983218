"""The training step of :func:`dlcore.train`: ``Backend.bind_train_step`` and its numba kernel.

The numba backend binds a plain MLP's SGD step (gradient into arrays allocated
once, update in place, loss after the update). Its weights are compared with the
numba backend's generic step (the same compiled gradient and NumPy's
``W - lr * g``: bit for bit) and with the NumPy backend (BLAS sums in another
order; the data's batches are sparse, so numba's first-layer products skip the
zeros). Measured after 200 steps of the data below: weights within 6.5e-7
(float32) and 5.9e-16 (float64) of the largest entry of each array, losses
within 3.3e-7 and 8.6e-16 relative; the tolerances are 4e-6 and 1e-13.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from dlcore.backends import Backend

import dlcore
import dlcore.training

pytestmark = pytest.mark.filterwarnings("error")

WEIGHT_TOL = {"float32": 4e-6, "float64": 1e-13}


def _data(seed: int = 7, n: int = 600, d: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-like inputs (80 % exact zeros) and ten classes a network can learn."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, d))
    x[rng.random(x.shape) < 0.8] = 0.0
    return x, np.argmax(x @ rng.standard_normal((d, 10)), axis=1)


def _net(activation: str, dtype: str, depth: int = 2) -> dlcore.MultiLayerNet:
    if depth == 2:
        return dlcore.TwoLayerNet(64, 20, 10, seed=3, activation=activation, dtype=dtype)
    return dlcore.MultiLayerNet(64, [20, 15], 10, activation=activation, seed=3, dtype=dtype)


def _train(
    name: str,
    *,
    dtype: str = "float32",
    activation: str = "relu",
    one_hot: bool = False,
    fused: bool = True,
    steps: int = 200,
    depth: int = 2,
    monkeypatch: pytest.MonkeyPatch | None = None,
    **options: Any,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Train on :func:`_data`; ``fused=False`` hides the plain-SGD case from the backend."""
    x, labels = _data()
    if not fused:
        assert monkeypatch is not None
        monkeypatch.setattr(dlcore.training, "_sgd_training", lambda network, opt: None)
    with dlcore.use_backend(name) as b:
        net = _net(activation, dtype, depth)
        xs = b.asarray(x, dtype=dtype)
        ts = b.asarray(np.eye(10, dtype=dtype)[labels]) if one_hot else b.asarray(labels)
        history = dlcore.train(
            net, xs, ts, xs, ts, iters_num=steps, batch_size=50, lr=0.1, progress=False,
            eval_every_epoch=False, **options,
        )  # fmt: skip
        weights = {k: dlcore.to_numpy(v) for k, v in net.params.items()}
    if monkeypatch is not None:
        monkeypatch.undo()
    return np.asarray(history["loss"]), weights


def _assert_weights_close(got: dict[str, np.ndarray], want: dict[str, np.ndarray], dtype: str):
    assert got.keys() == want.keys()
    for key, w in want.items():
        assert got[key].dtype == w.dtype == np.dtype(dtype)
        scale = float(np.max(np.abs(w)))
        np.testing.assert_allclose(got[key], w, rtol=0, atol=WEIGHT_TOL[dtype] * scale)


@pytest.fixture
def numba_backend() -> Backend:
    pytest.importorskip("numba", reason="numba is not installed (pip install 'dlcore[numba]')")
    return dlcore.get_backend("numba")


# float32 with labels (the book's two layers) and float64 with one-hot targets (three
# layers): both dtypes, both kinds of targets and any depth, in two compiled signatures
# (each costs seconds to compile on a clean checkout).
@pytest.mark.parametrize(
    ("dtype", "one_hot", "depth"),
    [("float32", False, 2), ("float64", True, 3)],
    ids=["f32-labels-2-layers", "f64-one-hot-3-layers"],
)
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_fused_step_equals_the_generic_step(
    numba_backend, monkeypatch, dtype, one_hot, depth, activation
):
    kind = {"dtype": dtype, "activation": activation, "one_hot": one_hot, "depth": depth}
    loss, weights = _train("numba", **kind)
    generic_loss, generic = _train("numba", fused=False, monkeypatch=monkeypatch, **kind)
    numpy_loss, numpy_weights = _train("numpy", **kind)
    for key, w in generic.items():  # the same compiled gradient and the same update
        np.testing.assert_array_equal(weights[key], w)
    _assert_weights_close(weights, numpy_weights, dtype)
    rtol = 1e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(loss, generic_loss, rtol=rtol)
    np.testing.assert_allclose(loss, numpy_loss, rtol=rtol)
    assert np.mean(loss[-20:]) < np.mean(loss[:20])


def test_the_kernel_runs_once_per_step_and_not_for_other_cases(numba_backend, monkeypatch):
    from dlcore.backends import _numba_sgd

    binds: list[str] = []
    original = _numba_sgd.bind

    def spy(arrays, x, t, lr, activation):
        binds.append(activation)
        return original(arrays, x, t, lr, activation)

    monkeypatch.setattr(_numba_sgd, "bind", spy)
    _train("numba", steps=5)
    assert binds == ["relu"]
    binds.clear()
    _train("numba", steps=5, optimizer="momentum")
    _train("numba", steps=5, optimizer="adam", activation="sigmoid")
    _train("numba", steps=5, activation="tanh")
    assert binds == []
    x, labels = _data()
    with dlcore.use_backend("numba"):  # dense inputs: the same step (its products are BLAS's)
        net = _net("relu", "float32")
        dense = np.random.default_rng(0).random(x.shape).astype(np.float32)
        dlcore.train(net, dense, labels, dense, labels, iters_num=3, progress=False)
    assert binds == ["relu"]


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_other_steps_stay_right(backend, optimizer, activation):
    """Momentum, Adam and other activations take the generic step and match NumPy."""
    _, reference = _train("numpy", optimizer=optimizer, activation=activation, steps=40,
                          dtype="float64")  # fmt: skip
    _, got = _train(backend.name, optimizer=optimizer, activation=activation, steps=40,
                    dtype="float64")  # fmt: skip
    _assert_weights_close(got, reference, "float64")


def test_plain_sgd_matches_numpy_on_every_backend(backend):
    _, reference = _train("numpy", dtype="float64", one_hot=True, depth=3, steps=60)
    _, got = _train(backend.name, dtype="float64", one_hot=True, depth=3, steps=60)
    _assert_weights_close(got, reference, "float64")


def test_subclass_with_its_own_loss_takes_the_generic_step(numba_backend):
    class Penalised(dlcore.TwoLayerNet):
        def loss(self, x: Any, t: Any) -> Any:
            return super().loss(x, t) + 100.0

    x, labels = _data()
    with dlcore.use_backend("numba"):
        net = Penalised(64, 20, 10, seed=3, activation="relu", dtype="float32")
        history = dlcore.train(net, x.astype(np.float32), labels, x.astype(np.float32), labels,
                               iters_num=3, progress=False)  # fmt: skip
    assert min(history["loss"]) > 100.0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["W1", "W2", "b1", "W3"])
def test_nan_and_inf_weights_give_what_numpy_gives(numba_backend, bad, where):
    x, labels = _data()
    targets = np.eye(10)[labels]
    results = []
    for name in ("numpy", "numba"):
        with dlcore.use_backend(name) as b:
            net = _net("relu", "float64", depth=3)  # the compiled signature of the f64 tests
            w = dlcore.to_numpy(net.params[where]).copy()
            w.flat[3] = bad
            net.params[where] = b.asarray(w)
            with np.errstate(all="ignore"):
                h = dlcore.train(net, x, targets, x, targets, iters_num=4, batch_size=50,
                                 progress=False, eval_every_epoch=False)  # fmt: skip
            weights = {k: dlcore.to_numpy(v) for k, v in net.params.items()}
            results.append((np.asarray(h["loss"]), weights))
    (loss, weights), (fused_loss, fused) = results
    np.testing.assert_allclose(fused_loss, loss, rtol=1e-13)  # NaN where NumPy has NaN
    assert np.isnan(loss).all() or (where, bad) == ("b1", -np.inf)  # a dead ReLU unit: finite
    for key, w in weights.items():
        np.testing.assert_array_equal(np.isnan(fused[key]), np.isnan(w), err_msg=key)
        np.testing.assert_array_equal(np.isinf(fused[key]), np.isinf(w), err_msg=key)
        finite = np.isfinite(w)
        np.testing.assert_allclose(fused[key][finite], w[finite], rtol=1e-12, atol=1e-15)


def test_inf_pixels_give_what_numpy_gives(numba_backend):
    x, labels = _data()
    x[5, 7] = np.inf
    targets = np.eye(10)[labels]
    losses = []
    for name in ("numpy", "numba"):
        with dlcore.use_backend(name):
            net = _net("sigmoid", "float64", depth=3)
            with np.errstate(all="ignore"):
                h = dlcore.train(net, x, targets, x, targets, iters_num=30, batch_size=50,
                                 progress=False, eval_every_epoch=False)  # fmt: skip
            losses.append(np.asarray(h["loss"]))
    assert np.isnan(losses[0]).any()  # the inf pixel was drawn
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-13)  # NaN where NumPy has NaN


@pytest.mark.parametrize("label", [10, -1])
def test_bad_label_is_refused_before_any_step(backend, label):
    x, labels = _data()
    labels[17] = label
    net = _net("relu", "float32")
    before = {k: dlcore.to_numpy(v).copy() for k, v in net.params.items()}
    xs, ts = backend.asarray(x, dtype="float32"), backend.asarray(labels)
    with pytest.raises(ValueError, match=r"`t_train` labels are out of range: .* \[0, 10\)"):
        dlcore.train(net, xs, ts, xs, ts, iters_num=5, progress=False)
    for key, w in before.items():
        np.testing.assert_array_equal(dlcore.to_numpy(net.params[key]), w)


def test_bound_step_refuses_bad_rows_and_labels(numba_backend):
    """The compiled step checks what it reads, whoever calls it, and changes nothing then."""
    x, labels = _data()
    x = x.astype(np.float32)
    with dlcore.use_backend("numba"):
        net = _net("relu", "float32")
    sgd = dlcore.training._sgd_training(net, dlcore.optimizers.SGD(lr=0.1))
    bad = labels.copy()
    bad[3] = 12
    step = numba_backend.bind_train_step(net, None, x, bad, sgd=sgd)
    before = {k: v.copy() for k, v in net.params.items()}
    with pytest.raises(ValueError, match=r"label .* out of range: labels must lie in \[0, 10\)"):
        step(np.array([1, 3, 5]))
    for rows in ([0, 600], [-1], [], [[1, 2]], [0.5]):
        with pytest.raises(ValueError, match=r"row indices must lie in \[0, 600\)"):
            step(np.array(rows, dtype=np.float64 if rows == [0.5] else np.int64))
    with pytest.raises(ValueError, match=r"row indices must lie in \[0, 600\)"):
        step([1, 2])  # a list, not an array
    for key, w in before.items():
        np.testing.assert_array_equal(net.params[key], w)
    assert np.isfinite(step(np.array([0, 1, 2])))


def test_fused_training_leaves_the_callers_arrays_alone(numba_backend):
    """As the generic SGD step (which rebinds ``params[key]``), the caller's arrays stay."""
    from dlcore.backends._base import StaleArraysError

    x, labels = _data()
    x = x.astype(np.float32)
    with dlcore.use_backend("numba"):
        net = _net("relu", "float32")
        original = dict(net.params)
        copies = {k: v.copy() for k, v in original.items()}
        dlcore.train(net, x, labels, x, labels, iters_num=10, progress=False)
    for key, w in copies.items():
        assert net.params[key] is not original[key]
        np.testing.assert_array_equal(original[key], w)
        assert not np.array_equal(net.params[key], w)
    sgd = dlcore.training._sgd_training(net, dlcore.optimizers.SGD(lr=0.1))
    step = numba_backend.bind_train_step(net, None, x, labels, sgd=sgd)
    step(np.arange(10))
    net.params["W2"] = net.params["W2"].copy()
    with pytest.raises(StaleArraysError, match="params\\['W2'\\] was replaced"):
        step(np.arange(10))
    step = numba_backend.bind_train_step(net, None, x, labels, sgd=sgd)
    net.params["W1"].shape = (32, 40)  # the same array, reshaped in place
    with pytest.raises(StaleArraysError, match="changed shape or dtype"):
        step(np.arange(10))


def test_delta_is_the_losses_delta():
    pytest.importorskip("numba", reason="numba is not installed (pip install 'dlcore[numba]')")
    from dlcore.backends import _numba_sgd

    from dlcore.losses import CROSS_ENTROPY_DELTA

    assert _numba_sgd.DELTA == CROSS_ENTROPY_DELTA


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_batches_are_the_books_choice_draws(seed):
    """train draws ``rng.integers(0, N, size=B)``: NumPy's ``rng.choice(N, B)``, draw for draw."""
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    for n, size in [(60000, 100), (300, 30), (7, 1), (2**40, 5)]:
        for _ in range(50):
            np.testing.assert_array_equal(a.integers(0, n, size=size, dtype=np.int64),
                                          b.choice(n, size))  # fmt: skip
