"""The one streaming evaluator of a segmentation, used by ``predict``, ``bench seg``, training validation and
``run_video``: per frame ``update(pred, gt)`` scores the frame and accumulates, then the means, the minimum and
the flicker.

Frames are scored as the frames pass and nothing but running sums is kept (:class:`RunningMean`,
:class:`FlickerAccumulator`), so memory does not grow with a video's length. The metrics of the binary task are
the foreground ``iou``, ``dice`` and ``boundary_f`` (DAVIS F); with more than two classes a frame's ``iou`` is
its mIoU (:func:`frame_iou`) and there is nothing else. NaN frames (nothing to score) are skipped by the means,
as ``np.nanmean`` skips them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.metrics.boundary import boundary_f
from workbench.metrics.segmentation import IGNORE_INDEX, RunningMean, dice, foreground_iou, frame_iou
from workbench.metrics.temporal import FlickerAccumulator

BINARY_METRICS = ("iou", "dice", "boundary_f")


class SegScores:
    """Per-frame scores of one stream of predictions against its ground truth, accumulated.

    ``classes``: the number of label classes (2 for person/background). ``metrics``: which binary metrics to
    compute, in the order rows list them (multi-class: ``iou`` only). ``flicker``: also accumulate the temporal
    flicker (needs the frames in order).
    """

    def __init__(self, classes: int = 2, metrics: tuple[str, ...] = BINARY_METRICS, flicker: bool = True,
                 ignore_index: int | None = IGNORE_INDEX):
        unknown = [m for m in metrics if m not in BINARY_METRICS]
        if unknown:
            raise ValueError(f"metrics {unknown}: expected some of {BINARY_METRICS}")
        self.classes = classes
        self.metrics = metrics if classes == 2 else ("iou",)
        self.ignore_index = ignore_index
        self.means = {name: RunningMean() for name in self.metrics}
        self.flicker = FlickerAccumulator(ignore_index) if flicker else None
        self.frames = 0

    def score(self, pred: Any, gt: Any) -> dict[str, float]:
        """One frame's scores, without accumulating them."""
        if self.classes != 2:
            return {"iou": frame_iou(pred, gt, self.classes, self.ignore_index)}
        row = {}
        for name in self.metrics:
            if name == "iou":
                row[name] = foreground_iou(pred, gt, self.ignore_index)
            elif name == "dice":
                row[name] = dice(pred, gt, self.ignore_index)
            else:
                row[name] = boundary_f(pred, gt, ignore_index=self.ignore_index)[0]
        return row

    def update(self, pred: Any, gt: Any) -> dict[str, float]:
        """Score the next frame (in order) and accumulate; returns its scores."""
        row = self.score(pred, gt)
        for name, value in row.items():
            self.means[name].update(value)
        if self.flicker is not None:
            self.flicker.update(pred, gt)
        self.frames += 1
        return row

    def mean(self, name: str) -> float:
        """The mean of ``name`` over the frames that had a value (NaN without any)."""
        return self.means[name].result()

    @property
    def min_iou(self) -> float:
        return self.means["iou"].min

    def flicker_result(self) -> float | None:
        """The stream's flicker (:func:`temporal_flicker`); None before two frames or without ``flicker``."""
        if self.flicker is None or self.flicker.frames < 2:
            return None
        return self.flicker.result()

    def result(self) -> dict[str, Any]:
        """``mean_<metric>`` for each metric, ``min_iou``, ``flicker`` and ``frames``."""
        out: dict[str, Any] = {f"mean_{name}": self.mean(name) for name in self.metrics}
        out.update(min_iou=self.min_iou, flicker=self.flicker_result(), frames=self.frames)
        return out


def pooled_mean(parts: list[SegScores], name: str) -> float:
    """The mean of ``name`` over every frame of several streams (each clip its own stream): frame-weighted."""
    count = sum(p.means[name].count for p in parts)
    return sum(p.means[name].total for p in parts) / count if count else float("nan")


def pooled_min(parts: list[SegScores], name: str = "iou") -> float:
    values = [p.means[name].min for p in parts if p.means[name].count]
    return float(np.min(values)) if values else float("nan")


__all__ = ["BINARY_METRICS", "SegScores", "pooled_mean", "pooled_min"]
