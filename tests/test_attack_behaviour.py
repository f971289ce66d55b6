"""Real attacks on the shipped DPSH-32 model and 64 queries do what their papers claim."""

import pytest
import torch

from hashdemo import attacks, metrics

EPS = 16 / 255
N = 64


@pytest.fixture(scope="module")
def batch(system):
    data = system.dataset
    index = torch.arange(0, 1000, 1000 // N)[:N]  # 6 or 7 queries of every class
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
    return attacks.get("noise", system, eps=EPS, seed=0)(x, y)


@pytest.mark.parametrize("name", ["hag", "sdha", "pga", "pga-dagger"])
def test_non_targeted_attack_lowers_map_beyond_noise(system, batch, noise, name):
    x, y = batch
    result = attacks.get(name, system, eps=EPS, steps=100, seed=0)(x, y)
    clean, with_noise = map_of(system, result.clean_codes, y), map_of(system, noise.adversarial_codes, y)
    adversarial = map_of(system, result.adversarial_codes, y)
    assert clean > 0.75 and with_noise > clean - 0.05
    assert adversarial < with_noise - 0.3, (clean, with_noise, adversarial)


@pytest.mark.parametrize("name", ["p2p", "dhta", "tha", "ifgsm", "fgsm", "feature"])
def test_targeted_attack_raises_t_map_beyond_noise(system, batch, noise, name):
    x, y = batch
    result = attacks.get(name, system, eps=EPS, steps=100, seed=0)(x, y)
    targets = result.target_labels
    assert not (targets & y).any()  # never the query's own label
    before = map_of(system, result.clean_codes, targets)
    with_noise = map_of(system, noise.adversarial_codes, targets)
    after = map_of(system, result.adversarial_codes, targets)
    margin = 0.05 if name == "fgsm" else 0.2
    assert after > max(before, with_noise) + margin, (before, with_noise, after)


@pytest.mark.parametrize(
    "name, options",
    [
        ("pga", {}),
        ("hag", {"optimiser": "sgd", "lr": 500 / 255**2, "random_start": False}),
        ("sdha", {"optimiser": "adam", "lr": 0.01}),
        ("dhta", {}),
        ("noise", {}),
        ("fgsm", {}),
        ("feature", {}),
    ],
)
@pytest.mark.parametrize("eps", [2 / 255, 8 / 255])
def test_budget_is_never_exceeded(system, batch, name, options, eps):
    x, y = batch
    result = attacks.get(name, system, eps=eps, steps=15, alpha=3 / 255, **options)(x[:16], y[:16])
    assert float(result.linf.max()) <= eps + 1e-6
    assert float(result.adversarial.min()) >= 0 and float(result.adversarial.max()) <= 1


def test_same_seed_same_output_other_seed_differs(system, batch):
    x, y = batch
    a = attacks.get("pga", system, eps=EPS, steps=20, seed=7)(x[:8], y[:8])
    b = attacks.get("pga", system, eps=EPS, steps=20, seed=7)(x[:8], y[:8])
    c = attacks.get("pga", system, eps=EPS, steps=20, seed=8)(x[:8], y[:8])
    assert torch.equal(a.adversarial, b.adversarial) and torch.equal(a.trace.loss, b.trace.loss)
    assert not torch.equal(a.adversarial, c.adversarial)
    d = attacks.get("dhta", system, eps=EPS, steps=5, seed=3)(x[:8], y[:8])
    e = attacks.get("dhta", system, eps=EPS, steps=5, seed=3)(x[:8], y[:8])
    assert torch.equal(d.target_labels, e.target_labels) and torch.equal(d.target_codes, e.target_codes)


def test_trace_records_every_iterate(system, batch):
    x, y = batch
    result = attacks.get("hag", system, eps=EPS, steps=30)(x[:4], y[:4])
    assert result.trace.loss.shape == (31, 4)
    assert result.trace.hamming_to_clean[0].sum() <= result.trace.hamming_to_clean[-1].sum()
    assert torch.equal(result.trace.hamming_to_clean[-1], result.hamming)
    assert result.trace.scale.tolist()[:15] == pytest.approx([0.1] * 15) and result.trace.scale[-1] == 1.0
    pga = attacks.get("pga", system, eps=EPS, steps=30)(x[:4], y[:4])
    assert torch.equal(pga.trace.hamming_to_target[-1], (pga.adversarial_codes != pga.target_codes).sum(1))


def test_pharos_code_agrees_with_class_structure(system, batch):
    """On single-label data the pharos code of a query retrieves its own class (it is b*, not -b*)."""
    from hashdemo.attacks.targets import pharos_code

    x, y = batch
    codes = pharos_code(y, system.train_codes, system.dataset.train.labels)
    assert map_of(system, codes, y) > 0.9
