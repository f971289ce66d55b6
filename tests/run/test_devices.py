"""The same code on every device: each attack, the defences' inner attacks, the worst case, retrieval, the
metrics and the ProS-GAN generator run where the model runs and keep their outputs there; on a GPU the clean
codes are the CPU's. The CUDA cases skip on a machine without one."""

from dataclasses import replace

import pytest
import torch

from hashdemo import attacks
from hashdemo.attacks import ATTACKS
from hashdemo.attacks.budget import Budget
from hashdemo.defences import DEFENCES, get_defence, inner_settings
from hashdemo.experiments.robustness import breaking_eps
from hashdemo.retrieval import metrics
from hashdemo.retrieval.ranking import rank
from hashdemo.run.settings import Choices
from hashdemo.systems.spec import DEFAULT_MODEL, ModelSpec
from hashdemo.systems.system import load_system
from hashdemo.targets.codes import dice, pharos_code

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU on this machine")
DEVICES = ["cpu", pytest.param("cuda", marks=CUDA)]
BUDGET = Budget.from_255(eps=8, step=1, steps=3)


@pytest.fixture(params=DEVICES, scope="module")
def on(request):
    return load_system(ModelSpec(DEFAULT_MODEL, device=request.param))


def queries(system, n=6):
    data = system.dataset.query
    return data.images(torch.arange(n)).to(system.device), data.labels[:n].to(system.device)


@pytest.mark.parametrize("name", ATTACKS.names())
def test_every_attack_runs_where_the_model_runs(on, name):
    x, y = queries(on)
    result = attacks.get(name, on)(x, y, budget=BUDGET)
    assert result.adversarial.device.type == result.adversarial_codes.device.type == on.device.type
    if ATTACKS.get(name).uses_budget:
        assert float((result.adversarial - x).abs().amax()) <= BUDGET.eps + 1e-6


@pytest.mark.parametrize("name", DEFENCES.names())
def test_each_defences_inner_attack_runs_where_the_model_is_trained(on, name):
    inner = inner_settings(name, BUDGET.eps_255, BUDGET.step_255, BUDGET.steps, 3)
    defence = get_defence(name, inner, on.dataset.num_classes, on.bits)
    defence.first_steps = defence.later_steps = 20  # a small PrototypeNet fit where one is needed
    data = on.dataset
    defence.start_epoch(on.model, replace(data, train=data.train.subset(torch.arange(300))), 0)
    x, y = queries(on)
    first = defence.adversarial(on.model, x, y, step=5)
    again = defence.adversarial(on.model, x, y, step=5)
    assert first.adversarial.device.type == on.device.type
    assert torch.equal(first.adversarial, again.adversarial)  # the random start is seeded per step, on the device


def test_breaking_budget_retrieval_and_targets_on_the_device(on):
    assert breaking_eps(on, Choices.of(overrides={"queries": 2}), largest=4).shape == (2,)
    codes = on.model.encode(queries(on)[0])
    assert codes.device.type == on.device.type
    _, index = rank(codes, on.database_codes.to(on.device), topk=10)
    assert index.shape == (6, 10)
    ap = metrics.mean_average_precision(
        query_codes=codes,
        database_codes=on.database_codes.to(on.device),
        query_labels=queries(on)[1],
        database_labels=on.dataset.database.labels.to(on.device),
        topk=100,
    )
    assert 0 <= ap <= 1
    labels = on.dataset.train.labels[:50].to(on.device)
    assert dice(labels[:2], labels).device.type == on.device.type
    assert pharos_code(labels[:2], on.train_codes[:50].to(on.device), labels).device.type == on.device.type


@CUDA
def test_cuda_gives_the_cpus_clean_codes():
    cpu, gpu = load_system(ModelSpec(DEFAULT_MODEL, device="cpu")), load_system(ModelSpec(DEFAULT_MODEL, device="cuda"))
    x = cpu.dataset.query.images(torch.arange(200))
    same = (cpu.model.encode(x) == gpu.model.encode(x.cuda()).cpu()).float().mean()
    assert same >= 0.999  # a bit whose output is within float error of zero may differ
