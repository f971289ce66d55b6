import pytest
import torch

from hashdemo.hashing import METHODS, get_method
from hashdemo.hashing.csq import hadamard, hash_centres
from hashdemo.hashing.dch import cauchy_distance


def toy_batch(seed=0, n=32, classes=4, multi=False):
    g = torch.Generator().manual_seed(seed)
    if multi:
        labels = torch.rand(n, classes, generator=g) < 0.35
        labels[torch.arange(n), torch.arange(n) % classes] = True
    else:
        labels = torch.nn.functional.one_hot(torch.arange(n) % classes, classes).bool()
    features = labels.float() @ torch.randn(classes, 16, generator=g) + 0.5 * torch.randn(n, 16, generator=g)
    return features, labels


@pytest.mark.parametrize("name", list(METHODS))
@pytest.mark.parametrize("multi", [False, True])
def test_each_loss_lowers_on_a_toy_batch(name, multi):
    torch.manual_seed(0)
    features, labels = toy_batch(multi=multi)
    loss_fn = get_method(name, 8, labels.shape[1], len(labels))
    head = torch.nn.Linear(16, 8)
    opt = torch.optim.Adam(head.parameters(), lr=0.05)
    index = torch.arange(len(labels))
    losses = []
    for step in range(60):
        loss = loss_fn(torch.tanh(loss_fn.activation_scale(step) * head(features)), labels, index)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert all(map(torch.isfinite, map(torch.tensor, losses)))
    assert min(losses[-5:]) < 0.8 * losses[0] or losses[-1] < losses[0] - 0.05


def test_dph_loss_hand_worked():
    u = torch.tensor([[1.0, 1.0], [1.0, -1.0]])
    labels = torch.tensor([[1, 0], [1, 0]]).bool()  # similar pair, S = +1 everywhere
    # R = u u^T / K = [[1, 0], [0, 1]]; (R - 1)^2 = [[0, 1], [1, 0]] -> mean 0.5
    assert get_method("dph", 2, 2, 2)(u, labels, torch.arange(2)).item() == pytest.approx(0.5)


def test_dpsh_loss_hand_worked():
    u = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])
    labels = torch.tensor([[1, 0], [0, 1]]).bool()
    loss = get_method("dpsh", 2, 2, 2, eta=0.0)(u, labels, torch.arange(2)).item()
    # theta = u_i.u_j / 2: diagonal 1 (similar), off-diagonal -1 (dissimilar)
    nll_sim, nll_dis = (
        torch.nn.functional.softplus(torch.tensor(1.0)) - 1,
        torch.nn.functional.softplus(torch.tensor(-1.0)),
    )
    assert loss == pytest.approx(((2 * nll_sim + 2 * nll_dis) / 4).item())


def test_hashnet_scale_continuation():
    m = get_method("hashnet", 8, 4, 10)
    assert m.activation_scale(0) == 1.0 and m.activation_scale(200) == pytest.approx(2**0.5)


def test_csq_centres_hadamard_and_fallback():
    h = hadamard(16)
    assert torch.equal(h @ h.T, 16 * torch.eye(16))
    centres = hash_centres(10, 16)
    assert torch.equal(centres[:10], h[:10])
    many = hash_centres(80, 32)  # 2K < C (MS-COCO at 32 bits): random centres, no assertion error
    assert many.shape == (80, 32) and set(many.unique().tolist()) == {-1.0, 1.0}
    m = get_method("csq", 32, 80, 5)
    labels = torch.zeros(2, 80, dtype=torch.bool)
    labels[0, [1, 2]] = True
    labels[1, 5] = True
    centre = m.centre_of(labels)
    assert torch.equal(centre[1], m.centres[5])
    assert set(centre[0].unique().tolist()) <= {-1.0, 1.0}


def test_dch_distance_is_normalised_hamming():
    u = torch.tensor([[1.0, 1.0, -1.0, 1.0]])
    v = torch.tensor([[1.0, -1.0, -1.0, -1.0]])
    assert cauchy_distance(u, v).item() == pytest.approx(2.0)  # two bits differ
