"""What an attack returns: adversarial images, codes, target code, timing, a per-iteration trace and snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..retrieval import metrics


@dataclass
class Trace:
    """Per iterate t = 0..T (rows) and query (columns): loss, Hamming distance to the clean and target codes."""

    loss: torch.Tensor  # float (T+1, B)
    hamming_to_clean: torch.Tensor  # int (T+1, B)
    hamming_to_target: torch.Tensor | None  # int (T+1, B), None when the attack has no target code
    scale: torch.Tensor  # float (T+1,): the tanh(alpha * H) scale in use


@dataclass
class Snapshot:
    """The iterate x_n at a requested iteration n of the same run (HAG Table I, PgA Fig. 5a report MAP at n)."""

    codes: torch.Tensor  # int8 (B, K)
    perceptibility_rmse: torch.Tensor  # (B,)
    linf: torch.Tensor  # (B,)
    images: torch.Tensor | None = None  # (B, C, H, W) when asked for (the Attack Lab's iteration scrubber)

    def to(self, device) -> Snapshot:
        move = lambda t: None if t is None else t.to(device)
        return Snapshot(
            self.codes.to(device), self.perceptibility_rmse.to(device), self.linf.to(device), move(self.images)
        )


@dataclass
class AttackResult:
    """One attacked batch; every tensor on the device the images came from (as torchattacks returns them)."""

    attack: str
    images: torch.Tensor  # clean, (B, C, H, W) in [0,1]
    adversarial: torch.Tensor  # (B, C, H, W) in [0,1]
    clean_codes: torch.Tensor  # int8 (B, K)
    adversarial_codes: torch.Tensor  # int8 (B, K)
    target_codes: torch.Tensor | None  # int8 (B, K): pharos / anchor / prototype code, if any
    target_labels: torch.Tensor | None  # bool (B, C) for targeted attacks
    trace: Trace
    seconds: float  # wall time of the attack itself
    setup_seconds: float = 0.0  # one-off work outside it (training a PrototypeNet)
    settings: dict = field(default_factory=dict)
    snapshots: dict[int, Snapshot] = field(default_factory=dict)
    plan: Any = None  # what the attack's prepare() worked out (the Plan: target code, ProS-GAN's semantic map, ...)

    @property
    def perturbation(self) -> torch.Tensor:
        return self.adversarial - self.images

    @property
    def linf(self) -> torch.Tensor:
        return metrics.linf(self.images, self.adversarial)

    @property
    def perceptibility_rmse(self) -> torch.Tensor:
        return metrics.perceptibility_rmse(self.images, self.adversarial)

    @property
    def hamming(self) -> torch.Tensor:
        """Bits flipped between the clean and adversarial codes, per query."""
        return (self.clean_codes != self.adversarial_codes).sum(1)
