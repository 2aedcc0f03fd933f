"""Temporal stability of a predicted label sequence ("flicker").

Conventions: ``preds`` and ``gts`` are sequences of integer label maps ``(H, W)`` (one per frame, a list
or a ``(T, H, W)`` array); ``255`` in the ground truth = ignore. ``flows_bwd`` follows docs/conventions.md: element
``t`` is the ``float32 (2, H, W)`` flow in pixels from frame ``t`` to frame ``t−1``, so that
``frame_t(x) ≈ frame_{t−1}(x + flows_bwd[t](x))``; element 0 is not used (``None`` is fine); NaN = unknown.

Definition. For each step ``t = 1 … T−1`` let ``P'`` and ``G'`` be the previous prediction and ground truth
*as seen from frame t*: without flow ``P' = pred[t−1]``; with flow ``P'(x) = pred[t−1](round(x + f(x)))``,
nearest-neighbour sampling at the backward-flow target (``round(a) = floor(a + 0.5)``). A pixel ``x`` is
**valid** when

- with flow: ``f(x)`` is finite and the rounded target lies inside the image;
- with ground truth: neither ``gt[t](x)`` nor ``G'(x)`` is ``ignore_index``.

A valid pixel **flickers** when ``pred[t](x) != P'(x)`` and (with ground truth) ``gt[t](x) == G'(x)``: the
prediction changed although the truth did not. Without ground truth every label change counts (pure
label-change rate). The step's flicker is ``#flickering / #valid`` (NaN when no pixel is valid); the
sequence value is the mean over steps, ignoring NaN steps (NaN for fewer than two frames). Lower is
steadier; 0 = no unexplained change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from workbench.metrics.segmentation import IGNORE_INDEX, _to_numpy


def _label_sequence(frames: Any, name: str) -> list[np.ndarray]:
    """List of ``(H, W)`` integer maps from a list of maps or a ``(T, H, W)`` array."""
    items = list(frames) if not hasattr(frames, "ndim") else [frames[i] for i in range(len(frames))]
    arrays = []
    for t, item in enumerate(items):
        array = _to_numpy(item)
        if array.dtype == bool:
            array = array.astype(np.uint8)
        if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"{name}[{t}]: expected an integer label map (H, W), got {array.dtype} "
                             f"{array.shape}")
        if arrays and array.shape != arrays[0].shape:
            raise ValueError(f"{name}[{t}]: expected shape {arrays[0].shape} like {name}[0], "
                             f"got {array.shape}")
        arrays.append(array)
    return arrays


def backward_sample_index(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest-neighbour source pixel of a backward warp: ``(rows, cols, valid)`` for ``x + flow(x)``.

    ``rows``/``cols`` are ``int64 (H, W)`` clipped into the image (safe to index with); ``valid`` is False
    where the flow is not finite or the rounded target falls outside the image.
    """
    _, H, W = flow.shape
    ys, xs = np.mgrid[0:H, 0:W]
    with np.errstate(invalid="ignore"):
        col = np.floor(xs + flow[0] + 0.5)  # round half up, NaN stays NaN
        row = np.floor(ys + flow[1] + 0.5)
        valid = (col >= 0) & (col < W) & (row >= 0) & (row < H)  # False for NaN
    col = np.where(valid, col, 0).astype(np.int64)
    row = np.where(valid, row, 0).astype(np.int64)
    return row, col, valid


def per_frame_flicker(preds: Any, gts: Any = None, flows_bwd: Sequence[Any] | None = None,
                      ignore_index: int | None = IGNORE_INDEX) -> list[float]:
    """Flicker of each step ``t = 1 … T−1`` (``T−1`` values; see the module docstring)."""
    pred_seq = _label_sequence(preds, "preds")
    T = len(pred_seq)
    gt_seq = None
    if gts is not None:
        gt_seq = _label_sequence(gts, "gts")
        if len(gt_seq) != T:
            raise ValueError(f"gts: expected {T} frames like preds, got {len(gt_seq)}")
        if T and gt_seq[0].shape != pred_seq[0].shape:
            raise ValueError(f"gts: expected frames of shape {pred_seq[0].shape} like preds, "
                             f"got {gt_seq[0].shape}")
    if flows_bwd is not None and len(flows_bwd) != T:
        raise ValueError(f"flows_bwd: expected {T} entries (one per frame, entry 0 unused), "
                         f"got {len(flows_bwd)}")

    values = []
    for t in range(1, T):
        pred, prev_pred = pred_seq[t], pred_seq[t - 1]
        gt = prev_gt = None
        if gt_seq is not None:
            gt, prev_gt = gt_seq[t], gt_seq[t - 1]
        valid = np.ones(pred.shape, dtype=bool)
        if flows_bwd is not None:
            if flows_bwd[t] is None:
                raise ValueError(f"flows_bwd[{t}] is None; every step t >= 1 needs a backward flow")
            flow = _to_numpy(flows_bwd[t])
            if flow.shape != (2, *pred.shape):
                raise ValueError(f"flows_bwd[{t}]: expected flow of shape {(2, *pred.shape)}, "
                                 f"got {flow.shape}")
            rows, cols, valid = backward_sample_index(flow.astype(np.float64))
            prev_pred = prev_pred[rows, cols]  # previous prediction as seen from frame t
            if prev_gt is not None:
                prev_gt = prev_gt[rows, cols]
        changed = pred != prev_pred
        if gt is not None:
            if ignore_index is not None:
                valid &= (gt != ignore_index) & (prev_gt != ignore_index)
            changed &= gt == prev_gt  # a change the ground truth also makes is not flicker
        count = np.count_nonzero(valid)
        values.append(np.count_nonzero(changed & valid) / count if count else float("nan"))
    return values


