"""Segmentation training: batches, losses, the degraded previous mask, resume == uninterrupted, outputs."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from workbench.errors import InputError
from workbench.seg import FLOW_NORM
from workbench.seg.checkpoint import build_network, load_seg_checkpoint
from workbench.train.seg import SegBank, SegTrainConfig, degraded_prev, sample_batch, seg_loss, train_seg, zoomed


def tiny_bank(flow_u: float = 2.0) -> SegBank:
    bank = SegBank(["background", "person"])
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (24, 32, 3), dtype=np.uint8) for _ in range(3)]
    masks = [np.zeros((24, 32), np.uint8) for _ in range(3)]
    for m in masks:
        m[6:18, 8:20] = 1
    flows = [np.zeros((2, 24, 32), np.float32)] + [np.stack([np.full((24, 32), flow_u), np.zeros((24, 32))])
                                                   .astype(np.float32)] * 2
    bank.add("a", frames, masks, flows)
    return bank


@pytest.mark.parametrize("arch,channels", [("unet", 3), ("funet", 4), ("funet_flow", 6), ("fastseg", 3)])
def test_sample_batch_shapes(arch, channels):
    net = build_network(arch, {} if arch == "fastseg" else {"size": "tiny"})
    x, y = sample_batch(tiny_bank(), [(0, 1), (0, 2)], np.random.default_rng(0), net, crop=(16, 8))
    assert x.shape == (2, channels, 8, 16) and y.shape == (2, 8, 16) and y.dtype == torch.int64


def test_flip_negates_the_horizontal_flow():
    net = build_network("funet_flow", {"size": "tiny"})
    seen = set()
    for seed in range(12):
        x, _ = sample_batch(tiny_bank(2.0), [(0, 1)], np.random.default_rng(seed), net, crop=None)
        u = x[0, 3].unique().tolist()
        assert len(u) == 1 and x[0, 4].abs().max() == 0
        seen.add(round(u[0] * FLOW_NORM, 4))
    assert seen == {2.0, -2.0}  # both orientations occur, with u's sign following the mirror


def test_zoom_resamples_frame_mask_flow_and_previous_prediction_consistently():
    H, W = 48, 64
    frame = np.zeros((H, W, 3), np.float32)
    mask = np.zeros((H, W), np.uint8)
    mask[12:36, 16:48] = 1  # a 32x24 box
    frame[mask == 1] = 1.0
    flow = np.stack([np.full((H, W), 2.0), np.full((H, W), -1.0)]).astype(np.float32)
    prev = mask[None].astype(np.float32)
    scales = []
    for seed in range(40):
        f, m, fl, p = zoomed(np.random.default_rng(seed), (0.5, 2.0), (32, 24), frame, mask, flow, prev)
        assert f.shape == (24, 32, 3) and m.shape == (24, 32) and fl.shape == (2, 24, 32) and p.shape == (1, 24, 32)
        assert set(np.unique(m)) <= {0, 1}  # labels stay labels (nearest neighbour)
        s = fl[0].mean() / 2.0  # the flow scaled with the picture (per axis, as the window was resampled)
        assert -fl[1].mean() == pytest.approx(s, rel=0.1) and fl[0].std() < 1e-5 and fl[1].std() < 1e-5
        assert ((f[..., 0] > 0.5) == (m == 1)).mean() > 0.9 and ((p[0] > 0.5) == (m == 1)).mean() > 0.9
        scales.append(s)
    assert min(scales) >= 0.5 - 1e-6 and max(scales) <= 2.0 + 0.1  # zoom out only as far as the frame allows
    assert min(scales) < 0.8 and max(scales) > 1.5
    whole, *_ = zoomed(np.random.default_rng(0), (0.25, 0.5), (W, H), frame, mask, None, None)
    assert np.array_equal(whole, frame)  # a frame-sized output cannot zoom out: the frame itself


def test_sample_batch_with_zoom_keeps_shapes_and_draws_scales():
    net = build_network("funet", {"size": "tiny"})
    x, y = sample_batch(tiny_bank(), [(0, 1), (0, 2)], np.random.default_rng(0), net, crop=(16, 8), zoom=(1, 3))
    assert x.shape == (2, 4, 8, 16) and y.shape == (2, 8, 16)
    x, y = sample_batch(tiny_bank(), [(0, 1)], np.random.default_rng(0), net, crop=None, zoom=(2, 2))
    blocks = y[0, ::2, ::2].repeat_interleave(2, 0).repeat_interleave(2, 1)
    assert x.shape == (1, 4, 24, 32) and torch.equal(y[0], blocks)  # a 16x12 window, every label pixel doubled


def test_degraded_previous_mask_is_close_but_not_exact():
    mask = np.zeros((192, 320), np.uint8)  # a head-and-shoulders-sized region in a 320×192 frame
    mask[80:192, 90:230] = 1
    rng = np.random.default_rng(3)
    outs = [degraded_prev(mask, rng, 1) for _ in range(40)]
    ious = []
    for p in outs:
        assert p.shape == (1, 192, 320) and p.min() >= 0 and p.max() <= 1
        inter = ((p[0] > 0.5) & (mask > 0)).sum()
        union = ((p[0] > 0.5) | (mask > 0)).sum()
        ious.append(inter / union)
    assert min(ious) > 0.6 and np.median(ious) > 0.85  # a plausible prediction, sometimes a poor one
    assert any(not np.array_equal(p[0] > 0.5, mask > 0) for p in outs)
    multi = degraded_prev(np.array([[0, 1], [2, 255]], np.uint8), rng, 3)
    assert multi.shape == (3, 2, 2)


def test_losses_ignore_255_and_use_ce_for_classes():
    logits = torch.zeros(1, 1, 2, 2, requires_grad=True)
    target = torch.tensor([[[1, 0], [255, 255]]])
    loss = seg_loss(logits, target, "bce")
    assert loss.item() == pytest.approx(np.log(2))
    loss.backward()
    assert logits.grad[0, 0, 1].abs().sum() == 0  # ignored pixels get no gradient
    assert seg_loss(logits, target, "dice_bce").item() > loss.item()
    three = torch.zeros(1, 3, 2, 2)
    assert seg_loss(three, torch.tensor([[[0, 1], [2, 255]]]), "bce").item() == pytest.approx(np.log(3))


def config(tmp_path, **overrides) -> SegTrainConfig:
    base = dict(out=str(tmp_path / "run"), model="funet_flow", size="tiny", flow="gt", train_clips=3, frames=5,
                frame_size=(64, 48), epochs=2, batch_size=4, crop=(32, 32), val_percent=34, threads=1)
    return SegTrainConfig(**{**base, **overrides})


def test_resume_gives_the_same_weights(tmp_path):
    full = train_seg(config(tmp_path / "a"), progress=False)
    half = train_seg(config(tmp_path / "b"), progress=False, stop_after=1)
    assert half["epochs"] == 1
    resumed = train_seg(config(tmp_path / "b", resume=True), progress=False)
    assert resumed["epochs"] == 2
    a = full["net"].model.state_dict()
    b = resumed["net"].model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [h["val_dice"] for h in full["history"]] == [h["val_dice"] for h in resumed["history"]]
    run = tmp_path / "a" / "run"
    assert {p.name for p in (run / "epochs").iterdir()} == {"epoch_001.pt", "epoch_002.pt", "state.pt"}
    rows = list(csv.DictReader(open(run / "train_log.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    best = load_seg_checkpoint(run / "checkpoint.pt")
    assert best.metrics["val_dice"] == pytest.approx(max(float(r["val_dice"]) for r in rows))
    assert best.extra["val_clips"] and not set(best.extra["val_clips"]) & set(best.extra["train_clips"])
    assert any((run / "tensorboard").iterdir())


def test_training_learns(tmp_path):
    """A few epochs of the fast network on easy clips beat its untrained self by a wide margin."""
    cfg = config(tmp_path, model="fastseg", size="small", difficulty="easy", train_clips=4, frames=8, epochs=4, lr=3e-3,
                 frame_size=(96, 64), crop=None, val_percent=25)
    summary = train_seg(cfg, progress=False)
    dices = [h["val_dice"] for h in summary["history"]]
    losses = [h["train_loss"] for h in summary["history"]]
    assert losses[-1] < 0.7 * losses[0] and max(dices) > 0.6


def test_config_errors(tmp_path):
    with pytest.raises(InputError, match="--context: unet does not take it"):
        train_seg(config(tmp_path, model="unet", context=True), progress=False)
    with pytest.raises(InputError, match="--validation 0"):
        train_seg(config(tmp_path, val_percent=0), progress=False)
    with pytest.raises(InputError, match="no training state"):
        train_seg(config(tmp_path, resume=True), progress=False)
    with pytest.raises(InputError, match="--zoom 2:1: expected MIN:MAX"):
        train_seg(config(tmp_path, zoom=(2.0, 1.0)), progress=False)
    with pytest.raises(InputError, match="--crop 128x128 is larger"):
        train_seg(config(tmp_path, crop=(128, 128), zoom=(1.0, 2.0), epochs=1), progress=False)
    with pytest.raises(InputError, match="--crop 128x128 is larger"):
        train_seg(config(tmp_path, crop=(128, 128), epochs=1), progress=False)
    with pytest.raises(InputError, match="--flow gt needs ground-truth flow"):
        from workbench.io import ClipWriter

        writer = ClipWriter(tmp_path / "noflow" / "c")
        for i in range(3):
            writer.write(i, np.zeros((32, 32, 3), np.uint8), np.zeros((32, 32), np.uint8))
        train_seg(config(tmp_path, data=str(tmp_path / "noflow")), progress=False)


def test_realistic_training_data_with_a_real_portrait(tmp_path):
    """Training clips with photographs, a webcam, caps and a pasted real person (a portrait folder, as
    `data portraits` or `data label` writes); the held-out portrait is refused by name."""
    import cv2

    from workbench.data.animate import AnimatedPortrait
    from workbench.data.synthetic import SynthConfig, TalkingHeadClip
    from workbench.train.seg import load_bank, training_clip, training_portraits

    folder = tmp_path / "portraits"
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    image = np.random.default_rng(0).integers(0, 255, (90, 80, 3), dtype=np.uint8)
    mask = np.zeros((90, 80), np.uint8)
    cv2.ellipse(mask, (40, 30), (15, 20), 0, 0, 360, 255, -1)
    mask[45:] = 255
    cv2.imwrite(str(folder / "images" / "me.png"), image)
    cv2.imwrite(str(folder / "masks" / "me.png"), mask)
    people = training_portraits(str(folder))
    assert [p[0] for p in people] == ["me"]
    synth = SynthConfig(clips=6, frames=3, size=(96, 64), seed=2, photo_backgrounds=1.0, hats=0.5, camera="webcam")
    kinds = [type(training_clip(synth, i, people, 0.5)).__name__ for i in range(6)]
    assert set(kinds) == {"AnimatedPortrait", "TalkingHeadClip"}  # a share of the clips is the real person
    assert [type(training_clip(synth, i, people, 0.5)) for i in range(6)] == \
        [AnimatedPortrait if k == "AnimatedPortrait" else TalkingHeadClip for k in kinds]  # deterministic
    config = SegTrainConfig(model="fastseg", train_clips=4, frames=3, frame_size=(96, 64), photo_backgrounds=1.0,
                            camera="webcam", hats=0.5, portraits=str(folder), portrait_share=0.5)
    bank = load_bank(config, needs_flow=False, progress=False)
    assert len(bank.names) == 4 and bank.frames[0].shape == (3, 64, 96, 3)
    assert all(set(np.unique(m)) <= {0, 1} for m in bank.masks)
    with pytest.raises(InputError, match="held out"):
        training_portraits("grace_hopper")
    with pytest.raises(InputError, match="--portraits"):
        SegTrainConfig(portrait_share=0.5).validate()
    with pytest.raises(InputError, match="expected astronaut"):
        training_portraits(str(tmp_path))
