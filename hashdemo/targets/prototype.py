"""The PrototypeNet of THA and ProS-GAN: label vector -> semantic representation r_t -> prototype code (and, for
ProS-GAN, the predicted label); THA's training against the training set's codes, cached per model; and the
prototype codes of every training label vector as a table that ships beside a zoo model (so no page trains)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F

from ..core.paths import cache_dir, write_atomic
from ..core.progress import Progress, silent
from ..hashing.base import balance_weights
from ..models import binarize

TABLE_FILE = "prototypes.safetensors"


class PrototypeNet(nn.Module):
    """r_t = Linear(512) . ReLU . Linear(C, 4096) (y_t); prototype h_t = tanh(Linear(K) r_t); with label_head,
    the predicted label sigmoid(Linear(C) r_t) (ProS-GAN Sec. 4.2: y_t -> 4096 -> 512 -> r_t -> (y_t, h_t)).

    THA's network (Wang et al., SIGIR 2021) is the same without the label head, so both attacks share this module.
    """

    semantic_dim = 512

    def __init__(self, num_classes: int, bits: int, label_head: bool = False):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(num_classes, 4096), nn.ReLU(), nn.Linear(4096, self.semantic_dim))
        self.hash = nn.Linear(self.semantic_dim, bits)
        self.label = nn.Linear(self.semantic_dim, num_classes) if label_head else None

    def semantic(self, labels: torch.Tensor) -> torch.Tensor:
        """The semantic representation r_t of label vectors (B, C) -> (B, 512)."""
        return self.body(labels.float())

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        """The continuous prototype tanh output (B, K); its sign is the prototype code."""
        return torch.tanh(self.hash(self.semantic(labels)))

    def predict_labels(self, semantic: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.label(semantic))


def prototype_loss(
    h: torch.Tensor, labels: torch.Tensor, codes: torch.Tensor, code_labels: torch.Tensor, quantisation: float
) -> torch.Tensor:
    """ProS-GAN Eq. 3 (J1 + J2): pairwise likelihood of label/item similarity with theta = h_t . b_j / 2,
    plus quantisation ||h - sign(h)||^2.

    The likelihood is balanced between similar and dissimilar pairs (HashNet's weights): unweighted, the
    9:1 majority of dissimilar pairs on 10-class data collapses every prototype to one code (measured:
    prototype t-MAP@1000 0.12 vs 0.76 balanced on fashion DPH-32; THA's public code uses CircleLoss for
    the same reason).
    """
    s = (labels.float() @ code_labels.float().T > 0).float()
    theta = 0.5 * h @ codes.float().T
    weights = balance_weights(s)
    likelihood = (weights * (F.softplus(theta) - s * theta)).sum() / weights.sum()
    return likelihood + quantisation * (h - torch.sign(h).detach()).pow(2).mean()


def circle_pairs(
    h: torch.Tensor, codes: torch.Tensor, labels: torch.Tensor, code_labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """THA's public code's pairs for CircleLoss: similarities h_i . b_j / K of (prototype, training code) pairs that
    share a label (s_p) and that do not (s_n), taken over the upper triangle j > i of the (B, N) matrix as that
    code's `.triu(diagonal=1)` takes them (it drops at most B(B+1)/2 of the B N pairs)."""
    similarity = h @ codes.float().T / codes.shape[1]
    related = (labels.float() @ code_labels.float().T) > 0
    upper = torch.ones_like(related).triu(diagonal=1)
    return similarity[related & upper], similarity[~related & upper]


def circle_loss(positive: torch.Tensor, negative: torch.Tensor, gamma: float = 1.0) -> torch.Tensor:
    """Circle loss (Sun et al., CVPR 2020) as THA's public code writes it: no outer log(1 + e^x), m = 0, optima
    +-2: logsumexp(gamma a_n s_n) + logsumexp(-gamma a_p s_p), a_p = [2 - s_p]_+, a_n = [s_n + 2]_+ (detached)."""
    a_p = (2 - positive.detach()).clamp_min(0)
    a_n = (negative.detach() + 2).clamp_min(0)
    return torch.logsumexp(gamma * a_n * negative, 0) + torch.logsumexp(-gamma * a_p * positive, 0)


def train_prototype_net(
    codes: torch.Tensor,
    labels: torch.Tensor,
    steps: int = 2000,
    lr: float = 1e-4,
    quantisation: float = 1e-3,
    batch_size: int = 64,
    seed: int = 0,
    progress: Progress = silent,
    start: PrototypeNet | None = None,
) -> PrototypeNet:
    """Fit a PrototypeNet to the unique label vectors of the training set with Adam (THA: lr 1e-4), from new
    weights or from `start`'s (to follow codes that moved a little)."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = PrototypeNet(labels.shape[1], codes.shape[1])
    if start is not None:
        net.load_state_dict(start.state_dict())
    label_set = torch.unique(labels.bool(), dim=0)
    label_set = label_set[label_set.any(1)]
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for step in range(steps):
        progress(step, steps, "training the PrototypeNet (once per model)")
        batch = label_set[torch.randperm(len(label_set), generator=gen)[:batch_size]]
        loss = prototype_loss(net(batch), batch, codes, labels, quantisation)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval().requires_grad_(False)


_MEMORY: dict[str, PrototypeNet] = {}


def cached_prototype_net(
    codes: torch.Tensor, labels: torch.Tensor, progress: Progress = silent, **params
) -> PrototypeNet:
    """The PrototypeNet for these training codes: from memory, the disk cache, or trained now."""
    codes, labels = codes.cpu(), labels.cpu()
    digest = hashlib.sha256(
        b"prototype-net-2" + codes.numpy().tobytes() + labels.numpy().tobytes() + repr(sorted(params.items())).encode()
    ).hexdigest()[:20]
    if digest in _MEMORY:
        return _MEMORY[digest]
    path = cache_dir() / "prototypes" / f"{digest}.safetensors"
    net = PrototypeNet(labels.shape[1], codes.shape[1])
    if path.is_file():
        net.load_state_dict(load_file(str(path)))
        net.eval().requires_grad_(False)
    else:
        net = train_prototype_net(codes, labels, progress=progress, **params)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda p: save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(p)))
    _MEMORY[digest] = net
    return net


@dataclass(frozen=True)
class PrototypeTable:
    """Prototype codes of a set of label vectors (every distinct label vector of a training split), with the
    settings that trained the net they came from (None: fitted by a defence, used as it is)."""

    labels: torch.Tensor  # bool (M, C)
    codes: torch.Tensor  # int8 (M, K)
    settings: dict | None = None

    @classmethod
    def of(cls, net: PrototypeNet, labels: torch.Tensor, settings: dict | None = None) -> PrototypeTable:
        """The codes sign(P(y)) of every distinct non-empty label vector in `labels`."""
        distinct = torch.unique(labels.bool().cpu(), dim=0)
        distinct = distinct[distinct.any(1)]
        with torch.no_grad():
            return cls(distinct, binarize(net(distinct)), settings)

    def codes_for(self, target_labels: torch.Tensor) -> torch.Tensor | None:
        """The prototype code of each row, or None when a row is not in the table."""
        match = (target_labels.bool().cpu()[:, None, :] == self.labels[None]).all(2)  # (B, M)
        if not bool(match.any(1).all()):
            return None
        return self.codes[match.int().argmax(1)]

    def fits(self, settings: dict) -> bool:
        return self.settings is None or self.settings == settings

    def save(self, path: Path) -> None:
        meta = {"hashdemo": json.dumps({"settings": self.settings})}
        tensors = {"labels": self.labels.to(torch.uint8).contiguous(), "codes": self.codes.contiguous()}
        write_atomic(path, lambda p: save_file(tensors, str(p), metadata=meta))

    @classmethod
    def load(cls, path: Path) -> PrototypeTable:
        from ..models.checkpoint import read_header, read_tensors

        tensors = read_tensors(path)
        return cls(tensors["labels"].bool(), tensors["codes"], read_header(path).get("settings"))
