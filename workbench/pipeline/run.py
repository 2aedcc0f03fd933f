"""``run_video``: one pass of the streaming pipeline over a sequence, with metrics and per-region rows.

Rows follow the run-record contract (DESIGN.md §4): one per (frame, region) with ``frame, region, decision,
score_pred, score_true, target, iou, t_flow_ms, t_decision_ms, t_seg_ms, t_warp_ms, t_total_ms`` plus
``key_frame`` (the frame index the region's output comes from), ``score_cum`` (under the cumulative rule: the
compound score compared with the target; NaN otherwise) and ``t_stitch_ms``. A row's times are its
region's own stages; the frame's stitching time is charged to its region-0 row, so that summing ``t_total_ms``
over a frame's rows gives the frame's time. ``iou`` is the frame's IoU (foreground IoU for binary, mIoU
otherwise), repeated on each of its rows; NaN without ground truth. Reading frames and whatever ``sink``
does (writing files) are outside every timer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.errors import InputError
from workbench.io.sequence import Sequence
from workbench.metrics import frame_iou, scoring_truth, temporal_flicker
from workbench.pipeline.streaming import STAGES, StepResult, VideoSegmenter

#: called after every frame with (index, frame, result, ground truth or None)
Sink = Callable[[int, np.ndarray, StepResult, np.ndarray | None], None]


@dataclass
class RunOutput:
    rows: list[dict[str, Any]]
    summary: dict[str, Any]


def run_video(segmenter: VideoSegmenter, seq: Sequence, evaluate: bool = True, sink: Sink | None = None,
              max_frames: int | None = None, progress: bool = True,
              on_frame: Callable[[int, int], None] | None = None) -> RunOutput:
    """Run ``segmenter`` over ``seq`` frame by frame; ``evaluate`` needs ground-truth masks. ``on_frame(done,
    total)`` is called after each frame (progress bars of the dashboard and notebooks)."""
    from tqdm import tqdm

    if evaluate and not seq.has_masks:
        raise InputError(f"{seq.name}: no ground-truth masks, so no IoU can be computed (pass --no-eval)")
    num_classes = len(segmenter.net.classes)
    count = len(seq) if max_frames is None else min(len(seq), max_frames)
    if count == 0:
        raise InputError(f"{seq.name}: no frames")
    rows: list[dict[str, Any]] = []
    ious, frame_ms, preds, gts = [], [], [], []
    state = None
    for t in tqdm(range(count), desc=f"{segmenter.config.policy} {seq.name}", unit="frame", disable=not progress,
                  leave=False):
        frame = seq.frame(t)
        result, state = segmenter.step(frame, state)
        seg = result.seg
        gt = scoring_truth(seq.mask(t), num_classes) if evaluate else None
        iou = frame_iou(seg, gt, num_classes) if gt is not None else float("nan")
        ious.append(iou)
        frame_ms.append(result.total_ms)
        if gt is not None:
            preds.append(seg)
            gts.append(gt)
        for step in result.regions:
            times = {f"t_{stage}_ms": step.times[stage] for stage in STAGES}
            stitch_ms = result.stitch_ms if step.region == 0 else 0.0
            rows.append({"frame": t, "region": step.region, "decision": step.decision,
                         "score_pred": step.score_pred, "score_true": step.score_true, "target": step.target,
                         "score_cum": step.score_cum,
                         "iou": iou, **times, "t_stitch_ms": stitch_ms,
                         "t_total_ms": sum(times.values()) + stitch_ms, "key_frame": step.key_frame})
        if sink is not None:
            sink(t, frame, result, gt)
        if on_frame is not None:
            on_frame(t + 1, count)
    return RunOutput(rows, summarize(rows, ious, frame_ms, preds, gts, segmenter))


def summarize(rows: list[dict[str, Any]], ious: list[float], frame_ms: list[float], preds: list[np.ndarray],
              gts: list[np.ndarray], segmenter: VideoSegmenter) -> dict[str, Any]:
    """The run's ``summary`` (DESIGN.md §4): frames, mean_iou, fps (no I/O), key_fraction, and more."""
    frames = len(frame_ms)
    total_s = sum(frame_ms) / 1000.0
    keys = sum(r["decision"] == "segment" for r in rows)
    valid = [v for v in ious if not np.isnan(v)]
    scores = [r["score_pred"] for r in rows if not np.isnan(r["score_pred"])]
    stage_ms = {stage: sum(r[f"t_{stage}_ms"] for r in rows) / frames for stage in (*STAGES, "stitch")}
    return {
        "frames": frames,
        "regions": len(rows) // frames,
        "mean_iou": float(np.mean(valid)) if valid else None,
        "min_iou": float(np.min(valid)) if valid else None,
        "flicker": temporal_flicker(preds, gts) if len(preds) > 1 else None,
        "fps": frames / total_s if total_s > 0 else None,
        "ms_per_frame": 1000.0 * total_s / frames,
        "median_ms_per_frame": float(np.median(frame_ms)),
        "stage_ms": stage_ms,
        "key_fraction": keys / len(rows),
        "mean_score_pred": float(np.mean(scores)) if scores else None,
    }
