"""dlcore.testing: the conformance kit passes every built-in backend and catches planted bugs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from dlcore.backends.numpy_backend import NumpyBackend

import dlcore
from dlcore import backends
from dlcore.cli import main
from dlcore.testing import BackendCheckError, check_backend

KIT = Path(dlcore.__file__).parent / "testing"
PLUGIN = Path(__file__).parent / "plugin_example"

#: Public names that are not array maths on a backend (so no case runs them), and why.
NOT_BACKEND_MATHS = {
    "Backend": "the class under test",
    "BackendDeviceError": "an exception class",
    "BackendError": "an exception class",
    "BackendNotInstalledError": "an exception class",
    "NumbaFallbackWarning": "a warning class",
    "UnsafePickleError": "an exception class",
    "Perceptron": "run through the gates AND/NAND/OR/XOR",
    "available_backends": "registry",
    "get_backend": "registry",
    "register_backend": "registry",
    "set_backend": "registry",
    "use_backend": "registry (check_backend runs inside it)",
    "to_numpy": "used by every comparison",
    "asarray": "used by every case to place inputs",
    "fetch_mnist": "downloads",
    "load_mnist": "host data files (the training set is not shipped)",
    "load_mnist_test": "host data files, placed like asarray",
    "load_sample_network": "host data files, placed like asarray",
    "load_book_network": "host data files, placed like asarray",
    "load_digits": "host image files to NumPy",
    "mnist_like": "host image preprocessing (NumPy)",
    "load_weights": "host files",
    "save_weights": "host files",
    "save_images": "host files (image stores; tests/test_stores.py)",
    "plot_history": "matplotlib",
    "run_bench": "timing, not values",
    "train": "loops over the checked pieces (gradient, optimizers); seconds per run",
    "predict_dask": "Dask arrays (tests/test_dask.py and test_dask_cluster.py)",
    "optimizers": "a module: its SGD, Momentum, AdaGrad, Adam are cases",
    "__version__": "a string",
}


class _WrongForward(NumpyBackend):
    """A planted bug: the output layer's bias is dropped in the bound forward pass."""

    name = "planted_forward"

    def bind_predict(self, arrays, *, activation="sigmoid"):
        def run(arrays, x):
            h = x
            for i in range(0, len(arrays) - 2, 2):
                h = 1 / (1 + np.exp(-(h @ arrays[i] + arrays[i + 1])))
            z = h @ arrays[-2]
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)

        return run


class _WrongDtype(NumpyBackend):
    """A planted bug: backprop gradients come back in float64 whatever the input dtype."""

    name = "planted_dtype"

    def mlp_gradient(self, arrays, x, t, *, activation="sigmoid"):
        grads = super().mlp_gradient(arrays, x, t, activation=activation)
        return [g.astype(np.float64) for g in grads]


@pytest.fixture
def planted():
    names = []

    def plant(cls):
        dlcore.register_backend(cls.name, cls)
        names.append(cls.name)
        return cls.name

    yield plant
    for name in names:
        backends.unregister_backend(name)


def test_a_wrong_kernel_fails_with_a_readable_report(planted):
    name = planted(_WrongForward)
    with pytest.raises(BackendCheckError) as err:
        check_backend(name)
    text = str(err.value)
    report = err.value.report
    assert not report.ok
    failed = {r.case for r in report.failures}
    assert "kernel bind_predict" in failed
    assert "predict, Predictor, predict_batches" in failed
    assert "sigmoid" not in failed  # the maths that does not use the kernel still passes
    assert re.search(
        r"FAIL\s+kernel bind_predict\s+float32\s+bind_predict sigmoid \(1 rows\): values differ",
        text,
    )
    assert "expected" in text
    assert text.splitlines()[-1].startswith("FAILED: backend 'planted_forward' on cpu:")
    assert check_backend(name, raise_on_failure=False).failures == report.failures


def test_a_kernel_that_changes_the_dtype_fails(planted):
    report = check_backend(planted(_WrongDtype), raise_on_failure=False)
    fails = {(r.case, r.dtype) for r in report.failures}
    assert fails == {
        ("kernel mlp_gradient", "float32"),
        ("TwoLayerNet and MultiLayerNet", "float32"),
    }
    assert all("dtype float64, expected float32" in r.detail for r in report.failures)


def test_a_kernel_that_loses_the_device_fails():
    strict = pytest.importorskip("array_api_strict")
    from dlcore.backends.compat import CompatBackend

    class Homesick(CompatBackend):
        def bind_predict(self, arrays, *, activation="sigmoid"):
            generic = super().bind_predict(arrays, activation=activation)
            cpu = strict.Device("CPU_DEVICE")
            return lambda arrays, x: generic([a.to_device(cpu) for a in arrays], x.to_device(cpu))

    dlcore.register_backend("homesick", lambda: Homesick("homesick", "array_api_strict", "x"))
    try:
        report = check_backend("homesick", device="device1", raise_on_failure=False)
    finally:
        backends.unregister_backend("homesick")
    assert "kernel bind_predict" in {r.case for r in report.failures}
    assert any("expected array_api_strict.Device('device1')" in r.detail for r in report.failures)


def test_every_public_function_and_kernel_is_covered():
    source = "\n".join(p.read_text(encoding="utf-8") for p in KIT.glob("_cases_*.py"))
    words = set(re.findall(r"\w+", source))
    from dlcore.testing._reference import ACTIVATIONS  # cases loop over these names

    words |= set(ACTIVATIONS) | {f"{n}_grad" for n in ACTIVATIONS}
    missing = [n for n in dlcore.__all__ if n not in words and n not in NOT_BACKEND_MATHS]
    assert not missing, f"public names no conformance case runs: {missing}"
    for kernel in ("bind_predict", "mlp_gradient", "mlp_numerical_gradient", "numerical_gradient"):
        assert f"backend.{kernel}(" in source, kernel


def test_cli_check_backend(capsys, planted):
    assert main(["check-backend", "numpy"]) == 0
    out = capsys.readouterr().out
    assert "PASS  sigmoid" in out
    assert out.strip().splitlines()[-1].startswith("OK: backend 'numpy' on cpu:")
    assert main(["check-backend", planted(_WrongForward), "--failures-only"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  kernel bind_predict" in out
    assert "PASS" not in out
    assert main(["check-backend", "numpy", "--device", "gpu:0"]) == 1
    assert "has no device 'gpu:0'" in capsys.readouterr().err


def test_plugin_package_installed_through_its_entry_point_passes(tmp_path):
    """pip-install tests/plugin_example into a folder; the CLI finds and checks it."""
    src = tmp_path / "src"
    shutil.copytree(PLUGIN, src)
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
    pip += ["--no-build-isolation", "--target", str(target), str(src)]
    subprocess.run(pip, check=True, capture_output=True, text=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("DLCORE_BACKEND", None)
    cmd = [sys.executable, "-m", "dlcore", "check-backend", "example"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "backend 'example' on cpu" in done.stdout
    assert done.stdout.strip().splitlines()[-1].startswith("OK: backend 'example'")
