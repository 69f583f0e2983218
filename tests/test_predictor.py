"""Predictor, predict and the backends' bound forward passes against a NumPy float64 reference.

Each backend's ``bind_predict`` (NumPy, Numba) is called directly, and
``dlcore.predict``/``dlcore.Predictor`` on every backend are checked the same
way: identical argmax, probabilities within the dtype's tolerance, for one
image and for batches, float32 and float64, depth 1 to 40. Then what the
bindings remember: in-place updates seen, reshaped/retyped/reassigned arrays
caught, and no network kept alive.
"""

from __future__ import annotations

import itertools
import threading
import warnings
from typing import Any

import _book
import numpy as np
import pytest
from _helpers import assert_close, tol

import dlcore
from dlcore.network import check_input, layer_arrays


def reference(network: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The book's forward pass (tests/_book.py) in float64: sigmoid hidden layers, softmax."""
    net64 = {k: v.astype(np.float64) for k, v in network.items()}
    with np.errstate(over="ignore"):  # exp(-a) = inf gives the exact limit 0
        return _book.forward(net64, np.asarray(x, dtype=np.float64))


def make_network(rng: np.random.Generator, sizes: list[int], dtype: Any, scale: float = 1.0):
    net = {}
    for i, (m, k) in enumerate(itertools.pairwise(sizes), start=1):
        net[f"W{i}"] = (rng.standard_normal((m, k)) * scale / np.sqrt(m)).astype(dtype)
        net[f"b{i}"] = (rng.standard_normal(k) * 0.5).astype(dtype)
    return net


def make_images(rng: np.random.Generator, n: int, d: int, dtype: Any) -> np.ndarray:
    """Images in [0, 1] with about 60 % exact zeros (MNIST's background is 0.0)."""
    x = rng.random((n, d))
    x[x < 0.6] = 0.0
    return x.astype(dtype)


def check(got: Any, network: dict[str, np.ndarray], x: np.ndarray) -> None:
    """Same shape and dtype, probabilities within tolerance, argmax equal away from ties."""
    expected = reference(network, x)
    got_np = dlcore.to_numpy(got)
    assert got_np.shape == expected.shape
    assert got_np.dtype == x.dtype
    assert_close(got_np, expected, atol=1e-12)
    top2 = np.sort(expected, axis=-1)[..., -2:]
    clear = (top2[..., 1] - top2[..., 0]) > 10 * tol(x.dtype)
    np.testing.assert_array_equal(
        np.argmax(got_np, axis=-1)[clear], np.argmax(expected, axis=-1)[clear]
    )


#: Backends whose bind_predict has a kernel of its own (the others run the generic code).
KERNEL_BACKENDS = ["numpy", "numba"]
SIZES = {2: [30, 16, 10], 3: [784, 50, 100, 10]}


def bound(name: str, network: dict[str, np.ndarray]) -> Any:
    """``x -> probabilities`` through backend ``name``'s bind_predict, called directly."""
    if name == "numba":
        pytest.importorskip("numba", reason="numba is not installed (pip install 'dlcore[numba]')")
    arrays = layer_arrays(network)
    run = dlcore.get_backend(name).bind_predict(arrays)
    return lambda x: run(arrays, check_input(network, x))


@pytest.mark.parametrize("kernel_name", KERNEL_BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("depth", [2, 3])
@pytest.mark.parametrize("rows", [None, 1, 5, 64, 65, 300])
def test_kernel_matches_reference(kernel_name, dtype, depth, rows, rng):
    network = make_network(rng, SIZES[depth], dtype, scale=4.0)
    x = make_images(rng, rows or 1, SIZES[depth][0], dtype)
    if rows is None:
        x = x[0]
    check(bound(kernel_name, network)(x), network, x)


@pytest.mark.parametrize("kernel_name", KERNEL_BACKENDS)
@pytest.mark.parametrize(
    "sizes", [[12, 7], [12, 9, 8, 7, 5], [6] * 41], ids=["depth1", "depth4", "depth40"]
)
def test_kernel_any_depth(kernel_name, sizes, rng):
    """Every depth check_network accepts runs on every kernel (no cap on the layers)."""
    network = make_network(rng, sizes, np.float64)
    x = make_images(rng, 6, sizes[0], np.float64)
    run = bound(kernel_name, network)
    check(run(x), network, x)
    check(run(x[2]), network, x[2])


@pytest.mark.parametrize("kernel_name", KERNEL_BACKENDS)
def test_kernel_saturated_sigmoid_no_overflow(kernel_name, rng):
    """Pre-activations of +-1e4: exp(-a) would overflow float32; no warning, exact saturation."""
    network = make_network(rng, [20, 8, 4], np.float32, scale=3e4)
    x = make_images(rng, 9, 20, np.float32)
    run = bound(kernel_name, network)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = run(x)
    check(got, network, x)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("kernel_name", KERNEL_BACKENDS)
def test_kernel_non_contiguous_inputs(kernel_name, rng):
    network = make_network(rng, [24, 16, 10], np.float32)
    network["W1"] = np.asfortranarray(network["W1"])
    x = np.asfortranarray(make_images(rng, 7, 24, np.float32))
    run = bound(kernel_name, network)
    check(run(x), network, x)
    check(run(x[:, ::1][3]), network, x[3])


@pytest.mark.parametrize("kernel_name", KERNEL_BACKENDS)
def test_kernel_returns_a_new_array(kernel_name, rng):
    """Results are never reused: an earlier result stays as it was."""
    network = make_network(rng, [30, 16, 10], np.float32)
    x = make_images(rng, 8, 30, np.float32)
    run = bound(kernel_name, network)
    first = run(x)
    kept = first.copy()
    run(x[::-1].copy())
    np.testing.assert_array_equal(first, kept)


@pytest.mark.parametrize("kernel_name", KERNEL_BACKENDS)
@pytest.mark.parametrize("case", ["mixed_dtypes", "fortran_weights", "empty_layer_input"])
def test_kernel_falls_back_for_networks_it_does_not_take(kernel_name, case, rng):
    """A valid network the fast path does not take still gives the reference result."""
    network = make_network(rng, [30, 16, 10], np.float32)
    if case == "mixed_dtypes":
        network["W2"] = network["W2"].astype(np.float64)
    elif case == "fortran_weights":
        network["W2"] = np.asfortranarray(network["W2"])
    else:
        network = make_network(rng, [30, 0, 10], np.float32)
    x = make_images(rng, 4, 30, np.float32)
    run = bound(kernel_name, network)
    if case == "mixed_dtypes":  # float64 W2 promotes; layer 1 is float32 arithmetic
        for got, xs in ((run(x), x), (run(x[0]), x[0])):
            assert got.dtype == np.float64
            assert_close(got, reference(network, xs), rtol=tol(np.float32))
        return
    check(run(x), network, x)
    check(run(x[0]), network, x[0])


@pytest.mark.parametrize(
    ("case", "error", "match"),
    [
        ("int_images", TypeError, "floating-point"),
        ("bad_chain", ValueError, "W2"),
        ("bad_bias", ValueError, "b1"),
        ("missing_key", ValueError, "missing: \\['b2'\\]"),
        ("3d", ValueError, "flatten"),
    ],
)
def test_predict_refuses_invalid_inputs_on_every_backend(backend, case, error, match, rng):
    """Validation comes first, the same on every backend: a clear error, never a kernel's."""
    network = make_network(rng, [30, 16, 10], np.float32)
    x = make_images(rng, 4, 30, np.float32)
    if case == "int_images":
        x = (x * 255).astype(np.int64)
    elif case == "bad_chain":
        network["W2"] = np.ones((15, 10), np.float32)
    elif case == "bad_bias":
        network["b1"] = np.ones(17, np.float32)
    elif case == "missing_key":
        del network["b2"]
    else:
        x = x.reshape(2, 2, 30)
    net = {k: backend.asarray(v) for k, v in network.items()}
    with pytest.raises(error, match=match):
        dlcore.predict(net, backend.asarray(x))
    with pytest.raises(error, match=match):
        dlcore.Predictor(net)(backend.asarray(x))


def test_numpy_kernel_is_thread_safe(rng):
    """Concurrent calls (Dask's threaded scheduler) on one Predictor give each its own result."""
    network = make_network(rng, [784, 50, 100, 10], np.float32)
    inputs = [make_images(rng, 200, 784, np.float32) for _ in range(4)]
    expected = [reference(network, x) for x in inputs]
    run = dlcore.Predictor(network, backend="numpy")
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for _ in range(30):
                got = run(inputs[k])
                np.testing.assert_allclose(got, expected[k], rtol=tol(np.float32), atol=1e-12)
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rows", [None, 3, 100])
def test_predict_on_backend_matches_reference(backend, dtype, rows, rng):
    """dlcore.predict on each backend (through its kernel where it has one)."""
    network = make_network(rng, SIZES[3], dtype, scale=4.0)
    x = make_images(rng, rows or 1, 784, dtype)
    if rows is None:
        x = x[0]
    net = {k: backend.asarray(v) for k, v in network.items()}
    check(dlcore.predict(net, backend.asarray(x)), network, x)


# -- what a binding remembers --------------------------------------------------
# predict validates a network once and binds the backend's kernel to it; these
# check that nothing it remembers goes stale.
PREPARED_BACKENDS = ["numpy", "numba"]


def _numba_or_skip(name: str) -> None:
    if name == "numba":
        pytest.importorskip("numba", reason="numba is not installed (pip install 'dlcore[numba]')")


@pytest.mark.parametrize("name", PREPARED_BACKENDS)
def test_predict_sees_a_replaced_array(name, rng):
    _numba_or_skip(name)
    network = make_network(rng, [30, 16, 10], np.float32)
    x = make_images(rng, 3, 30, np.float32)
    with dlcore.use_backend(name):
        check(dlcore.predict(network, x[0]), network, x[0])
        network["W2"] = make_network(rng, [30, 16, 10], np.float32)["W2"]
        check(dlcore.predict(network, x[0]), network, x[0])
        check(dlcore.predict(network, x), network, x)


@pytest.mark.parametrize("name", PREPARED_BACKENDS)
def test_predict_sees_weights_changed_in_place(name, rng):
    """The book's SGD updates ``params[key] -= lr * grad`` in place: no stale copy."""
    _numba_or_skip(name)
    network = make_network(rng, [30, 16, 10], np.float32)
    x = make_images(rng, 1, 30, np.float32)[0]
    with dlcore.use_backend(name):
        before = dlcore.to_numpy(dlcore.predict(network, x)).copy()
        network["W1"] -= 0.5
        network["b2"][:] = np.arange(10, dtype=np.float32)
        after = dlcore.predict(network, x)
    check(after, network, x)
    assert np.abs(dlcore.to_numpy(after) - before).max() > 1e-3


@pytest.mark.parametrize("name", PREPARED_BACKENDS)
def test_predict_same_arrays_under_other_keys_is_revalidated(name, rng):
    _numba_or_skip(name)
    network = make_network(rng, [12, 12, 12, 5], np.float64)
    x = make_images(rng, 1, 12, np.float64)[0]
    with dlcore.use_backend(name):
        check(dlcore.predict(network, x), network, x)
        # same dict, same six arrays, W1 and W2 swapped: a different network
        network["W1"], network["W2"] = network["W2"], network["W1"]
        check(dlcore.predict(network, x), network, x)


@pytest.mark.parametrize("name", PREPARED_BACKENDS)
def test_predict_weight_reshaped_in_place_is_reported(name, rng):
    _numba_or_skip(name)
    network = make_network(rng, [30, 16, 10], np.float32)
    x = make_images(rng, 1, 30, np.float32)[0]
    with dlcore.use_backend(name):
        dlcore.predict(network, x)
        network["W2"].shape = (8, 20)  # same array, no longer chains with b1 (16)
        with pytest.raises(ValueError, match="W2"):
            dlcore.predict(network, x)


@pytest.mark.parametrize("name", PREPARED_BACKENDS)
def test_predict_odd_single_images(name, rng):
    """Strided, read-only and float64 images into a float32 network: all correct."""
    _numba_or_skip(name)
    network = make_network(rng, [30, 16, 10], np.float32)
    x = make_images(rng, 2, 60, np.float32)
    strided = x[0, ::2]
    readonly = x[1, :30].copy()
    readonly.flags.writeable = False
    wide = x[1, 30:].astype(np.float64)
    with dlcore.use_backend(name):
        check(dlcore.predict(network, strided), network, strided)
        check(dlcore.predict(network, readonly), network, readonly)
        got = dlcore.predict(network, wide)
    check(got, network, wide.astype(np.float32))


def test_predict_prepared_per_backend(rng):
    """One network used on several backends in turn: each call right on its backend."""
    network = make_network(rng, [30, 16, 10], np.float64)
    x = make_images(rng, 1, 30, np.float64)[0]
    names = ["numpy", "array_api_strict", "numpy"]
    if dlcore.available_backends()["numba"][0]:
        names += ["numba", "numpy", "numba"]
    for name in names:
        with dlcore.use_backend(name):
            check(dlcore.predict(network, x), network, x)
            strict_net = {k: dlcore.asarray(v) for k, v in network.items()}
            check(dlcore.predict(strict_net, dlcore.asarray(x)), network, x)


def _change_in_place(net: dict[str, Any], key: str, how: str) -> None:
    """Reshape or retype ``net[key]`` without replacing the object, as each library allows."""
    a = net[key]
    if isinstance(a, np.ndarray):
        if how == "reshape":
            a.shape = (1, *a.shape) if a.ndim == 1 else (a.shape[1], a.shape[0])
        else:
            a.dtype = np.int32 if a.dtype == np.float32 else np.int64  # same item size
    elif type(a).__module__.startswith("torch"):
        import torch

        if how == "reshape":
            a.resize_((1, *a.shape) if a.ndim == 1 else (a.shape[1], a.shape[0]))
        else:
            a.data = a.data.to(torch.int32)
    else:
        pytest.skip(f"{type(a).__module__} arrays cannot be reshaped or retyped in place")


@pytest.mark.parametrize("how", ["reshape", "retype"])
@pytest.mark.parametrize("key", ["b1", "W3"])
@pytest.mark.parametrize("caller", ["predict", "Predictor"])
def test_array_changed_in_place_between_calls_is_caught(backend, how, key, caller, rng):
    """``net['b1'].shape = (1, 50)`` or a retyped ``W3`` after a cached call: an error naming it."""
    network = make_network(rng, [784, 50, 100, 10], np.float32)
    x = make_images(rng, 2, 784, np.float32)
    net = {k: backend.asarray(v) for k, v in network.items()}
    xb = backend.asarray(x)
    run = dlcore.Predictor(net) if caller == "Predictor" else lambda v: dlcore.predict(net, v)
    check(run(xb[0, ...]), network, x[0])
    check(run(xb), network, x)
    _change_in_place(net, key, how)
    error = ValueError if how == "reshape" else TypeError
    with pytest.raises(error, match=key):
        run(xb[0, ...])
    with pytest.raises(error, match=key):
        run(xb)


@pytest.mark.parametrize("caller", ["predict", "Predictor"])
def test_array_reassigned_between_calls_is_used_or_refused(backend, caller, rng):
    """A new array under a key: the new values are used; a wrong shape is refused by name."""
    network = make_network(rng, [30, 16, 10], np.float32)
    x = make_images(rng, 3, 30, np.float32)
    net = {k: backend.asarray(v) for k, v in network.items()}
    run = dlcore.Predictor(net) if caller == "Predictor" else lambda v: dlcore.predict(net, v)
    check(run(backend.asarray(x)), network, x)
    network["W2"] = make_network(rng, [30, 16, 10], np.float32)["W2"]
    net["W2"] = backend.asarray(network["W2"])
    check(run(backend.asarray(x)), network, x)
    check(run(backend.asarray(x[1])), network, x[1])
    net["b2"] = backend.asarray(np.zeros(11, np.float32))
    with pytest.raises(ValueError, match="b2"):
        run(backend.asarray(x))


@pytest.mark.parametrize("key", ["b1", "W2", "b2"])
@pytest.mark.parametrize("rows", [None, 1, 3])
def test_array_of_another_dtype_assigned_between_calls(backend, key, rows, rng):
    """A float64 array in a bound float32 network (valid: any float dtypes) is used as float64.

    The numba kernels are typed for one dtype: they must hand the mixed network
    to the generic path (NumPy's promotion), never read the array as float32.
    """
    if backend.name == "torch":
        pytest.skip("torch.matmul refuses mixed float dtypes (the generic path's library)")
    network = make_network(rng, [30, 16, 10], np.float32)
    x = make_images(rng, rows or 1, 30, np.float32)
    x = x[0] if rows is None else x
    net = {k: backend.asarray(v) for k, v in network.items()}
    check(dlcore.predict(net, backend.asarray(x)), network, x)
    network[key] = network[key].astype(np.float64) + 0.25  # new values, seen only if used
    net[key] = backend.asarray(network[key])
    got = dlcore.to_numpy(dlcore.predict(net, backend.asarray(x)))
    assert got.dtype == np.float64
    # float32 products before the float64 array: float32's tolerance
    assert_close(got, reference(network, x), rtol=tol(np.float32), atol=1e-12)


def test_predict_keeps_no_network_alive(backend, rng):
    """After the caller drops a network, nothing of it survives in predict's cache."""
    import gc
    import weakref

    refs = []
    for _ in range(3):
        network = make_network(rng, [784, 50, 100, 10], np.float32)
        net = {k: backend.asarray(v) for k, v in network.items()}
        x = backend.asarray(make_images(rng, 2, 784, np.float32))
        dlcore.predict(net, x)
        dlcore.predict(net, x[0, ...])
        refs += [weakref.ref(a) for a in net.values()]
        del net, network, x
    gc.collect()
    assert [r for r in refs if r() is not None] == []


def test_predictor_repr_and_backend(rng):
    network = make_network(rng, [30, 16, 10], np.float32)
    run = dlcore.Predictor(network, backend="numpy")
    assert run.backend.name == "numpy"
    assert run.network is network
    assert repr(run) == "Predictor(30-16-10, backend='numpy')"


def test_predictor_is_bound_to_its_backend(rng):
    """A Predictor keeps the backend it was made on; predict follows the active one."""
    network = make_network(rng, [30, 16, 10], np.float64)
    x = make_images(rng, 1, 30, np.float64)[0]
    run = dlcore.Predictor(network, backend="numpy")
    with dlcore.use_backend("array_api_strict"):
        check(run(x), network, x)
        assert run.backend.name == "numpy"
        with pytest.raises(TypeError, match="different libraries"):
            dlcore.predict(network, dlcore.asarray(x))


@pytest.mark.parametrize("name", PREPARED_BACKENDS)
def test_predict_keeps_its_binding_when_arrays_are_replaced(name, rng, monkeypatch):
    """An optimizer's ``params[k] = params[k] - lr * g`` needs no new binding; a new size does."""
    _numba_or_skip(name)
    backend = dlcore.get_backend(name)
    binds: list[int] = []
    original = type(backend).bind_predict

    def counting(self, arrays, **kwargs):
        binds.append(len(arrays))
        return original(self, arrays, **kwargs)

    monkeypatch.setattr(type(backend), "bind_predict", counting)
    x = make_images(rng, 3, 30, np.float32)
    with dlcore.use_backend(name):
        net = make_network(rng, [30, 16, 10], np.float32)
        check(dlcore.predict(net, x), net, x)
        n = len(binds)
        for _ in range(3):
            for k in net:
                net[k] = net[k] - np.float32(0.05)
            check(dlcore.predict(net, x), net, x)
            check(dlcore.predict(net, x[0]), net, x[0])
        assert len(binds) == n  # the same binding throughout
        bigger = make_network(rng, [30, 20, 12], np.float32)
        net.update(bigger)  # same dict and keys, other shapes: validated and bound anew
        check(dlcore.predict(net, x), bigger, x)
        check(dlcore.predict(net, x[1]), bigger, x[1])
