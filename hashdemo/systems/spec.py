"""Which system a run uses: a ModelSpec names the model with the device and data root, so they travel together."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MODEL = "zoo:fashion-dpsh-smallcnn-32"


@dataclass(frozen=True)
class ModelSpec:
    """`source` is zoo:<name>, a model folder, or python:<label> for a system built in Python
    (hashdemo.HashingSystem.from_tensors); `device` and `data_root` travel with it."""

    source: str = DEFAULT_MODEL
    device: str = "auto"
    data_root: str | None = None

    def to_json(self) -> dict:
        return {"source": self.source, "device": self.device, "data_root": self.data_root}
