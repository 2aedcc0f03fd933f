"""Inputs of the segmentation variants: the fixed motion mask, the warped previous prediction, channel counts."""

from __future__ import annotations

import pytest
import torch

from workbench.registry import create_model, list_models, model_facts
from workbench.seg.inputs import FLOW_NORM, VARIANTS, build_input, motion_mask


def test_motion_mask_sees_every_direction():
    """The seed kept only rightward motion (u ≥ 0.5); leftward and vertical motion count here too."""
    flow = torch.zeros(1, 2, 1, 5)
    flow[0, :, 0, 0] = torch.tensor([0.6, 0.0])  # right
    flow[0, :, 0, 1] = torch.tensor([-0.6, 0.0])  # left: missed by the seed
    flow[0, :, 0, 2] = torch.tensor([0.0, 0.7])  # down: missed by the seed
    flow[0, :, 0, 3] = torch.tensor([0.3, 0.3])  # |flow| = 0.42 < 0.5
    flow[0, :, 0, 4] = torch.tensor([float("nan"), 0.0])  # unknown
    assert motion_mask(flow)[0, 0, 0].tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]


def test_funet_input_is_binary_mask_then_rgb():
    frame = torch.rand(2, 3, 8, 8)
    flow = torch.zeros(2, 2, 8, 8)
    flow[:, 0, :4] = 3.0
    x = build_input("funet", frame, flow)
    assert x.shape == (2, 4, 8, 8) and torch.equal(x[:, 1:], frame)
    assert set(x[:, 0].unique().tolist()) == {0.0, 1.0} and x[:, 0, :4].eq(1).all() and x[:, 0, 4:].eq(0).all()


def test_funet_flow_warps_the_previous_prediction():
    frame = torch.rand(1, 3, 6, 10)
    prev = torch.zeros(1, 1, 6, 10)
    prev[..., 2] = 1.0  # a vertical line at x = 2 in frame t−1
    flow = torch.zeros(1, 2, 6, 10)
    flow[:, 0] = -2.0  # frame t at x comes from x − 2 in t−1: the line is now at x = 4
    x = build_input("funet_flow", frame, flow, prev)
    assert x.shape == (1, 6, 6, 10)
    assert torch.allclose(x[:, 3:5], flow / FLOW_NORM)
    expected = torch.tensor([0.5, 0.5, 0, 0, 1, 0, 0, 0, 0, 0]).expand(6, 10)  # x < 2 samples outside t−1
    assert torch.allclose(x[0, 5], expected, atol=1e-5)
    first = build_input("funet_flow", frame, flow, None, num_classes=4)
    assert first.shape == (1, 9, 6, 10) and first[:, 5:].eq(0.25).all()


@pytest.mark.parametrize("name", list_models("seg"))
@pytest.mark.parametrize("num_classes", [1, 3])
def test_inputs_fit_their_networks(name, num_classes):
    frame, flow = torch.rand(1, 3, 20, 28), torch.randn(1, 2, 20, 28)
    x = build_input(model_facts(name)["input"], frame, flow, torch.rand(1, num_classes, 20, 28),
                    num_classes=num_classes)
    small = {"size": "tiny"} if "size" in model_facts(name)["options"] else {}  # the smallest U-Net widths
    model = create_model(name, num_classes=num_classes, **small)
    assert model(x).shape == (1, num_classes, 20, 28)


def test_input_errors():
    with pytest.raises(ValueError, match="needs the flow"):
        build_input("funet", torch.rand(1, 3, 4, 4))
    with pytest.raises(ValueError, match="does not match"):
        build_input("funet", torch.rand(1, 3, 4, 4), torch.rand(1, 2, 5, 4))
    with pytest.raises(ValueError, match="unknown input variant"):
        build_input("deeplab", torch.rand(1, 3, 4, 4))
    assert torch.equal(build_input("rgb", frame := torch.rand(1, 3, 4, 4)), frame)


def test_every_segmentation_network_has_an_input():
    assert {model_facts(name)["input"] for name in list_models("seg")} <= set(VARIANTS)
