"""ProS-GAN: losses against hand computations, network shapes, a training step, resuming and stopping on a small
fixture (the shipped model with 48 training images), loading refuses a generator trained for another model."""

import json
import math
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file

from hashdemo.core.errors import InvalidInputError
from hashdemo.core.progress import Stopped
from hashdemo.prosgan import losses
from hashdemo.prosgan import model as prosgan_model
from hashdemo.prosgan.networks import Discriminator, Generator, SemanticDecoder
from hashdemo.prosgan.training import TrainSettings, train
from hashdemo.run.settings import resolve
from hashdemo.systems.spec import ModelSpec

TINY = TrainSettings(
    epochs=2, decay=0.0, batch_size=16, held_out=8, ngf=8, blocks=1, decoder_width=8, ndf=8, prototype_steps=20
)


def test_prototype_loss_hand_worked():
    h = torch.tensor([[0.5, -1.0]], requires_grad=True)
    predicted = torch.tensor([[0.8, 0.1]])
    labels = torch.tensor([[True, False]])
    codes = torch.tensor([[1, -1], [-1, -1]], dtype=torch.int8)
    code_labels = torch.tensor([[True, False], [False, True]])
    # theta = h.b / 2 = (0.75, 0.25); s = (1, 0): J1 = mean(softplus(0.75) - 0.75, softplus(0.25))
    j1 = (
        torch.nn.functional.softplus(torch.tensor(0.75)) - 0.75 + torch.nn.functional.softplus(torch.tensor(0.25))
    ) / 2
    j2 = 0.5**2 + 0.0  # (0.5 - 1)^2 + (-1 - -1)^2
    j3 = (0.2**2 + 0.1**2) / 2  # the script's MSELoss: a mean over the classes
    value = losses.prototype_loss(h, predicted, labels, codes, code_labels, (1.0, 1e-4, 1.0))
    assert value.item() == pytest.approx(float(j1) + 1e-4 * j2 + j3, rel=1e-6)


def test_generator_losses_hand_worked():
    pre_tanh = torch.tensor([[0.5, -0.5, 8.0, 0.0]])
    code = torch.tensor([[1, 1, 1, -1]], dtype=torch.int8)
    t = math.tanh
    assert losses.hamming_loss(pre_tanh, code).item() == pytest.approx(1 - (t(0.5) - t(0.5) + t(8.0) - 0) / 4)  # Eq. 7
    # scale 0.1: the saturated bit (H = 8) still counts its distance from 1
    eased = 1 - (t(0.05) - t(0.05) + t(0.8) - 0) / 4
    assert losses.hamming_loss(pre_tanh, code, 0.1).item() == pytest.approx(eased)
    x, x_adv = torch.zeros(1, 1, 2, 2), torch.tensor([[[[0.1, 0.2], [0.0, 0.3]]]])
    assert losses.reconstruction_loss(x, x_adv).item() == pytest.approx((0.01 + 0.04 + 0.09) / 4)  # Eq. 8, mean
    d_fake = torch.tensor([[0.9, 0.2, 0.3]])  # two classes and "fake"
    target = torch.tensor([[True, False]])
    # Eq. 10: ||D(x') - [y_t, 0]||^2 = 0.1^2 + 0.2^2 + 0.3^2, as printed; the script's mean over the 3 outputs
    assert losses.generator_adversarial_loss(d_fake, target, "sum").item() == pytest.approx(0.14)
    assert losses.generator_adversarial_loss(d_fake, target).item() == pytest.approx(0.14 / 3)
    d_real, labels = torch.tensor([[0.1, 0.7, 0.4]]), torch.tensor([[False, True]])
    # Eq. 13: 1/2 (0.1^2 + 0.3^2 + 0.4^2) + 1/2 (0.1^2 + 0.2^2 + 0.7^2)
    expected = 0.5 * (0.01 + 0.09 + 0.16) + 0.5 * (0.01 + 0.04 + 0.49)
    assert losses.discriminator_loss(d_real, labels, d_fake, target, "sum").item() == pytest.approx(expected)
    assert losses.discriminator_loss(d_real, labels, d_fake, target).item() == pytest.approx(expected / 3)


def test_the_lr_stays_then_decays_linearly_to_zero():
    from hashdemo.prosgan.training import decay_factor

    rule = decay_factor(TrainSettings(epochs=100, decay=0.5))
    assert [rule(e) for e in (0, 49)] == [1.0, 1.0]  # the script: 50 epochs at lr, then 50 decaying
    assert rule(50) == pytest.approx(1 - 1 / 51) and rule(99) == pytest.approx(1 - 50 / 51)


