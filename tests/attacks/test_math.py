"""Attack maths against independent computations: brute force over all 2^K codes and hand-worked values."""

import itertools

import pytest
import torch
from conftest import random_codes

from hashdemo import attacks
from hashdemo.attacks import Knowledge, Loop
from hashdemo.attacks.budget import Budget
from hashdemo.attacks.loop import hag_schedule, optimise
from hashdemo.attacks.losses import hag_loss, pga_dagger_loss, pga_loss, sdha_loss
from hashdemo.core.errors import InvalidInputError
from hashdemo.models import build_model
from hashdemo.run.settings import resolve
from hashdemo.targets.codes import anchor_code, dice, pharos_code, relevant_code_sets, vote


def all_codes(bits):
    return torch.tensor(list(itertools.product([-1, 1], repeat=bits)), dtype=torch.int8)


def hamming(a, b):
    return int((a != b).sum())


@pytest.mark.parametrize("seed", range(4))
def test_pharos_code_is_optimal_by_brute_force(seed):
    g = torch.Generator().manual_seed(seed)
    bits, n = 6, 14
    codes = random_codes(n, bits, g)
    labels = torch.rand(n, 4, generator=g) < 0.4
    labels[:, 0] |= ~labels.any(1)
    query = torch.rand(1, 4, generator=g) < 0.5
    query[0, 1] = True
    s = dice(query, labels)[0]
    pos = [i for i in range(n) if s[i] > 0]
    neg = [j for j in range(n) if s[j] == 0]

    def psi(b):  # PgA Eq. 6, the double sum written out
        return sum(s[i] * hamming(b, codes[i]) - (1 - s[j]) * hamming(b, codes[j]) for i in pos for j in neg)

    best = min(float(psi(b)) for b in all_codes(bits))
    assert float(psi(pharos_code(query, codes, labels)[0])) == pytest.approx(best)


def test_dice_hand_worked():
    q = torch.tensor([[1, 1, 0]], dtype=torch.bool)
    items = torch.tensor([[1, 0, 0], [0, 0, 1], [1, 1, 1]], dtype=torch.bool)
    assert dice(q, items)[0].tolist() == pytest.approx([2 / 3, 0.0, 0.8])


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_vote_minimises_summed_hamming_distance(n):
    g = torch.Generator().manual_seed(n)
    codes = random_codes(n, 7, g)
    best = min(sum(hamming(b, c) for c in codes) for b in all_codes(7))
    assert sum(hamming(vote(codes), c) for c in codes) == best


def test_anchor_draws_without_replacement_from_target_items():
    g = torch.Generator().manual_seed(0)
    codes = random_codes(30, 8, g)
    labels = torch.nn.functional.one_hot(torch.arange(30) % 3, 3).bool()
    target = torch.tensor([[False, True, False]])
    members = torch.nonzero(labels[:, 1]).flatten()
    # n_t = all ten members: without replacement the anchor is the vote of exactly those codes
    anchor = anchor_code(target, codes, labels, 10, torch.Generator().manual_seed(1))
    assert torch.equal(anchor[0], vote(codes[members]))
    p2p = anchor_code(target, codes, labels, 1, torch.Generator().manual_seed(2))
    assert any(torch.equal(p2p[0], codes[i]) for i in members)


def test_hag_schedule_matches_paper():
    paper = [hag_schedule(t, 2000) for t in range(2000)]
    assert paper[:1000] == [0.1] * 1000
    assert [paper[1000 + 200 * i] for i in range(5)] == [0.2, 0.3, 0.5, 0.7, 1.0]
    assert paper[1199] == 0.2 and paper[1999] == 1.0
    short = [hag_schedule(t, 100) for t in range(100)]
    assert short[49] == 0.1 and short[50] == 0.2 and short[99] == 1.0


def test_hag_loss_hand_worked():
    clean = torch.tensor([[0.9, -0.8, 0.5]])
    out = torch.tensor([[0.2, 0.7, -0.9]])
    # |out - sign(clean)| = 0.8, 1.7, 1.9 -> mask (1, 0, 0) at t = 0.5; m = 1; (0.9 * 0.2 + 1)^2
    assert hag_loss(out, clean, 0.5).item() == pytest.approx(1.18**2)
    # t = 0.8 lets the second bit back in (1.7 < 1.8) but not the third (1.9): m = 2
    assert hag_loss(out, clean, 0.8).item() == pytest.approx(((0.18 - 0.56) / 2 + 1) ** 2)
    # t = 1.0: all three bits, m = 3
    assert hag_loss(out, clean, 1.0).item() == pytest.approx(((0.18 - 0.56 - 0.45) / 3 + 1) ** 2)


