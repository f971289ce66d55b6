"""The settings: each protocol holds exactly the values its paper states (the table below names the section),
explicit settings override single values, every setting is declared once, and RunSettings compare and describe
themselves (the CLI run under each protocol is in test_cli.py)."""

import pytest

from hashdemo.attacks import ATTACKS
from hashdemo.core.errors import InvalidInputError
from hashdemo.run.protocols import PROTOCOLS
from hashdemo.run.settings import ModelSpec, resolve, run_fields

# Written from the papers, independently of hashdemo/protocols.py:
# protocol -> (eps in [0,1], MAP@K, t-MAP@K, queries, where the paper says so)
STATED = {
    "pga": (8 / 255, 5000, 5000, None, "PgA Sec. 4.1: eps 8/255, MAP on the top 5,000"),
    "pga-t5": (8 / 255, 5000, 5000, None, "PgA Table 5 caption; Sec. 4.1 Protocols"),
    "prosgan": (8 / 255, -1, -1, None, "ProS-GAN Sec. 4.2: eps 8/255, t-MAP on all retrieved images"),
    "prosgan-sign": (8 / 255, -1, -1, None, "as prosgan, with hashdemo's former sign-step P2P/DHTA rows"),
    "hag": (0.039, 1000, 1000, 200, "HAG Sec. IV-C: eps 0.039 in [0,1]; IV-B: V = 1000; IV-A: 200 test images"),
    "lab": (16 / 255, 1000, 1000, None, "hashdemo's own"),
    "pgd": (8 / 255, 1000, 1000, None, "hashdemo's own"),
    # eps 0.032 read in the model's normalised units, R = 1000 (attack_imagenet.py)
    "dhta-master": (0.032, 1000, 1000, None, "DHTA-master attack_imagenet.py: --epsilon 0.032, R = 1000"),
}
# (protocol, attack) -> (optimiser, lr, momentum, schedule, iterations, step in [0,1], random start)
PER_ATTACK = {
    ("pga", "pga"): ("pgd", 0.0, 0.9, "none", 100, 1 / 255, True),  # PgA Sec. 4.1, Eq. 15
    ("pga", "pga-dagger"): ("pgd", 0.0, 0.9, "none", 100, 1 / 255, True),  # PgA Eq. 10 with Eq. 15
    ("pga", "hag"): ("sgd", 500 / 255**2, 0.9, "hag", 2000, 1 / 255, False),  # HAG Sec. IV-C, Algorithm 1
    ("pga", "sdha"): ("adam", 0.01, 0.9, "hag", 1500, 1 / 255, False),  # SDHA's public code
    ("pga", "dhta"): ("pgd", 0.0, 0.9, "hag", 2000, 1 / 255, False),  # ProS-GAN Table 2: DHTA 2000 iterations
    ("pga", "p2p"): ("pgd", 0.0, 0.9, "hag", 2000, 1 / 255, False),
    ("pga", "tha"): ("pgd", 0.0, 0.9, "none", 100, 1 / 255, False),  # THA Sec. 4.1: PGD-100
    ("pga-t5", "hag"): ("pgd", 0.0, 0.9, "hag", 20, 1 / 255, True),  # PgA Table 5: PGD-20, eta 1/255
    ("pga-t5", "dhta"): ("pgd", 0.0, 0.9, "hag", 20, 1 / 255, True),
    # ProS-GAN Table 2 "follows [DHTA]": the authors' DHTA script, delta -= 1 * grad of a loss averaged over 32 queries
    ("prosgan", "dhta"): ("sgd", 1 / 32, 0.0, "hag", 2000, 1 / 255, False),
    ("prosgan", "p2p"): ("sgd", 1 / 32, 0.0, "hag", 2000, 1 / 255, False),
    ("prosgan-sign", "dhta"): ("pgd", 0.0, 0.9, "hag", 2000, 1 / 255, False),
    ("prosgan", "ifgsm"): ("pgd", 0.0, 0.9, "none", 100, 1 / 255, False),  # Table 2: I-FGSM, 100, beta 1/255
    ("prosgan", "fgsm"): ("pgd", 0.0, 0.9, "none", 1, 8 / 255, False),  # Table 2: FGSM, one step of 8/255
    ("hag", "hag"): ("sgd", 500 / 255**2, 0.9, "hag", 2000, 1 / 255, False),  # HAG Sec. IV-C
    ("lab", "dhta"): ("pgd", 0.0, 0.9, "hag", 100, 1 / 255, False),
}


