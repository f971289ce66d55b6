"""DHTA as its authors' code runs it: the same images as an independent re-writing of that script, exact-label
anchors by brute force, and the budget read in the model's normalised units."""

import pytest
import torch
from conftest import random_codes

from hashdemo import attacks, wrap
from hashdemo.attacks import Knowledge
from hashdemo.attacks.budget import Budget
from hashdemo.attacks.loop import Loop
from hashdemo.core.units import UNIT
from hashdemo.run.protocols import get_protocol
from hashdemo.run.settings import protocol_lines, resolve
from hashdemo.targets.codes import anchor_code, vote

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # ImageNet's, as attack_imagenet.py normalises


def authors_factor(n: int) -> float:
    """attack_imagenet.py's get_factor, as a table by absolute iteration."""
    for end, factor in ((1000, 0.1), (1200, 0.2), (1400, 0.3), (1600, 0.5), (1800, 0.7)):
        if n < end:
            return factor
    return 1.0


def authors_attack(net, x, target, eps, alpha, steps):
    """One query at a time, in normalised units: delta from 0, delta -= alpha g / ||g||_2, then back to valid
    pixels and into [-eps, eps] (float64, written from the script's description)."""
    mean, std = torch.tensor(MEAN).view(1, 3, 1, 1).double(), torch.tensor(STD).view(1, 3, 1, 1).double()
    out = []
    for query, code in zip((x - mean) / std, target.double(), strict=True):
        query = query[None]
        delta = torch.zeros_like(query, requires_grad=True)
        for i in range(steps):
            output = torch.tanh(authors_factor(i) * net(query + delta))
            loss = -(output @ code[:, None]).sum() / output.shape[1]
            (g,) = torch.autograd.grad(loss, delta)
            with torch.no_grad():
                moved = delta - alpha * g / g.norm()
                pixels = ((moved + query) * std + mean).clamp(0, 1)
                delta = ((pixels - mean) / std - query).clamp(-eps, eps).requires_grad_(True)
        out.append(((query + delta) * std + mean).detach())
    return torch.cat(out)


@pytest.fixture(scope="module")
def small_world():
    """A tiny float64 net on 3x8x8 images wrapped with ImageNet's normalisation, and a database of 40 codes."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 24), torch.nn.Tanh(), torch.nn.Linear(24, 12))
    model = wrap(net.double(), mean=MEAN, std=STD, bits=12).double()
    g = torch.Generator().manual_seed(1)
    labels = torch.nn.functional.one_hot(torch.arange(40) % 4, 4).bool()
    knowledge = Knowledge(database_codes=random_codes(40, 12, g), database_labels=labels, train_labels=labels)
    images = torch.rand(2, 3, 8, 8, generator=g, dtype=torch.float64)  # two: each query steps alone
    return model, knowledge, images, labels[:2]


def test_equals_the_authors_script_at_its_2000_steps(small_world):
    model, knowledge, images, labels = small_world
    attack = attacks.get("dhta-master", model, knowledge=knowledge, n_t=5)
    budget = Budget.from_255(eps=0.032 * 255, steps=2000)
    result = attack(images, labels, budget=budget, loop=attack.paper_setting.loop)
    theirs = authors_attack(model.net, images, result.target_codes, eps=0.032, alpha=1.0, steps=2000)
    assert torch.allclose(result.adversarial, theirs, atol=1e-9)
    assert torch.equal(result.adversarial_codes, model.encode(theirs))
    moved = (result.adversarial - images).abs().amax(dim=(0, 2, 3))
    assert moved.tolist() == pytest.approx([0.032 * s for s in STD])  # the budget is reached in every channel


def test_budget_is_read_in_normalised_units_on_the_shipped_model(system):
    x, y = system.dataset.query.images(range(8)), system.dataset.query.labels[:8]
    std = float(system.model.input_std())
    result = attacks.get("dhta-master", system)(x, y, budget=Budget.from_255(eps=8, steps=30))
    assert float(result.linf.max()) <= 8 * UNIT * std + 1e-6 < 8 * UNIT
    assert result.settings["eps_units"] == "normalised"
    assert result.settings["eps_pixels"] == [pytest.approx(8 * std, abs=1e-4)]


def test_anchor_votes_only_items_with_exactly_the_target_label():
    g = torch.Generator().manual_seed(3)
    codes = random_codes(12, 6, g)
    labels = torch.tensor([[1, 0, 0], [1, 1, 0], [1, 0, 1], [0, 1, 0]] * 3, dtype=torch.bool)
    target = torch.tensor([[True, False, False]])
    exact = [i for i in range(12) if labels[i].tolist() == [True, False, False]]  # brute force: rows 0, 4, 8
    anchor = anchor_code(target, codes, labels, 3, torch.Generator().manual_seed(0), exact=True)
    assert exact == [0, 4, 8] and torch.equal(anchor[0], vote(codes[exact]))
    carrying = anchor_code(target, codes, labels, 9, torch.Generator().manual_seed(0))
    assert torch.equal(carrying[0], vote(codes[[i for i in range(12) if labels[i, 0]]]))


def test_targets_come_from_label_vectors_more_than_n_t_items_have(small_world):
    model, knowledge, _images, _labels = small_world
    rare = knowledge.database_labels.clone()
    rare[rare[:, 3]] = torch.tensor([False, False, True, True])  # class 3's ten items now carry {2, 3}
    rare[torch.nonzero(rare[:, 1]).flatten()[:6]] = torch.tensor([False, False, False, True])  # six carry {3}
    few = Knowledge(database_codes=knowledge.database_codes, database_labels=rare, train_labels=rare)
    pool = attacks.get("dhta-master", model, knowledge=few, n_t=5).target_pool()
    kept = {tuple(map(int, row)) for row in pool}
    assert kept == {(1, 0, 0, 0), (0, 0, 1, 0), (0, 0, 1, 1), (0, 0, 0, 1)}  # {1} has 4 items left: not > 5


def test_the_protocol_names_the_variant_each_row_runs():
    lines = protocol_lines(get_protocol("dhta-master"))
    row = next(line for line in lines if line.startswith("row dhta-master: DHTA (authors' code)"))
    assert "eps 8.16/255 in the model's normalised units" in row
    assert "t-MAP over the queries with a hit in their top K" in lines
    settings = resolve("dhta-master", "dhta-master")
    assert settings.steps == 2000 and settings.loop == Loop("l2", schedule="hag") and settings.t_map_over == "hit"
    assert "L2-normalised step of length 1" in settings.describe()
