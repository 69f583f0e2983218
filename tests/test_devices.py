"""Devices: chosen per backend (use_backend/set_backend/DLCORE_DEVICE), checked when set.

Without a GPU, array_api_strict's extra devices (``Device("device1")``) and
torch's CPU device stand in for GPUs: new arrays, weights and datasets go to
the chosen device, results stay there, and mixing devices is refused with an
error that names both.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

import dlcore
from dlcore import backends

strict = pytest.importorskip("array_api_strict")
DEVICE1 = strict.Device("device1")


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    monkeypatch.delenv("DLCORE_BACKEND", raising=False)
    monkeypatch.delenv("DLCORE_DEVICE", raising=False)
    yield
    dlcore.set_backend(None)


@pytest.mark.parametrize("spec", ["device1", " Device1 ", DEVICE1])
def test_use_backend_places_new_arrays_weights_and_data(spec):
    with dlcore.use_backend("array_api_strict", device=spec) as b:
        assert b.device == DEVICE1
        assert dlcore.asarray([1.0, 2.0]).device == DEVICE1
        assert all(v.device == DEVICE1 for v in dlcore.init_network().values())
        net = dlcore.TwoLayerNet(4, 3, 2)
        assert all(v.device == DEVICE1 for v in net.params.values())
        x, t = dlcore.load_mnist_test()
        assert x.device == DEVICE1
        assert t.device == DEVICE1
    assert dlcore.get_backend().name == "numpy"


def test_kernels_run_on_the_chosen_device():
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    x = rng.standard_normal((5, 4))
    z = x @ w + b
    ref = np.exp(z - z.max(axis=1, keepdims=True))
    ref /= ref.sum(axis=1, keepdims=True)
    with dlcore.use_backend("array_api_strict", device="device1") as be:
        net = {"W1": be.asarray(w), "b1": be.asarray(b)}
        y = dlcore.predict(net, be.asarray(x))
        grads = be.mlp_gradient([net["W1"], net["b1"]], be.asarray(x), be.asarray([0, 1, 2, 0, 1]))
    assert y.device == DEVICE1
    assert all(g.device == DEVICE1 for g in grads)
    np.testing.assert_allclose(dlcore.to_numpy(y), ref, rtol=1e-12)


def test_unknown_device_is_refused_when_set_and_lists_the_devices():
    dlcore.set_backend("array_api_strict", device="device1")
    with pytest.raises(ValueError, match=r"no device 'gpu:0'.*'CPU_DEVICE', 'device1'") as err:
        dlcore.set_backend("array_api_strict", device="gpu:0")
    assert "set_backend()" in str(err.value)
    assert dlcore.get_backend().device == DEVICE1  # the failed call changed nothing
    with (
        pytest.raises(ValueError, match=r"no device 'cuda'.*'cpu'"),
        dlcore.use_backend("numpy", device="cuda"),
    ):
        pass
    with pytest.raises(ValueError, match="name one"):
        dlcore.set_backend(None, device="cpu")


def test_set_backend_with_a_device():
    dlcore.set_backend("array_api_strict", device="device1")
    assert dlcore.asarray([1.0]).device == DEVICE1
    with dlcore.use_backend("array_api_strict"):  # a context without device: the default one
        assert dlcore.asarray([1.0]).device == strict.Device("CPU_DEVICE")
    dlcore.set_backend(None)
    assert dlcore.get_backend().name == "numpy"


def test_dlcore_device_goes_with_dlcore_backend(monkeypatch):
    monkeypatch.setenv("DLCORE_BACKEND", "array_api_strict")
    monkeypatch.setenv("DLCORE_DEVICE", "device1")
    assert dlcore.asarray([1.0]).device == DEVICE1
    with dlcore.use_backend("numpy") as b:  # a named backend is not placed by DLCORE_DEVICE
        assert b.device == "cpu"
    monkeypatch.setenv("DLCORE_DEVICE", "device7")
    with pytest.raises(ValueError, match=r"no device 'device7'.*DLCORE_DEVICE='device7'"):
        dlcore.get_backend()


def test_mixed_devices_name_both_and_the_fix():
    a = strict.asarray([[0.1, 0.9], [0.8, 0.2]])
    b = strict.asarray([[0.0, 1.0], [1.0, 0.0]], device=DEVICE1)
    with pytest.raises(ValueError, match=r"different devices.*CPU_DEVICE.*device1.*dlcore.asarray"):
        dlcore.mean_squared_error(a, b)
    with dlcore.use_backend("array_api_strict", device="device1"):
        net = dlcore.init_network()
    with dlcore.use_backend("array_api_strict"), pytest.raises(ValueError) as err:
        dlcore.predict(net, strict.asarray([1.0, 0.5]))
    assert "different devices" in str(err.value)
    assert "device1" in str(err.value)
    assert "CPU_DEVICE" in str(err.value)
    with dlcore.use_backend("array_api_strict", device="device1"):
        moved = dlcore.asarray(strict.asarray([1.0, 0.5]))  # the fix the message names
        assert moved.device == DEVICE1
        assert dlcore.predict(net, moved).device == DEVICE1


def test_backend_objects_carry_their_device():
    base = dlcore.get_backend("array_api_strict")
    placed = base.on_device("device1")
    assert placed is not base
    assert base.device == strict.Device("CPU_DEVICE")
    assert placed.device == DEVICE1
    assert placed.name == base.name
    assert "device1" in repr(placed)
    assert dlcore.asarray([1.0], backend=placed).device == DEVICE1
    assert dlcore.get_backend(placed) is placed
    assert dlcore.get_backend("array_api_strict", device="device1") is backends.get_backend(
        "array_api_strict", device="device1"
    )


def test_torch_cpu_device():
    torch = pytest.importorskip("torch")
    with dlcore.use_backend("torch", device="cpu") as b:
        assert b.device == torch.device("cpu")
        y = dlcore.predict(dlcore.init_network(), dlcore.asarray([1.0, 0.5]))
        assert y.device == torch.device("cpu")
    with pytest.raises(ValueError, match=r"no device 'cuda:3'.*'cpu'"):
        dlcore.set_backend("torch", device="cuda:3")
    assert "meta" not in [str(d) for d in dlcore.get_backend("torch").devices()]


def test_cupy_device_numbers_without_a_gpu(monkeypatch):
    """CuPy's spellings (1, "1", "cuda:1", "gpu:1") resolve against its device list."""
    from dlcore.backends.cupy_backend import CupyBackend

    gpus = [types.SimpleNamespace(id=0), types.SimpleNamespace(id=1)]
    monkeypatch.setattr(CupyBackend, "devices", lambda self: gpus)
    b = CupyBackend()
    for spec in (1, "1", "cuda:1", "GPU:1", "gpu 1"):
        assert b.find_device(spec) is gpus[1], spec
    assert b.device_label(gpus[1]) == "cuda:1"
    with pytest.raises(ValueError, match=r"no device 'cuda:2'.*'cuda:0', 'cuda:1'"):
        b.find_device(2)


def test_jax_needs_the_users_x64_setting_and_never_sets_it():
    from dlcore.backends.compat import check_jax_x64

    off = types.SimpleNamespace(config=types.SimpleNamespace(jax_enable_x64=False))
    with pytest.raises(dlcore.BackendError, match=r"JAX_ENABLE_X64=1.*jax_enable_x64"):
        check_jax_x64(off)
    assert off.config.jax_enable_x64 is False  # not switched on behind the user's back
    check_jax_x64(types.SimpleNamespace(config=types.SimpleNamespace(jax_enable_x64=True)))
