"""Per-frame segmentation metrics: confusion matrix, IoU / mIoU, foreground IoU, Dice, pixel accuracy.

Conventions (docs/conventions.md): predictions and ground truth are integer class ids of equal shape, ``(H, W)``
for one frame or ``(N, H, W)`` for a batch (then every pixel of every frame is pooled). ``0`` is background;
pixels where the **ground truth** equals ``ignore_index`` (``255`` by default, ``None`` disables it) are
excluded from every count. In the binary task ``1`` = person and the foreground is ``label > 0``.

All functions accept numpy arrays and torch tensors (converted with ``.detach().cpu().numpy()``). Results
are plain Python floats / numpy arrays; scores are fractions in ``[0, 1]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

IGNORE_INDEX = 255


def _to_numpy(x: Any) -> np.ndarray:
    """numpy view of ``x``; torch tensors (anything with ``.detach``) are moved to the CPU first."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _labels(x: Any, name: str) -> np.ndarray:
    """Check that ``x`` is an integer (or bool) label map of 2 or 3 dimensions."""
    array = _to_numpy(x)
    if array.dtype == bool:
        array = array.astype(np.uint8)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name}: expected integer class ids (uint8/int), got dtype {array.dtype}")
    if array.ndim not in (2, 3):
        raise ValueError(f"{name}: expected a label map (H, W) or a batch (N, H, W), got shape {array.shape}")
    return array


def _pair(pred: Any, gt: Any) -> tuple[np.ndarray, np.ndarray]:
    """Checked (pred, gt) label maps of equal shape."""
    pred_array, gt_array = _labels(pred, "pred"), _labels(gt, "gt")
    if pred_array.shape != gt_array.shape:
        raise ValueError(f"pred and gt must have the same shape; expected gt's shape {gt_array.shape}, "
                         f"got pred {pred_array.shape}")
    return pred_array, gt_array


def _valid(gt: np.ndarray, ignore_index: int | None) -> np.ndarray:
    """Pixels that count: everything except ground truth == ``ignore_index``."""
    if ignore_index is None:
        return np.ones(gt.shape, dtype=bool)
    return gt != ignore_index


def confusion_matrix(pred: Any, gt: Any, num_classes: int, ignore_index: int | None = IGNORE_INDEX
                     ) -> np.ndarray:
    """``(K, K) int64`` pixel counts, rows = ground-truth class, columns = predicted class.

    Pixels with ``gt == ignore_index`` are skipped. Any other ground-truth or predicted value outside
    ``[0, num_classes)`` is an error (``ValueError`` naming the value) rather than being silently dropped,
    since it means the prediction and the class list disagree.
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    pred, gt = _pair(pred, gt)
    valid = _valid(gt, ignore_index)
    p = pred[valid].astype(np.int64)
    g = gt[valid].astype(np.int64)
    for name, values in (("gt", g), ("pred", p)):
        bad = values[(values < 0) | (values >= num_classes)]
        if bad.size:
            raise ValueError(f"{name} has class id {int(bad[0])} outside [0, {num_classes}) "
                             f"(num_classes={num_classes}, ignore_index={ignore_index})")
    # One bincount over the flattened (gt, pred) pair index is the whole matrix.
    counts = np.bincount(g * num_classes + p, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def iou_per_class(pred: Any, gt: Any, num_classes: int, ignore_index: int | None = IGNORE_INDEX
                  ) -> np.ndarray:
    """IoU of each class, ``float64 (K,)``: TP / (TP + FP + FN); NaN for a class in neither gt nor pred."""
    cm = confusion_matrix(pred, gt, num_classes, ignore_index).astype(np.float64)
    tp = np.diag(cm)
    union = cm.sum(axis=0) + cm.sum(axis=1) - tp  # predicted + true − intersection
    iou = np.full(num_classes, np.nan)
    present = union > 0
    iou[present] = tp[present] / union[present]
    return iou


def mean_iou(pred: Any, gt: Any, num_classes: int, ignore_index: int | None = IGNORE_INDEX) -> float:
    """mIoU: mean of :func:`iou_per_class` over the classes present in gt or pred (NaN if none is)."""
    iou = iou_per_class(pred, gt, num_classes, ignore_index)
    present = ~np.isnan(iou)
    return float(iou[present].mean()) if present.any() else float("nan")


def _foreground(pred: Any, gt: Any, ignore_index: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Binary foreground (label > 0) of pred and gt, restricted to non-ignored pixels (1-D)."""
    pred, gt = _pair(pred, gt)
    valid = _valid(gt, ignore_index)
    return pred[valid] > 0, gt[valid] > 0


