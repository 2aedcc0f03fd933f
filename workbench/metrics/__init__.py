"""Metrics: segmentation (IoU, mIoU, Dice, accuracy), boundary F, temporal flicker, flow EPE / Fl-all.

Label maps are integer class ids ``(H, W)``, ``0`` = background, ``255`` in the ground truth = ignore
(excluded everywhere); the binary foreground is ``label > 0``. Flow is ``float32 (2, H, W)`` in pixels
(dx, dy); NaN in ground-truth flow = unknown. Numpy arrays and torch tensors are accepted.
"""

from workbench.metrics.boundary import boundary_f, boundary_map
from workbench.metrics.flow import epe, epe_map, fl_all, flow_errors
from workbench.metrics.segmentation import (
    IGNORE_INDEX,
    SCORE_KINDS,
    RunningMean,
    confidence_score,
    confusion_matrix,
    dice,
    foreground_iou,
    frame_iou,
    iou_per_class,
    mean_iou,
    pixel_accuracy,
    scoring_truth,
)
from workbench.metrics.temporal import FlickerAccumulator, per_frame_flicker, temporal_flicker

__all__ = [
    "FlickerAccumulator", "IGNORE_INDEX", "RunningMean", "SCORE_KINDS", "boundary_f", "confidence_score",
    "boundary_map", "confusion_matrix", "dice", "epe", "epe_map", "fl_all", "flow_errors", "foreground_iou",
    "frame_iou", "iou_per_class", "mean_iou", "per_frame_flicker", "pixel_accuracy", "scoring_truth",
    "temporal_flicker",
]
