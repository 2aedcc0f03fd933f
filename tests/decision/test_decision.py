"""Decision network: features, learning a score, checkpoints with clear errors, labels as the pipeline sees them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.data.synthetic import SynthConfig, memory_clips
from workbench.decision import Decider, DecisionConfig, DecisionNet, load_decision_checkpoint, save_decision_checkpoint
from workbench.decision.features import FAST_CHANNELS, FLOW_CHANNELS, flow_features
from workbench.errors import InputError
from workbench.metrics import confidence_score
from workbench.pipeline import PipelineConfig
from workbench.pipeline.labels import LabelConfig, load_labels, make_labels
from workbench.seg.checkpoint import build_network, save_seg_checkpoint
from workbench.train.decision import DecisionTrainConfig, score_metrics, train_decision


def test_confidence_score():
    a = np.zeros((10, 10), np.uint8)
    b = a.copy()
    assert confidence_score(a, b) == 100.0 and confidence_score(a, b, "accuracy") == 100.0
    a[:5, :5] = 1  # 25 person pixels
    b[:5, :4] = 1  # 20 of them found
    assert confidence_score(b, a) == pytest.approx(80.0)  # IoU 20/25
    assert confidence_score(b, a, "accuracy") == pytest.approx(95.0)
    c = np.zeros((10, 10), np.uint8)
    c[0, 0] = 1  # one stray pixel: the union is floored at 5 pixels, not a score of 0
    assert confidence_score(c, np.zeros_like(c)) == pytest.approx(80.0)


def test_flow_features_shape_and_meaning():
    frame = torch.rand(1, 3, 40, 64)
    flow = torch.zeros(1, 2, 40, 64)
    logits = torch.full((1, 1, 40, 64), 5.0)
    still = flow_features(frame, frame, flow, logits, (4, 8))
    assert still.shape == (1, len(FLOW_CHANNELS), 4, 8)
    assert still[:, :6].abs().max() < 1e-5  # no motion, no residual, nothing from outside
    moved = flow_features(frame, frame, torch.full((1, 2, 40, 64), 3.0), logits, (4, 8))
    assert moved[0, 2].mean() == pytest.approx(np.hypot(3, 3) / 10, rel=1e-4)
    assert moved[0, 5].mean() > 0  # pixels sampled from outside the key region
    assert moved[0, 4].mean() > 0  # photometric residual of a wrong warp


def test_training_learns_a_score(tmp_path):
    """Labels that depend on the features: the network finds the relation (r above the issue's 0.8)."""
    rng = np.random.default_rng(0)
    n = 1200
    grid = rng.normal(size=(n, 11, 4, 8)).astype(np.float32)
    extra = rng.uniform(0.1, 1.2, size=(n, 1)).astype(np.float32)
    score = np.clip(85 - 8 * grid[:, 2].mean(axis=(1, 2)) * 3 - 10 * extra[:, 0], 0, 100).astype(np.float32)
    folder = tmp_path / "labels"
    folder.mkdir()
    np.savez(folder / "labels.npz", grid=grid, extra=extra, score=score, clip=np.arange(n) % 10)
    (folder / "labels.json").write_text('{"config": {"features": "flow", "flow": "dis", "score": "iou", '
                                        '"label": "self", "regions": [2, 2], "overlap": 16, "max_offset": 12}}')
    result = train_decision(DecisionTrainConfig(labels=str(folder), out=str(tmp_path / "dec"), epochs=30,
                                                val_percent=20), progress=False)
    assert result["val"]["pearson"] > 0.8
    assert result["val"]["mae"] < 0.6 * result["baseline_val_mae"]
    decider = load_decision_checkpoint(tmp_path / "dec" / "checkpoint.pt")
    assert decider.features == "flow" and decider.flow == "dis" and decider.grid == (4, 8)
    pred = decider.predict(torch.from_numpy(grid[:50]), torch.from_numpy(extra[:50]))
    assert score_metrics(pred, score[:50])["pearson"] > 0.8


def test_checkpoint_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_decision_checkpoint(tmp_path / "missing.pt")
    seg = tmp_path / "seg.pt"
    save_seg_checkpoint(seg, build_network("unet", {"size": "tiny"}))
    with pytest.raises(InputError, match="expected a decision network"):
        load_decision_checkpoint(seg)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a readable"):
        load_decision_checkpoint(tmp_path / "junk.pt")
    wrong = tmp_path / "wrong.pt"
    save_decision_checkpoint(wrong, Decider(DecisionNet(DecisionConfig(conv_channels=8))))
    payload = torch.load(wrong, weights_only=True)
    payload["config"]["conv_channels"] = 16
    torch.save(payload, wrong)
    with pytest.raises(InputError, match="do not fit"):
        load_decision_checkpoint(wrong)


def test_labels_from_a_clip(tmp_path):
    torch.manual_seed(0)
    net = build_network("unet", {"size": "tiny"})
    clips = memory_clips(SynthConfig(clips=2, frames=4, size=(96, 64), seed=3))
    config = LabelConfig(max_offset=2, label="gt")
    info = make_labels(net, clips, config, tmp_path / "labels", progress=False)
    arrays, meta = load_labels(tmp_path / "labels")
    pairs_per_clip = (1 + 2 + 2) * 4  # t=1: k=1; t=2,3: k=1,2; four regions
    assert info["pairs"] == meta["pairs"] == 2 * pairs_per_clip == len(arrays["score"])
    assert arrays["grid"].shape[1:] == (11, 4, 8) and set(arrays["offset"]) == {1, 2}
    assert ((arrays["score"] >= 0) & (arrays["score"] <= 100)).all()
    with pytest.raises(InputError, match="flow network's features"):
        LabelConfig(PipelineConfig(flow="dis"), features="flownet").validate()
    with pytest.raises(InputError, match="not a decision-label folder"):
        load_labels(tmp_path)


def test_flow_plus_fast_features():
    """flow+fast: the flow channels unchanged, then the fast network's foreground and its disagreement with the
    warped key — zero where both agree, one where they are opposite."""
    frame = torch.rand(1, 3, 40, 64)
    flow = torch.zeros(1, 2, 40, 64)
    key = torch.full((1, 1, 40, 64), 8.0)
    plain = flow_features(frame, frame, flow, key, (4, 8))
    same = flow_features(frame, frame, flow, key, (4, 8), fast_logits=key.clone())
    assert same.shape == (1, len(FLOW_CHANNELS) + len(FAST_CHANNELS), 4, 8)
    torch.testing.assert_close(same[:, :len(FLOW_CHANNELS)], plain)
    n = len(FLOW_CHANNELS)
    assert same[0, n].mean() == pytest.approx(1.0, abs=1e-3) and same[0, n + 1:].abs().max() < 1e-3
    opposite = flow_features(frame, frame, flow, key, (4, 8), fast_logits=-key)
    assert opposite[0, n + 1].mean() == pytest.approx(1.0, abs=1e-3) and opposite[0, n + 2].min() > 0.99


def test_flow_plus_fast_labels_checkpoint_and_pipeline(tmp_path):
    """Labels with a fast network, a checkpoint that names it and loads it back, and the pipeline feeding it:
    the fast network runs once per frame for the decisions (its time under "fast"), never on fixed runs."""
    from workbench.pipeline import PipelineConfig, VideoSegmenter, run_video

    torch.manual_seed(0)
    net, fast = build_network("unet", {"size": "tiny"}), build_network("fastseg")
    save_seg_checkpoint(tmp_path / "fast.pt", fast)
    clips = memory_clips(SynthConfig(clips=2, frames=4, size=(96, 64), seed=3))
    with pytest.raises(InputError, match="--fast"):
        LabelConfig(features="flow+fast").validate()
    config = LabelConfig(features="flow+fast", fast=str(tmp_path / "fast.pt"), max_offset=2)
    make_labels(net, clips, config, tmp_path / "labels", progress=False)
    arrays, meta = load_labels(tmp_path / "labels")
    assert arrays["grid"].shape[1:] == (len(FLOW_CHANNELS) + len(FAST_CHANNELS), 4, 8)
    assert meta["config"]["fast"] == str(tmp_path / "fast.pt")
    train_decision(DecisionTrainConfig(labels=str(tmp_path / "labels"), out=str(tmp_path / "dec"), epochs=2,
                                       val_percent=50), progress=False)
    decider = load_decision_checkpoint(tmp_path / "dec" / "checkpoint.pt")
    assert decider.features == "flow+fast" and decider.fast_net is not None
    assert decider.fast_net.arch == "fastseg"
    adaptive = run_video(VideoSegmenter(net, PipelineConfig(policy="adaptive", target=0), decider=decider),
                         clips[0], progress=False)
    later = [r for r in adaptive.rows if r["frame"] > 0]
    assert all(r["t_fast_ms"] > 0 and not np.isnan(r["score_pred"]) for r in later)
    fixed = run_video(VideoSegmenter(net, PipelineConfig(policy="fixed", interval=2), decider=decider), clips[0],
                      progress=False)
    assert all(r["t_fast_ms"] == 0 for r in fixed.rows)
    payload = torch.load(tmp_path / "dec" / "checkpoint.pt", weights_only=True)
    payload.pop("fast")
    torch.save(payload, tmp_path / "nofast.pt")
    with pytest.raises(InputError, match="fast network"):
        load_decision_checkpoint(tmp_path / "nofast.pt")


def test_labels_of_the_flat_form_read_into_the_nested_pipeline():
    """Labels written before ``LabelConfig`` nested the pipeline keep flow, scale, score, regions and overlap at the
    top level; they are read into ``pipeline`` (those older than ``flow_scale`` estimated flow at full scale)."""
    flat = {"features": "flow", "fast": "", "flow": "farneback", "flow_scale": 0.5, "label": "self", "score": "iou",
            "grid": [4, 8], "regions": [1, 2], "overlap": 8, "max_offset": 12}
    config = LabelConfig.from_info({"config": flat})
    assert config.pipeline.flow == "farneback" and config.pipeline.regions == (1, 2) and config.pipeline.overlap == 8
    assert config.pipeline.policy == "per-frame" and config.max_offset == 12
    older = {k: v for k, v in flat.items() if k != "flow_scale"}
    assert LabelConfig.from_info({"config": older}).pipeline.flow_scale == 1.0
    assert LabelConfig.from_info({"config": config.to_dict()}) == config  # the nested form reads back as written
