"""``run_video``: one pass of the streaming pipeline over a sequence, with metrics and per-region rows.

Rows follow the run-record contract (docs/conventions.md): one per (frame, region) with ``frame, region, decision,
score_pred, score_true, target, iou, t_flow_ms, t_decision_ms, t_seg_ms, t_warp_ms, t_total_ms`` plus
``key_frame`` (the frame index the region's output comes from), ``score_cum`` (under the cumulative rule: the
compound score compared with the target; NaN otherwise) and ``t_stitch_ms``. A row's times are its
region's own stages; the frame's stitching time is charged to its region-0 row, so that summing ``t_total_ms``
over a frame's rows gives the frame's time. ``iou`` is the frame's IoU (foreground IoU for binary, mIoU
otherwise), repeated on each of its rows; NaN without ground truth. Reading frames and whatever ``sink``
does (writing files) are outside every timer.

Memory does not grow with the video beyond the rows themselves: frames are read one at a time, and the
summary's metrics (IoU, flicker, times, key fraction) are accumulated frame by frame
(:class:`RunSummary`) instead of keeping predictions and ground truth. The rows are kept by column
(:class:`Rows`, about 130 bytes per row instead of a dict's kilobyte).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.errors import InputError
from workbench.io.sequence import Sequence
from workbench.metrics import IGNORE_INDEX, scoring_truth, temporal_flicker
from workbench.metrics.segmentation import RunningMean
from workbench.metrics.stream import SegScores
from workbench.pipeline.streaming import STAGES, StepResult, VideoSegmenter

#: called after every frame with (index, frame, result, ground truth or None)
Sink = Callable[[int, np.ndarray, StepResult, np.ndarray | None], None]

#: the row columns stored as integers and as labels; every other column is a float
INT_COLUMNS = ("frame", "region", "key_frame")
LABEL_COLUMNS = ("decision",)


class Rows(SequenceABC):
    """The run's rows, stored by column in typed arrays; reads back as dicts (``rows[i]``, slices, iteration).

    ``append(row)`` takes a dict with the keys of the first row appended. ``to_frame()`` is the pandas table
    (the same columns and dtypes as ``pandas.DataFrame(list_of_dicts)``) without building the dicts.
    """

    def __init__(self) -> None:
        self._keys: tuple[str, ...] = ()
        self._columns: dict[str, Any] = {}
        self._labels: dict[str, list[str]] = {}  # a label column's distinct values; its array holds their index
        self._len = 0

    def append(self, row: dict[str, Any]) -> None:
        if not self._keys:
            self._keys = tuple(row)
            for key in self._keys:
                self._columns[key] = array("q" if key in INT_COLUMNS else "H" if key in LABEL_COLUMNS else "d")
                if key in LABEL_COLUMNS:
                    self._labels[key] = []
        elif tuple(row) != self._keys:
            raise ValueError(f"row {self._len}: keys {tuple(row)} differ from the first row's {self._keys}")
        for key in self._keys:
            value = row[key]
            if key in self._labels:
                labels = self._labels[key]
                if value not in labels:
                    labels.append(value)
                value = labels.index(value)
            self._columns[key].append(value)
        self._len += 1

    def __len__(self) -> int:
        return self._len

    def _row(self, index: int) -> dict[str, Any]:
        row = {}
        for key in self._keys:
            value = self._columns[key][index]
            row[key] = self._labels[key][value] if key in self._labels else value
        return row

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(self._len))]
        if not -self._len <= index < self._len:
            raise IndexError(f"row {index} out of range ({self._len} rows)")
        return self._row(index % self._len)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for i in range(self._len):
            yield self._row(i)

    def column(self, key: str) -> np.ndarray | list[str]:
        """One column: a numpy array of numbers, or a list of labels."""
        if key in self._labels:
            labels = self._labels[key]
            return [labels[i] for i in self._columns[key]]
        return np.array(self._columns[key], dtype=np.int64 if key in INT_COLUMNS else np.float64)

    def to_frame(self) -> Any:
        """A ``pandas.DataFrame`` of the rows."""
        import pandas as pd

        return pd.DataFrame({key: self.column(key) for key in self._keys})


class RunSummary:
    """The run summary (docs/conventions.md) accumulated frame by frame: ``update(...)`` once per frame, ``result()``.

    Equals the batch computation over all rows and frames to float rounding. Only the per-frame times are kept
    (8 bytes a frame), for the exact median.
    """

    def __init__(self, classes: int = 2, ignore_index: int | None = IGNORE_INDEX) -> None:
        self.frames = 0
        self.rows = 0
        self.keys = 0
        self.scores = SegScores(classes, metrics=("iou",), ignore_index=ignore_index)  # frames with ground truth
        self.score_pred = RunningMean()
        self.stage_ms = dict.fromkeys((*STAGES, "stitch"), 0.0)
        self.frame_ms = array("d")

    def update(self, result: StepResult, gt: np.ndarray | None = None) -> float:
        """One frame: its step result and its ground truth (as scored; None without); returns its IoU (NaN
        without ground truth)."""
        self.frames += 1
        iou = float("nan") if gt is None else self.scores.update(result.seg, gt)["iou"]
        self.frame_ms.append(result.total_ms)
        for step in result.regions:
            self.rows += 1
            self.keys += step.is_key
            self.score_pred.update(step.score_pred)
            for stage in STAGES:
                self.stage_ms[stage] += step.times[stage]
        self.stage_ms["stitch"] += result.stitch_ms
        return iou

    def result(self) -> dict[str, Any]:
        """``frames, regions, mean_iou, min_iou, flicker, fps, ms_per_frame, median_ms_per_frame, stage_ms,
        key_fraction, mean_score_pred`` (None where there is nothing to average)."""
        frames = self.frames
        total_s = sum(self.frame_ms) / 1000.0  # the same additions in the same order as the batch summary
        iou = self.scores.means["iou"]
        return {
            "frames": frames,
            "regions": self.rows // frames,
            "mean_iou": iou.result() if iou.count else None,
            "min_iou": iou.min if iou.count else None,
            "flicker": self.scores.flicker_result(),
            "fps": frames / total_s if total_s > 0 else None,
            "ms_per_frame": 1000.0 * total_s / frames,
            "median_ms_per_frame": float(np.median(self.frame_ms)),
            "stage_ms": {stage: ms / frames for stage, ms in self.stage_ms.items()},
            "key_fraction": self.keys / self.rows,
            "mean_score_pred": self.score_pred.result() if self.score_pred.count else None,
        }


@dataclass
class RunOutput:
    rows: Rows
    summary: dict[str, Any]


def run_video(segmenter: VideoSegmenter, seq: Sequence, evaluate: bool = True, sink: Sink | None = None,
              max_frames: int | None = None, progress: bool = True,
              on_frame: Callable[[int, int], None] | None = None) -> RunOutput:
    """Run ``segmenter`` over ``seq`` frame by frame; ``evaluate`` needs ground-truth masks. ``on_frame(done,
    total)`` is called after each frame (progress bars of the dashboard and notebooks). A live sequence ends when
    its source does."""
    from tqdm import tqdm

    if evaluate and not seq.has_masks:
        raise InputError(f"{seq.name}: no ground-truth masks, so no IoU can be computed (pass --no-eval)")
    num_classes = len(segmenter.net.classes)
    count = len(seq) if max_frames is None else min(len(seq), max_frames)
    if count == 0:
        raise InputError(f"{seq.name}: no frames")
    rows = Rows()
    summary = RunSummary(num_classes)
    state = None
    for t in tqdm(range(count), desc=f"{segmenter.config.policy} {seq.name}", unit="frame", disable=not progress,
                  leave=False):
        try:
            frame = seq.frame(t)  # readers stream in order (a video decodes frame by frame)
        except EOFError:  # a live source ended (workbench.io.live)
            break
        result, state = segmenter.step(frame, state)
        gt = scoring_truth(seq.mask(t), num_classes) if evaluate else None
        iou = summary.update(result, gt)
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
    return RunOutput(rows, summary.result())


def summarize(rows: list[dict[str, Any]], ious: list[float], frame_ms: list[float], preds: list[np.ndarray],
              gts: list[np.ndarray], segmenter: VideoSegmenter) -> dict[str, Any]:
    """The run's ``summary`` computed in one batch from every row and frame — the reference that
    :class:`RunSummary` (what :func:`run_video` uses) is tested against."""
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
