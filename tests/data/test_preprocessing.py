"""File-based data is preprocessed as torchvision pipelines do it (DeepHash-pytorch's `Image.open(p).convert("RGB")`,
Resize, CenterCrop, ToTensor), bit for bit, on square and non-square images of every mode; bad files are found
before anything is encoded; the lists may live apart from the images; a model folder keeps its preprocessing."""

import warnings

import numpy as np
import pytest
import torch
import torchvision.transforms as T
from PIL import Image

from hashdemo.core.errors import DataNotFoundError, InvalidInputError
from hashdemo.data import load_dataset
from hashdemo.data.files import FileImageSet, resize_center_crop
from hashdemo.models.card import ModelCard
from hashdemo.systems.spec import ModelSpec
from hashdemo.systems.system import preprocessing

RNG = np.random.default_rng(0)


def rgb(w, h):
    return Image.fromarray(RNG.integers(0, 256, (h, w, 3), dtype=np.uint8))


IMAGES = {  # name: (PIL image, file suffix)
    "640x427 (MS-COCO's size)": (rgb(640, 427), ".jpg"),
    "300x199": (rgb(300, 199), ".jpg"),
    "199x300 (portrait)": (rgb(199, 300), ".png"),
    "500x500": (rgb(500, 500), ".jpg"),
    "RGBA": (rgb(320, 240).convert("RGBA"), ".png"),
    "CMYK": (rgb(320, 240).convert("CMYK"), ".jpg"),
    "16-bit": (Image.fromarray(RNG.integers(0, 65536, (240, 320), dtype=np.uint16)), ".png"),
    "palette": (rgb(320, 240).convert("P"), ".png"),
    "grey": (rgb(320, 240).convert("L"), ".png"),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("modes")
    paths = {}
    for i, (name, (image, suffix)) in enumerate(IMAGES.items()):
        paths[name] = root / f"{i}{suffix}"
        image.save(paths[name])
    assert Image.open(paths["16-bit"]).mode.startswith("I;16") and Image.open(paths["CMYK"]).mode == "CMYK"
    return paths


def theirs(path, size, resize):
    """The pipeline of DeepHash-pytorch and the papers' code, written with torchvision.transforms."""
    steps = ([T.Resize(resize)] if resize else []) + [T.CenterCrop(size), T.ToTensor()]
    return T.Compose(steps)(Image.open(path).convert("RGB"))


@pytest.mark.parametrize(("size", "resize", "side"), [(224, None, 256), (32, None, 37), (224, 0, 0), (224, 224, 224)])
def test_every_image_equals_torchvisions_pipeline(files, size, resize, side):
    ours = FileImageSet(list(files.values()), torch.zeros(len(files), 1), size, resize).images(range(len(files)))
    for i, (name, path) in enumerate(files.items()):
        assert torch.equal(ours[i], theirs(path, size, side)), name


def test_the_long_side_is_truncated_and_the_offset_rounded():
    """By hand: Resize(256) takes 640x427 to int(256 * 640 / 427) = 383 (383.7), not 384; CenterCrop(224) of
    383 starts at round(159 / 2) = 80 (79.5 rounds to even), not 79."""
    image = Image.fromarray(np.tile(np.arange(640, dtype=np.uint8)[None, :, None], (427, 1, 3)))
    assert T.Resize(256)(image).size == (383, 256)
    cropped = resize_center_crop(image, 224)
    assert cropped.size == (224, 224)
    assert np.array_equal(np.asarray(cropped), np.asarray(T.Resize(256)(image).crop((80, 16, 304, 240))))


def write_lists(root, lists, lines):
    lists.mkdir(parents=True, exist_ok=True)
    for name in ("train.txt", "test.txt", "database.txt"):
        (lists / name).write_text("\n".join(lines) + "\n")


def test_unreadable_files_are_reported_before_anything_is_encoded(tmp_path):
    (tmp_path / "images").mkdir()
    for i in range(4):
        rgb(40, 30).save(tmp_path / "images" / f"{i}.jpg")
    (tmp_path / "images" / "broken.jpg").write_bytes(b"not an image")
    lines = [f"images/{i}.jpg 0 1" for i in range(4)] + ["images/gone.jpg 1 0", "images/broken.jpg 1 0"]
    write_lists(tmp_path, tmp_path, lines)
    with pytest.raises(DataNotFoundError) as error:
        load_dataset.__wrapped__("list", str(tmp_path), image_size=16)
    message = str(error.value)
    assert "6 of 18 images cannot be read" in message  # three lists, two bad lines each
    assert "train.txt line 5: gone.jpg missing" in message and "train.txt line 6: broken.jpg not a readable" in message


def test_converted_modes_are_named_in_one_warning(files, tmp_path):
    lines = [f"{path} 0 1" for path in files.values()]  # absolute paths in the lists
    write_lists(tmp_path, tmp_path, lines)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_dataset.__wrapped__("list", str(tmp_path), image_size=16)
    (said,) = [str(w.message) for w in caught if "converted to RGB" in str(w.message)]
    for what in ("3 with alpha", "3 CMYK", "3 palette", "3 16-bit (clipped at 255)"):
        assert what in said


def test_lists_kept_apart_as_deephash_pytorch_keeps_them(tmp_path):
    images, lists = tmp_path / "NUS-WIDE", tmp_path / "data" / "nuswide_21"
    (images / "images").mkdir(parents=True)
    for i in range(3):
        rgb(40, 30).save(images / "images" / f"{i}.jpg")
    write_lists(images, lists, [f"images/{i}.jpg 0 1" for i in range(3)])
    (lists / "classes.txt").write_text("sky\nwater\n")
    with pytest.raises(DataNotFoundError, match="--list-dir"):
        load_dataset.__wrapped__("nus-wide", str(images), image_size=16)
    data = load_dataset.__wrapped__("nus-wide", str(images), image_size=16, lists=str(lists))
    assert len(data.database) == 3 and data.class_names == ("sky", "water")
    assert data.query.images([0]).shape == (1, 3, 16, 16)


def card(**extra):
    return ModelCard("list", "alexnet", 32, 3, (0.5,) * 3, (0.5,) * 3, source="/m", **extra)


def test_a_model_folder_keeps_its_preprocessing():
    saved = card(image_size=224, resize=224)
    assert preprocessing(saved, ModelSpec("/m")) == (224, 224)
    assert preprocessing(saved, ModelSpec("/m", image_size=224, resize=224)) == (224, 224)
    with pytest.raises(InvalidInputError, match="saved with resize 224, not 0: leave --resize unset"):
        preprocessing(saved, ModelSpec("/m", resize=0))
    with pytest.raises(InvalidInputError, match="saved with image size 224, not 64"):
        preprocessing(saved, ModelSpec("/m", image_size=64))
    assert preprocessing(card(image_size=32), ModelSpec("/m")) == (32, None)  # None: the 256/224 rule
