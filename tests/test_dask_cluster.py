"""predict_dask on a real distributed.LocalCluster (worker processes, 127.0.0.1) over stores.

One small cluster (2 workers x 1 thread) serves the module. The shipped MNIST
test images are written to a zarr array and to a folder of .npy shards; the
cluster classifies them, each task reading its own rows, and must match
``dlcore.predict`` exactly (single-threaded BLAS on both sides, since a BLAS
thread pool changes float32 rounding) and give its labels.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

import dlcore
from dlcore.cli import main

pytest.importorskip(
    "distributed", reason="distributed is not installed (pip install 'dlcore[dask]')"
)
from distributed import Client, get_task_stream

from dlcore.cluster import auto_chunk_rows, blas_limited, local_cluster, memory_per_thread

# the stores hold host NumPy images, and the reference is predict on the numpy backend
pytestmark = pytest.mark.usefixtures("host_numpy")

FORMATS = ["npy"] + (["zarr"] if importlib.util.find_spec("zarr") else [])


@pytest.fixture(scope="module")
def client():
    with local_cluster(2) as cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def mnist():
    x, t = dlcore.load_mnist_test()
    net = {k: dlcore.to_numpy(v) for k, v in dlcore.load_sample_network().items()}
    return dlcore.to_numpy(x)[:4000], dlcore.to_numpy(t)[:4000], net


@pytest.fixture(scope="module")
def stores(tmp_path_factory, mnist):
    x = mnist[0]
    root = tmp_path_factory.mktemp("stores")
    return {
        fmt: dlcore.save_images(root / f"mnist.{fmt}", x, chunk_rows=700, format=fmt)
        for fmt in FORMATS
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_cluster_classifies_a_store_exactly_as_predict(client, mnist, stores, fmt):
    x, t, net = mnist
    with blas_limited(1):
        want = dlcore.to_numpy(dlcore.predict(net, x))
    y = dlcore.predict_dask(net, stores[fmt].path, backend="numpy", chunk_rows=1400)
    got = y.compute()
    assert y.chunks[0] == ((1400, 1400, 1200) if fmt == "zarr" else (700,) * 5 + (500,))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    assert np.mean(got.argmax(axis=1) == t) > 0.97


def test_tasks_read_their_own_rows_and_the_graph_holds_no_images(client, mnist, stores):
    import pickle

    x, _, net = mnist
    y = dlcore.predict_dask(net, stores["npy"].path, chunk_rows=700)
    graph = dict(y.__dask_graph__())
    assert len(pickle.dumps(graph)) < 400_000 < x.nbytes  # the network once, and file names
    keys = {k for k in graph if isinstance(k, str)}
    assert len(keys) == 1  # the network is one key, shared by the tasks
    with get_task_stream(client) as tasks:
        assert y.compute().shape == (4000, 10)
    ran = [t for t in tasks.data if t["key"][0].startswith("dlcore-predict-")]
    assert len(ran) == 6  # one task per piece: read and classify in one go
    assert len({t["worker"] for t in ran}) == 2  # both workers read their own pieces


def test_auto_chunk_rows_comes_from_the_network_and_worker_memory(client, mnist, stores):
    _, _, net = mnist
    memory = memory_per_thread(client)
    limits = [w["memory_limit"] for w in client.scheduler_info()["workers"].values()]
    assert memory == min(limits)  # one thread per worker
    rows = auto_chunk_rows(net, np.float32, memory=memory)
    width = 784 + 2 * (50 + 100 + 10)
    assert rows == min(memory // 8, 128 << 20) // (4 * width)  # Dask's default chunk-size
    y = dlcore.predict_dask(net, stores["npy"].path)
    assert max(y.chunks[0]) == min(700, rows)
    assert auto_chunk_rows(net, np.float32, memory=8 * 4 * width * 10) == 10


def test_workers_run_single_threaded_blas(client):
    import threadpoolctl

    info = client.scheduler_info()
    assert info["address"].startswith("tcp://127.0.0.1:")  # loopback only
    assert all(w.startswith("tcp://127.0.0.1:") for w in info["workers"])

    env = client.run(lambda: {k: v for k, v in os.environ.items() if k.startswith("ZARR_")})
    assert all(e == {"ZARR_THREADING__MAX_WORKERS": "1", "ZARR_ASYNC__CONCURRENCY": "1"}
               for e in env.values())  # fmt: skip
    infos = client.run(threadpoolctl.threadpool_info)
    assert infos
    for info in infos.values():
        assert info
        assert {lib["num_threads"] for lib in info} == {1}


def test_blas_limited_restores_the_callers_setting():
    import threadpoolctl

    before = [lib["num_threads"] for lib in threadpoolctl.threadpool_info()]
    with blas_limited(1):
        assert {lib["num_threads"] for lib in threadpoolctl.threadpool_info()} == {1}
    assert [lib["num_threads"] for lib in threadpoolctl.threadpool_info()] == before
    with blas_limited(None):
        assert [lib["num_threads"] for lib in threadpoolctl.threadpool_info()] == before


def test_predict_dask_store_errors(tmp_path, mnist, stores):
    x, _, net = mnist
    with pytest.raises(TypeError, match="or the path of an image store"):
        dlcore.predict_dask(net, x)
    narrow = dlcore.save_images(tmp_path / "narrow", x[:10, :700], format="npy")
    with pytest.raises(ValueError, match=r"2-D image store \(N, 784\)"):
        dlcore.predict_dask(net, narrow.path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        dlcore.predict_dask(net, tmp_path / "missing")
    with pytest.raises(ValueError, match="`chunk_rows` must be a positive integer"):
        dlcore.predict_dask(net, stores["npy"].path, chunk_rows=0)
    with pytest.raises(TypeError, match="`blas_threads` must be a positive integer"):
        dlcore.predict_dask(net, stores["npy"].path, blas_threads=1.5)


def test_cli_infer_on_a_running_cluster(client, stores, mnist, capsys):
    fmt = FORMATS[-1]
    address = client.scheduler.address
    assert main(["infer", "--dask", address, "--input", str(stores[fmt].path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"classified 4000 images from {stores[fmt].path} on 2 Dask workers")
    with blas_limited(1):
        labels = dlcore.to_numpy(dlcore.predict(mnist[2], mnist[0])).argmax(axis=1)
    counts = ", ".join(f"{c}: {n}" for c, n in enumerate(np.bincount(labels, minlength=10)))
    assert out.strip().endswith(f"images per class: {counts}")


def test_cli_infer_flag_errors(capsys, tmp_path):
    assert main(["infer", "--input", str(tmp_path)]) == 1
    assert "--dask and --input go together" in capsys.readouterr().err
    assert main(["infer", "--dask", "local", "--input", str(tmp_path / "nope")]) == 1
    assert "does not exist" in capsys.readouterr().err
    args = ["infer", "--dask", "local", "--input", str(tmp_path), "--activation", "relu"]
    assert main(args) == 1
    assert "with a sigmoid network" in capsys.readouterr().err
