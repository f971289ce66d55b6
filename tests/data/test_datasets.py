import gzip
import pickle
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from hashdemo.core.errors import DataNotFoundError, InvalidInputError, UnsafeFileError
from hashdemo.data import cifar10, fashion, load_dataset
from hashdemo.data.idx import read_idx


def load(name, root=None, split_seed=0, image_size=None):
    """A dataset, not from the process-wide cache (fixtures change under the same path)."""
    return load_dataset.__wrapped__(name, None if root is None else str(root), split_seed, image_size)


def write_idx(path, array: np.ndarray):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def test_idx_round_trip_and_corruption(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", array)
    assert np.array_equal(read_idx(tmp_path / "a.gz"), array)
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(InvalidInputError):
        read_idx(tmp_path / "bad.gz")
    raw = gzip.decompress((tmp_path / "a.gz").read_bytes())[:-3]
    (tmp_path / "short").write_bytes(raw)
    with pytest.raises(InvalidInputError, match="truncated"):
        read_idx(tmp_path / "short")


def test_fashion_protocol():
    data = load_dataset("fashion")
    assert (len(data.query), len(data.database), len(data.train)) == (1000, 60000, 10000)
    assert data.query.labels.sum(0).tolist() == [100] * 10  # 100 queries per class
    assert data.query.labels.sum(1).eq(1).all() and data.image_shape == (1, 28, 28)
    again = load("fashion", split_seed=0)
    assert torch.equal(again.extra["train_indices"], data.extra["train_indices"])
    other = load("fashion", split_seed=1)
    assert not torch.equal(other.extra["train_indices"], data.extra["train_indices"])
    images = data.query.images([0, 1])
    assert images.dtype == torch.float32 and images.min() >= 0 and images.max() <= 1


def test_fashion_missing_files_name_what_is_expected(tmp_path):
    fashion.load_raw.cache_clear()
    with pytest.raises(DataNotFoundError, match="train-images-idx3-ubyte.gz"):
        load("fashion", tmp_path)


def test_mosaic_labels_are_union_of_items():
    data = load("fashion-mosaic")
    assert (len(data.query), len(data.database), len(data.train)) == (1000, 60000, 10000)
    db = data.database
    raw = fashion.load_raw()
    for i in range(50):
        layout = db.layouts[i]
        items = layout[layout >= 0]
        assert 1 <= len(items) <= 4
        expected = torch.zeros(10, dtype=torch.bool)
        expected[raw["train_labels"][items]] = True
        assert torch.equal(db.labels[i], expected)
    img = db.images([0])[0, 0]
    for cell in range(4):
        row, col = divmod(cell, 2)
        tile = img[row * 28 : (row + 1) * 28, col * 28 : (col + 1) * 28]
        item = int(db.layouts[0, cell])
        expected = raw["train_images"][item, 0].float() / 255 if item >= 0 else torch.zeros(28, 28)
        assert torch.equal(tile, expected)
    assert torch.equal(load("fashion-mosaic").database.layouts, db.layouts)  # deterministic


def write_cifar_fixture(root, n_train=20, n_test=20):
    folder = root / cifar10.FOLDER
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, n in [(f, n_train) for f in cifar10.TRAIN_FILES] + [(cifar10.TEST_FILE, n_test)]:
        batch = {
            b"batch_label": name.encode(),
            b"labels": [i % 10 for i in range(n)],
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"filenames": [b"x.png"] * n,
        }
        with open(folder / name, "wb") as fh:
            pickle.dump(batch, fh, protocol=2)
    return folder


def test_cifar10_fixture_in_torchvision_format(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "QUERY_PER_CLASS", 2)
    monkeypatch.setattr(cifar10, "TRAIN_PER_CLASS", 5)
    write_cifar_fixture(tmp_path)
    data = load("cifar10-hashdemo", tmp_path)
    assert (len(data.query), len(data.database), len(data.train)) == (20, 100, 50)
    assert data.image_shape == (3, 32, 32)
    raw = cifar10.read_batch(tmp_path / cifar10.FOLDER / "data_batch_1")[0]
    assert torch.equal(data.database.images([0])[0], torch.from_numpy(raw[0]).float() / 255)


def test_cifar10_refuses_code_in_pickle(tmp_path):
    folder = write_cifar_fixture(tmp_path)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({b"data": Evil(), b"labels": []}, fh)
    with pytest.raises(UnsafeFileError, match="builtins.print"):
        cifar10.read_batch(folder / "test_batch")


def test_cifar10_missing_never_downloads(tmp_path):
    for name in ("cifar10", "cifar10-1", "cifar10-2", "cifar10-hashdemo"):
        with pytest.raises(DataNotFoundError, match="--download"):
            load(name, tmp_path)


def test_cifar10_deephash_splits_have_their_sizes_and_are_disjoint(tmp_path, monkeypatch):
    sizes = {"cifar10": (2, 5, "rest", ""), "cifar10-1": (2, 5, "train+rest", ""), "cifar10-2": (3, 6, "train", "")}
    monkeypatch.setattr(cifar10, "DEEPHASH_SPLITS", sizes)
    write_cifar_fixture(tmp_path)  # 12 images per class
    split = {name: load(name, tmp_path) for name in sizes}
    assert [(len(d.query), len(d.train), len(d.database)) for d in split.values()] == [
        (20, 50, 50),
        (20, 50, 100),
        (30, 60, 60),
    ]
    one = split["cifar10"]
    ids = lambda images: {tuple(row) for row in images.images(range(len(images))).flatten(1)[:, :24].tolist()}
    assert not ids(one.query) & ids(one.train) and not ids(one.query) & ids(one.database)
    assert not ids(one.train) & ids(one.database)  # cifar10: the database is the rest
    assert ids(split["cifar10-2"].database) == ids(split["cifar10-2"].train)
    assert one.query.labels.sum(0).tolist() == [2] * 10
    again = load("cifar10", tmp_path)
    assert torch.equal(again.query.images(range(20)), one.query.images(range(20)))


def write_images(folder, names, size=(40, 30)):
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        Image.fromarray(np.full((size[1], size[0], 3), (i * 20) % 256, dtype=np.uint8)).save(folder / name)


def test_list_file_fixture(tmp_path):
    write_images(tmp_path / "images", [f"{i}.jpg" for i in range(6)])
    (tmp_path / "train.txt").write_text("images/0.jpg 1 0 1\nimages/1.jpg 0 1 0\n")
    (tmp_path / "test.txt").write_text("images/2.jpg 0 0 1\n")
    (tmp_path / "database.txt").write_text("images/3.jpg 1 1 0\nimages/4.jpg 0 0 1\nimages/5.jpg 1 0 0\n")
    data = load("nus-wide", tmp_path, image_size=32)
    assert data.train.labels.tolist() == [[True, False, True], [False, True, False]]
    assert len(data.database) == 3 and data.num_classes == 3
    assert data.query.images([0]).shape == (1, 3, 32, 32)


def test_list_file_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="train.txt, test.txt, database.txt"):
        load("ms-coco", tmp_path)
    for name in ("train.txt", "test.txt", "database.txt"):
        (tmp_path / name).write_text("a.jpg 0 1\n")
    (tmp_path / "test.txt").write_text("a.jpg 0 x\n")
    with pytest.raises(InvalidInputError, match="test.txt line 1"):
        load("ms-coco", tmp_path)
    (tmp_path / "test.txt").write_text("missing.jpg 0 1\n")
    with pytest.raises(DataNotFoundError, match="test.txt line 1: missing.jpg missing"):  # at opening, not encoding
        load("list", tmp_path, image_size=16)


def test_image_folder_fixture(tmp_path):
    write_images(tmp_path / "cat", [f"{i}.png" for i in range(10)])
    write_images(tmp_path / "dog", [f"{i}.png" for i in range(20)])
    data = load("folder", tmp_path, image_size=24)
    assert data.class_names == ("cat", "dog")
    assert len(data.query) == 1 + 2 and len(data.database) == 9 + 18
    assert data.query.images([0]).shape == (1, 3, 24, 24)
    with pytest.raises(DataNotFoundError):
        load("folder", tmp_path / "nope")


def test_unknown_dataset():
    with pytest.raises(InvalidInputError, match="unknown dataset"):
        load_dataset("mnist-but-wrong")