def test_pga_loss_weights_and_mask_hand_worked():
    pharos = torch.tensor([[1.0, -1.0, 1.0, 1.0]])
    out = torch.tensor([[0.5, 0.5, -0.9, -0.7]], requires_grad=True)
    # u = (0.5, -0.5, -0.9, -0.7); mask u > -0.8 -> (1, 1, 0, 1); w = u + 1.6 -> (2.1, 1.1, ., 0.9)
    loss = pga_loss(out, pharos, -0.8)
    assert loss.item() == pytest.approx((2.1 * 0.5 + 1.1 * -0.5 + 0.9 * -0.7) / 3)
    loss.backward()
    # omega is a weight (Eq. 11-12), fixed within the step: d/du_k = w_k / pi, times b*_k; masked bit: none
    assert out.grad[0].tolist() == pytest.approx([2.1 / 3, -1.1 / 3, 0.0, 0.9 / 3])
    assert pga_dagger_loss(out.detach(), pharos).item() == pytest.approx((0.5 - 0.5 - 0.9 - 0.7) / 4)


def test_pga_loss_with_differentiable_weights_hand_worked():
    pharos = torch.tensor([[1.0, -1.0, 1.0, 1.0]])
    out = torch.tensor([[0.5, 0.5, -0.9, -0.7]], requires_grad=True)
    loss = pga_loss(out, pharos, -0.8, fixed_weights=False)
    assert loss.item() == pytest.approx((2.1 * 0.5 + 1.1 * -0.5 + 0.9 * -0.7) / 3)  # same value
    loss.backward()
    # d/du (u - 2t) u = 2 (u - t); times b*_k / pi
    assert out.grad[0].tolist() == pytest.approx([2 * 1.3 / 3, -2 * 0.3 / 3, 0.0, 2 * 0.1 / 3])


def test_sdha_loss_against_direct_computation():
    g = torch.Generator().manual_seed(3)
    train = random_codes(12, 5, g)
    train[5] = train[2]  # a duplicate, to check deduplication keeps its weight
    labels = torch.nn.functional.one_hot(torch.arange(12) % 2, 2).bool()
    q_labels = torch.tensor([[True, False]])
    out = torch.rand(1, 5, generator=g) * 2 - 1
    x, x_adv = torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 0.1)
    codes, counts = relevant_code_sets(q_labels, train, labels, train[:1])
    value = sdha_loss(out, x_adv, x, codes, counts, sigma=5.0, z=0.5, weight=25.0)
    q = out[0]
    terms = []
    for r in train[labels[:, 0]].float():
        sg = torch.sigmoid(5 * q * r)
        d = (0.5 * (q - r).abs() * sg + 1 - sg).sum()
        ham = 0.5 * (5 - torch.where(q > 0, 1.0, -1.0) @ r)
        terms.append(d * (ham + 1e-8) ** -0.5)
    expected = 0.01 - 25 / 5 * torch.stack(terms).mean()
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)


def test_loop_projects_and_steps_by_sign():
    x = torch.full((2, 1, 4, 4), 0.5)
    seen = []

    def objective(x_adv, scale, rows):
        signs = torch.tensor([1.0, -1.0]) if rows is None else torch.tensor([1.0, -1.0])[rows]
        return (x_adv * signs.view(-1, 1, 1, 1)).flatten(1).sum(1), x_adv.flatten(1)[:, :3]

    out = optimise(
        x, x, objective, lambda t, s, x_t, loss, pre: seen.append(t), eps=0.1, step_size=0.03, steps=5, loop=Loop()
    )
    # the first image descends, the second ascends, each until the eps-ball stops it
    assert torch.allclose(out[0], torch.full((1, 4, 4), 0.4)) and torch.allclose(out[1], torch.full((1, 4, 4), 0.6))
    assert seen == [0, 1, 2, 3, 4, 5]


def test_dhta_in_the_prosgan_protocol_takes_the_scripts_plain_gradient_step(tiny):
    """ProS-GAN's DHTA script: delta -= 1 * grad of -mean(h * anchor) over its batch of 32 queries and K bits,
    clipped to eps and to [0,1], from x; hashdemo's SGD at lr 1/32 on each query's -(1/K) h . anchor is that step."""
    settings = resolve("prosgan", "dhta")
    assert settings.loop == Loop("sgd", lr=1 / 32, momentum=0.0, schedule="hag") and settings.budget.steps == 2000
    assert resolve("prosgan-sign", "dhta").loop == Loop(schedule="hag") == resolve("pga", "p2p").loop  # sign steps
    model, knowledge = tiny
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    labels = torch.nn.functional.one_hot(torch.tensor([0, 1, 2]), 4).bool()
    budget = Budget.from_255(eps=8, step=1, steps=2, seed=0)
    result = attacks.get("dhta", model, knowledge=knowledge)(x, labels, budget=budget, loop=settings.loop)
    anchor, x_adv = result.target_codes.float(), x.clone()
    for t in range(2):  # the script's update, written out
        x_adv.requires_grad_(True)
        h = torch.tanh(hag_schedule(t, 2) * model.pre_tanh(x_adv))
        loss = -(h * anchor).sum() / (32 * h.shape[1])  # its mean over a batch of 32 queries and K bits
        (grad,) = torch.autograd.grad(loss, x_adv)
        delta = (x_adv.detach() - grad - x).clamp(-budget.eps, budget.eps)
        x_adv = (x + delta).clamp(0, 1)
    assert torch.allclose(result.adversarial, x_adv, atol=1e-6)