def temporal_flicker(preds: Any, gts: Any = None, flows_bwd: Sequence[Any] | None = None,
                     ignore_index: int | None = IGNORE_INDEX) -> float:
    """Mean of :func:`per_frame_flicker` over steps (NaN steps skipped; NaN for fewer than two frames)."""
    values = np.asarray(per_frame_flicker(preds, gts, flows_bwd, ignore_index), dtype=np.float64)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


class FlickerAccumulator:
    """:func:`temporal_flicker` computed as the frames arrive: ``update(pred, gt, flow_bwd)`` once per frame, in
    order, then ``result()``. Only the previous frame's prediction and ground truth are kept, so memory does not
    depend on the number of frames.

    Same definition and conventions as the batch functions (the module docstring; they stay the reference):
    ``flow_bwd`` of a frame is its flow to the previous frame (ignored on the first frame). Ground truth and flow
    are all-or-nothing: whether the first frame has ground truth, and the second a flow, holds for every frame.
    ``result()`` equals :func:`temporal_flicker` of the same frames up to float rounding (a running sum here,
    numpy's pairwise sum there).
    """

    def __init__(self, ignore_index: int | None = IGNORE_INDEX):
        self.ignore_index = ignore_index
        self.frames = 0  # frames seen
        self.steps = 0  # steps with a valid pixel (counted in the mean)
        self.last = float("nan")  # the latest step's flicker
        self._total = 0.0
        self._prev_pred: np.ndarray | None = None
        self._prev_gt: np.ndarray | None = None
        self._with_gt: bool | None = None
        self._with_flow: bool | None = None

    @staticmethod
    def _label_map(x: Any, name: str, shape: tuple[int, ...] | None) -> np.ndarray:
        array = _to_numpy(x)
        if array.dtype == bool:
            array = array.astype(np.uint8)
        if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"{name}: expected an integer label map (H, W), got {array.dtype} {array.shape}")
        if shape is not None and array.shape != shape:
            raise ValueError(f"{name}: expected shape {shape} like the first frame's prediction, got {array.shape}")
        return array

    def update(self, pred: Any, gt: Any = None, flow_bwd: Any = None) -> float:
        """Add the next frame; returns its step's flicker (NaN for the first frame or without valid pixels)."""
        t = self.frames
        shape = None if self._prev_pred is None else self._prev_pred.shape
        pred = self._label_map(pred, f"preds[{t}]", shape)
        if t == 0:
            self._with_gt = gt is not None
        elif (gt is not None) != self._with_gt:
            raise ValueError(f"gts[{t}]: ground truth is given for every frame or for none (frame 0 had "
                             f"{'it' if self._with_gt else 'none'})")
        if gt is not None:
            gt = self._label_map(gt, f"gts[{t}]", pred.shape)
        value = float("nan")
        if t > 0:
            flow = None
            if flow_bwd is not None:
                if self._with_flow is False:
                    raise ValueError(f"flows_bwd[{t}]: step 1 had no backward flow, so no step may have one")
                flow = _to_numpy(flow_bwd)
                if flow.shape != (2, *pred.shape):
                    raise ValueError(f"flows_bwd[{t}]: expected flow of shape {(2, *pred.shape)}, got {flow.shape}")
            elif self._with_flow:
                raise ValueError(f"flows_bwd[{t}] is None; every step t >= 1 needs a backward flow")
            self._with_flow = flow is not None
            value = self._step(pred, gt, flow)
        self._prev_pred = np.array(pred, copy=True)  # the caller may reuse its buffers
        self._prev_gt = None if gt is None else np.array(gt, copy=True)
        self.frames += 1
        self.last = value
        if not np.isnan(value):
            self._total += value
            self.steps += 1
        return value

    def _step(self, pred: np.ndarray, gt: np.ndarray | None, flow: np.ndarray | None) -> float:
        """One step's flicker, exactly as :func:`per_frame_flicker` computes it."""
        prev_pred, prev_gt = self._prev_pred, self._prev_gt
        valid = np.ones(pred.shape, dtype=bool)
        if flow is not None:
            rows, cols, valid = backward_sample_index(flow.astype(np.float64))
            prev_pred = prev_pred[rows, cols]
            if prev_gt is not None:
                prev_gt = prev_gt[rows, cols]
        changed = pred != prev_pred
        if gt is not None:
            if self.ignore_index is not None:
                valid &= (gt != self.ignore_index) & (prev_gt != self.ignore_index)
            changed &= gt == prev_gt
        count = np.count_nonzero(valid)
        return np.count_nonzero(changed & valid) / count if count else float("nan")

    def result(self) -> float:
        """Mean flicker over the steps so far (NaN steps skipped; NaN before two frames or without a valid step)."""
        return self._total / self.steps if self.steps else float("nan")
