"""Segmentation metrics on a hand-counted 4×4 case and against scikit-learn on random label maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import f1_score, jaccard_score

from workbench.metrics import (
    confusion_matrix,
    dice,
    foreground_iou,
    frame_iou,
    iou_per_class,
    mean_iou,
    pixel_accuracy,
)
from workbench.metrics.segmentation import RunningMean

# Hand example: 3 classes, the two bottom-left pixels ignored (the prediction there must not count).
GT = np.array([[0, 0, 1, 1],
               [0, 0, 1, 1],
               [0, 2, 2, 1],
               [255, 255, 2, 2]], dtype=np.uint8)
PRED = np.array([[0, 1, 1, 1],
                 [0, 0, 1, 0],
                 [2, 2, 2, 1],
                 [1, 0, 2, 2]], dtype=np.uint8)
# Counted pixel by pixel over the 14 non-ignored pixels: rows = gt, columns = pred.
CM = np.array([[3, 1, 1],
               [1, 4, 0],
               [0, 0, 4]])


def test_confusion_matrix_hand_case():
    cm = confusion_matrix(PRED, GT, 3)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, CM)


def test_iou_and_miou_hand_case():
    # IoU_k = TP / (row sum + column sum − TP): 3/(5+4−3), 4/(5+5−4), 4/(4+5−4)
    np.testing.assert_allclose(iou_per_class(PRED, GT, 3), [1 / 2, 2 / 3, 4 / 5])
    assert mean_iou(PRED, GT, 3) == pytest.approx(59 / 90)
    assert frame_iou(PRED, GT, num_classes=3) == pytest.approx(59 / 90)


def test_foreground_scores_hand_case():
    # Foreground (>0) over valid pixels: |G| = 9, |P| = 10, |P∩G| = 8.
    assert foreground_iou(PRED, GT) == pytest.approx(8 / 11)
    assert frame_iou(PRED, GT) == pytest.approx(8 / 11)
    assert dice(PRED, GT) == pytest.approx(16 / 19)
    assert pixel_accuracy(PRED, GT) == pytest.approx(11 / 14)


def test_ignore_index_none_counts_every_pixel():
    gt = GT.copy()
    gt[3, :2] = 0
    cm = confusion_matrix(PRED, gt, 3, ignore_index=None)
    assert cm.sum() == 16
    assert cm[0, 1] == 2 and cm[0, 0] == 4  # the two formerly ignored pixels: pred 1 and pred 0


def test_absent_class_is_nan_and_skipped_by_miou():
    gt = np.array([[0, 0], [1, 1]], dtype=np.uint8)
    pred = np.array([[0, 1], [1, 1]], dtype=np.uint8)
    iou = iou_per_class(pred, gt, 4)
    np.testing.assert_allclose(iou[:2], [1 / 2, 2 / 3])
    assert np.isnan(iou[2]) and np.isnan(iou[3])
    assert mean_iou(pred, gt, 4) == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_empty_foreground_is_perfect_and_all_ignored_accuracy_is_nan():
    zeros = np.zeros((3, 3), dtype=np.uint8)
    assert foreground_iou(zeros, zeros) == 1.0
    assert dice(zeros, zeros) == 1.0
    one = zeros.copy()
    one[1, 1] = 1
    assert foreground_iou(one, zeros) == 0.0
    assert dice(zeros, one) == 0.0
    assert np.isnan(pixel_accuracy(zeros, np.full((3, 3), 255, np.uint8)))


def test_bad_class_id_raises_with_value():
    pred = PRED.copy()
    pred[0, 0] = 7
    with pytest.raises(ValueError, match="7"):
        confusion_matrix(pred, GT, 3)
    gt = GT.copy()
    gt[0, 0] = 5
    with pytest.raises(ValueError, match="5"):
        mean_iou(PRED, gt, 3)
    # A bad prediction under an ignored ground-truth pixel is excluded, not an error.
    pred = PRED.copy()
    pred[3, 0] = 9
    np.testing.assert_array_equal(confusion_matrix(pred, GT, 3), CM)


def test_input_checks():
    with pytest.raises(ValueError, match=r"\(4, 4\).*\(4, 3\)"):
        foreground_iou(PRED[:, :3], GT)
    with pytest.raises(ValueError, match="integer"):
        mean_iou(PRED.astype(np.float32), GT, 3)
    with pytest.raises(ValueError, match="shape"):
        dice(PRED.ravel(), GT.ravel())


def test_torch_tensors_and_batches():
    assert mean_iou(torch.from_numpy(PRED).long(), torch.from_numpy(GT), 3) == pytest.approx(59 / 90)
    # A batch pools the pixels of its frames: two copies give the same ratios and twice the counts.
    np.testing.assert_array_equal(confusion_matrix(np.stack([PRED, PRED]), np.stack([GT, GT]), 3), 2 * CM)


@pytest.mark.parametrize("with_ignore", [False, True])
def test_against_sklearn_on_random_maps(with_ignore):
    rng = np.random.default_rng(7)
    K = 5
    gt = rng.integers(0, K, size=(40, 50)).astype(np.uint8)
    pred = np.where(rng.random((40, 50)) < 0.6, gt, rng.integers(0, K, size=(40, 50))).astype(np.uint8)
    pred[pred == 3] = 0  # class 3 only in the ground truth → IoU 0, still present
    gt[gt == 4] = 1
    pred[pred == 4] = 1  # class 4 nowhere → NaN
    if with_ignore:
        gt[rng.random((40, 50)) < 0.2] = 255
    keep = gt != 255
    g, p = gt[keep].astype(int), pred[keep].astype(int)

    np.testing.assert_array_equal(confusion_matrix(pred, gt, K), sk_confusion_matrix(g, p, labels=range(K)))
    ours = iou_per_class(pred, gt, K)
    present = [0, 1, 2, 3]
    assert np.isnan(ours[4])
    np.testing.assert_allclose(ours[present], jaccard_score(g, p, labels=present, average=None))
    assert mean_iou(pred, gt, K) == pytest.approx(jaccard_score(g, p, labels=present, average="macro"))
    assert foreground_iou(pred, gt) == pytest.approx(jaccard_score(g > 0, p > 0))
    assert dice(pred, gt) == pytest.approx(f1_score(g > 0, p > 0))
    assert pixel_accuracy(pred, gt) == pytest.approx(np.mean(g == p))


def test_scoring_truth():
    from workbench.metrics import scoring_truth

    mask = np.array([[0, 1, 2], [3, 255, 0]], np.uint8)
    assert scoring_truth(mask).tolist() == [[0, 1, 1], [1, 255, 0]]
    assert scoring_truth(mask, 4) is mask  # multi-class: ids kept


def test_running_mean_equals_nanmean_nanmin_nanmax():
    rng = np.random.default_rng(3)
    values = rng.random(500)
    values[rng.random(500) < 0.1] = np.nan
    mean = RunningMean()
    for value in values:
        mean.update(value)
    assert mean.count == np.count_nonzero(~np.isnan(values))
    assert mean.result() == pytest.approx(np.nanmean(values), rel=1e-12)
    assert (mean.min, mean.max) == (np.nanmin(values), np.nanmax(values))
    empty = RunningMean()
    empty.update(float("nan"))
    assert empty.count == 0 and np.isnan(empty.result()) and np.isnan(empty.min)
