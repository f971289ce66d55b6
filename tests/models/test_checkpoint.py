"""Model folders: safetensors round trip, packed codes, refused pickles, and the meta.json schema."""

import json
import pickle
import re
import shutil

import pytest
import torch

from hashdemo.core.errors import DataNotFoundError, InvalidInputError, UnsafeFileError
from hashdemo.models import build_model, checkpoint
from hashdemo.models.card import FORMAT, ModelCard

META = ModelCard(dataset="fashion", backbone="smallcnn", bits=16, in_channels=1, mean=(0.3,), std=(0.4,), alpha=1.5)


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = build_model("smallcnn", 16, 1, (0.3,), (0.4,), alpha=1.5).eval()
    codes = {
        "database": torch.where(torch.rand(50, 16) < 0.5, -1, 1).to(torch.int8),
        "train": torch.where(torch.rand(9, 16) < 0.5, -1, 1).to(torch.int8),
    }
    checkpoint.save(tmp_path / "m", model, META, codes)
    return tmp_path / "m", model, codes


def test_round_trip(saved):
    folder, model, codes = saved
    loaded, card, loaded_codes = checkpoint.load(folder)
    x = torch.rand(4, 1, 28, 28)
    assert torch.allclose(loaded(x), model(x), atol=1e-5)  # loading folds BatchNorm (inference form)
    assert card.bits == 16 and card.to_json()["format"] == FORMAT
    assert all(torch.equal(loaded_codes[k], codes[k]) for k in codes)
    assert not any(p.requires_grad for p in loaded.parameters()) and not loaded.training


def test_code_packing_is_eight_times_smaller():
    codes = torch.where(torch.rand(10, 64) < 0.5, -1, 1).to(torch.int8)
    packed = checkpoint.pack_codes(codes)
    assert packed.shape == (10, 8) and torch.equal(checkpoint.unpack_codes(packed, 64), codes)


def test_pickled_checkpoint_is_refused(saved, tmp_path):
    folder, model, _ = saved
    torch.save(model.state_dict(), folder / "model.safetensors")  # a torch zip pickle under the right name
    with pytest.raises(UnsafeFileError, match="never unpickles"):
        checkpoint.load(folder)
    (folder / "model.safetensors").write_bytes(pickle.dumps({"weights": 1}))
    with pytest.raises(UnsafeFileError):
        checkpoint.load(folder)


def test_corrupt_checkpoint(saved):
    folder, _, _ = saved
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[:200])
    with pytest.raises(InvalidInputError, match="corrupt"):
        checkpoint.load(folder)
    (folder / "model.safetensors").write_bytes(b"hello world, not weights")
    with pytest.raises(InvalidInputError, match="not a safetensors file"):
        checkpoint.load(folder)


def test_wrong_bit_length_in_metadata(saved, tmp_path):
    folder, _, _ = saved
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    text = (copy / "meta.json").read_text().replace('"bits": 16', '"bits": 32')
    (copy / "meta.json").write_text(text)
    with pytest.raises(InvalidInputError, match="meta.json says 32 bits but the weights have 16"):
        checkpoint.load(copy)


def test_a_frozen_model_saves_and_loads(saved, tmp_path):
    """freeze() folds BatchNorm into the convolutions; the folder records it and load rebuilds that form."""
    _, model, codes = saved
    frozen = model.freeze()
    checkpoint.save(tmp_path / "frozen", frozen, META, codes)
    loaded, card, _ = checkpoint.load(tmp_path / "frozen")
    x = torch.rand(3, 1, 28, 28)
    assert card.folded and torch.equal(loaded(x), frozen(x))


@pytest.mark.parametrize(
    "drop, message",
    [
        ("bits", "meta.json lacks bits (the code length K)"),
        ("backbone", "meta.json lacks backbone"),
        ("mean", "lacks mean (per-channel normalisation mean"),
    ],
)
def test_missing_meta_fields_are_named_one_by_one(saved, tmp_path, drop, message):
    folder, _, _ = saved
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    meta = json.loads((copy / "meta.json").read_text())
    del meta[drop]
    (copy / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        checkpoint.load(copy)


def test_meta_field_types_and_a_missing_meta(saved, tmp_path):
    folder, _, _ = saved
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "bits": "sixteen"}))
    with pytest.raises(InvalidInputError, match="bits must be the code length K, got 'sixteen'"):
        checkpoint.load(folder)
    (folder / "meta.json").unlink()
    with pytest.raises(DataNotFoundError, match="the schema is in the README"):
        checkpoint.load(folder)


def test_a_card_is_read_again_when_its_folder_changes(saved):
    folder, _, codes = saved
    first = checkpoint.card_of(folder, str(folder), "yours")
    assert checkpoint.card_of(folder, str(folder), "yours") is first  # unchanged: not read again
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "alpha": 2.5}))
    assert checkpoint.card_of(folder, str(folder), "yours").alpha == 2.5
    torch.manual_seed(1)
    checkpoint.save(folder, build_model("smallcnn", 16, 1, (0.3,), (0.4,), alpha=1.5).eval(), META, codes)
    assert checkpoint.card_of(folder, str(folder), "yours").weights != first.weights  # new weights, new digest
    (folder / "prosgan.safetensors").write_bytes(b"")
    assert checkpoint.card_of(folder, str(folder), "yours").attacks == ("prosgan",)
