import pytest
import torch

from hashdemo.core.errors import InvalidInputError
from hashdemo.models import binarize, build_model


@pytest.mark.parametrize("backbone, size", [("smallcnn", 28), ("smallcnn", 56), ("resnet18-cifar", 32)])
def test_small_backbones_shapes_and_pre_tanh(backbone, size):
    torch.manual_seed(0)
    model = build_model(backbone, 16, 1, (0.5,), (0.5,), width=8, alpha=2.0).eval()
    x = torch.rand(3, 1, size, size)
    pre = model.pre_tanh(x)
    assert pre.shape == (3, 16)
    assert torch.allclose(model(x), torch.tanh(pre))
    assert torch.allclose(pre, 2.0 * model.hash_layer(model.features(x)))
    assert torch.equal(model.encode(x), binarize(pre))


def test_binarize_follows_hag_sign():
    assert binarize(torch.tensor([0.3, 0.0, -2.0])).tolist() == [1, -1, -1]


def test_torchvision_backbone_random_weights_are_announced(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    model = build_model("resnet18", 12, 1, (0.5,), (0.5,)).eval()
    assert "starting from random weights" in capsys.readouterr().err
    assert not model.backbone.pretrained
    assert model(torch.rand(1, 1, 28, 28)).shape == (1, 12)  # grey 28 px adapted to RGB 224 inside


@pytest.mark.parametrize("bits", [0, -4, 2000, 3.5])
def test_bad_bit_length(bits):
    with pytest.raises(InvalidInputError, match="bit length"):
        build_model("smallcnn", bits, 1, (0.5,), (0.5,))


@pytest.mark.parametrize("backbone", ["smallcnn", "resnet18-cifar"])
def test_freeze_folds_batchnorm_without_changing_outputs(backbone):
    torch.manual_seed(0)
    model = build_model(backbone, 16, 1, (0.5,), (0.5,), width=8)
    model.train()
    model(torch.rand(64, 1, 28, 28))  # give BatchNorm non-trivial running statistics
    model.eval()
    x = torch.rand(8, 1, 28, 28)
    before = model.pre_tanh(x).detach()
    model.freeze()
    if backbone == "smallcnn":
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.backbone.modules())
    assert torch.allclose(model.pre_tanh(x), before, atol=1e-5)
    assert not any(p.requires_grad for p in model.parameters())
