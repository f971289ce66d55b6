"""Defences and robustness evaluation: the defences' loss terms against hand computations, a defended training
step, resuming the training loop, the worst case as a minimum, the breaking budget by bisection against a linear
scan, APGD, the leaderboard CLI against the library."""

import json
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file
from test_evaluation import cli

from hashdemo import attacks, metrics, robustness
from hashdemo.attacks import Loop
from hashdemo.budget import Budget
from hashdemo.cache import Stopped
from hashdemo.defences import get_defence
from hashdemo.errors import InvalidInputError
from hashdemo.hashing import get_method
from hashdemo.models import build_model
from hashdemo.protocols import resolve
from hashdemo.train import STATE, STATE_JSON, TrainConfig, train

BUDGET = Budget.from_255(8, 2, 7, True, 0)


def test_atrdh_term_hand_worked():
    defence = get_defence("atrdh", BUDGET, num_classes=2, bits=2)
    u_clean = torch.tensor([[0.9, -0.2], [-0.5, 0.7]])
    u_adv = torch.tensor([[0.5, 0.5], [-1.0, 0.0]])
    labels = torch.tensor([[True, False], [False, True]])
    # clean codes (1,-1), (-1,1); S = [[1,-1],[-1,1]]; R = u_adv . b_j / 2
    r = torch.tensor([[0.0, 0.0], [-0.5, 0.5]])
    s = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
    expected = ((r - s) ** 2).mean()
    assert defence.loss(u_clean, u_adv, labels, None).item() == pytest.approx(expected.item())


def test_pharos_term_is_eq_16():
    defence = get_defence("pharos-at", BUDGET, num_classes=2, bits=4)
    u_adv = torch.tensor([[0.5, -0.5, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    pharos = torch.tensor([[1.0, 1.0, 1.0, -1.0], [-1.0, -1.0, 1.0, 1.0]])
    # -(1/N) sum_i (1/K) b*_i . f(x'_i) = -((0.5 - 0.5 + 1 + 0) / 4 + (-1 - 1 + 1 + 1) / 4) / 2
    assert defence.loss(None, u_adv, None, pharos).item() == pytest.approx(-0.125)


@pytest.mark.parametrize("name", ["atrdh", "pharos-at"])
def test_one_defended_step_lowers_the_defended_loss(system, name):
    torch.manual_seed(0)
    model = build_model("smallcnn", 32, 1, (0.2856,), (0.3519,))
    model.load_state_dict(
        load_file(
            str(
                __import__("hashdemo.system", fromlist=["resolve"]).resolve("zoo:fashion-dph-smallcnn-32")
                / "model.safetensors"
            )
        )
    )
    data = system.dataset
    defence = get_defence(name, BUDGET, 10, 32)
    defence.later_steps = defence.first_steps = 50  # a small PrototypeNet fit for the test
    defence.start_epoch(model, replace(data, train=data.train.subset(torch.arange(500))), 0)
    x, y = data.train.images(range(32)), data.train.labels[:32]
    x_adv, target = defence.adversarial(model, x, y)
    assert float((x_adv - x).abs().max()) <= 8 / 255 + 1e-6
    method = get_method("dph", 32, 10, 500)
    model.train()
    optimiser = torch.optim.SGD(model.parameters(), lr=1e-3)

    def defended_loss():
        torch.manual_seed(1)  # the same dropout draw before and after the step
        u = model(x)
        return method(u, y, torch.arange(32)) + defence.loss(u, model(x_adv), y, target)

    before = defended_loss()
    optimiser.zero_grad()
    before.backward()
    optimiser.step()
    with torch.no_grad():
        assert defended_loss().item() < before.item()


def small_fashion(monkeypatch) -> None:
    """Train on 320 images (5 batches an epoch) and evaluate on 50 queries against 200 items."""
    import hashdemo.train as training

    full = training.load_dataset("fashion")

    def load_small(*_args, **_kwargs):
        first = lambda images, n: images.subset(torch.arange(n))
        return replace(
            full, train=first(full.train, 320), query=first(full.query, 50), database=first(full.database, 200)
        )

    monkeypatch.setattr(training, "load_dataset", load_small)


@pytest.mark.parametrize(
    "method, settings",
    [("dph", dict(defence="pharos-at", defence_steps=1, init="zoo:fashion-dph-smallcnn-16")), ("dsdh", {})],
)
def test_training_resumes_exactly_and_leaves_no_state_behind(tmp_path, monkeypatch, method, settings):
    small_fashion(monkeypatch)
    config = TrainConfig("fashion", "smallcnn", method, 16, epochs=2, lr=1e-4, device="cpu", **settings)
    straight, _, _ = train(config, folder=tmp_path / "straight")
    batches = iter([False] * 8 + [True])  # 5 batches an epoch: stop in epoch 2
    with pytest.raises(Stopped):
        train(config, folder=tmp_path / "halves", should_stop=lambda: next(batches))
    assert json.loads((tmp_path / "halves" / STATE_JSON).read_text())["epochs"] == 1
    with pytest.raises(InvalidInputError, match="other settings"):
        train(replace(config, lr=1e-3), folder=tmp_path / "halves")
    resumed, meta, _ = train(config, folder=tmp_path / "halves")
    a, b = straight.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert meta["defence"] == settings.get("defence") and meta["init"] == settings.get("init")
    assert (tmp_path / "halves" / STATE).is_file()  # kept by train(); train_and_save removes it when done


def test_init_must_fit():
    with pytest.raises(InvalidInputError, match="this run trains"):
        train(TrainConfig("fashion", "smallcnn", "dph", 32, epochs=1, init="zoo:fashion-dph-smallcnn-16"))


def test_worst_case_is_the_minimum_of_the_members(system):
    worst = robustness.worst_case(system, 8, queries=20)
    aps = []
    for member in robustness.ENSEMBLE:
        settings = resolve("pgd", member.attack, {**dict(member.overrides), "eps": 8, "queries": 20})
        run = robustness.run_attack(system, settings)
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
    assert sum(worst.wins.values()) == 20 and worst.map <= min(worst.member_maps.values())


def test_breaking_budget_bisection_agrees_with_a_linear_scan(system):
    found = robustness.breaking_eps(system, queries=16, largest=6)
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


def test_leaderboard_cli_json_equals_the_library():
    models = "zoo:fashion-dph-smallcnn-16,zoo:fashion-dpsh-smallcnn-16"
    out = cli("leaderboard", "--models", models, "--queries", "12", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == robustness.leaderboard(models.split(","), queries=12, only_cached=True)
    md = cli("leaderboard", "--models", models, "--queries", "12", "--format", "md")
    assert "| Model | Defence | Clean MAP |" in md.stdout


def test_robustness_page_runs_each_view():
    from test_app import click, open_page

    params = {"models": ["zoo:fashion-dph-smallcnn-16"], "attacks": ["pga"], "eps_values": "4, 8", "queries": "10"}
    at = open_page("5_Robustness.py", params, timeout=300)
    assert not at.exception and not at.error
    at = click(at, "Run the curves")
    assert not at.exception and not at.error and at.get("plotly_chart")
    at = click(at, "Run the ensemble")
    assert any(m.label == "Worst-case MAP" for m in at.metric)
    at = click(at, "Run the search")
    assert any(m.label == "dph-smallcnn-16" for m in at.metric)
