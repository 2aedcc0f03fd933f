"""Temporal flicker: static, moving (with / without flow compensation) and hand-counted sequences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.metrics import per_frame_flicker, temporal_flicker
from workbench.metrics.temporal import FlickerAccumulator

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


# --- streaming: FlickerAccumulator against the batch functions (the reference) ---------------------------


def random_case(rng, frames=9, shape=(10, 14), classes=3, with_gt=True, with_flow=True):
    """Label maps that mostly persist, ground truth with ignore pixels, flows with NaN and targets outside."""
    preds, gts, flows = [], [], [None]
    pred = rng.integers(0, classes, shape).astype(np.uint8)
    gt = rng.integers(0, classes, shape).astype(np.uint8)
    for t in range(frames):
        if t:
            pred = np.where(rng.random(shape) < 0.2, rng.integers(0, classes, shape), pred).astype(np.uint8)
            gt = np.where(rng.random(shape) < 0.1, rng.integers(0, classes, shape), gt).astype(np.uint8)
            flow = rng.normal(0, 2, (2, *shape)).astype(np.float32)
            flow[:, rng.random(shape) < 0.05] = np.nan
            flows.append(flow)
        shown = gt.copy()
        shown[rng.random(shape) < 0.1] = 255
        preds.append(pred.copy())
        gts.append(shown)
    return preds, gts if with_gt else None, flows if with_flow else None


@pytest.mark.parametrize("with_gt", [True, False])
@pytest.mark.parametrize("with_flow", [True, False])
@pytest.mark.parametrize("ignore_index", [255, None])
def test_accumulator_equals_the_batch_functions(with_gt, with_flow, ignore_index):
    rng = np.random.default_rng(7)
    for frames in (1, 2, 9, 40):
        preds, gts, flows = random_case(rng, frames, with_gt=with_gt, with_flow=with_flow)
        acc = FlickerAccumulator(ignore_index)
        steps = [acc.update(preds[t], None if gts is None else gts[t], None if flows is None else flows[t])
                 for t in range(frames)]
        assert np.isnan(steps[0]) and acc.frames == frames
        expected = per_frame_flicker(preds, gts, flows, ignore_index)
        np.testing.assert_allclose(steps[1:], expected, rtol=0, atol=0)  # each step exactly the batch's
        batch = temporal_flicker(preds, gts, flows, ignore_index)
        if np.isnan(batch):
            assert np.isnan(acc.result())
        else:
            assert acc.result() == pytest.approx(batch, rel=1e-12, abs=0)


def test_accumulator_hand_counted_and_inputs_like_the_batch():
    preds, flows = panning_sequence()
    acc = FlickerAccumulator()
    for t, pred in enumerate(preds):
        acc.update(torch.from_numpy(pred).bool(), flow_bwd=None if t == 0 else torch.from_numpy(flows[t]))
    assert acc.result() == 0.0 and acc.steps == 3
    acc = FlickerAccumulator()
    for pred in preds:
        acc.update(pred)
    assert acc.result() == pytest.approx(1 / 12)
    empty = FlickerAccumulator()
    assert np.isnan(empty.result())
    empty.update(preds[0])
    assert np.isnan(empty.result())


def test_accumulator_keeps_a_copy_of_the_previous_frame():
    buffer = np.zeros((H, W), np.uint8)
    acc = FlickerAccumulator()
    acc.update(buffer)
    buffer[:] = 1  # the caller reuses its buffer for the next frame
    assert acc.update(buffer) == 1.0


def test_accumulator_rejects_what_the_batch_rejects():
    frame = np.zeros((H, W), np.uint8)
    acc = FlickerAccumulator()
    acc.update(frame, gt=frame)
    with pytest.raises(ValueError, match=r"gts\[1\]: ground truth is given for every frame or for none"):
        acc.update(frame)
    acc = FlickerAccumulator()
    acc.update(frame)
    with pytest.raises(ValueError, match=r"preds\[1\]: expected shape \(12, 16\)"):
        acc.update(np.zeros((H, W + 1), np.uint8))
    with pytest.raises(ValueError, match=r"preds\[1\]: expected an integer label map"):
        acc.update(np.zeros((H, W), np.float32))
    with pytest.raises(ValueError, match=r"flows_bwd\[1\]: expected flow of shape \(2, 12, 16\)"):
        acc.update(frame, flow_bwd=np.zeros((2, H, W - 1), np.float32))
    acc.update(frame, flow_bwd=np.zeros((2, H, W), np.float32))
    with pytest.raises(ValueError, match=r"flows_bwd\[2\] is None"):
        acc.update(frame)
    acc = FlickerAccumulator()
    acc.update(frame)
    acc.update(frame)
    with pytest.raises(ValueError, match=r"flows_bwd\[2\]: step 1 had no backward flow"):
        acc.update(frame, flow_bwd=np.zeros((2, H, W), np.float32))
