"""predict_batches on every backend, and predict_dask on Dask's local schedulers."""

from __future__ import annotations

import itertools

import _book
import numpy as np
import pytest
from _helpers import assert_close

import dlcore


def reference(network: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The book's forward pass (tests/_book.py) in float64."""
    return _book.forward({k: v.astype(np.float64) for k, v in network.items()}, x.astype(float))


@pytest.fixture
def data(rng):
    sizes = [20, 12, 9, 5]
    net = {}
    for i, (m, k) in enumerate(itertools.pairwise(sizes), start=1):
        net[f"W{i}"] = (rng.standard_normal((m, k)) / np.sqrt(m) * 3).astype(np.float32)
        net[f"b{i}"] = rng.standard_normal(k).astype(np.float32)
    x = rng.random((103, 20)).astype(np.float32)
    x[x < 0.5] = 0.0
    return net, x


@pytest.mark.parametrize("batch_size", [1, 10, 103, 500])
def test_predict_batches_matches_reference(backend, data, batch_size):
    net, x = data
    got = dlcore.predict_batches(
        {k: backend.asarray(v) for k, v in net.items()}, backend.asarray(x), batch_size
    )
    assert tuple(got.shape) == (103, 5)
    assert_close(got, reference(net, x), atol=1e-12)


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "10"])
def test_predict_batches_rejects_bad_batch_size(data, bad):
    net, x = data
    error = ValueError if type(bad) is int else TypeError  # True, 2.5, "10": not integers
    with pytest.raises(error, match="`batch_size` must be a positive integer"):
        dlcore.predict_batches(net, x, bad)


def test_predict_batches_wants_a_2d_batch(data):
    net, x = data
    with pytest.raises(ValueError, match="must be a 2-D batch"):
        dlcore.predict_batches(net, x[0], 10)


da = pytest.importorskip("dask.array", reason="Dask is not installed (pip install 'dlcore[dask]')")


@pytest.mark.parametrize("name", ["numpy", "numba", "array_api_strict"])
@pytest.mark.parametrize("scheduler", ["threads", "sync"])
def test_predict_dask_matches_reference(data, name, scheduler):
    ok, why = dlcore.available_backends()[name]
    if not ok:
        pytest.skip(why)
    net, x = data
    xd = da.from_array(x, chunks=(25, 20))
    y = dlcore.predict_dask(net, xd, backend=name)
    assert y.chunks == ((25, 25, 25, 25, 3), (5,))
    assert y.dtype == np.float32
    got = y.compute(scheduler=scheduler)
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.float32
    assert_close(got, reference(net, x), atol=1e-12)


def test_predict_dask_merges_a_chunked_feature_axis(data):
    net, x = data
    y = dlcore.predict_dask(net, da.from_array(x, chunks=(50, 7)), backend="numpy")
    assert y.chunks == ((50, 50, 3), (5,))
    assert_close(y.compute(), reference(net, x), atol=1e-12)


def test_predict_dask_uses_the_backend_active_at_call_time(data, monkeypatch):
    """Worker threads do not see use_backend(); the backend is fixed when the graph is built."""
    net, x = data
    seen = []
    original = dlcore.backends.use_backend

    def spy(name, **kwargs):
        seen.append(name)
        return original(name, **kwargs)

    with dlcore.use_backend("array_api_strict"):
        y = dlcore.predict_dask(net, da.from_array(x, chunks=(50, 20)))
    monkeypatch.setattr("dlcore.backends.use_backend", spy)
    y.compute(scheduler="threads")
    assert seen
    assert set(seen) == {"array_api_strict"}


def test_predict_dask_errors(data):
    net, x = data
    with pytest.raises(TypeError, match=r"must be a dask\.array\.Array"):
        dlcore.predict_dask(net, x)
    with pytest.raises(ValueError, match=r"must be a 2-D Dask array \(N, 20\)"):
        dlcore.predict_dask(net, da.from_array(x[:, :19], chunks=(50, 19)))
    with pytest.raises(TypeError, match="floating-point dtype"):
        dlcore.predict_dask(net, da.from_array((x * 255).astype(np.uint8), chunks=(50, 20)))
