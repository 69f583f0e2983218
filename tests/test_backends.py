"""Backend registry: resolution order, errors, lazy imports, moving data."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import dlcore
from dlcore import backends


@pytest.fixture(autouse=True)
def _clean_global():
    backends.set_backend(None)
    yield
    backends.set_backend(None)


def test_default_is_numpy(monkeypatch):
    monkeypatch.delenv("DLCORE_BACKEND", raising=False)
    assert dlcore.get_backend().name == "numpy"


@pytest.mark.parametrize("value", ["  NumPy ", "numpy", "NUMPY"])
def test_env_var_is_stripped_and_lowercased(monkeypatch, value):
    monkeypatch.setenv("DLCORE_BACKEND", value)
    assert dlcore.get_backend().name == "numpy"


def test_empty_env_var_means_unset(monkeypatch):
    monkeypatch.setenv("DLCORE_BACKEND", "   ")
    assert dlcore.get_backend().name == "numpy"


def test_env_var_is_read_lazily(monkeypatch):
    monkeypatch.setenv("DLCORE_BACKEND", "array_api_strict")
    assert dlcore.get_backend().name == "array_api_strict"
    monkeypatch.setenv("DLCORE_BACKEND", "numpy")
    assert dlcore.get_backend().name == "numpy"


def test_resolution_order(monkeypatch):
    monkeypatch.setenv("DLCORE_BACKEND", "array_api_strict")
    dlcore.set_backend("numba")
    assert dlcore.get_backend().name == "numba"
    with dlcore.use_backend("numpy"):
        assert dlcore.get_backend().name == "numpy"
        assert dlcore.get_backend("array_api_strict").name == "array_api_strict"
        with dlcore.use_backend("array_api_strict"):
            assert dlcore.get_backend().name == "array_api_strict"
        assert dlcore.get_backend().name == "numpy"
    assert dlcore.get_backend().name == "numba"
    dlcore.set_backend(None)
    assert dlcore.get_backend().name == "array_api_strict"


def test_use_backend_restores_on_error():
    with pytest.raises(RuntimeError), dlcore.use_backend("array_api_strict"):
        raise RuntimeError
    assert (
        dlcore.get_backend().name != "array_api_strict"
        or os.environ.get("DLCORE_BACKEND", "").strip().lower() == "array_api_strict"
    )


def test_use_backend_is_per_thread():
    seen = {}
    with dlcore.use_backend("array_api_strict"):
        t = threading.Thread(target=lambda: seen.setdefault("name", dlcore.get_backend().name))
        t.start()
        t.join()
    # a new thread starts from the process-wide setting, not this thread's context
    assert seen["name"] == backends.get_backend(None).name


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown dlcore backend 'nonsense'.*numba.*numpy"):
        dlcore.get_backend("nonsense")
    with pytest.raises(ValueError, match="valid names"):
        dlcore.set_backend("nonsense")
    with pytest.raises(ValueError, match="valid names"), dlcore.use_backend("nonsense"):
        pass


def test_unknown_env_name(monkeypatch):
    monkeypatch.setenv("DLCORE_BACKEND", "nonsense")
    with pytest.raises(ValueError, match="DLCORE_BACKEND"):
        dlcore.get_backend()


def test_missing_library_error_has_pip_command():
    try:
        import cupy  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("cupy is installed here")
    with pytest.raises(dlcore.BackendNotInstalledError, match=r"pip install \"dlcore\[cupy\]\""):
        dlcore.get_backend("cupy")
    assert issubclass(dlcore.BackendNotInstalledError, ImportError)
    ok, why = dlcore.available_backends()["cupy"]
    assert not ok
    assert "pip install" in why


def test_cupy_without_device_says_so(monkeypatch):
    """CuPy importable but no CUDA device: a BackendDeviceError, never a fallback."""
    import types

    fake = types.ModuleType("cupy")

    class _Runtime:
        @staticmethod
        def getDeviceCount():
            raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake.cuda = types.SimpleNamespace(runtime=_Runtime())
    monkeypatch.setitem(sys.modules, "cupy", fake)
    from dlcore.backends.cupy_backend import CupyBackend

    with pytest.raises(
        dlcore.BackendDeviceError, match=r"no CUDA device was found.*DLCORE_BACKEND=numpy"
    ):
        CupyBackend().check_available()


def test_never_falls_back(monkeypatch):
    monkeypatch.setenv("DLCORE_BACKEND", "cupy")
    if dlcore.available_backends()["cupy"][0]:
        pytest.skip("a CUDA device is present")
    with pytest.raises(dlcore.BackendError):
        dlcore.get_backend()
    with pytest.raises(dlcore.BackendError):
        dlcore.asarray([1.0])


def test_asarray_and_to_numpy_move_data():
    host = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    strict = dlcore.asarray(host, backend="array_api_strict")
    assert type(strict).__module__.startswith("array_api_strict")
    assert strict.dtype == dlcore.get_backend("array_api_strict").xp.float32
    back = dlcore.to_numpy(strict)
    np.testing.assert_array_equal(back, host)
    assert back.dtype == np.float32
    again = dlcore.asarray(strict, backend="numpy", dtype="float64")
    assert isinstance(again, np.ndarray)
    assert again.dtype == np.float64


def test_register_and_entry_point_style_backend():
    from dlcore.backends.numpy_backend import NumpyBackend

    class Mine(NumpyBackend):
        name = "mine"
        description = "a test plugin"

    backends.register_backend("Mine", Mine)
    try:
        assert "mine" in dlcore.available_backends()
        with dlcore.use_backend("mine") as b:
            assert b.name == "mine"
            assert isinstance(dlcore.asarray([1.0]), np.ndarray)
    finally:
        backends.unregister_backend("mine")


def test_entry_point_group_is_loaded(tmp_path, monkeypatch):
    """A distribution that declares dlcore.backends = name -> factory is picked up."""
    dist = tmp_path / "plugin_pkg-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: plugin-pkg\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[dlcore.backends]\nplugged = plugin_mod:make\n")
    (tmp_path / "plugin_mod.py").write_text(
        "from dlcore.backends.numpy_backend import NumpyBackend\n"
        "class Plugged(NumpyBackend):\n    name = 'plugged'\n"
        "def make():\n    return Plugged()\n"
    )
    code = (
        "import dlcore; print(dlcore.get_backend('plugged').name); "
        "print(sorted(dlcore.available_backends()))"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert out.splitlines()[0] == "plugged"
    assert "'plugged'" in out.splitlines()[1]


def test_mixed_namespaces_in_one_call():
    import array_api_strict

    a = np.array([1.0, 2.0])
    b = array_api_strict.asarray([1.0, 2.0])
    with pytest.raises(TypeError, match=r"array_api_strict and numpy.*dlcore.to_numpy"):
        dlcore.mean_squared_error(a, b)


def test_mixed_devices_in_one_call():
    import array_api_strict

    a = array_api_strict.asarray([1.0, 2.0])
    b = array_api_strict.asarray([1.0, 2.0], device=array_api_strict.Device("device1"))
    with pytest.raises(ValueError, match="different devices"):
        dlcore.mean_squared_error(a, b)


def test_one_kernel_protocol_methods_with_super():
    """Hot loops are Backend methods; numba extends numpy, which extends the generic base."""
    from dlcore.backends import Backend
    from dlcore.backends.numba_backend import NumbaBackend
    from dlcore.backends.numpy_backend import NumpyBackend

    hot = ("bind_predict", "mlp_gradient", "mlp_numerical_gradient", "numerical_gradient")
    assert issubclass(NumbaBackend, NumpyBackend)
    for name in hot:
        assert callable(getattr(Backend, name))
    assert NumpyBackend.bind_predict is not Backend.bind_predict
    for name in ("bind_predict", "mlp_numerical_gradient", "numerical_gradient"):
        assert getattr(NumbaBackend, name) is not getattr(Backend, name)
    b = dlcore.get_backend("numpy")
    assert not hasattr(b, "get_kernel")
    assert not hasattr(b, "kernels")
