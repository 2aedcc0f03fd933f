"""The one streaming evaluator equals the batch metrics it accumulates (to float rounding)."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.metrics import boundary_f, dice, foreground_iou, frame_iou, temporal_flicker
from workbench.metrics.stream import SegScores, pooled_mean, pooled_min


def _stream(seed: int, frames: int = 6, classes: int = 2) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    gts, preds = [], []
    for _ in range(frames):
        gt = (rng.random((24, 32)) * classes).astype(np.uint8)
        gt[:2] = 255  # ignored rows
        pred = np.where(rng.random(gt.shape) < 0.8, gt % 255 % classes, rng.integers(0, classes, gt.shape))
        gts.append(gt)
        preds.append(pred.astype(np.uint8))
    return preds, gts


def test_binary_scores_equal_the_batch_metrics():
    preds, gts = _stream(0)
    scores = SegScores()
    rows = [scores.update(p, g) for p, g in zip(preds, gts, strict=True)]
    assert list(rows[0]) == ["iou", "dice", "boundary_f"]
    ious = [foreground_iou(p, g) for p, g in zip(preds, gts, strict=True)]
    assert [r["iou"] for r in rows] == ious
    assert scores.mean("iou") == pytest.approx(np.nanmean(ious), abs=1e-12)
    assert scores.mean("dice") == pytest.approx(np.nanmean([dice(p, g) for p, g in zip(preds, gts, strict=True)]))
    assert scores.mean("boundary_f") == pytest.approx(
        np.nanmean([boundary_f(p, g)[0] for p, g in zip(preds, gts, strict=True)]))
    assert scores.min_iou == min(ious)
    assert scores.flicker_result() == pytest.approx(temporal_flicker(preds, gts), abs=1e-12)
    assert scores.result()["frames"] == 6


def test_multiclass_frames_score_miou_only_and_pooling_weights_frames():
    preds, gts = _stream(1, classes=4)
    scores = SegScores(4, metrics=("dice", "iou"), flicker=False)
    row = scores.update(preds[0], gts[0])
    assert row == {"iou": frame_iou(preds[0], gts[0], 4)} and scores.flicker_result() is None
    a, b = SegScores(flicker=False), SegScores(flicker=False)
    p2, g2 = _stream(2, frames=3)
    for p, g in zip(preds[:1], gts[:1], strict=True):
        a.update(p > 0, g)
    for p, g in zip(p2, g2, strict=True):
        b.update(p, g)
    every = [foreground_iou(preds[0] > 0, gts[0])] + [foreground_iou(p, g) for p, g in zip(p2, g2, strict=True)]
    assert pooled_mean([a, b], "iou") == pytest.approx(np.mean(every)) and pooled_min([a, b]) == min(every)
    with pytest.raises(ValueError, match="metrics"):
        SegScores(metrics=("accuracy",))