@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 56, 56), (3, 32, 32), (3, 224, 224)])
def test_networks_fit_every_image_size_and_the_output_is_an_image(shape):
    channels, size, _ = shape
    with torch.no_grad():
        semantic_map = SemanticDecoder(512, shape, width=8)(torch.randn(2, 512))
        x = torch.rand(2, *shape) * 2 - 1
        x_adv = Generator(channels, size, ngf=8, blocks=1)(x, semantic_map)
        bounded = Generator(channels, size, ngf=8, blocks=1, bound=2 * 8 / 255)(x, semantic_map)
    assert semantic_map.shape == x.shape and x_adv.shape == x.shape
    assert float(x_adv.min()) >= -1 and float(x_adv.max()) <= 1
    assert float((bounded - x).abs().max()) <= 2 * 8 / 255 + 1e-6  # x + eps tanh(.), on the [-1,1] scale
    assert Discriminator(channels, size, 10, ndf=8)(x_adv).shape == (2, 11)


@pytest.fixture(scope="module")
def small(system):
    """The shipped model with 48 training images: enough to run the loop, small enough to take seconds."""
    data = system.dataset
    return replace(
        system, dataset=replace(data, train=data.train.subset(torch.arange(48))), train_codes=system.train_codes[:48]
    )


def test_resuming_equals_an_uninterrupted_run(small, tmp_path):
    straight = train(small, TINY, tmp_path / "straight", resume=False)
    train(small, replace(TINY, epochs=1), tmp_path / "halves", resume=False)
    with pytest.raises(InvalidInputError, match="other settings"):  # a resume must not change the settings
        train(small, replace(TINY, beta=10), tmp_path / "halves")
    decaying = replace(TINY, epochs=1, decay=0.5)
    train(small, decaying, tmp_path / "decaying", resume=False)
    with pytest.raises(InvalidInputError, match="the epochs too"):  # its lr schedule depends on the epochs
        train(small, replace(decaying, epochs=2), tmp_path / "decaying")
    resumed = train(small, TINY, tmp_path / "halves")  # one more epoch
    a, b = (
        load_file(str(tmp_path / "straight" / "state.safetensors")),
        load_file(str(tmp_path / "halves" / "state.safetensors")),
    )
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    strip = lambda log: [{k: v for k, v in e.items() if k != "seconds"} for e in log["epochs"]]
    assert strip(straight) == strip(resumed)


def test_a_stopped_run_keeps_the_last_complete_epoch(small, tmp_path):
    folder = tmp_path / "run"
    calls = iter([False] * 3 + [True] * 100)  # 3 batches per epoch: stop in the second epoch
    with pytest.raises(Stopped):
        train(small, TINY, folder, resume=False, stop=lambda: next(calls))
    log = json.loads((folder / "log.json").read_text())
    assert len(log["epochs"]) == 1 and not list(folder.glob("*.tmp"))
    _, meta = prosgan_model.load(folder / "prosgan.safetensors", small)
    assert meta["training"]["epochs"] == 1


def test_a_generator_for_another_model_is_refused(small, tmp_path):
    from hashdemo.systems.system import load_system

    train(small, replace(TINY, epochs=1), tmp_path / "run", resume=False)
    other = load_system(ModelSpec("zoo:fashion-dpsh-smallcnn-16"))
    with pytest.raises(
        InvalidInputError,
        match="trained for zoo:fashion-dpsh-smallcnn-32 .* the model in use is zoo:fashion-dpsh-smallcnn-16",
    ):
        prosgan_model.load(tmp_path / "run" / "prosgan.safetensors", other)
    (tmp_path / "bad.safetensors").write_bytes(b"\x80\x04pickle")
    with pytest.raises(Exception, match="never unpickles"):
        prosgan_model.load(tmp_path / "bad.safetensors", small)


# ----- the shipped generator, the attack, the page ---------------------------------------------------------
def test_the_shipped_generator_beats_noise_on_t_map(system):
    from hashdemo.run.driver import run_attack
    from hashdemo.run.report import map_at

    run = run_attack(system, resolve("prosgan", "prosgan", {"queries": 100}))
    noise = run_attack(system, resolve("prosgan", "noise", {"queries": 100}))
    assert torch.equal(run.query_index, noise.query_index)
    noise_t_map = map_at(system, noise.adversarial_codes, run.target_labels, -1)  # noise aimed at the same targets
    prosgan = run.report
    assert prosgan.t_map_adv > noise_t_map + 0.3, (prosgan.t_map_adv, noise_t_map)
    assert prosgan.steps == 0 and prosgan.settings["params"]["projection"] is False
    assert prosgan.target_code.title == "Prototype code (ProS-GAN)"


