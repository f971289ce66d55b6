"""Transfer and open-set targets: a transfer onto the source itself is the white-box attack, combined perturbations
are the sum of the stored ones, open-set targets are classes the model never trained on, the CLI prints the
library's numbers, and the Transfer page runs."""

import pytest

from hashdemo.core.errors import InvalidInputError
from hashdemo.experiments.transfer import evaluate, transfer
from hashdemo.run.driver import run_attack
from hashdemo.run.settings import Choices, resolve
from hashdemo.systems.spec import ModelSpec
from hashdemo.systems.system import load_system

SMALL = {"queries": 20, "steps": 10}
DEFAULT, RESNET = "zoo:fashion-dpsh-smallcnn-32", "zoo:fashion-dpsh-resnet18-cifar-32"
OPEN = "zoo:fashion-dpsh-smallcnn-32-open"


def systems(*specs):
    return [load_system(ModelSpec(s)) for s in specs]


def test_transfer_onto_the_source_is_the_white_box_attack():
    result = transfer(systems(DEFAULT), systems(DEFAULT), "pga", Choices.of(overrides=SMALL))
    white_box = run_attack(load_system(ModelSpec(DEFAULT)), resolve("pgd", "pga", SMALL)).report
    assert result.values[DEFAULT][DEFAULT] == white_box.map_adv
    assert result.clean[DEFAULT] == white_box.map_clean


def test_targeted_transfer_keeps_the_targets_and_reports_t_map():
    result = transfer(systems(DEFAULT, RESNET), systems(DEFAULT), "dhta", Choices.of(overrides=SMALL), combine=False)
    white_box = run_attack(load_system(ModelSpec(DEFAULT)), resolve("pgd", "dhta", SMALL)).report
    assert result.targeted and result.values[DEFAULT][DEFAULT] == white_box.t_map_adv
    assert result.clean[DEFAULT] == white_box.t_map_clean


def test_combined_perturbations_are_the_clipped_sum_of_the_stored_ones():
    result = transfer(systems(DEFAULT, RESNET), systems(DEFAULT), "pga", Choices.of(overrides=SMALL))
    runs = [
        run_attack(load_system(ModelSpec(s)), resolve("pgd", "pga", SMALL), keep_images=True) for s in (DEFAULT, RESNET)
    ]
    system = load_system(ModelSpec(DEFAULT))
    clean = system.dataset.query.images(runs[0].query_index)
    summed = (clean + sum(r.adversarial_images - clean for r in runs)).clamp(0, 1)
    eps = 8 / 255
    projected = (clean + sum(r.adversarial_images - clean for r in runs).clamp(-eps, eps)).clamp(0, 1)
    labels = system.dataset.query.labels[runs[0].query_index]
    assert result.combined["combined"][DEFAULT] == evaluate(system, summed, labels, 1000)
    assert result.combined["combined, projected to eps"][DEFAULT] == evaluate(system, projected, labels, 1000)
    assert result.combined_linf["combined"] == pytest.approx(float((summed - clean).abs().max()) * 255, abs=1e-3)
    assert result.combined_linf["combined, projected to eps"] <= 8 + 1e-3


def test_transfer_needs_the_same_data():
    with pytest.raises(InvalidInputError, match="other data"):
        transfer(systems(DEFAULT), systems("zoo:fashion-mosaic-dpsh-smallcnn-32"), "pga", Choices.of(overrides=SMALL))


def test_open_set_targets_are_classes_the_model_never_trained_on():
    system = load_system(ModelSpec(OPEN))
    held_out = list(system.card.held_out_classes)
    assert held_out and not system.dataset.train.labels[:, held_out].any()  # never in its training split
    assert system.dataset.database.labels[:, held_out].any()  # but the database holds them
    run = run_attack(system, resolve("pgd", "dhta", {**SMALL, "target_set": "open"}))
    targets = run.target_labels
    assert targets[:, held_out].any(1).all() and not targets[:, [c for c in range(10) if c not in held_out]].any()
    closed = run_attack(system, resolve("pgd", "dhta", SMALL)).target_labels
    assert not closed[:, held_out].any()
    with pytest.raises(InvalidInputError, match="THA cannot aim at a class the model never saw"):
        run_attack(system, resolve("pgd", "tha", {**SMALL, "target_set": "open"}))
    with pytest.raises(InvalidInputError, match="no open-set targets"):
        run_attack(load_system(ModelSpec(DEFAULT)), resolve("pgd", "dhta", {**SMALL, "target_set": "open"}))


def test_transfer_page_runs_and_shows_the_matrix_and_an_example():
    from apptools import click, open_page

    params = {"sources": [DEFAULT, RESNET], "targets": [DEFAULT], "queries": "10", "steps": "5"}
    at = open_page("transfer.py", params, timeout=300)
    assert not at.exception and not at.error
    at = click(at, "Run the transfer")
    assert not at.exception and not at.error
    assert any("| from dpsh-smallcnn-32 |" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) == 1 and len(at.image) >= 6  # the clean query and each source's, top-5 each