def foreground_iou(pred: Any, gt: Any, ignore_index: int | None = IGNORE_INDEX) -> float:
    """IoU of ``pred > 0`` vs ``gt > 0`` over non-ignored pixels; 1.0 when both are empty."""
    p, g = _foreground(pred, gt, ignore_index)
    union = np.count_nonzero(p | g)
    if union == 0:
        return 1.0  # nothing to find and nothing predicted: a perfect frame
    return np.count_nonzero(p & g) / union


def dice(pred: Any, gt: Any, ignore_index: int | None = IGNORE_INDEX) -> float:
    """Binary foreground Dice (= F1) 2|P∩G| / (|P| + |G|) over non-ignored pixels; 1.0 when both empty."""
    p, g = _foreground(pred, gt, ignore_index)
    total = np.count_nonzero(p) + np.count_nonzero(g)
    if total == 0:
        return 1.0
    return 2.0 * np.count_nonzero(p & g) / total


def pixel_accuracy(pred: Any, gt: Any, ignore_index: int | None = IGNORE_INDEX) -> float:
    """Fraction of non-ignored pixels whose predicted id equals the ground truth (NaN if none counts)."""
    pred, gt = _pair(pred, gt)
    valid = _valid(gt, ignore_index)
    count = np.count_nonzero(valid)
    if count == 0:
        return float("nan")
    return np.count_nonzero(pred[valid] == gt[valid]) / count


def frame_iou(pred: Any, gt: Any, num_classes: int = 2, ignore_index: int | None = IGNORE_INDEX) -> float:
    """The per-frame IoU that run records average (``mean_iou`` of docs/conventions.md).

    Foreground IoU (:func:`foreground_iou`) for the binary task (``num_classes == 2``), otherwise mIoU
    (:func:`mean_iou`).
    """
    if num_classes == 2:
        return foreground_iou(pred, gt, ignore_index)
    return mean_iou(pred, gt, num_classes, ignore_index)


SCORE_KINDS = ("iou", "accuracy")
SCORE_FLOOR = 0.05  # "iou" score: the union is floored at this share of the region's pixels


def confidence_score(pred: Any, ref: Any, kind: str = "iou", ignore_index: int | None = IGNORE_INDEX) -> float:
    """DVSNet's expected confidence score, in [0, 100]: how well ``pred`` (a warped key segmentation)
    agrees with ``ref`` (the segmentation network's output, or the ground truth).

    - ``accuracy`` (DVSNet): 100 × the share of pixels with the same label. On a binary person task most
      pixels are background, so this stays above ~95 even when the person is badly placed.
    - ``iou`` (ours, the default): 100 × (1 − disagreeing pixels / max(|union of non-background|, 5 % of
      the pixels)) — the foreground IoU where there is a person to find, floored so that a region with
      hardly any person does not swing between 0 and 100 over a handful of pixels. 100 when both are empty.
    """
    pred, ref = _pair(pred, ref)
    valid = _valid(ref, ignore_index)
    pred, ref = pred[valid], ref[valid]
    if pred.size == 0:
        return 100.0
    wrong = np.count_nonzero(pred != ref)
    if kind == "accuracy":
        return 100.0 * (1.0 - wrong / pred.size)
    if kind != "iou":
        raise ValueError(f"unknown score {kind!r}; expected one of {', '.join(SCORE_KINDS)}")
    union = np.count_nonzero((pred > 0) | (ref > 0))
    return 100.0 * max(0.0, 1.0 - wrong / max(union, SCORE_FLOOR * pred.size))


def scoring_truth(mask: np.ndarray, num_classes: int = 2) -> np.ndarray:
    """Ground truth as scored: for the binary task any non-background id is the person (0/1), 255 stays
    ignore; class ids unchanged otherwise. Used by predict, runs and decision labels alike."""
    if num_classes > 2:
        return mask
    return np.where(mask == 255, 255, mask > 0).astype(np.uint8)


class RunningMean:
    """Mean, minimum and maximum of per-frame values as they arrive (``update(value)``, then ``result()``),
    NaN values skipped — ``np.nanmean`` / ``np.nanmin`` / ``np.nanmax`` of the values without keeping them, so a
    run's mean IoU, Dice or boundary F takes the same memory for ten frames or an hour."""

    def __init__(self) -> None:
        self.count = 0  # values counted (NaN skipped)
        self.total = 0.0
        self.min = float("nan")
        self.max = float("nan")

    def update(self, value: float) -> float:
        value = float(value)
        if not np.isnan(value):
            self.count += 1
            self.total += value
            self.min = value if self.count == 1 else min(self.min, value)
            self.max = value if self.count == 1 else max(self.max, value)
        return value

    def result(self) -> float:
        """The mean of the values seen (NaN when there was none)."""
        return self.total / self.count if self.count else float("nan")
