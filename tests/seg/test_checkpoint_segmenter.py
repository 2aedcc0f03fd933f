"""Segmentation checkpoints (round trip, clear errors) and the streaming Segmenter (one sigmoid, scale, state)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.errors import InputError
from workbench.seg.checkpoint import build_network, load_seg_checkpoint, resolve_checkpoint, save_seg_checkpoint
from workbench.seg.segmenter import Segmenter, probs_to_labels


def constant_net(arch: str, bias: float):
    """A network whose logits are ``bias`` everywhere (head weights zero)."""
    net = build_network(arch, {} if arch == "fastseg" else {"size": "tiny"}, flow="zero")
    with torch.no_grad():
        net.model.head.weight.zero_()
        net.model.head.bias.fill_(bias)
    return net


@pytest.mark.parametrize("arch", ["unet", "funet", "funet_flow", "fastseg"])
def test_checkpoint_round_trip(tmp_path, arch):
    torch.manual_seed(0)
    net = build_network(arch, {} if arch == "fastseg" else {"size": "tiny"}, flow="zero", scale=0.5)
    net.model.eval()
    save_seg_checkpoint(tmp_path / "c.pt", net, {"val_dice": 0.5}, {"train_config": {"epochs": 1}})
    loaded = load_seg_checkpoint(tmp_path / "c.pt")
    assert (loaded.arch, loaded.input, loaded.scale, loaded.num_classes) == (arch, net.input, 0.5, 1)
    assert loaded.flow == (None if arch in ("unet", "fastseg") else "zero")
    assert loaded.metrics == {"val_dice": 0.5} and loaded.extra["train_config"] == {"epochs": 1}
    x = torch.rand(1, net.model.config.in_channels, 24, 40)
    with torch.no_grad():
        assert torch.equal(net.model(x), loaded.model(x))


@pytest.mark.parametrize("deep", [False, True])
def test_fastseg_width_and_context_round_trip_and_older_checkpoints_load(tmp_path, deep):
    """``--width`` / ``--context`` / ``--deep`` travel in the checkpoint's options; a checkpoint written before
    ``context`` and ``deep`` existed (its config lacks the fields) still loads, as the network it was; an unknown
    field does not."""
    torch.manual_seed(0)
    net = build_network("fastseg", {"width": 8, "context": True, "deep": deep}).model.eval()
    plain = build_network("fastseg", {"width": 8}).model.eval()
    assert sum(p.numel() for p in net.parameters()) > sum(p.numel() for p in plain.parameters())
    wrapped = build_network("fastseg", {"width": 8, "context": True, "deep": deep})
    wrapped.model.load_state_dict(net.state_dict())
    save_seg_checkpoint(tmp_path / "ctx.pt", wrapped)
    loaded = load_seg_checkpoint(tmp_path / "ctx.pt")
    assert (loaded.model.config.width, loaded.model.config.context, loaded.model.config.deep) == (8, True, deep)
    with torch.no_grad():  # any frame size: the 1/32 features are brought back to the 1/16 grid's own size
        assert net(torch.rand(1, 3, 50, 70)).shape == (1, 1, 50, 70)
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        assert torch.equal(loaded.model.eval()(x), net(x))
    old = build_network("fastseg", {"width": 8})
    save_seg_checkpoint(tmp_path / "old.pt", old)
    payload = torch.load(tmp_path / "old.pt", weights_only=True)
    for field in ("context", "deep"):  # as written before the fields existed
        del payload["config"][field]
        payload["options"].pop(field, None)
    torch.save(payload, tmp_path / "old.pt")
    old_config = load_seg_checkpoint(tmp_path / "old.pt").model.config
    assert old_config.context is False and old_config.deep is False
    payload["config"]["depth"] = 3
    torch.save(payload, tmp_path / "future.pt")
    with pytest.raises(InputError, match="future.pt: weights do not fit"):
        load_seg_checkpoint(tmp_path / "future.pt")


def test_checkpoint_errors(tmp_path):
    with pytest.raises(InputError, match="checkpoint not found"):
        load_seg_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="junk.pt: not a readable PyTorch checkpoint"):
        load_seg_checkpoint(tmp_path / "junk.pt")
    torch.save({"arch": "pwc", "config": {}, "state_dict": {}}, tmp_path / "flow.pt")
    with pytest.raises(InputError, match="architecture 'pwc', expected a segmentation network"):
        load_seg_checkpoint(tmp_path / "flow.pt")
    net = build_network("unet", {"size": "tiny"})
    save_seg_checkpoint(tmp_path / "u.pt", net)
    payload = torch.load(tmp_path / "u.pt", weights_only=True)
    payload["arch"] = "funet"  # weights of a 3-channel U-Net declared as FUNet (4 channels)
    payload["config"]["in_channels"] = 4
    torch.save(payload, tmp_path / "wrong.pt")
    with pytest.raises(InputError, match="wrong.pt: weights do not fit a 'funet' network"):
        load_seg_checkpoint(tmp_path / "wrong.pt")


def test_shipped_names_resolve_to_models_folder(tmp_path, monkeypatch):
    import workbench.seg.checkpoint as checkpoint

    monkeypatch.setattr(checkpoint, "MODELS_DIR", tmp_path / "models")
    save_seg_checkpoint(tmp_path / "models" / "mine" / "checkpoint.pt", build_network("unet", {"size": "tiny"}))
    assert resolve_checkpoint("mine") == tmp_path / "models" / "mine" / "checkpoint.pt"
    assert load_seg_checkpoint("mine").arch == "unet"
    assert resolve_checkpoint(tmp_path / "x.pt") == tmp_path / "x.pt"  # paths stay paths
    with pytest.raises(InputError, match="theirs: segmentation checkpoint not found .*shipped model: mine"):
        load_seg_checkpoint("theirs")


def test_sigmoid_is_applied_once():
    """The seed applied sigmoid twice (threshold 0.5 became ≈1/255 on the logits' scale)."""
    segmenter = Segmenter(constant_net("unet", bias=1.0))
    probs = segmenter.step(np.zeros((20, 30, 3), np.uint8))
    assert probs.shape == (1, 20, 30)
    assert np.allclose(probs, 1 / (1 + np.exp(-1.0)), atol=1e-6)
    low = Segmenter(constant_net("unet", bias=-0.5)).step(np.zeros((20, 30, 3), np.uint8))
    assert probs_to_labels(low, 0.5).max() == 0  # sigmoid(-0.5) = 0.38 < 0.5; twice it would be 0.59 ≥ 0.5


def test_segmenter_scale_and_state():
    net = constant_net("funet_flow", bias=0.3)
    segmenter = Segmenter(net, scale=0.5)
    frame = np.random.default_rng(0).integers(0, 255, (37, 50, 3), dtype=np.uint8)
    probs = segmenter.step(frame)
    assert probs.shape == (1, 37, 50)  # back at the frame's size
    assert segmenter.prev_probs.shape[-2:] == (18, 25) and segmenter.prev_frame.shape == (18, 25, 3)
    assert set(segmenter.last_times) == {"flow_ms", "seg_ms"}
    segmenter.step(frame)
    with pytest.raises(InputError, match="frame size changed"):
        segmenter.step(frame[:30])
    segmenter.reset()
    assert segmenter.prev_probs is None and segmenter.step(frame[:30]).shape == (1, 30, 50)


def test_multiclass_labels_are_argmax():
    probs = np.zeros((3, 2, 2), np.float32)
    probs[2, 0, 0] = probs[1, 1, 1] = 1
    assert probs_to_labels(probs).tolist() == [[2, 0], [0, 1]]


def test_transfer_from_unet_starts_as_the_unet():
    """unet → funet_flow / funet: the RGB filters move to the right channels, new inputs start at zero, so the
    new network's output equals the U-Net's whatever the flow and previous prediction are."""
    from workbench.seg.checkpoint import transfer_weights

    torch.manual_seed(0)
    source = build_network("unet", {"size": "tiny", "batch_norm": True})
    source.model.eval()
    frame = torch.rand(1, 3, 32, 48)
    expected = source.model(frame)
    for arch, extra in (("funet_flow", lambda: [torch.randn(1, 2, 32, 48), torch.rand(1, 1, 32, 48)]),
                        ("funet", lambda: [(torch.rand(1, 1, 32, 48) > 0.5).float()])):
        target = build_network(arch, {"size": "tiny", "batch_norm": True})
        transfer_weights(source, target)
        target.model.eval()
        parts = [frame, *extra()] if arch == "funet_flow" else [*extra(), frame]
        torch.testing.assert_close(target.model(torch.cat(parts, dim=1)), expected)
    with pytest.raises(InputError, match="cannot start"):
        transfer_weights(source, build_network("funet_flow", {"size": "small"}))


def test_input_scale_brings_wide_frames_back_to_the_training_width():
    """A network trained on generated 320-wide frames runs a 640-wide call at scale 0.5 (a person twice as
    large in pixels as in training is not recognised); frames near the training width, checkpoints trained on
    clip folders (width unknown) and an explicit scale keep theirs."""
    net = build_network("fastseg", {})
    assert net.input_scale(640) == 1.0  # no training record: the checkpoint's own scale
    net.extra = {"train_config": {"frame_size": [320, 192]}}
    assert net.input_scale(640) == 0.5 and net.input_scale(1280) == 0.25
    assert net.input_scale(320) == net.input_scale(352) == 1.0
    net.scale = 0.5  # trained at 160 wide
    assert net.input_scale(320) == 0.5 and net.input_scale(640) == 0.25
    net.extra = {"train_config": {"frame_size": [320, 192], "data": "my_clips"}}
    assert net.input_scale(640) == 0.5  # clip folders: the width is not recorded, the checkpoint's scale stays


def test_segmenter_chooses_the_scale_per_sequence_and_the_pipeline_for_the_whole_frame():
    """Without ``scale`` every consumer of a Segmenter (predict, bench seg --real, data label with a checkpoint
    teacher) runs a wide sequence at the training width, chosen again after each reset; an explicit scale wins;
    the adaptive pipeline segments its regions at the whole frame's scale, not the region's."""
    from workbench.pipeline.streaming import PipelineConfig, VideoSegmenter

    net = build_network("fastseg", {})
    net.extra = {"train_config": {"frame_size": [64, 48]}}
    segmenter = Segmenter(net)
    probs = segmenter.step(np.zeros((96, 128, 3), np.uint8))
    assert segmenter.scale == 0.5 and probs.shape[-2:] == (96, 128)  # the output keeps the frame's size
    segmenter.reset()
    segmenter.step(np.zeros((48, 64, 3), np.uint8))
    assert segmenter.scale == 1.0  # a new sequence, its own width
    fixed = Segmenter(net, scale=1.0)
    fixed.step(np.zeros((96, 128, 3), np.uint8))
    assert fixed.scale == 1.0
    pipeline = VideoSegmenter(net, PipelineConfig(policy="per-frame", regions=(1, 2), overlap=8))
    pipeline.step(np.zeros((96, 128, 3), np.uint8))  # 72-px-wide regions of a 128-px frame
    assert pipeline.segmenter.scale == 0.5

