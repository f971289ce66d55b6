"""The researcher's own model: the README's five-line snippet on a module defined here; DeepHash-pytorch AlexNet
and ResNet-50 state_dicts (random weights, their key names) imported in one command each, with codes bit for bit
those of a class with their key names, then eval, attack, bench and the Attack Lab on them; bad inputs are one
line each; and --device cuda without a GPU is one line on every command."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image
from torch import nn

import hashdemo
from hashdemo.cli import main
from hashdemo.core.errors import HashdemoError
from hashdemo.data import load_dataset
from hashdemo.systems.spec import ModelSpec

# ----- the README's snippet --------------------------------------------------------------------------------------


def readme_snippet() -> str:
    """The first Python block of the README's "Your own model" section; at most five lines and a print."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Your own model", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    lines = block.strip().splitlines()
    assert len([line for line in lines if not line.startswith("print(")]) <= 5, lines
    return block


def test_the_readme_python_api_block_runs():
    """The README's "The Python API" block, with its protocol row on 20 queries instead of 1,000 (time)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("## The Python API", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert '{"queries": 1000}' in block
    exec(compile(block.replace('{"queries": 1000}', '{"queries": 20}'), "README.md", "exec"), {})


class TinyHashNet(nn.Module):
    """A researcher's own network: 28 px grey images -> 16 pre-tanh outputs."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 8, 3, 2), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 13 * 13, 16))

    def forward(self, x):
        return self.body(x)


def test_the_readme_snippet_runs_on_a_module_defined_here():
    torch.manual_seed(0)
    net = TinyHashNet()
    data = load_dataset("fashion")
    db_x, db_y = data.database.images(range(400)), data.database.labels[:400]
    q_x, q_y = data.query.images(range(0, 1000, 50)), data.query.labels[::50]
    scope = {"hashdemo": hashdemo, "net": net, "db_x": db_x, "db_y": db_y, "q_x": q_x, "q_y": q_y}
    exec(readme_snippet(), scope)  # the README's block, as written there
    system, report, result = scope["system"], scope["report"], scope["result"]
    assert system.bits == 16 and len(system.database_codes) == 400
    assert report.queries == 20 and report.map_adv <= report.map_clean and report.system["model"] == "python:my-model"
    assert float(result.linf.max()) <= 8 / 255 + 1e-6 and result.target_codes.shape == (4, 16)


def test_a_plain_module_handed_to_an_attack_says_how_to_wrap_it():
    with pytest.raises(HashdemoError, match=r"hashdemo.wrap\(module"):
        hashdemo.attacks.get("hag", TinyHashNet())


def test_a_tanh_output_is_read_back_as_its_pre_tanh():
    net = TinyHashNet()
    pre = hashdemo.wrap(net, output="pre-tanh", bits=16)
    tanh = hashdemo.wrap(nn.Sequential(net, nn.Tanh()), output="tanh", bits=16)
    x = torch.rand(3, 1, 28, 28)
    assert torch.equal(pre.encode(x), tanh.encode(x))
    assert torch.allclose(tanh.pre_tanh(x), pre.pre_tanh(x), atol=1e-3)


# ----- DeepHash-pytorch's nets -----------------------------------------------------------------------------------


class DeepHashAlexNet(nn.Module):
    """DeepHash-pytorch network.py's AlexNet, written here from its key names: features, hash_layer.{1,4,6}."""

    def __init__(self, bits: int):
        super().__init__()
        alexnet = torchvision.models.alexnet(weights=None)
        self.features = alexnet.features
        self.hash_layer = nn.Sequential(
            nn.Dropout(),
            nn.Linear(9216, 4096),
            nn.ReLU(),
            nn.Dropout(),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, bits),
        )

    def forward(self, x):
        return self.hash_layer(self.features(x).view(x.size(0), 256 * 6 * 6))


