"""Defences and robustness evaluation: the defences' loss terms against hand computations, a defended training
step, resuming the training loop, the worst case as a minimum, the breaking budget by bisection against a linear
scan, APGD, the leaderboard CLI against the library."""

import json
import math
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file

from hashdemo import attacks
from hashdemo.attacks import AttackResult, Loop
from hashdemo.attacks.budget import Budget
from hashdemo.core.errors import InvalidInputError
from hashdemo.core.progress import Stopped
from hashdemo.defences import get_defence, inner_settings
from hashdemo.experiments import robustness
from hashdemo.hashing import get_method
from hashdemo.models import build_model
from hashdemo.retrieval import metrics
from hashdemo.run.driver import run_attack
from hashdemo.run.settings import Choices, resolve
from hashdemo.systems.zoo import resolve_folder
from hashdemo.targets.prototype import circle_loss, circle_pairs
from hashdemo.training.train import STATE, STATE_JSON, TrainConfig, train

BUDGET = Budget.from_255(8, 2, 7, True, 0)
INNER = lambda name: inner_settings(name, 8, 2, 7, 0)  # the same budget as a defence's inner run
AUTHORS = dict(
    codes="memory", clean="memory", prototype="joint", targets="uniform", inner_mode="train"
)  # ATRDH's script


def test_atrdh_term_hand_worked():
    defence = get_defence("atrdh", INNER("atrdh"), num_classes=2, bits=2)
    u_clean = torch.tensor([[0.9, -0.2], [-0.5, 0.7]])
    u_adv = torch.tensor([[0.5, 0.5], [-1.0, 0.0]])
    labels = torch.tensor([[True, False], [False, True]])
    # clean codes (1,-1), (-1,1); S = [[1,-1],[-1,1]]; R = u_adv . b_j / 2
    r = torch.tensor([[0.0, 0.0], [-0.5, 0.5]])
    s = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
    expected = ((r - s) ** 2).mean()
    assert defence.loss(u_clean, u_adv, labels, None, torch.arange(2)).item() == pytest.approx(expected.item())


def test_atrdh_memory_term_is_the_authors_code():
    """codes=memory: the adversarial outputs against a memory of every training item's clean output (zero until
    its batch is seen), S in {+1, -1} over all training items (the authors' defence script)."""
    defence = get_defence("atrdh", INNER("atrdh"), num_classes=2, bits=2, codes="memory")
    defence.train_labels = torch.tensor([[True, False], [False, True], [True, False]])
    defence.memory = torch.zeros(3, 2)
    u_clean = torch.tensor([[0.9, -0.2]])
    u_adv = torch.tensor([[0.5, 0.5]])
    value = defence.loss(u_clean, u_adv, defence.train_labels[[2]], None, torch.tensor([2]))
    # memory row 2 = (0.9, -0.2); rows 0, 1 still 0; S = (1, -1, 1); R = u_adv . m_j / K = (0, 0, 0.35 / 2)
    expected = ((torch.tensor([0.0, 0.0, 0.175]) - torch.tensor([1.0, -1.0, 1.0])) ** 2).mean()
    assert value.item() == pytest.approx(expected.item())
    assert torch.equal(defence.memory[2], u_clean[0])


def test_atrdh_clean_term_against_the_memory_is_the_authors_code():
    """clean=memory: the clean outputs' DPH term against the memory, this batch's row written first (the script
    writes U_ben before both terms); clean=method keeps the hashing method's own loss."""
    defence = get_defence("atrdh", INNER("atrdh"), num_classes=2, bits=2, clean="memory")
    defence.train_labels = torch.tensor([[True, False], [False, True], [True, False]])
    defence.memory = torch.zeros(3, 2)
    u_clean = torch.tensor([[0.9, -0.2]])
    value = defence.clean_loss(torch.tensor(5.0), u_clean, defence.train_labels[[2]], torch.tensor([2]))
    # memory row 2 = (0.9, -0.2): R = u . m_j / K = (0, 0, 0.85 / 2); S = (1, -1, 1)
    expected = ((torch.tensor([0.0, 0.0, 0.425]) - torch.tensor([1.0, -1.0, 1.0])) ** 2).mean()
    assert value.item() == pytest.approx(expected.item())
    method = get_defence("atrdh", INNER("atrdh"), num_classes=2, bits=2)
    assert method.clean_loss(torch.tensor(5.0), u_clean, None, torch.tensor([2])).item() == 5.0


