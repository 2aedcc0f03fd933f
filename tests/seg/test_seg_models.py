"""Every registered network: builds by name, any input size, logits of the right shape, clear channel errors."""

from __future__ import annotations

import pytest
import torch

from workbench.errors import InputError
from workbench.registry import create_model, list_models, model_facts

SEG = list_models("seg")


def test_registry_lists_every_network():
    assert {"unet", "funet", "funet_flow", "fastseg"} <= set(SEG)  # the shipped ones; a new file adds its own
    assert {"pwc", "pwc_small"} <= set(list_models("flow"))
    with pytest.raises(InputError, match="unknown model 'segformer'"):
        create_model("segformer")


def test_every_module_of_the_model_packages_is_discovered():
    """Networks and flow methods register on import, and every module of their packages is imported: a new file
    needs no import line elsewhere. Checked in a fresh interpreter (this one has imported everything already)."""
    import subprocess
    import sys

    probe = ("import importlib, pkgutil, sys\n"
             "from workbench.registry import MODEL_PACKAGES, list_models\n"
             "list_models()\n"
             "missing = [f'{p}.{i.name}' for p in MODEL_PACKAGES\n"
             "           for i in pkgutil.iter_modules(importlib.import_module(p).__path__)\n"
             "           if f'{p}.{i.name}' not in sys.modules]\n"
             "print(missing)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("name", SEG)
@pytest.mark.parametrize("num_classes", [1, 4])
def test_seg_model_shapes(name, num_classes):
    torch.manual_seed(0)
    kwargs = {"size": "tiny"} if "size" in model_facts(name)["options"] else {}
    model = create_model(name, num_classes=num_classes, **kwargs).eval()
    cin = model.config.in_channels
    for H, W in [(64, 64), (45, 70)]:  # odd sizes are padded/cropped (U-Net) or resized back (fastseg)
        logits = model(torch.rand(2, cin, H, W))
        assert logits.shape == (2, num_classes, H, W) and torch.isfinite(logits).all()
    with pytest.raises(ValueError, match=f"expects {cin} input channels, got {cin + 1}"):
        model(torch.rand(1, cin + 1, 32, 32))


def test_input_channels_of_the_variants():
    assert create_model("unet").config.in_channels == 3
    assert create_model("funet").config.in_channels == 4  # motion mask + RGB (the seed's input)
    assert create_model("funet_flow").config.in_channels == 3 + 2 + 1  # RGB + flow + warped prediction
    assert create_model("funet_flow", num_classes=4).config.in_channels == 3 + 2 + 4


def test_seed_unet_size_and_gradients():
    model = create_model("funet")
    params = sum(p.numel() for p in model.parameters())
    assert 1.5e6 < params < 2.0e6  # depth 3, 64/128/256, no batch norm (the FUNet seed reports 1.74 M)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    small = create_model("fastseg")
    assert sum(p.numel() for p in small.parameters()) < 0.3e6
    out = create_model("unet", size="tiny")(torch.rand(1, 3, 32, 32))
    out.mean().backward()


def test_a_new_network_is_one_registration():
    """A segmentation network declares its input kind, description and training options where it is registered;
    building, checkpoint metadata, training-option checks and the model card read them from there."""
    from workbench.registry import _MODELS, model_facts, register_model
    from workbench.seg.checkpoint import build_network
    from workbench.train.seg import SegTrainConfig, network_options

    class Toy(torch.nn.Module):
        def __init__(self, num_classes: int = 1, width: int = 16):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, num_classes, 3, padding=1)
            self.config = type("Cfg", (), {"in_channels": 3, "to_dict": lambda self: {"width": width}})()

        def forward(self, x):
            return self.conv(x)

    register_model("toyseg", task="seg", input="rgb", description="a one-conv toy", options=("width",))(Toy)
    try:
        assert model_facts("toyseg")["input"] == "rgb" and "toyseg" in list_models("seg")
        net = build_network("toyseg", {"width": 8})
        assert net.input == "rgb" and net.flow is None and not net.needs_flow
        config = SegTrainConfig(model="toyseg", width=8)
        config.validate()
        assert network_options(config) == {"width": 8}
        with pytest.raises(InputError, match="--size: toyseg does not take it"):
            SegTrainConfig(model="toyseg", size="seed").validate()
        with pytest.raises(ValueError, match="must declare input, description, options"):
            register_model("bad", task="seg")(Toy)
    finally:
        del _MODELS["toyseg"]
    with pytest.raises(InputError, match="--width: unet does not take it"):
        SegTrainConfig(model="unet", width=24).validate()
    assert network_options(SegTrainConfig(model="fastseg", deep=True)) == {"width": 16, "context": False, "deep": True}
