"""Real attacks on the shipped DPSH-32 model and 32 queries do what their papers claim."""

import pytest
import torch

from hashdemo import attacks
from hashdemo.attacks import Loop
from hashdemo.attacks.budget import Budget
from hashdemo.core.units import UNIT, lr_from_255
from hashdemo.retrieval import metrics

N = 32
LAB = Budget.from_255(eps=16, step=1, steps=100)


@pytest.fixture(scope="module")
def batch(system):
    data = system.dataset
    index = torch.arange(0, 1000, 1000 // N)[:N]  # spread over the query set: all 10 classes, 1 to 7 of each
    return data.query.images(index), data.query.labels[index]


def map_of(system, codes, labels) -> float:
    return metrics.mean_average_precision(
        query_codes=codes,
        database_codes=system.database_codes,
        query_labels=labels,
        database_labels=system.dataset.database.labels,
        topk=1000,
    )


@pytest.fixture(scope="module")
def noise(system, batch):
    x, y = batch
    return attacks.get("noise", system)(x, y, budget=LAB)


@pytest.mark.parametrize("name", ["hag", "sdha", "pga", "pga-dagger"])
def test_non_targeted_attack_lowers_map_beyond_noise(system, batch, noise, name):
    x, y = batch
    result = attacks.get(name, system)(x, y, budget=LAB)
    clean, with_noise = map_of(system, result.clean_codes, y), map_of(system, noise.adversarial_codes, y)
    adversarial = map_of(system, result.adversarial_codes, y)
    assert clean > 0.75 and with_noise > clean - 0.05
    assert adversarial < with_noise - 0.3, (clean, with_noise, adversarial)


@pytest.mark.parametrize("name", ["p2p", "dhta", "tha", "ifgsm", "fgsm", "feature"])
def test_targeted_attack_raises_t_map_beyond_noise(system, batch, noise, name):
    x, y = batch
    result = attacks.get(name, system)(x, y, budget=LAB)
    targets = result.target_labels
    assert not (targets & y).any()  # never the query's own label
    before = map_of(system, result.clean_codes, targets)
    with_noise = map_of(system, noise.adversarial_codes, targets)
    after = map_of(system, result.adversarial_codes, targets)
    margin = 0.05 if name == "fgsm" else 0.2
    assert after > max(before, with_noise) + margin, (before, with_noise, after)


@pytest.mark.parametrize(
    "name, loop",
    [
        ("pga", None),
        ("hag", Loop("sgd", lr=lr_from_255(500), momentum=0.9, schedule="hag")),
        ("sdha", Loop("adam", lr=0.01)),
        ("dhta", None),
        ("noise", None),
        ("fgsm", None),
        ("feature", None),
    ],
)
def test_budget_is_never_exceeded(system, batch, name, loop):
    x, y = batch
    eps = 2 if name in ("pga", "sdha", "noise", "feature") else 8  # both budgets, over the attacks
    budget = Budget.from_255(eps=eps, step=3, steps=15, random_start=True)
    result = attacks.get(name, system)(x[:16], y[:16], budget=budget, loop=loop)
    assert float(result.linf.max()) <= eps * UNIT + 1e-6
    assert float(result.adversarial.min()) >= 0 and float(result.adversarial.max()) <= 1


def test_perceptibility_is_rmse_fgsm_on_mid_grey_moves_every_pixel_by_eps(system):
    """ProS-GAN Table 2's 3.06e-2 for FGSM at 8/255 is a root mean square: on a mid-grey image (no pixel
    clipped at 0 or 1) FGSM moves every pixel by exactly eps, so the RMSE is 8/255."""
    x = torch.full((3, 1, 28, 28), 0.5)
    y = torch.nn.functional.one_hot(torch.tensor([0, 3, 7]), 10).bool()
    result = attacks.get("fgsm", system)(x, y, budget=Budget.from_255(eps=8))
    assert result.perceptibility_rmse.tolist() == pytest.approx([8 / 255] * 3, rel=1e-6)
    assert result.settings["steps"] == 1 and result.settings["step"] == pytest.approx(8.0)


@pytest.mark.parametrize("name", attacks.ATTACKS.names())
def test_random_start_follows_each_paper(system, batch, name):
    """Only PgA (Eq. 15) starts from x + U(-eps, eps); HAG, SDHA, P2P, DHTA, THA start from x (their papers
    and public code); the noise baseline is nothing but its random start."""
    x, y = batch
    cls = attacks.ATTACKS.get(name)
    expected = name in ("pga", "pga-dagger", "noise")
    assert cls.random_start_for(Budget.from_255()) is expected
    if name == "prosgan":
        return  # one forward pass of a generator: its only iterate is its output
    result = cls(system)(x[:4], y[:4], budget=Budget.from_255(eps=8, steps=1), record_at=[0])
    moved = bool(result.snapshots[0].linf.max() > 0)
    assert moved is expected


def test_random_start_can_be_switched(system, batch):
    x, y = batch
    budget = Budget.from_255(eps=8, steps=1, random_start=True)
    assert attacks.get("hag", system)(x[:4], y[:4], budget=budget, record_at=[0]).snapshots[0].linf.max() > 0
    off = Budget.from_255(eps=8, steps=1, random_start=False)
    assert attacks.get("pga", system)(x[:4], y[:4], budget=off, record_at=[0]).snapshots[0].linf.max() == 0


def test_snapshots_equal_shorter_runs_without_a_schedule(system, batch):
    """MAP at iteration n of one run (HAG Table I) is the run of n iterations when nothing depends on T."""
    x, y = batch
    pga = attacks.get("pga", system)
    long = pga(x[:8], y[:8], budget=Budget.from_255(eps=8, steps=30, seed=4), record_at=[5, 17, 30])
    for n in (5, 17):
        short = pga(x[:8], y[:8], budget=Budget.from_255(eps=8, steps=n, seed=4))
        assert torch.equal(long.snapshots[n].codes, short.adversarial_codes)
        assert torch.allclose(long.snapshots[n].perceptibility_rmse.float(), short.perceptibility_rmse.float())
    assert torch.equal(long.snapshots[30].codes, long.adversarial_codes)


def test_snapshots_keep_the_full_runs_hag_schedule(system, batch):
    """Under HAG's schedule, iteration n of a 2000-step run is still at alpha = 0.1 for n < 1000 (not rescaled)."""
    x, y = batch
    result = attacks.get("hag", system)(x[:2], y[:2], budget=Budget.from_255(eps=8, steps=40), record_at=[10])
    assert result.trace.scale[:20].tolist() == pytest.approx([0.1] * 20) and result.trace.scale[-1] == 1.0
    short = attacks.get("hag", system)(x[:2], y[:2], budget=Budget.from_255(eps=8, steps=10))
    assert short.trace.scale[5] == pytest.approx(0.2)  # a 10-step run has its own, compressed schedule


def test_same_seed_same_output_other_seed_differs(system, batch):
    x, y = batch
    pga = attacks.get("pga", system)
    a = pga(x[:8], y[:8], budget=Budget.from_255(eps=16, steps=20, seed=7))
    b = pga(x[:8], y[:8], budget=Budget.from_255(eps=16, steps=20, seed=7))
    c = pga(x[:8], y[:8], budget=Budget.from_255(eps=16, steps=20, seed=8))
    assert torch.equal(a.adversarial, b.adversarial) and torch.equal(a.trace.loss, b.trace.loss)
    assert not torch.equal(a.adversarial, c.adversarial)
    dhta = attacks.get("dhta", system)
    d = dhta(x[:8], y[:8], budget=Budget.from_255(eps=16, steps=5, seed=3))
    e = dhta(x[:8], y[:8], budget=Budget.from_255(eps=16, steps=5, seed=3))
    assert torch.equal(d.target_labels, e.target_labels) and torch.equal(d.target_codes, e.target_codes)


def test_trace_records_every_iterate(system, batch):
    x, y = batch
    result = attacks.get("hag", system)(x[:4], y[:4], budget=Budget.from_255(eps=16, steps=30))
    assert result.trace.loss.shape == (31, 4)
    assert result.trace.hamming_to_clean[0].sum() <= result.trace.hamming_to_clean[-1].sum()
    assert torch.equal(result.trace.hamming_to_clean[-1], result.hamming)
    assert result.trace.scale.tolist()[:15] == pytest.approx([0.1] * 15) and result.trace.scale[-1] == 1.0
    pga = attacks.get("pga", system)(x[:4], y[:4], budget=Budget.from_255(eps=16, steps=30))
    assert torch.equal(pga.trace.hamming_to_target[-1], (pga.adversarial_codes != pga.target_codes).sum(1))


def test_pga_fixed_and_differentiable_weights_differ_on_the_model(system, batch):
    x, y = batch
    budget = Budget.from_255(eps=8, steps=20)
    fixed = attacks.get("pga", system)(x[:16], y[:16], budget=budget)
    learned = attacks.get("pga", system, omega="differentiable")(x[:16], y[:16], budget=budget)
    assert fixed.settings["omega"] == "fixed" and learned.settings["omega"] == "differentiable"
    assert not torch.equal(fixed.adversarial, learned.adversarial)


def test_pharos_code_agrees_with_class_structure(system, batch):
    """On single-label data the pharos code of a query retrieves its own class (it is b*, not -b*)."""
    from hashdemo.targets.codes import pharos_code

    _x, y = batch
    codes = pharos_code(y, system.train_codes, system.dataset.train.labels)
    assert map_of(system, codes, y) > 0.9