@pytest.mark.parametrize("name", list(STATED))
def test_protocol_values_are_the_papers(name):
    eps, topk, t_topk, queries, _where = STATED[name]
    s = resolve(name, PROTOCOLS[name].attacks[0])
    assert s.budget.eps == pytest.approx(eps) and (s.topk, s.t_topk, s.queries) == (topk, t_topk, queries)


def test_every_protocol_is_in_the_table():
    assert set(PROTOCOLS) == set(STATED)


@pytest.mark.parametrize("key", list(PER_ATTACK))
def test_each_attack_runs_with_its_papers_optimiser(key):
    from hashdemo import attacks

    optimiser, lr, momentum, schedule, steps, step, random_start = PER_ATTACK[key]
    s = resolve(*key)
    attack = attacks.attack_class(key[1])
    budget = s.budget
    assert (s.loop.optimiser, s.loop.schedule) == (optimiser, schedule)
    assert s.loop.lr == pytest.approx(lr) and s.loop.momentum == pytest.approx(momentum)
    assert attack.steps_for(budget) == steps
    assert attack.step_size_for(budget) == pytest.approx(step)
    assert attack.random_start_for(budget) is random_start


def test_hag_protocol_reports_map_at_table_I_iterations():
    assert resolve("hag", "hag").record_at == (10, 100, 500, 1000, 1500, 2000)


def test_explicit_settings_override_single_values_and_are_named():
    s = resolve("pga", "hag", {"steps": 50, "eps": 4, "schedule": "none"})
    assert s.budget.steps == 50 and s.budget.eps == pytest.approx(4 / 255) and s.loop.schedule == "none"
    assert s.loop.optimiser == "sgd" and s.topk == 5000  # the rest stays the protocol's
    assert s.overridden == ("eps", "schedule", "steps")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"gamma": 1}, "HAG has no setting gamma"),
        ({"eps": -1}, r"epsilon must be in \[0, 255\]"),
        ({"topk": 0}, "MAP@K must be a positive number of items or -1"),
        ({"optimiser": "rmsprop"}, "optimiser must be one of"),
        ({"queries": 0}, "queries must be"),
    ],
)
def test_bad_overrides_are_refused(overrides, message):
    with pytest.raises(InvalidInputError, match=message):
        resolve("pgd", "hag", overrides)


def test_every_setting_is_declared_once():
    names = [b.name for b in run_fields()]
    assert len(names) == len(set(names))
    for cls in ATTACKS.values():
        own = [p.name for p in cls.parameters]
        assert not set(own) & set(names), cls.name  # an attack's parameter never shadows a run setting


def test_settings_compare_by_value_and_carry_the_model():
    a = resolve("lab", "pga", {"eps": 12}, model=ModelSpec(device="cpu"))
    assert a == resolve("lab", "pga", {"eps": 12.0}, model=ModelSpec(device="cpu"))
    assert a != resolve("lab", "hag", {"eps": 12}, model=ModelSpec(device="cpu"))  # another attack
    assert a != resolve("lab", "pga", {"eps": 12}, model=ModelSpec(device="cpu", data_root="/data"))
    assert hash(a) == hash(resolve("lab", "pga", {"eps": 12}, model=ModelSpec(device="cpu")))


def test_describe_says_what_applies_in_the_papers_units():
    text = resolve("lab", "dhta", {"n_t": 5}).describe()
    assert "eps 16/255" in text and "step 1/255" in text and "T = 100" in text and "HAG schedule" in text
    assert "n_t = 5" in text and "changed from the protocol: n_t" in text
    assert "eps" not in resolve("lab", "prosgan").describe()  # ProS-GAN takes no budget