# ----- validation --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model = build_model("smallcnn", 8, 1, (0.5,), (0.5,)).eval().requires_grad_(False)
    g = torch.Generator().manual_seed(0)
    labels = torch.nn.functional.one_hot(torch.arange(40) % 4, 4).bool()
    knowledge = Knowledge(random_codes(40, 8, g), labels, random_codes(40, 8, g), labels)
    return model, knowledge


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"eps": -0.1}, r"epsilon must be in \[0, 255\] \(1/255\)"),
        ({"eps": 300}, r"epsilon must be in \[0, 255\]"),
        ({"steps": 0}, r"iterations T must be a whole number in \[1, 5000\]"),
        ({"steps": 2.5}, "iterations T must be a whole number"),
        ({"step": 0}, r"step size must be in \(0, 255\]"),
        ({"seed": -1}, "seed must be"),
    ],
)
def test_budget_validation_in_the_users_units(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        Budget.from_255(**kwargs)


@pytest.mark.parametrize(
    "loop, message",
    [
        (Loop(optimiser="lbfgs"), "optimiser must be one of pgd, l2, apgd, sgd, adam"),
        (Loop(optimiser="sgd"), "needs a positive learning rate"),
        (Loop(schedule="cosine"), "schedule must be one of none, hag"),
        (Loop(momentum=1.0), r"momentum must be in \[0, 1\)"),
    ],
)
def test_loop_validation(tiny, loop, message):
    model, knowledge = tiny
    x, y = torch.rand(2, 1, 28, 28), torch.nn.functional.one_hot(torch.tensor([0, 1]), 4).bool()
    with pytest.raises(InvalidInputError, match=message):
        attacks.get("pga", model, knowledge=knowledge)(x, y, budget=Budget.from_255(steps=1), loop=loop)


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("pga", {"gamma": 3}, "PgA has no setting gamma; it takes t, omega"),
        ("pga", {"t": 0.3}, r"margin t \(PgA\) must be in \(-1, 0\)"),
        ("pga", {"omega": "learned"}, "must be one of fixed, differentiable"),
        ("hag", {"t": -0.2}, r"margin t \(HAG mask\) must be in \[0, 1\]"),
        ("dhta", {"n_t": 0}, "n_t must be a whole number of at least 1"),
        ("dhta", {"n_t": 2.5}, "n_t must be a whole number"),
        ("p2p", {"n_t": 3}, r"n_t must be a whole number in \[1, 1\]"),
    ],
)
def test_method_parameters_are_checked_against_their_declaration(tiny, name, params, message):
    model, knowledge = tiny
    with pytest.raises(InvalidInputError, match=message):
        attacks.get(name, model, knowledge=knowledge, **params)


def test_missing_knowledge_and_unknown_attack(tiny):
    model, _ = tiny
    with pytest.raises(InvalidInputError, match="needs train codes"):
        attacks.get("pga", model)
    with pytest.raises(InvalidInputError, match="unknown attack"):
        attacks.get("zzz", model)


def test_call_validation(tiny):
    model, knowledge = tiny
    x = torch.rand(2, 1, 28, 28)
    y = torch.nn.functional.one_hot(torch.tensor([0, 1]), 4).bool()
    one = {"budget": Budget.from_255(steps=1)}
    with pytest.raises(InvalidInputError, match="needs the queries' labels"):
        attacks.get("pga", model, knowledge=knowledge)(x, **one)
    with pytest.raises(InvalidInputError, match="give target_labels, or labels"):
        attacks.get("dhta", model, knowledge=knowledge)(x, **one)
    with pytest.raises(InvalidInputError, match="must differ from the query's labels"):
        attacks.get("dhta", model, knowledge=knowledge)(x, y, target_labels=y, **one)
    with pytest.raises(InvalidInputError, match=r"in \[0, 1\]"):
        attacks.get("hag", model)(x * 255, **one)
    with pytest.raises(InvalidInputError, match="multi-hot of shape"):
        attacks.get("pga", model, knowledge=knowledge)(x, y[:, :3], **one)
    with pytest.raises(InvalidInputError, match="float tensor"):
        attacks.get("hag", model)(torch.zeros(2, 28, 28, dtype=torch.uint8), **one)
    with pytest.raises(InvalidInputError, match="snapshots must be taken at iterations 0..1"):
        attacks.get("hag", model)(x, **one, record_at=[2])
