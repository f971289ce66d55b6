"""Each protocol holds exactly the values its paper states (the table below names the section), explicit settings
override single values, and a CLI run under each protocol records every resolved setting in its JSON."""

import json

import pytest
from test_evaluation import cli

from hashdemo.budget import UNIT
from hashdemo.errors import InvalidInputError
from hashdemo.protocols import PROTOCOLS, resolve

# Written from the seeds, independently of hashdemo/protocols.py:
# protocol -> (eps in [0,1], MAP@K, t-MAP@K, queries, where the paper says so)
STATED = {
    "pga": (8 / 255, 5000, 5000, None, "PgA Sec. 4.1: eps 8/255, MAP on the top 5,000"),
    "pga-t5": (8 / 255, 5000, 5000, None, "PgA Table 5 caption; Sec. 4.1 Protocols"),
    "prosgan": (8 / 255, -1, -1, None, "ProS-GAN Sec. 4.2: eps 8/255, t-MAP on all retrieved images"),
    "hag": (0.039, 1000, 1000, 200, "HAG Sec. IV-C: eps 0.039 in [0,1]; IV-B: V = 1000; IV-A: 200 test images"),
    "lab": (16 / 255, 1000, 1000, None, "hashdemo's own"),
    "pgd": (8 / 255, 1000, 1000, None, "hashdemo's own"),
}
# (protocol, attack) -> (optimiser, lr, momentum, schedule, iterations, step in [0,1], random start)
PER_ATTACK = {
    ("pga", "pga"): ("pgd", 0.0, 0.9, "none", 100, 1 / 255, True),  # PgA Sec. 4.1, Eq. 15
    ("pga", "pga-dagger"): ("pgd", 0.0, 0.9, "none", 100, 1 / 255, True),  # PgA Eq. 10 with Eq. 15
    ("pga", "hag"): ("sgd", 500 / 255**2, 0.9, "hag", 2000, 1 / 255, False),  # HAG Sec. IV-C, Algorithm 1
    ("pga", "sdha"): ("adam", 0.01, 0.9, "hag", 1500, 1 / 255, False),  # SDHA public code (implementations.md)
    ("pga", "dhta"): ("pgd", 0.0, 0.9, "hag", 2000, 1 / 255, False),  # ProS-GAN Table 2: DHTA 2000 iterations
    ("pga", "p2p"): ("pgd", 0.0, 0.9, "hag", 2000, 1 / 255, False),
    ("pga", "tha"): ("pgd", 0.0, 0.9, "none", 100, 1 / 255, False),  # THA: PGD-100 (implementations.md)
    ("pga-t5", "hag"): ("pgd", 0.0, 0.9, "hag", 20, 1 / 255, True),  # PgA Table 5: PGD-20, eta 1/255
    ("pga-t5", "dhta"): ("pgd", 0.0, 0.9, "hag", 20, 1 / 255, True),
    ("prosgan", "dhta"): ("pgd", 0.0, 0.9, "hag", 2000, 1 / 255, False),  # ProS-GAN Table 2
    ("prosgan", "ifgsm"): ("pgd", 0.0, 0.9, "none", 100, 1 / 255, False),  # Table 2: I-FGSM, 100, beta 1/255
    ("prosgan", "fgsm"): ("pgd", 0.0, 0.9, "none", 1, 8 / 255, False),  # Table 2: FGSM, one step of 8/255
    ("hag", "hag"): ("sgd", 500 / 255**2, 0.9, "hag", 2000, 1 / 255, False),  # HAG Sec. IV-C
    ("lab", "dhta"): ("pgd", 0.0, 0.9, "hag", 100, 1 / 255, False),
}


@pytest.mark.parametrize("name", list(STATED))
def test_protocol_values_are_the_papers(name):
    eps, topk, t_topk, queries, _where = STATED[name]
    p = PROTOCOLS[name]
    assert p.eps * UNIT == pytest.approx(eps) and (p.topk, p.t_topk, p.queries) == (topk, t_topk, queries)


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
        ({"topk": 0}, "topk must be a positive number of items or -1"),
        ({"optimiser": "rmsprop"}, "optimiser must be one of"),
        ({"queries": 0}, "queries must be"),
    ],
)
def test_bad_overrides_are_refused(overrides, message):
    with pytest.raises(InvalidInputError, match=message):
        resolve("pgd", "hag", overrides)


@pytest.mark.parametrize("name", list(PROTOCOLS))
def test_cli_run_under_each_protocol_records_it(name):
    attack = PROTOCOLS[name].attacks[0]
    out = cli("attack", "--protocol", name, "--attack", attack, "--queries", "3", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    expected = resolve(name, attack, {"queries": 3})
    assert report["protocol"] == name and report["settings"]["overridden"] == ["queries"]
    assert report["settings"] == {**expected.to_json(), "effective": report["settings"]["effective"]}
    assert report["eps"] == pytest.approx(PROTOCOLS[name].eps, abs=1e-4)
    assert (report["topk"], report["t_topk"]) == (PROTOCOLS[name].topk, PROTOCOLS[name].t_topk)
    effective = report["settings"]["effective"]
    optimiser, *_rest = PER_ATTACK.get((name, attack), (effective["optimiser"],))
    assert effective["optimiser"] == optimiser
    if PROTOCOLS[name].record_at:
        assert [row["iteration"] for row in report["by_iteration"]] == list(PROTOCOLS[name].record_at)
