"""Temporal flicker: static, moving (with / without flow compensation) and hand-counted sequences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.metrics import per_frame_flicker, temporal_flicker

H, W, SIDE, SPEED = 12, 16, 4, 2


def panning_sequence(num_frames=4):
    """A 4×4 square moving right by 2 px per frame, and the whole-frame backward flow (−2, 0)."""
    preds = []
    for t in range(num_frames):
        mask = np.zeros((H, W), dtype=np.uint8)
        mask[4:4 + SIDE, 3 + SPEED * t:3 + SPEED * t + SIDE] = 1
        preds.append(mask)
    flow = np.zeros((2, H, W), dtype=np.float32)
    flow[0] = -SPEED  # frame_t(x) = frame_{t−1}(x − 2)
    return preds, [None] + [flow] * (num_frames - 1)


def test_static_sequence_has_no_flicker():
    frame = np.zeros((H, W), dtype=np.uint8)
    frame[2:6, 3:9] = 1
    frames = [frame] * 5
    assert temporal_flicker(frames) == 0.0
    assert temporal_flicker(frames, gts=frames) == 0.0
    assert per_frame_flicker(frames) == [0.0] * 4


def test_motion_is_flicker_without_flow_and_none_with_flow():
    preds, flows = panning_sequence()
    # Uncompensated: per step the square gains a 2-px leading strip and loses a 2-px trailing strip.
    assert per_frame_flicker(preds) == pytest.approx([2 * SPEED * SIDE / (H * W)] * 3)
    assert temporal_flicker(preds) == pytest.approx(1 / 12)
    assert temporal_flicker(preds, flows_bwd=flows) == 0.0


def test_flow_compensated_denominator_excludes_samples_outside():
    preds, flows = panning_sequence()
    preds[1] = preds[1].copy()
    preds[1][0, 10] = 1  # a one-frame speck; seen at step 1 (appears) and step 2 (it moved on, at (0, 12))
    # Valid pixels: the 2 leftmost columns sample x − 2 < 0 and drop out → 12 · 14 = 168.
    assert per_frame_flicker(preds, flows_bwd=flows) == pytest.approx([1 / 168, 1 / 168, 0.0])
    flows[2] = flows[2].copy()
    flows[2][:, 0, 12] = np.nan  # unknown flow at the speck's pixel: excluded, so step 2 sees nothing
    assert per_frame_flicker(preds, flows_bwd=flows) == pytest.approx([1 / 168, 0.0, 0.0])


def test_true_object_flow_with_ground_truth():
    # Background static, only the square moves: disoccluded pixels change in both prediction and truth.
    preds, _ = panning_sequence()
    flows = [None]
    for t in range(1, len(preds)):
        flow = np.zeros((2, H, W), dtype=np.float32)
        flow[0][preds[t] == 1] = -SPEED
        flows.append(flow)
    assert temporal_flicker(preds, gts=preds, flows_bwd=flows) == 0.0
    assert temporal_flicker(preds, flows_bwd=flows) > 0  # without truth the disocclusions count
    assert temporal_flicker(preds, gts=preds) == 0.0  # all changes explained by the truth


def test_hand_counted_with_ground_truth_and_ignore():
    z = np.zeros((3, 3), dtype=np.uint8)
    gt0, gt1, gt2 = z.copy(), z.copy(), z.copy()
    gt1[0, 0] = gt2[0, 0] = 1  # a real change at (0, 0) from frame 1 on
    gt2[2, 2] = 255  # ignored in frame 2
    p0, p1, p2 = z.copy(), z.copy(), z.copy()
    p1[0, 0] = p2[0, 0] = 1  # follows the truth: not flicker
    p1[1, 1] = 1  # on in frame 1 only: flicker at steps 1 and 2
    p2[2, 2] = 1  # changes where the truth is ignored: not counted
    # Step 1: 1 of 9 valid pixels; step 2: 1 of 8 valid pixels.
    assert per_frame_flicker([p0, p1, p2], [gt0, gt1, gt2]) == pytest.approx([1 / 9, 1 / 8])
    assert temporal_flicker([p0, p1, p2], [gt0, gt1, gt2]) == pytest.approx(17 / 144)
    # Without truth every label change counts: (0,0),(1,1) then (1,1),(2,2).
    assert temporal_flicker(np.stack([p0, p1, p2])) == pytest.approx(2 / 9)
    assert temporal_flicker(torch.from_numpy(np.stack([p0, p1, p2]))) == pytest.approx(2 / 9)


def test_short_sequences_and_input_checks():
    frame = np.zeros((4, 4), dtype=np.uint8)
    assert per_frame_flicker([frame]) == []
    assert np.isnan(temporal_flicker([frame]))
    with pytest.raises(ValueError, match="3 frames"):
        temporal_flicker([frame] * 3, gts=[frame] * 2)
    with pytest.raises(ValueError, match=r"\(4, 4\).*\(4, 5\)"):
        temporal_flicker([frame, np.zeros((4, 5), np.uint8)])
    with pytest.raises(ValueError, match=r"\(2, 4, 4\)"):
        temporal_flicker([frame] * 2, flows_bwd=[None, np.zeros((2, 4, 5), np.float32)])
    with pytest.raises(ValueError, match="entries"):
        temporal_flicker([frame] * 2, flows_bwd=[np.zeros((2, 4, 4), np.float32)])
    with pytest.raises(ValueError, match="None"):
        temporal_flicker([frame] * 2, flows_bwd=[None, None])
