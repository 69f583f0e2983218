"""mlp_loss and mlp_numerical_gradient: every method against an independent NumPy book loop."""

from __future__ import annotations

import numpy as np
import pytest
from _book import backprop, book_loop, loss, make_params, one_hot
from _helpers import assert_close

import dlcore
import dlcore.numgrad as mg

ATOL = 1e-9  # the bar: every method equals the book's loop to 1e-9 absolute


def _targets(kind: str, rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    labels = rng.integers(0, c, n)
    if kind == "labels":
        return labels
    if kind == "one-hot":
        return one_hot(labels, c)
    return rng.dirichlet(np.ones(c), n)  # soft targets


def _data(rng: np.random.Generator, sizes: list[int], n: int = 4, kind: str = "labels"):
    params = make_params(sizes, rng)
    x = rng.standard_normal((n, sizes[0]))
    x[:, 2] = 0.0  # an input that is zero across the batch
    return params, x, _targets(kind, rng, n, sizes[-1])


def _host(grads: dict) -> dict:
    return {k: dlcore.to_numpy(v) for k, v in grads.items()}


def _max_diff(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in b)


def test_mlp_loss_is_the_books_loss(backend, rng):
    params, x, t = _data(rng, [7, 5, 4, 3], kind="one-hot")
    moved = {k: backend.asarray(v) for k, v in params.items()}
    for act in ("sigmoid", "relu"):
        got = mg.mlp_loss(moved, backend.asarray(x), backend.asarray(t), activation=act)
        assert_close(got, loss(params, x, t, act), rtol=1e-12)


@pytest.mark.parametrize("sizes", [[7, 5, 3], [7, 3], [7, 5, 4, 3]], ids=str)
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("kind", ["labels", "one-hot", "soft"])
def test_batched_equals_book_loop(backend, rng, sizes, activation, kind):
    params, x, t = _data(rng, sizes, kind=kind)
    expected = book_loop(params, x, t, activation=activation)
    moved = {k: backend.asarray(v) for k, v in params.items()}
    got = mg.mlp_numerical_gradient(
        moved, backend.asarray(x), backend.asarray(t), activation=activation, method="batched"
    )
    got = _host(got)
    assert _max_diff(got, expected) < ATOL
    assert np.all(got["W1"][2] == 0.0)  # exactly zero, as the loop gives


def test_loop_method_equals_reference(rng):
    params, x, t = _data(rng, [7, 5, 3])
    saved = {k: v.copy() for k, v in params.items()}
    got = mg.mlp_numerical_gradient(params, x, t, method="loop")  # perturbs params in place
    assert _max_diff(got, book_loop(params, x, t)) < ATOL
    for k, v in params.items():
        np.testing.assert_array_equal(v, saved[k])


@pytest.mark.parametrize("method", ["loop", "batched", "auto"])
def test_batch_of_one_and_single_sample(rng, method):
    params, x, t = _data(rng, [7, 5, 3], n=1, kind="one-hot")
    expected = book_loop(params, x, t)
    assert _max_diff(mg.mlp_numerical_gradient(params, x, t, method=method), expected) < ATOL
    single = mg.mlp_numerical_gradient(params, x[0], t[0], method=method)  # 1-D x and t
    assert _max_diff(single, expected) < ATOL


def test_large_step_uses_the_direct_sum(rng):
    # |h * x * W_out| far above 0.5: the moment series is not used, the answer is unchanged
    params, x, t = _data(rng, [7, 5, 3])
    x = 40.0 * x
    for h in (1e-4, 0.3):
        expected = book_loop(params, x, t, h=h)
        got = mg.mlp_numerical_gradient(params, x, t, h=h, method="batched")
        assert _max_diff(got, expected) < ATOL


def test_small_memory_budget_gives_same_numbers(rng):
    params, x, t = _data(rng, [7, 5, 4, 3])
    big = mg.mlp_numerical_gradient(params, x, t, method="batched")
    small = mg.mlp_numerical_gradient(params, x, t, method="batched", max_bytes=1)
    assert _max_diff(small, big) < 1e-11  # chunks may cut the series at other orders


@pytest.mark.parametrize("method", ["loop", "batched", "auto"])
def test_params_restored_and_float32_promoted(rng, method):
    params, x, t = _data(rng, [7, 5, 3])
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    saved = {k: v.copy() for k, v in p32.items()}
    got = mg.mlp_numerical_gradient(p32, x.astype(np.float32), t, method=method)
    for k, v in p32.items():
        np.testing.assert_array_equal(v, saved[k])
        assert got[k].dtype == np.float32
    # the difference is taken in float64 on the promoted parameters
    expected = book_loop({k: v.astype(np.float64) for k, v in p32.items()}, x.astype(np.float32), t)
    for k in expected:
        np.testing.assert_allclose(got[k], expected[k].astype(np.float32), rtol=1e-6, atol=1e-9)


def test_params_restored_when_loop_fails(rng, monkeypatch):
    params, x, t = _data(rng, [7, 5, 3])
    saved = {k: v.copy() for k, v in params.items()}
    calls = {"n": 0}
    real = mg._loss  # the loss the loop evaluates

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 9:  # in the middle of W1, with an element perturbed
            raise FloatingPointError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(mg, "_loss", failing)
    with pytest.raises(FloatingPointError, match="boom"):
        mg.mlp_numerical_gradient(params, x, t, method="loop")
    for k, v in params.items():
        np.testing.assert_array_equal(v, saved[k])


def test_numerical_matches_backprop(rng):
    """Agreement with an independent backprop, and the floor the book's delta puts under it."""
    params = make_params([7, 5, 3], rng, scale=0.01)  # the book's weight_init_std
    x, t = rng.standard_normal((4, 7)), rng.integers(0, 3, 4)
    num = mg.mlp_numerical_gradient(params, x, t)
    exact = backprop(params, x, t, with_delta=True)  # derivative of the same loss
    plain = backprop(params, x, t, with_delta=False)  # the book's SoftmaxWithLoss: (y - t)/N
    for k in params:
        # same loss: only the O(h**2) truncation of the central difference remains
        assert np.max(np.abs(num[k] - exact[k])) < 1e-9
        # backprop that ignores delta differs by the delta term itself (about delta / y)
        floor = np.max(np.abs(exact[k] - plain[k]))
        assert np.max(np.abs(num[k] - plain[k])) < 1e-7
        assert abs(np.max(np.abs(num[k] - plain[k])) - floor) < 1e-9


def test_kernel_method_needs_a_kernel(rng):
    params, x, t = _data(rng, [7, 5, 3])
    with (
        dlcore.use_backend("numpy"),
        pytest.raises(ValueError, match="no compiled mlp_numerical_gradient kernel"),
    ):
        mg.mlp_numerical_gradient(params, x, t, method="kernel")


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"method": "fast"}, ValueError, "unknown method"),
        ({"h": 0.0}, ValueError, "positive finite"),
        ({"activation": "swish"}, ValueError, "activation"),
        ({"max_bytes": 0}, ValueError, "max_bytes"),
        ({"params": {"W1": np.zeros((7, 5))}}, ValueError, "missing"),
        ({"params": "W1"}, TypeError, "dict of arrays"),
        ({"x": np.zeros((4, 6))}, ValueError, r"\(batch, 7\)"),
        ({"t": np.array([0, 1, 2, 3])}, ValueError, "0..2"),
        ({"t": np.zeros((4, 2))}, ValueError, "one-hot"),
        ({"t": np.zeros(3, dtype=int)}, ValueError, "shape"),
    ],
)
def test_input_errors(rng, change, error, match):
    params, x, t = _data(rng, [7, 5, 3])
    args = {"params": params, "x": x, "t": t, **change}
    kwargs = {k: args.pop(k) for k in ("method", "h", "activation", "max_bytes") if k in args}
    with pytest.raises(error, match=match):
        mg.mlp_numerical_gradient(args["params"], args["x"], args["t"], **kwargs)


def test_inconsistent_layer_shapes(rng):
    params, x, t = _data(rng, [7, 5, 3])
    params["W2"] = np.zeros((4, 3))
    with pytest.raises(ValueError, match="must have 5 rows"):
        mg.mlp_loss(params, x, t)
    params["W2"], params["b2"] = np.zeros((5, 3)), np.zeros(4)
    with pytest.raises(ValueError, match=r"b2'\]` must have 3 entries to match W2"):
        mg.mlp_loss(params, x, t)
