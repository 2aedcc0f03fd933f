"""Runs and decision labels stream: frames are read once, in order, and memory does not grow with the video.

The streamed results equal the batch computations they replaced: the run summary against
:func:`workbench.pipeline.run.summarize` (every row and frame kept), the decision labels against the whole-clip
labelling (every frame's crops and logits kept).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
import torch

from workbench.data.synthetic import SynthConfig, memory_clips
from workbench.decision.features import pair_inputs
from workbench.flow import create_flow
from workbench.io import MemorySequence, Sequence
from workbench.metrics import confidence_score, scoring_truth
from workbench.ops import warp
from workbench.pipeline import PipelineConfig, VideoSegmenter, run_video
from workbench.pipeline.labels import LabelConfig, clip_labels
from workbench.pipeline.run import Rows, summarize
from workbench.pipeline.streaming import estimate_flow
from workbench.seg.segmenter import frame_tensor, logits_to_probs, probs_to_labels

W, H = 64, 48


@pytest.fixture(scope="module")
def net(tiny_unet):
    return tiny_unet


@pytest.fixture(scope="module")
def clip():
    return memory_clips(SynthConfig(clips=1, frames=12, size=(96, 64), seed=10003))[0]


class Generated(Sequence):
    """A long sequence made on demand (nothing stored): a square moving over a gradient; records each read."""

    def __init__(self, frames: int):
        self.name, self.size, self.has_masks, self.classes = "generated", (W, H), True, ["background", "person"]
        self.meta: dict = {}
        self._frames = frames
        self.reads: list[int] = []
        self.mask_reads: list[int] = []

    def __len__(self) -> int:
        return self._frames

    def _box(self, t: int) -> tuple[slice, slice]:
        x = 8 + (t * 2) % (W - 24)
        return slice(12, 36), slice(x, x + 16)

    def frame(self, index: int) -> np.ndarray:
        self.reads.append(index)
        y, x = np.mgrid[0:H, 0:W]
        frame = np.stack([x * 3, y * 4, np.full_like(x, 60)], axis=2).astype(np.uint8)
        frame[self._box(index)] = (220, 180, 160)
        return frame

    def mask(self, index: int) -> np.ndarray:
        self.mask_reads.append(index)
        mask = np.zeros((H, W), np.uint8)
        mask[self._box(index)] = 1
        return mask


def test_run_summary_equals_the_batch_summary(net, clip):
    """The summary accumulated frame by frame equals the one computed from every row, IoU, time and label map."""
    for policy in ("fixed", "oracle"):
        segmenter = VideoSegmenter(net, PipelineConfig(policy=policy, interval=3, target=95))
        kept = {"ms": [], "preds": [], "gts": []}

        def sink(t, frame, result, gt, kept=kept):
            kept["ms"].append(result.total_ms)
            kept["preds"].append(result.seg)
            kept["gts"].append(gt)

        out = run_video(segmenter, clip, sink=sink, progress=False)
        rows = list(out.rows)
        ious = [r["iou"] for r in rows if r["region"] == 0]
        expected = summarize(rows, ious, kept["ms"], kept["preds"], kept["gts"], segmenter)
        assert out.summary.keys() == expected.keys()
        for key, value in expected.items():
            if isinstance(value, dict):
                assert out.summary[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key
            elif isinstance(value, float):
                assert out.summary[key] == pytest.approx(value, rel=1e-12), key
            else:
                assert out.summary[key] == value, key
        assert out.summary["flicker"] is not None


def test_rows_read_back_as_dicts_and_as_a_table(net, clip):
    out = run_video(VideoSegmenter(net, PipelineConfig(policy="fixed", interval=4)), clip, progress=False)
    rows = list(out.rows)
    assert len(out.rows) == len(rows) == 12 * 4
    same = pd.testing.assert_frame_equal
    same(pd.DataFrame([out.rows[-1]]), pd.DataFrame([rows[-1]]))  # NaN != NaN: compare as tables
    same(pd.DataFrame(out.rows[5:9]), pd.DataFrame(rows[5:9]))
    same(pd.DataFrame(out.rows[-3:]), pd.DataFrame(rows[-3:]))
    assert {r["decision"] for r in rows} == {"segment", "warp"}
    pd.testing.assert_frame_equal(out.rows.to_frame(), pd.DataFrame(rows))
    pd.testing.assert_frame_equal(pd.DataFrame(out.rows), pd.DataFrame(rows))  # what RunWriter.finish does
    with pytest.raises(IndexError):
        out.rows[len(rows)]
    table = Rows()
    table.append({"frame": 0, "decision": "warp"})
    with pytest.raises(ValueError, match="keys"):
        table.append({"frame": 1})


def test_run_reads_each_frame_once_in_order_and_memory_stays_flat(net):
    """Python allocations after 60 frames stay flat to the end of a 360-frame run: no per-frame label maps,
    ground truth or row dicts are kept."""
    seq = Generated(360)
    segmenter = VideoSegmenter(net, PipelineConfig(policy="fixed", interval=6, regions=(1, 1)))
    marks = {}

    def on_frame(done, total):
        if done in (60, 360):
            marks[done] = tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        out = run_video(segmenter, seq, progress=False, on_frame=on_frame)
    finally:
        tracemalloc.stop()
    assert seq.reads == list(range(360)) and seq.mask_reads == list(range(360))
    assert out.summary["frames"] == 360 and out.summary["flicker"] is not None
    growth = marks[360] - marks[60]
    # The rows take ~130 B a frame (one region, 16 columns); label map + ground truth + a row dict would be ~7 kB.
    assert growth < 300 * 500, f"{growth / 1e3:.0f} kB over 300 frames"


def _labels_of(logits, threshold):
    return probs_to_labels(logits_to_probs(logits)[0].cpu().numpy(), threshold)


def whole_clip_labels(net, seq, config):
    """The labelling as it was before it streamed: every frame's crops and logits kept, then every pair."""
    pipeline = config.pipeline
    flow_method = create_flow(pipeline.flow)
    segmenter = VideoSegmenter(net, PipelineConfig(policy="per-frame", regions=pipeline.regions,
                                                   overlap=pipeline.overlap, flow=pipeline.flow,
                                                   flow_scale=pipeline.flow_scale), flow=flow_method)
    regions = segmenter.regions(*seq.size)
    crops, logits, state = [], [], None
    with torch.inference_mode():
        for t in range(len(seq)):
            _, state = segmenter.step(seq.frame(t), state)
            crops.append([key.key_frame for key in state.keys])
            logits.append([key.key_logits for key in state.keys])
        scores, grids = [], []
        for t in range(1, len(seq)):
            for k in range(1, config.max_offset + 1):
                if t - k < 0:
                    continue
                gt = seq.mask(t) if config.label == "gt" else None
                for region in regions:
                    r = region.index
                    flow, _ = estimate_flow(flow_method, crops[t][r], crops[t - k][r], pipeline.flow_scale)
                    flow_t = torch.from_numpy(np.nan_to_num(flow))[None]
                    warped, _ = warp(logits[t - k][r], flow_t, padding="border")
                    reference = (_labels_of(logits[t][r], net.threshold) if gt is None
                                 else scoring_truth(region.crop(gt), len(net.classes)))
                    scores.append(confidence_score(_labels_of(warped, net.threshold), reference, pipeline.score))
                    grid, _ = pair_inputs(config.features, config.grid, frame_tensor(crops[t][r]),
                                          frame_tensor(crops[t - k][r]), flow_t, logits[t - k][r], k)
                    grids.append(grid[0].numpy())
    return np.asarray(scores, np.float32), np.stack(grids)


@pytest.mark.parametrize("label", ["self", "gt"])
def test_labels_stream_and_equal_the_whole_clip_labelling(net, clip, label):
    config = LabelConfig(max_offset=3, label=label)
    seq = MemorySequence(clip.name, [clip.frame(t) for t in range(8)], [clip.mask(t) for t in range(8)])
    arrays = clip_labels(net, seq, config, progress=False)
    scores, grids = whole_clip_labels(net, seq, config)
    np.testing.assert_array_equal(arrays["score"], scores)
    np.testing.assert_allclose(arrays["grid"], grids, rtol=0, atol=1e-6)
    assert list(arrays["offset"][:4]) == [1] * 4 and arrays["frame"].max() == 7


def test_labels_read_each_frame_once_in_order(net):
    seq = Generated(20)
    config = LabelConfig(PipelineConfig(policy="per-frame", regions=(1, 1)), max_offset=4, label="gt")
    arrays = clip_labels(net, seq, config, progress=False)
    assert seq.reads == list(range(20)) and seq.mask_reads == list(range(1, 20))
    assert len(arrays["score"]) == 1 + 2 + 3 + 4 * 16
