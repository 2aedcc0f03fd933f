"""Boundary F-measure (DAVIS "F", Perazzi et al., CVPR 2016) on the binary foreground.

Conventions: ``pred`` and ``gt`` are integer label maps ``(H, W)``; the foreground is ``label > 0``. Pixels
with ``gt == ignore_index`` are set to background in **both** maps before boundaries are taken (as the
DAVIS 2017 toolkit does with its void pixels), so an ignored band around an object neither adds nor removes
boundary on one side only.

Definitions used here:

- boundary map: a pixel is a boundary pixel when its foreground value differs from its right, lower or
  lower-right neighbour (neighbours outside the image never differ), giving a 1-pixel-wide contour;
- tolerance radius ``r = tolerance`` pixels if ``tolerance >= 1``, else ``ceil(tolerance · diagonal)``
  with ``diagonal = sqrt(H² + W²)`` (DAVIS default 0.008);
- a boundary pixel is *matched* when the other map has a boundary pixel within Euclidean distance ``r``
  (implemented as a dilation by the disk ``{(dx, dy): dx² + dy² <= r²}``);
- precision = matched fraction of predicted boundary pixels, recall = matched fraction of ground-truth
  boundary pixels, F = 2PR / (P + R) (0 when P + R = 0);
- both boundaries empty → (1, 1, 1); only the prediction empty → (0, 1, 0) as (F, P, R); only the ground
  truth empty → (0, 0, 1).
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from workbench.metrics.segmentation import IGNORE_INDEX, _pair


def boundary_map(foreground: np.ndarray) -> np.ndarray:
    """1-pixel-wide boundary ``bool (H, W)`` of a binary map (see the module docstring for the rule)."""
    fg = np.asarray(foreground, dtype=bool)
    if fg.ndim != 2:
        raise ValueError(f"boundary_map expects a binary map (H, W), got shape {fg.shape}")
    edge = np.zeros_like(fg)
    edge[:, :-1] |= fg[:, :-1] != fg[:, 1:]  # right neighbour
    edge[:-1, :] |= fg[:-1, :] != fg[1:, :]  # lower neighbour
    edge[:-1, :-1] |= fg[:-1, :-1] != fg[1:, 1:]  # lower-right neighbour
    return edge


def tolerance_radius(tolerance: float, shape: tuple[int, int]) -> float:
    """Match radius in pixels: ``tolerance`` if >= 1, else ``ceil(tolerance · image diagonal)``."""
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be >= 0 (pixels, or a fraction of the diagonal), got {tolerance}")
    if tolerance >= 1:
        return float(tolerance)
    return float(math.ceil(tolerance * math.hypot(shape[0], shape[1])))


def disk(radius: float) -> np.ndarray:
    """``uint8`` disk structuring element: offsets with dx² + dy² <= radius², size 2·floor(radius)+1."""
    half = int(math.floor(radius))
    dy, dx = np.mgrid[-half:half + 1, -half:half + 1]
    return (dx * dx + dy * dy <= radius * radius).astype(np.uint8)


def _matched(boundary: np.ndarray, other: np.ndarray, kernel: np.ndarray) -> int:
    """Number of ``boundary`` pixels within the disk of some ``other`` boundary pixel."""
    near_other = cv2.dilate(other.astype(np.uint8), kernel) > 0
    return int(np.count_nonzero(boundary & near_other))


def boundary_f(pred: Any, gt: Any, tolerance: float = 0.008, ignore_index: int | None = IGNORE_INDEX
               ) -> tuple[float, float, float]:
    """Boundary ``(F, precision, recall)`` of the foreground of ``pred`` against ``gt`` (module docstring)."""
    pred, gt = _pair(pred, gt)
    if gt.ndim != 2:
        raise ValueError(f"boundary_f expects one frame (H, W), got shape {gt.shape}")
    valid = np.ones(gt.shape, dtype=bool) if ignore_index is None else gt != ignore_index
    pred_edge = boundary_map((pred > 0) & valid)
    gt_edge = boundary_map((gt > 0) & valid)
    num_pred, num_gt = int(np.count_nonzero(pred_edge)), int(np.count_nonzero(gt_edge))
    if num_pred == 0 and num_gt == 0:
        return 1.0, 1.0, 1.0
    if num_pred == 0:
        return 0.0, 1.0, 0.0  # nothing predicted: vacuously precise, nothing recalled
    if num_gt == 0:
        return 0.0, 0.0, 1.0
    kernel = disk(tolerance_radius(tolerance, gt.shape))
    precision = _matched(pred_edge, gt_edge, kernel) / num_pred
    recall = _matched(gt_edge, pred_edge, kernel) / num_gt
    f = 0.0 if precision + recall == 0 else 2.0 * precision * recall / (precision + recall)
    return f, precision, recall