class DeepHashResNet(nn.Module):
    """DeepHash-pytorch's ResNet: conv1, bn1, layer1-4 also reachable as feature_layers (shared), hash_layer."""

    def __init__(self, bits: int, depth: int = 50):
        super().__init__()
        resnet = getattr(torchvision.models, f"resnet{depth}")(weights=None)
        for name in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool"):
            setattr(self, name, getattr(resnet, name))
        self.feature_layers = nn.Sequential(
            self.conv1,
            self.bn1,
            self.relu,
            self.maxpool,
            self.layer1,
            self.layer2,
            self.layer3,
            self.layer4,
            self.avgpool,
        )
        self.hash_layer = nn.Linear(resnet.fc.in_features, bits)

    def forward(self, x):
        return self.hash_layer(self.feature_layers(x).view(x.size(0), -1))


IMAGENET = (torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """An image folder of two classes: 2 queries, 14 database and training images, at 224 px."""
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        (root / name).mkdir()
        for i in range(8):
            Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)).save(root / name / f"{i}.png")
    return root


@pytest.fixture(scope="module", params=[("alexnet", 32), ("resnet50", 48)], ids=["alexnet-32", "resnet50-48"])
def imported(request, folder, tmp_path_factory):
    arch, bits = request.param
    torch.manual_seed(0)
    net = (DeepHashAlexNet(bits) if arch == "alexnet" else DeepHashResNet(bits)).eval()
    if arch != "alexnet":
        for module in net.modules():  # non-trivial BatchNorm statistics, as after training
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    out = tmp_path_factory.mktemp("models") / f"deephash-{arch}-{bits}"
    weights = out.parent / f"{arch}.pt"
    torch.save(net.state_dict(), weights)
    args = ["import", "--from", "deephash", "--arch", arch, "--bits", str(bits), "--weights", str(weights)]
    args += ["--dataset", "folder", "--data-root", str(folder), "--out", str(out), "--json"]
    assert main(args) == 0  # the one command
    return net, out, args


def test_an_import_is_one_command_and_its_codes_are_bit_for_bit_theirs(imported, folder):
    net, out, _args = imported
    card = json.loads((out / "meta.json").read_text())
    assert card["imported"]["from"] == "deephash" and card["data_root"] == str(folder)
    system = hashdemo.load_system(ModelSpec(str(out)))
    images = system.dataset.database.images(range(len(system.dataset.database)))  # Resize 256, CenterCrop 224
    with torch.no_grad():
        theirs = torch.sign(net((images - IMAGENET[0]) / IMAGENET[1])).to(torch.int8)
    assert torch.equal(system.database_codes, theirs)
    assert torch.equal(system.model.encode(images), theirs)


def test_one_checkpoint_has_one_identity_wherever_it_is_imported(imported, folder, tmp_path, cli):
    """The same weights imported into another folder with another copy of the data: one weights digest, the
    method said at import, the source checkpoint's digest on the card, the same cache identity but the folder."""
    import shutil

    _net, out, args = imported
    if "alexnet" not in args:
        pytest.skip("one architecture shows it (the other's import is the same code)")
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    again = tmp_path / "again"
    moved = [str(copy) if a == str(folder) else str(again) if a == str(out) else a for a in args]
    assert cli(*moved, "--method", "dpsh").returncode == 0
    first, second = (hashdemo.load_system(ModelSpec(str(f))) for f in (out, again))
    assert first.card.weights == second.card.weights == first.spec.digest == second.spec.digest
    assert first.card.data_root != second.card.data_root and first.card.method == "unknown"
    assert second.card.method == "dpsh" and second.card.source_digest == first.card.source_digest
    assert first.identity()["weights"] == second.identity()["weights"]
    assert first.describe()["weights"] == second.describe()["weights"]


def test_eval_attack_and_bench_run_on_an_imported_model(imported, cli):
    _net, out, _args = imported
    model = ["--model", str(out)]
    assert json.loads(cli("eval", *model, "--json").stdout)["bits"] in (32, 48)
    attacked = cli("attack", *model, "--protocol", "pga", "--attack", "pga", "--queries", "2", "--steps", "2", "--json")
    assert attacked.returncode == 0, attacked.stderr
    assert json.loads(attacked.stdout)["system"]["backbone"] in ("alexnet", "resnet50")
    bench = cli("bench", *model, "--attacks", "noise,hag", "--queries", "2", "--steps", "2")
    assert bench.returncode == 0 and "| HAG |" in bench.stdout, bench.stderr