def test_circle_loss_and_its_pairs_hand_worked():
    # a_p = 2 - 0.5 = 1.5, a_n = (1.5, 2): logsumexp(1.5 * -0.5, 2 * 0) + logsumexp(-1.5 * 0.5)
    expected = math.log(math.exp(-0.75) + 1) - 0.75
    assert circle_loss(torch.tensor([0.5]), torch.tensor([-0.5, 0.0])).item() == pytest.approx(expected)
    h = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    codes = torch.tensor([[1, 1], [1, -1], [-1, 1]], dtype=torch.int8)
    labels = torch.tensor([[True, False], [False, True]])
    code_labels = torch.tensor([[True, False], [True, False], [False, True]])
    positive, negative = circle_pairs(h, codes, labels, code_labels)
    # kept pairs j > i: (0, 1) similar -> 1/2; (0, 2) dissimilar -> -1/2; (1, 2) similar -> 1/2
    assert positive.tolist() == [0.5, 0.5] and negative.tolist() == [-0.5]


def test_atrdh_targets_uniform_may_be_the_images_own_label():
    defence = get_defence("atrdh", INNER("atrdh"), num_classes=10, bits=32, targets="uniform")
    defence.target_pool = torch.eye(10, dtype=torch.bool)
    labels = torch.eye(10, dtype=torch.bool)[torch.arange(40) % 10]
    uniform = defence.draw_targets(labels, step=3)
    assert (uniform & labels).any(1).any() and torch.equal(uniform, defence.draw_targets(labels, step=3))
    defence.params["targets"] = "disjoint"
    assert not (defence.draw_targets(labels, step=3) & labels).any()


def test_atrdh_authors_inner_attack_runs_in_train_mode_and_trains_the_prototypes(system):
    torch.manual_seed(0)
    model = build_model("smallcnn", 32, 1, (0.2856,), (0.3519,))
    model.load_state_dict(load_file(str(resolve_folder("zoo:fashion-dph-smallcnn-32") / "model.safetensors")))
    data = replace(system.dataset, train=system.dataset.train.subset(torch.arange(500)))
    defence = get_defence("atrdh", INNER("atrdh"), 10, 32, 100, prototype="joint", inner_mode="train")
    defence.start_epoch(model, data, 0)
    x, y = data.train.images(range(16)), data.train.labels[:16]
    bn = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    before, weights = bn.running_mean.clone(), defence.prototype_net.hash.weight.clone()
    model.train()
    inner = defence.adversarial(model, x, y, step=60)
    assert model.training and not torch.equal(bn.running_mean, before)  # batch statistics, running ones updated
    assert not torch.equal(defence.prototype_net.hash.weight, weights)  # one CircleLoss step
    assert defence.prototype_adam.param_groups[0]["lr"] == pytest.approx(1e-5)  # past half of 100 steps
    assert float((inner.adversarial - x).abs().max()) <= 8 / 255 + 1e-6
    defence.params["inner_mode"] = "eval"
    before = bn.running_mean.clone()
    defence.adversarial(model, x, y, step=61)
    assert torch.equal(bn.running_mean, before) and model.training