def test_the_bounded_generator_keeps_its_budget_in_one_pass_and_moves_towards_the_target(system):
    from hashdemo.run.driver import run_attack

    bounded = run_attack(system, resolve("prosgan", "prosgan", {"queries": 100, "bound": 8})).report
    assert bounded.linf_max <= 8 + 1e-3 and bounded.settings["effective"]["bound"] == pytest.approx(8)
    assert bounded.t_map_adv > bounded.t_map_clean, (bounded.t_map_adv, bounded.t_map_clean)


def test_the_residual_generator_beats_dhta_at_its_rmse_below_the_floor(system):
    """README "ProS-GAN", item 6 of the frontier: the shipped residual generator's t-MAP above DHTA PGD-100's
    curve (4 and 8/255, linear between) at its own RMSE <= 0.05, on the same 50 queries and targets, at an RMSE the
    faithful generator cannot reach (below its reconstruction floor)."""
    from hashdemo.experiments.frontier import PGD_100, Curve, interpolate, measure

    frontier = measure(system, 50, (Curve("DHTA", "dhta", PGD_100, (4, 8)),))  # with the shipped generators
    (point,) = [p for p in frontier.generators() if p.series.endswith("prosgan-residual")]
    dhta = interpolate(frontier.curve("DHTA"), point.rmse)
    assert point.rmse <= 0.05 and dhta is not None and point.t_map > dhta, (point, dhta)
    assert point.rmse < frontier.floor  # the faithful generator's floor (0.048) is not there


def test_projection_keeps_the_budget(system):
    from hashdemo import attacks
    from hashdemo.attacks.budget import Budget

    data = system.dataset
    x, y = data.query.images(range(8)), data.query.labels[:8]
    free = attacks.get("prosgan", system)(x, y, budget=Budget.from_255(8))
    bound = attacks.get("prosgan", system, projection=True)(x, y, budget=Budget.from_255(8))
    assert float(free.linf.max()) > 8 / 255 and float(bound.linf.max()) <= 8 / 255 + 1e-6
    assert free.settings["eps"] == 255 and bound.settings["eps"] == 8
    assert free.plan.semantic_map.shape == x.shape


def test_prosgan_in_the_attack_lab_shows_its_semantic_map():
    from apptools import lab

    at = lab({"attack": "prosgan", "run": "1"})
    assert not at.exception and not at.error
    run = at.session_state["lab"]
    assert run.result.plan.semantic_map is not None and run.numbers.t_p_adv >= 0.5


def test_zoo_lists_each_models_generators_and_an_attack_picks_one_by_name(system, cli):
    from hashdemo import attacks
    from hashdemo.attacks.budget import Budget

    listed = json.loads(cli("zoo", "--json").stdout)
    (entry,) = [m for m in listed if m["source"] == system.spec.source]
    names = [g["name"] for g in entry["generators"]]
    assert names == ["prosgan", "prosgan-bound8", "prosgan-residual"] and entry["generators"][0]["default"]
    bounded = entry["generators"][1]
    assert bounded["bound"] == 8 and 0 < bounded["held_out_t_map"] < 1 and 0 < bounded["held_out_rmse"] < 8 / 255
    x, y = system.dataset.query.images(range(4)), system.dataset.query.labels[:4]
    by_name = attacks.get("prosgan", system, generator="prosgan-bound8")(x, y, budget=Budget.from_255(8))
    by_bound = attacks.get("prosgan", system, bound=8)(x, y, budget=Budget.from_255(8))
    assert torch.equal(by_name.adversarial, by_bound.adversarial)
    with pytest.raises(InvalidInputError, match="no ProS-GAN generator named 'nope'"):
        attacks.get("prosgan", system, generator="nope")(x, y, budget=Budget.from_255(8))


def test_a_generator_is_described_by_its_output():
    from hashdemo.prosgan.gallery import describe
    from hashdemo.prosgan.training import RESIDUAL_RECIPE, ZOO_RECIPE

    def words(settings):
        return describe({**settings.to_json(), "epochs": 3})

    assert words(ZOO_RECIPE) == "unbounded, beta 50, 3 epochs, seed 0"
    assert words(replace(ZOO_RECIPE, bound=8)).startswith("bound 8/255, beta 50")
    assert words(RESIDUAL_RECIPE) == "residual x + tanh(·), beta 100, 3 epochs, seed 0"
