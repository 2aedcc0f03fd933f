"""PWC-Net: shapes at any size, the paper's loss on a hand case, checkpoints, the estimator, training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.errors import InputError
from workbench.flow import create_flow
from workbench.flow.pwc import PWCConfig, PWCNet, create_pwc, load_pwc, multiscale_epe_loss, save_checkpoint

TINY = PWCConfig(width=0.25, num_levels=4, output_level=2)


def test_levels_shapes_and_any_input_size():
    torch.manual_seed(0)
    model = PWCNet(TINY)
    a, b = torch.rand(2, 3, 64, 48), torch.rand(2, 3, 64, 48)
    flows = model(a, b)
    assert [tuple(f.shape) for f in flows] == [(2, 2, 4, 3), (2, 2, 8, 6), (2, 2, 16, 12)]  # levels 4, 3, 2
    flow = model.flow(torch.rand(1, 3, 45, 70), torch.rand(1, 3, 45, 70))  # padded to 48×80, cropped back
    assert flow.shape == (1, 2, 45, 70) and torch.isfinite(flow).all()
    flows[-1].sum().backward()
    assert all(p.grad is not None for p in model.decoders["4"].parameters())


def test_fresh_network_predicts_almost_no_flow():
    """Flow heads start near zero, so the first warps are identities (one unit of output is 20 px)."""
    torch.manual_seed(0)
    flow = create_pwc("pwc_small").flow(torch.rand(1, 3, 64, 96), torch.rand(1, 3, 64, 96))
    assert flow.abs().max() < 5.0  # He-initialised heads give tens of pixels


def test_paper_variant_channel_counts():
    model = create_pwc("pwc")
    assert [level[0][0].out_channels for level in model.pyramid.levels] == [16, 32, 64, 96, 128, 196]
    assert model.decoders["6"].convs[0][0].in_channels == 81  # cost volume of d = 4
    assert model.decoders["2"].convs[0][0].in_channels == 81 + 32 + 2 + 2
    dilations = [m.dilation[0] for m in model.context.net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert dilations == [1, 2, 4, 8, 16, 1, 1]
    assert sum(p.numel() for p in model.parameters()) == 9_374_274  # the paper reports 8.75 M


def test_multiscale_loss_hand_case():
    """Zero prediction against a constant 20 px flow: every pixel's EPE is 1 unit (20 px / 20)."""
    flows = [torch.zeros(1, 2, 2, 2), torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 8, 8)]
    target = torch.zeros(1, 2, 32, 32)
    target[:, 0] = 20.0
    loss = multiscale_epe_loss(flows, target)
    assert loss.item() == pytest.approx(0.02 * 4 + 0.01 * 16 + 0.005 * 64)  # the three finest weights
    valid = torch.zeros(1, 1, 32, 32)
    valid[..., :16, :] = 1.0  # the bottom half unknown: it does not count
    assert multiscale_epe_loss(flows, target, valid=valid).item() == pytest.approx(loss.item() / 2)


def test_checkpoint_round_trip_and_errors(tmp_path):
    torch.manual_seed(1)
    model = PWCNet(TINY).eval()
    path = tmp_path / "pwc" / "checkpoint.pt"
    save_checkpoint(path, model, {"val_epe": 1.0})
    loaded = load_pwc(path)
    a, b = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model.flow(a, b), loaded.flow(a, b), atol=0.05)  # float16 storage
    assert loaded.config == TINY
    estimator = create_flow("pwc", checkpoint=path, device="cpu")
    frame = (np.random.default_rng(0).random((30, 41, 3)) * 255).astype(np.uint8)
    assert estimator.estimate(frame, frame).shape == (2, 30, 41)
    assert estimator.estimate_batch([frame, frame], [frame, frame]).shape == (2, 2, 30, 41)
    with pytest.raises(InputError, match="checkpoint not found"):
        load_pwc(tmp_path / "missing.pt")
    torch.save({"arch": "unet", "state_dict": {}}, tmp_path / "unet.pt")
    with pytest.raises(InputError, match="architecture 'unet', expected 'pwc'"):
        load_pwc(tmp_path / "unet.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a readable PyTorch checkpoint"):
        load_pwc(tmp_path / "junk.pt")
    with pytest.raises(InputError, match="differ in size"):
        estimator.estimate(frame, frame[:20])


def test_refining_network_with_zero_residual_returns_its_initial_flow():
    """With ``init`` the decoders predict a residual: zero heads give back the initial flow exactly, at full
    resolution (its detail is not lost to the 1/4-resolution output), at any input size (padding included)."""
    torch.manual_seed(0)
    model = PWCNet(PWCConfig(width=0.25, num_levels=4, output_level=2, init_flow="dis_medium")).eval()
    for head in [d.predict for d in model.decoders.values()] + [model.context.net[-1]]:
        torch.nn.init.zeros_(head.weight)
        torch.nn.init.zeros_(head.bias)
    a, b = torch.rand(1, 3, 45, 70), torch.rand(1, 3, 45, 70)
    init = torch.randn(1, 2, 45, 70) * 5
    with torch.no_grad():
        assert torch.allclose(model.flow(a, b, init=init), init, atol=1e-5)
        flows = model(torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64), init=torch.full((1, 2, 64, 64), 8.0))
    assert all(torch.allclose(f, torch.full_like(f, 8.0 / 20)) for f in flows)  # every level: init in units


def test_refining_estimator_runs_its_classical_flow_first(tmp_path, monkeypatch):
    """``create_flow("pwc", checkpoint=<a refining network>)`` computes DIS medium's flow and refines it; the
    refined flow differs from DIS only by the network's residual."""
    from workbench.flow.pwc import INIT_FLOWS, init_estimator

    torch.manual_seed(2)
    model = create_pwc("pwc_dis").eval()
    assert model.config.init_flow == "dis_medium" and "dis_medium" in INIT_FLOWS
    for head in [d.predict for d in model.decoders.values()] + [model.context.net[-1]]:
        torch.nn.init.zeros_(head.weight)  # no residual: the estimator must return DIS medium's flow
    path = tmp_path / "pwc_dis" / "checkpoint.pt"
    save_checkpoint(path, model, {})
    rng = np.random.default_rng(0)
    frame_a = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
    frame_b = np.roll(frame_a, 3, axis=1)
    refined = create_flow("pwc", checkpoint=path, device="cpu").estimate(frame_a, frame_b)
    dis = init_estimator("dis_medium").estimate(frame_a, frame_b)
    assert refined.shape == dis.shape and np.abs(refined - dis).max() < 1e-4
    with pytest.raises(InputError, match="unknown initial flow 'lk'"):
        init_estimator("lk")
    assert create_flow("pwc", checkpoint=path, device="cpu").init is not None
