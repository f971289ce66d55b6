"""The PrototypeNet of THA and ProS-GAN: label vector -> semantic representation r_t -> prototype code (and, for
ProS-GAN, the predicted label); THA's training against the training set's codes, cached per model."""

from __future__ import annotations

import hashlib

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F

from .hashing.base import balance_weights
from .paths import cache_dir
from .progress import Progress, silent


class PrototypeNet(nn.Module):
    """r_t = Linear(512) . ReLU . Linear(C, 4096) (y_t); prototype h_t = tanh(Linear(K) r_t); with label_head,
    the predicted label sigmoid(Linear(C) r_t) (ProS-GAN Sec. 4.2: y_t -> 4096 -> 512 -> r_t -> (y_t, h_t)).

    THA's network (implementations.md) is the same without the label head, so both attacks share this module.
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
        if step % 50 == 0:
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
        tmp = path.with_suffix(".tmp")
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(tmp))
        tmp.replace(path)
    _MEMORY[digest] = net
    return net
