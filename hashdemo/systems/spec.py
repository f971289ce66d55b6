"""Which system a run uses: a ModelSpec names the model with the device, the data root and the preprocessing it runs
with, so they travel together; once loaded it also carries the content digest of the model's weight tensors."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..core.params import Param, setting

DEFAULT_MODEL = "zoo:fashion-dpsh-smallcnn-32"

MODEL = Param("model", DEFAULT_MODEL, "zoo:<name>, or a model folder written by 'train' or 'import'", text=True)
DEVICE = Param("device", "auto", "where the model runs: auto (the GPU when present), cpu or cuda[:N]", text=True)
DATA_ROOT = Param(
    "data_root",
    None,
    "your copy of the dataset; unset: where the model folder says (the shipped fashion data needs none)",
    optional=True,
    text=True,
    label="data root",
)
LIST_DIR = Param(
    "list_dir",
    None,
    "the folder of a list-file dataset's train.txt, test.txt and database.txt when they are not in the data root "
    "(DeepHash-pytorch's ./data/<name>/); unset: where the model folder says",
    optional=True,
    text=True,
    label="list folder",
)
IMAGE_SIZE = Param(
    "image_size",
    None,
    "pixels of the square crop the net takes from file-based data; unset: what the model folder says",
    8,
    4096,
    integer=True,
    optional=True,
    label="image size",
)
RESIZE = Param(
    "resize",
    None,
    "the shorter side file-based data is resized to before the centre crop (torchvision's Resize), 0: no resize; "
    "unset: what the model folder says, else image size x 256/224 (256 for 224)",
    0,
    16384,
    integer=True,
    optional=True,
)


@dataclass(frozen=True)
class ModelSpec:
    """`source` is zoo:<name>, a model folder, or python:<label> for a system built in Python
    (hashdemo.HashingSystem.from_tensors); `digest` is filled when the system is loaded (load_system): a digest of
    the weight tensors' contents, the same wherever the folder lies and whatever data root it names."""

    source: str = setting(MODEL, "model")
    device: str = setting(DEVICE, "model")
    data_root: str | None = setting(DATA_ROOT, "model")
    list_dir: str | None = setting(LIST_DIR, "model")
    image_size: int | None = setting(IMAGE_SIZE, "model")
    resize: int | None = setting(RESIZE, "model")
    digest: str = ""

    def to_json(self) -> dict:
        return asdict(self)  # every field, in declaration order
