"""Image stores at rest (zarr and .npy shards): layout, pieces, round trips and refusals."""

from __future__ import annotations

import numpy as np
import pytest

import dlcore
from dlcore.stores import ImageStore, open_store, read_piece

pytest.importorskip("dask.array", reason="Dask is not installed (pip install 'dlcore[dask]')")
FORMATS = ["npy", pytest.param("zarr", marks=pytest.mark.skipif(
    __import__("importlib").util.find_spec("zarr") is None, reason="zarr is not installed"
))]  # fmt: skip


@pytest.fixture
def images(rng):
    return rng.random((23, 6)).astype(np.float32)


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_and_metadata(tmp_path, images, fmt):
    store = dlcore.save_images(tmp_path / "x", images, chunk_rows=5, format=fmt)
    assert isinstance(store, ImageStore)
    assert store.shape == (23, 6)
    assert store.dtype == np.float32
    assert store.stored_rows == 5
    again = open_store(tmp_path / "x")
    assert again.files == store.files
    whole = store.to_dask().compute()
    assert whole.dtype == np.float32
    np.testing.assert_array_equal(whole, images)
    assert not list(tmp_path.glob(".x.*")), "the temporary folder was left behind"


def test_npy_pieces_split_shards_but_never_cross_them(tmp_path, images):
    store = dlcore.save_images(tmp_path / "x", images, chunk_rows=10, format="npy")
    assert [rows for _, rows in store.files] == [10, 10, 3]
    pieces = store.pieces(4)
    assert [(start, stop) for _, _, start, stop in pieces] == [
        (0, 4), (4, 8), (8, 10), (0, 4), (4, 8), (8, 10), (0, 3),
    ]  # fmt: skip
    got = np.concatenate([read_piece(*p) for p in pieces])
    np.testing.assert_array_equal(got, images)
    view = read_piece(*pieces[1], copy=False)  # what inference reads: a map of the file
    assert not view.flags.writeable
    np.testing.assert_array_equal(view, images[4:8])
    assert store.to_dask(4).chunks == ((4, 4, 2, 4, 4, 2, 3), (6,))


@pytest.mark.parametrize("fmt", FORMATS)
def test_pieces_are_whole_zarr_chunks(tmp_path, images, fmt):
    store = dlcore.save_images(tmp_path / "x", images, chunk_rows=5, format=fmt)
    sizes = [stop - start for _, _, start, stop in store.pieces(12)]
    if fmt == "zarr":
        assert sizes == [10, 10, 3]  # 12 rounded down to whole stored chunks of 5
        assert [stop - start for _, _, start, stop in store.pieces(3)] == [5, 5, 5, 5, 3]
    else:
        assert sizes == [5, 5, 5, 5, 3]  # a shard of 5 is never merged with the next


def test_the_task_graph_holds_file_names_not_images(tmp_path, rng):
    import pickle

    big = rng.random((4000, 100)).astype(np.float32)  # 1.6 MB of images
    store = dlcore.save_images(tmp_path / "x", big, chunk_rows=1000, format="npy")
    graph = dict(store.to_dask().__dask_graph__())
    assert len(pickle.dumps(graph)) < 20_000


def test_refusals(tmp_path, images):
    with pytest.raises(
        FileNotFoundError, match=r"does not exist; write one with dlcore\.save_images"
    ):
        open_store(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="is not an image store: expected a zarr array"):
        open_store(tmp_path / "empty")
    dlcore.save_images(tmp_path / "x", images, format="npy")
    with pytest.raises(FileExistsError, match="already exists"):
        dlcore.save_images(tmp_path / "x", images, format="npy")
    with pytest.raises(FileNotFoundError, match=r"the folder .* does not exist"):
        dlcore.save_images(tmp_path / "no" / "x", images, format="npy")
    with pytest.raises(ValueError, match="'zarr' or 'npy'"):
        dlcore.save_images(tmp_path / "y", images, format="hdf5")
    with pytest.raises(ValueError, match=r"floating images, one per row \(N >= 1, d\)"):
        dlcore.save_images(tmp_path / "y", (images * 255).astype(np.uint8), format="npy")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    np.save(mixed / "a.npy", images)
    np.save(mixed / "b.npy", images[:, :5])
    with pytest.raises(ValueError, match=r"differ: widths \[5, 6\]"):
        open_store(mixed)
    ints = tmp_path / "ints"
    ints.mkdir()
    np.save(ints / "a.npy", (images * 255).astype(np.uint8))
    with pytest.raises(ValueError, match=r"holds uint8 images.*float32"):
        open_store(ints)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.npy").write_bytes(b"not an npy file")
    with pytest.raises(ValueError, match=r"not a readable \.npy array"):
        open_store(bad)
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    np.save(pickled / "a.npy", np.array([[{"x": 1}]], dtype=object))
    with pytest.raises(ValueError, match=r"not a readable \.npy array"):
        open_store(pickled)  # object arrays would need pickle: refused
