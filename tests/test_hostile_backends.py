"""Backends under hostile use: plugins that fail at import, bad names, Numba ``f`` that raise."""

from __future__ import annotations

import importlib.metadata
import sys

import numpy as np
import pytest

import dlcore
from dlcore import backends


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """Install entry points ``name -> module:attr`` whose modules are written in tmp_path."""
    registry = backends._registry  # the name table (backends/_registry.py)
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))
    monkeypatch.setattr(registry, "_INSTANCES", dict(registry._INSTANCES))
    monkeypatch.syspath_prepend(str(tmp_path))

    def install(name: str, source: str, attr: str = "Backend") -> None:
        module = f"dlcore_test_plugin_{name}"
        (tmp_path / f"{module}.py").write_text(source)
        sys.modules.pop(module, None)
        ep = importlib.metadata.EntryPoint(
            name=name, value=f"{module}:{attr}", group=backends.ENTRY_POINT_GROUP
        )
        real = importlib.metadata.entry_points

        def entry_points(group=None, **kwargs):  # other groups (torch's own plugins) stay real
            return [ep] if group == backends.ENTRY_POINT_GROUP else real(group=group, **kwargs)

        monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
        monkeypatch.setattr(registry, "_entry_points_loaded", False)

    return install


GOOD = "from dlcore.backends.numpy_backend import NumpyBackend as Backend\n"


@pytest.mark.parametrize(
    ("source", "attr", "fragment"),
    [
        ('raise RuntimeError("boom")\n', "Backend", "RuntimeError: boom"),
        ('import sys\nsys.exit("bye")\n', "Backend", "SystemExit: bye"),
        ("import sys\nsys.exit(3)\n", "Backend", "SystemExit: 3"),
        ("import no_such_module_anywhere\n", "Backend", "ModuleNotFoundError"),
        ("x = 1\n", "Backend", "AttributeError"),
        ("def Backend():\n    raise ValueError('no device')\n", "Backend", "ValueError: no device"),
        ("def Backend():\n    raise SystemExit('bye')\n", "Backend", "SystemExit: bye"),
        ("1/0\n", "Backend", "ZeroDivisionError"),
    ],
    ids=["raise", "exit-str", "exit-code", "import", "attr", "factory-raises",
         "factory-exits", "zero-division"],
)  # fmt: skip
def test_a_plugin_failing_at_import_is_a_clear_backend_error(plugin, source, attr, fragment):
    plugin("bad", source, attr)
    with pytest.raises(dlcore.BackendNotInstalledError) as info:
        dlcore.get_backend("bad")
    assert "backend plugin 'bad'" in str(info.value)
    assert fragment in str(info.value)
    assert "fix or uninstall the package that provides it" in str(info.value)
    status = dlcore.available_backends()
    assert status["bad"][0] is False
    assert fragment in status["bad"][1]
    assert status["numpy"] == (True, "")


def test_a_plugin_giving_something_else_is_named(plugin):
    plugin("odd", "Backend = 42\n")
    with pytest.raises(TypeError, match=r"must give a dlcore\.backends\.Backend, got int"):
        dlcore.get_backend("odd")


def test_a_plugin_that_works_is_used(plugin):
    plugin("mine", GOOD)
    assert type(dlcore.asarray([1.0], backend="mine")).__name__ == "ndarray"


def test_a_plugin_cannot_shadow_a_built_in_backend(plugin):
    plugin("numpy", 'raise RuntimeError("never imported")\n')
    assert dlcore.get_backend("numpy").name == "numpy"


def test_ctrl_c_during_a_plugin_import_is_not_swallowed(plugin):
    plugin("slow", "raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        dlcore.get_backend("slow")


@pytest.mark.parametrize(
    ("name", "error", "fragment"),
    [
        (123, TypeError, "a backend name must be a string, got int"),
        (None, None, None),
        ("nonsense", ValueError, "valid names are"),
        ("", ValueError, "valid names are"),
        ("num py", ValueError, "valid names are"),
    ],
)
def test_backend_names_are_checked(name, error, fragment):
    if error is None:
        assert dlcore.get_backend(name).name in backends.backend_names()
        return
    with pytest.raises(error, match=fragment):
        dlcore.get_backend(name)


@pytest.mark.parametrize("text", [" NumPy ", "NUMPY", "numpy\n"])
def test_the_environment_variable_is_forgiving_about_case_and_space(monkeypatch, text):
    monkeypatch.setenv("DLCORE_BACKEND", text)
    assert dlcore.get_backend().name == "numpy"


def test_a_wrong_environment_variable_names_itself(monkeypatch):
    monkeypatch.setenv("DLCORE_BACKEND", "nonsense")
    with pytest.raises(ValueError, match="requested by the environment variable DLCORE_BACKEND"):
        dlcore.get_backend()


# -- the Numba numerical-gradient loop with an f that raises ------------------------------------
numba = pytest.importorskip("numba")


@numba.njit
def _raises_above_one(v):
    if v.max() > 1.00005:  # only x[-1] + h exceeds it below
        raise ValueError("f refuses this x")
    return float((v * v).sum())


@numba.njit
def _always_raises(v):
    raise ZeroDivisionError("f always fails")


@numba.njit
def _square_sum(v):
    return float((v * v).sum())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("size", [1, 3, 64])
def test_numba_loop_reraises_fs_first_exception_and_keeps_x(dtype, size):
    x = np.linspace(1.0 - (size - 1) / 64, 1.0, size).astype(dtype)
    saved = x.copy()
    with dlcore.use_backend("numba"), pytest.raises(ValueError, match="f refuses this x"):
        dlcore.numerical_gradient(_raises_above_one, x, h=1e-4)
    np.testing.assert_array_equal(x, saved)


def test_numba_loop_after_an_exception_still_works():
    with dlcore.use_backend("numba"):
        for _ in range(3):
            with pytest.raises(ZeroDivisionError, match="f always fails"):
                dlcore.numerical_gradient(_always_raises, np.ones(8))
        g = dlcore.numerical_gradient(_square_sum, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(g, [2.0, 4.0, 6.0], rtol=1e-9)


@numba.njit(parallel=True)
def _parallel_refuses(v):
    if v[0] > 0.5:
        raise ValueError("parallel f refuses")
    return float(np.sum(v))


def test_numba_loop_with_a_parallel_f_reraises_too():
    with dlcore.use_backend("numba"), pytest.raises(ValueError, match="parallel f refuses"):
        dlcore.numerical_gradient(_parallel_refuses, np.array([0.5, 0.0]))


def test_numba_loop_matches_the_book_formula_for_a_good_f():
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    with dlcore.use_backend("numba"):
        g = dlcore.numerical_gradient(_square_sum, x)
    h = 1e-4
    expected = (((x + h) ** 2 - x**2) - ((x - h) ** 2 - x**2)) / (2 * h)
    np.testing.assert_allclose(g, expected, rtol=1e-9)