def test_pharos_term_is_eq_16_summed_over_the_batch_or_averaged():
    u_adv = torch.tensor([[0.5, -0.5, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    pharos = torch.tensor([[1.0, 1.0, 1.0, -1.0], [-1.0, -1.0, 1.0, 3.0]])
    inner = AttackResult("pga", u_adv, u_adv, None, None, pharos.to(torch.int8), None, None, 0.0)
    # Eq. 16: -sum_i (1/K) b*_i . f(x'_i) = -((0.5 - 0.5 + 1 + 0) / 4 + (-1 - 1 + 1 + 3) / 4) = -0.75
    summed = get_defence("pharos-at", INNER("pharos-at"), num_classes=2, bits=4)
    assert summed.loss(None, u_adv, None, inner, None).item() == pytest.approx(-0.75)
    averaged = get_defence("pharos-at", INNER("pharos-at"), num_classes=2, bits=4, batch="mean")
    assert averaged.loss(None, u_adv, None, inner, None).item() == pytest.approx(-0.375)
    from hashdemo.training.zoo_build import SPECS

    (shipped,) = [c for c in SPECS if c.defence == "pharos-at"]
    assert shipped.defence_params == {"batch": "mean"}  # as the shipped model was trained


def test_pharos_at_uses_pga_itself(system):
    defence = get_defence("pharos-at", INNER("pharos-at"), num_classes=10, bits=32)
    defence.train_codes, defence.train_labels = system.train_codes, system.dataset.train.labels
    x, y = system.dataset.train.images(range(4)), system.dataset.train.labels[:4]
    inner = defence.adversarial(system.model, x, y, step=0)
    direct = attacks.get("pga", system.model, knowledge=defence.knowledge(), t=-0.8)(
        x, y, budget=replace(BUDGET, seed=0), loop=Loop()
    )
    assert inner.attack == "pga" and torch.equal(inner.adversarial, direct.adversarial)


@pytest.mark.parametrize("name", ["atrdh", "pharos-at"])
def test_one_defended_step_lowers_the_defended_loss(system, name):
    torch.manual_seed(0)
    model = build_model("smallcnn", 32, 1, (0.2856,), (0.3519,))
    model.load_state_dict(load_file(str(resolve_folder("zoo:fashion-dph-smallcnn-32") / "model.safetensors")))
    data = system.dataset
    defence = get_defence(name, INNER(name), 10, 32)
    defence.later_steps = defence.first_steps = 50  # a small PrototypeNet fit for the test
    defence.start_epoch(model, replace(data, train=data.train.subset(torch.arange(500))), 0)
    x, y = data.train.images(range(32)), data.train.labels[:32]
    model.train()
    inner = defence.adversarial(model, x, y, step=0)
    assert model.training  # the inner attack ran in eval mode and gave the model back as it was
    x_adv = inner.adversarial
    assert float((x_adv - x).abs().max()) <= 8 / 255 + 1e-6
    method = get_method("dph", 32, 10, 500)
    model.train()
    optimiser = torch.optim.SGD(model.parameters(), lr=1e-3)

    def defended_loss():
        torch.manual_seed(1)  # the same dropout draw before and after the step
        u = model(x)
        return method(u, y, torch.arange(32)) + defence.loss(u, model(x_adv), y, inner, torch.arange(32))

    before = defended_loss()
    optimiser.zero_grad()
    before.backward()
    optimiser.step()
    with torch.no_grad():
        assert defended_loss().item() < before.item()


def small_fashion(monkeypatch) -> None:
    """Train on 192 images (3 batches an epoch) and evaluate on 20 queries against 100 items."""
    import hashdemo.training.train as training

    full = training.load_dataset("fashion")

    def load_small(*_args, **_kwargs):
        first = lambda images, n: images.subset(torch.arange(n))
        return replace(
            full, train=first(full.train, 192), query=first(full.query, 20), database=first(full.database, 100)
        )

    monkeypatch.setattr(training, "load_dataset", load_small)


@pytest.mark.parametrize(
    "method, settings",
    [
        ("dph", dict(defence="pharos-at", defence_steps=1, init="zoo:fashion-dph-smallcnn-16")),
        ("dsdh", {}),
        ("dph", dict(defence="atrdh", defence_steps=1, init="zoo:fashion-dph-smallcnn-16", defence_params=AUTHORS)),
    ],
)
def test_training_resumes_exactly_and_leaves_no_state_behind(tmp_path, monkeypatch, method, settings):
    small_fashion(monkeypatch)
    config = TrainConfig("fashion", "smallcnn", method, 16, epochs=2, lr=1e-4, device="cpu", **settings)
    straight, _, _ = train(config, folder=tmp_path / "straight")
    batches = iter([False] * 4 + [True])  # 3 batches an epoch: stop in epoch 2
    with pytest.raises(Stopped):
        train(config, folder=tmp_path / "halves", stop=lambda: next(batches))
    assert json.loads((tmp_path / "halves" / STATE_JSON).read_text())["epochs"] == 1
    with pytest.raises(InvalidInputError, match="other settings"):
        train(replace(config, lr=1e-3), folder=tmp_path / "halves")
    resumed, card, _ = train(config, folder=tmp_path / "halves")
    a, b = straight.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert card.defence == settings.get("defence") and card.record["init"] == settings.get("init")
    assert (tmp_path / "halves" / STATE).is_file()  # kept by train(); train_and_save removes it when done


def test_init_must_fit():
    with pytest.raises(InvalidInputError, match="this run trains"):
        train(TrainConfig("fashion", "smallcnn", "dph", 32, epochs=1, init="zoo:fashion-dph-smallcnn-16"))


def test_worst_case_is_the_minimum_of_the_members_with_ties_shared(system):
    worst = robustness.worst_case(system, 8, Choices.of(overrides={"queries": 12}))
    aps = []
    for member in robustness.ENSEMBLE:
        settings = resolve("pgd", member.attack, {**dict(member.overrides), "eps": 8, "queries": 12})
        run = run_attack(system, settings)
        labels = system.dataset.query.labels[run.query_index]
        aps.append(
            metrics.average_precision(
                query_codes=run.adversarial_codes,
                database_codes=system.database_codes,
                query_labels=labels,
                database_labels=system.dataset.database.labels,
            )
        )
    stacked = torch.stack(aps)
    assert torch.equal(worst.worst_ap, stacked.min(0).values)
    assert worst.map == pytest.approx(float(stacked.min(0).values.mean()), abs=5e-5)
    assert sum(worst.wins.values()) == pytest.approx(12, abs=0.05) and worst.map <= min(worst.member_maps.values())
    first_only = (stacked[0] == stacked.min(0).values).double()
    tied = (stacked == stacked.min(0).values).sum(0) > 1
    assert worst.wins["HAG"] <= float(first_only.sum()) and (not tied.any() or worst.wins["HAG"] < first_only.sum())
    assert {"PgA† (APGD)", "DHTA", "THA"} <= set(worst.wins)


def test_breaking_budget_bisection_agrees_with_a_linear_scan(system):
    found = robustness.breaking_eps(system, Choices.of(overrides={"queries": 16}), largest=6)
    settings = resolve("pgd", "pga", {"random_start": False, "queries": 16})
    data = system.dataset
    index = robustness.select_queries(16, len(data.query), 0)
    x, labels = data.query.images(index), data.query.labels[index]
    scan = torch.full((16,), float("inf"), dtype=torch.float64)
    for eps in range(6, -1, -1):  # from the top: the smallest eps that breaks wins
        if eps == 0:
            codes = system.model.encode(x)
        else:
            budget = replace(settings.budget, eps=eps / 255)
            codes = attacks.get("pga", system)(x, labels, budget=budget, loop=settings.loop).adversarial_codes
        scan[robustness.broken(system, codes, labels)] = eps
    assert torch.equal(found, scan), (found, scan)


def test_apgd_keeps_the_budget_and_refuses_the_schedule(system):
    data = system.dataset
    x, y = data.query.images(range(8)), data.query.labels[:8]
    result = attacks.get("pga-dagger", system)(x, y, budget=Budget.from_255(8, 1, 30), loop=Loop("apgd"))
    assert float(result.linf.max()) <= 8 / 255 + 1e-6 and result.trace.loss.shape == (31, 8)
    assert (result.trace.loss[-1] <= result.trace.loss[0] + 1e-6).all()  # it returns each query's best point
    with pytest.raises(InvalidInputError, match="set schedule=none"):
        attacks.get("hag", system)(x, y, budget=Budget.from_255(8, 1, 5), loop=Loop("apgd", schedule="hag"))


def test_robustness_page_runs_each_view():
    from apptools import click, open_page

    # the page's wiring, not the numbers (tested above): 4 queries, 10 steps
    params = {"models": ["zoo:fashion-dph-smallcnn-16"], "attacks": ["pga"], "eps_values": "8"}
    params |= {"queries": "4", "steps": "10"}
    at = open_page("robustness.py", params, timeout=300)
    assert not at.exception and not at.error
    at = click(at, "Run the curves")
    assert not at.exception and not at.error and at.get("plotly_chart")
    at = click(at, "Run the ensemble")
    assert any(m.label == "Worst-case MAP" for m in at.metric)
    at = click(at, "Run the search")
    assert any(m.label == "dph-smallcnn-16" for m in at.metric)