def test_the_attack_lab_runs_on_an_imported_model(imported, cli, monkeypatch):
    from apptools import lab

    _net, out, _args = imported
    monkeypatch.setenv("HASHDEMO_MODELS", str(out.parent))
    at = lab({"dataset": "folder", "attack": "hag", "steps": "2", "run": "1"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["lab"].settings.model.source == str(out)


def test_deephash_ties_reproduce_their_number_and_stable_stays_the_default(imported, cli):
    _net, out, _args = imported
    stable = json.loads(cli("eval", "--model", str(out), "--topk", "5", "--json").stdout)
    theirs = json.loads(cli("eval", "--model", str(out), "--topk", "5", "--ties", "deephash", "--json").stdout)
    assert stable["ties"] == "stable" and theirs["ties"] == "deephash"


# ----- bad inputs, one line each ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def whole_pickle(tmp_path_factory):
    path = tmp_path_factory.mktemp("bad") / "model.pt"
    torch.save(TinyHashNet(), path)  # the whole module pickled, as THA's and ProS-GAN's scripts save
    return path


def one_line(out) -> str:
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1 and lines[0].startswith("hashdemo: error:"), out.stderr
    return lines[0]


def test_a_whole_model_pickle_says_how_to_export_a_state_dict(whole_pickle, folder, cli):
    base = ["import", "--from", "deephash", "--arch", "alexnet", "--bits", "32", "--dataset", "folder"]
    line = one_line(cli(*base, "--weights", str(whole_pickle), "--data-root", str(folder), "--out", "x"))
    assert "never unpickles" in line and "torch.save(model.state_dict()" in line
    assert "hashdemo import" in one_line(cli("eval", "--model", str(whole_pickle)))


def test_a_state_dict_of_another_architecture_or_bit_length(imported, cli):
    _net, out, args = imported
    args = [a if a != str(out) else str(out) + "-again" for a in args[:-1]]
    bits, arch = args[args.index("--bits") + 1], args[args.index("--arch") + 1]
    assert "outputs, not 64 (--bits)" in one_line(cli(*[("64" if a == bits else a) for a in args]))
    other = "resnet18" if arch == "alexnet" else "alexnet"
    line = one_line(cli(*[(other if a == arch else a) for a in args]))
    assert "does not fit DeepHash-pytorch's" in line or "no hash layer among its keys" in line


def test_a_dataset_smaller_than_the_query_count(imported, cli):
    _net, out, _args = imported
    line = one_line(cli("attack", "--model", str(out), "--queries", "100", "--steps", "1"))
    assert "queries must be between 1 and 2, got 100" in line


def test_an_image_size_the_backbone_refuses(folder, tmp_path, cli):
    weights = tmp_path / "alexnet.pt"
    torch.save(DeepHashAlexNet(16).state_dict(), weights)
    args = ["import", "--from", "deephash", "--arch", "alexnet", "--bits", "16", "--weights", str(weights)]
    line = one_line(cli(*args, "--dataset", "folder", "--data-root", str(folder), "--out", "x", "--image-size", "32"))
    assert "refuses 32-px images" in line


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present: --device cuda works")
@pytest.mark.parametrize(
    "command",
    [
        ["eval"],
        ["encode", "--out", "x.npz"],
        ["attack"],
        ["bench"],
        ["sweep", "--param", "eps", "--values", "8"],
        ["train", "--epochs", "1"],
        ["train-attack", "prosgan"],
        ["robustness", "--models", "zoo:fashion-dpsh-smallcnn-16"],
        ["leaderboard", "--models", "zoo:fashion-dpsh-smallcnn-16"],
        ["transfer", "--sources", "zoo:fashion-dpsh-smallcnn-16", "--targets", "zoo:fashion-dpsh-smallcnn-16"],
    ],
    ids=lambda c: c[0],
)
def test_device_cuda_without_a_gpu_is_one_line_on_every_command(cli, command):
    assert "no GPU is available" in one_line(cli(*command, "--device", "cuda"))
