"""The one optimiser driver: exact early exit and batch compaction give bit-identical adversarial images and
traces (every PGD attack, each at its own budget and seed, HAG's schedule included); the optional stopping rule is
opt-in and recorded; ranking a 1,000,000-item database works in bounded memory."""

import pytest
import torch

from hashdemo import attacks
from hashdemo.attacks import Loop
from hashdemo.attacks.budget import Budget

PGD_ATTACKS = [n for n, cls in attacks.ATTACKS.items() if cls.fixed_steps is None and n != "prosgan"]


@pytest.fixture(scope="module")
def batch(system):
    data = system.dataset
    index = torch.arange(0, 1000, 1000 // 24)[:24]
    return data.query.images(index), data.query.labels[index]


@pytest.mark.parametrize("name", PGD_ATTACKS)
def test_early_exit_changes_no_output(system, batch, name):
    x, y = batch
    attack = attacks.get(name, system)
    eps, seed = [(8, 0), (16, 1), (32, 2)][PGD_ATTACKS.index(name) % 3]  # every budget, over the attacks
    budget = Budget.from_255(eps, 2, 40, seed=seed)
    fast = attack(x, y, budget=budget, record_at=[0, 17, 40])
    slow = attack(x, y, budget=budget, record_at=[0, 17, 40], early_exit=False)
    assert torch.equal(fast.adversarial, slow.adversarial)
    assert torch.equal(fast.trace.loss, slow.trace.loss)
    assert torch.equal(fast.trace.hamming_to_clean, slow.trace.hamming_to_clean)
    assert all(torch.equal(fast.snapshots[n].codes, slow.snapshots[n].codes) for n in (0, 17, 40))


@pytest.mark.parametrize("optimiser", ["sgd", "adam", "apgd"])
def test_every_step_rule_keeps_the_budget_and_records_each_iterate(system, batch, optimiser):
    x, y = batch
    loop = Loop(optimiser, lr=0.01 if optimiser != "apgd" else 0.0)
    result = attacks.get("pga-dagger", system)(x[:8], y[:8], budget=Budget.from_255(8, 1, 12, seed=1), loop=loop)
    assert float(result.linf.max()) <= 8 / 255 + 1e-6 and result.trace.loss.shape == (13, 8)
    assert result.adversarial.min() >= 0 and result.adversarial.max() <= 1


def test_finished_queries_leave_the_batch_and_their_trace_repeats():
    """40 queries descend until their loss reaches zero (a zero gradient): each then leaves the batch (never below
    16 rows), its trace repeats, and the result equals the loop that computes every query every time."""
    from hashdemo.attacks.loop import MIN_ROWS, optimise

    x = torch.linspace(0.2, 0.8, 40).view(40, 1, 1, 1).expand(40, 1, 2, 2).contiguous()
    sizes = []

    def objective(xa, scale, rows):
        sizes.append(len(xa))
        loss = torch.relu(xa.flatten(1).mean(1) - 0.15)  # zero, with a zero gradient, at or below 0.15
        return loss, xa.flatten(1)[:, :4] - 0.5

    def run(early_exit):
        sizes.clear()
        trace = []
        out = optimise(
            x,
            x,
            objective,
            lambda t, s, xt, loss, pre: trace.append(loss.clone()),
            eps=0.5,
            step_size=0.05,
            steps=20,
            loop=Loop(),
            early_exit=early_exit,
        )
        return out, torch.stack(trace), list(sizes)

    fast, fast_trace, fast_sizes = run(True)
    slow, slow_trace, slow_sizes = run(False)
    assert torch.equal(fast, slow) and torch.equal(fast_trace, slow_trace) and fast_trace.shape == (21, 40)
    assert slow_sizes == [40] * 21 and min(fast_sizes) == MIN_ROWS and sum(fast_sizes) < 0.7 * sum(slow_sizes)


def test_patience_is_opt_in_and_recorded(system, batch):
    x, y = batch
    budget = Budget.from_255(16, 1, 40)
    plain = attacks.get("pga", system)(x, y, budget=budget)
    patient = attacks.get("pga", system)(x, y, budget=budget, loop=Loop(patience=3))
    assert plain.settings["patience"] == 0 and patient.settings["patience"] == 3
    assert patient.trace.loss.shape == plain.trace.loss.shape


def test_ranking_a_million_items_in_bounded_memory():
    import resource

    from hashdemo.retrieval.ranking import rank

    g = torch.Generator().manual_seed(0)
    database = torch.where(torch.rand(1_000_000, 64, generator=g) < 0.5, -1, 1).to(torch.int8)
    queries = database[:64].clone()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    index, distance = rank(queries, database, topk=1000)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert index.shape == (64, 1000) and (index[:, 0] == torch.arange(64)).all() and (distance[:, 0] == 0).all()
    assert (distance[:, 1:] >= distance[:, :-1]).all()
    assert grown_mb < 400, grown_mb  # query chunks: never all 64 x 1,000,000 distances at once
