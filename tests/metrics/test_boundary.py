"""Boundary F-measure: hand cases and a brute-force Euclidean-distance reference on random blobs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.ndimage import distance_transform_edt, gaussian_filter

from workbench.metrics import boundary_f, boundary_map
from workbench.metrics.boundary import disk, tolerance_radius


def square(shape, top, left, side):
    mask = np.zeros(shape, dtype=np.uint8)
    mask[top:top + side, left:left + side] = 1
    return mask


def test_boundary_map_hand_case():
    # A 2×2 square: its right column and bottom row, the column left of it, the row above it and the
    # upper-left diagonal neighbour (via its lower-right neighbour) — 4·side = 8 pixels.
    expected = np.array([[1, 1, 1, 0],
                         [1, 0, 1, 0],
                         [1, 1, 1, 0],
                         [0, 0, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(boundary_map(square((4, 4), 1, 1, 2)), expected)


def test_tolerance_radius_and_disk():
    assert tolerance_radius(0.5, (3, 4)) == 3  # ceil(0.5 · 5)
    assert tolerance_radius(0.008, (480, 854)) == 8  # ceil(7.84), the DAVIS default at 480p
    assert tolerance_radius(2.5, (3, 4)) == 2.5
    with pytest.raises(ValueError):
        tolerance_radius(-1, (3, 4))
    np.testing.assert_array_equal(disk(1), [[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    assert disk(1.5).sum() == 9  # (±1, ±1) has distance √2 <= 1.5
    assert disk(2).sum() == 13


def test_identical_masks_score_one():
    gt = square((20, 20), 5, 5, 6)
    assert boundary_f(gt, gt, tolerance=1) == (1.0, 1.0, 1.0)


def test_extra_blob_lowers_precision_only():
    gt = square((20, 20), 5, 5, 4)  # 16 boundary pixels
    pred = gt.copy()
    pred[15, 15] = 1  # a lone pixel far away: 4 unmatched boundary pixels
    f, precision, recall = boundary_f(pred, gt, tolerance=1)
    assert precision == pytest.approx(16 / 20)
    assert recall == 1.0
    assert f == pytest.approx(8 / 9)  # 2 · 0.8 · 1 / 1.8


def test_shift_within_and_beyond_tolerance():
    gt = square((30, 30), 10, 10, 8)
    pred = square((30, 30), 10, 12, 8)  # shifted 2 px right
    assert boundary_f(pred, gt, tolerance=2)[0] == 1.0
    f, precision, recall = boundary_f(pred, gt, tolerance=1)
    assert f < 1.0 and precision < 1.0 and recall < 1.0


def test_empty_cases():
    empty = np.zeros((10, 10), dtype=np.uint8)
    mask = square((10, 10), 2, 2, 3)
    assert boundary_f(empty, empty) == (1.0, 1.0, 1.0)
    assert boundary_f(empty, mask) == (0.0, 1.0, 0.0)
    assert boundary_f(mask, empty) == (0.0, 0.0, 1.0)


def test_ignore_region_hides_prediction():
    gt = square((20, 20), 5, 5, 4)
    pred = gt.copy()
    pred[15, 15] = 1
    gt[13:18, 13:18] = 255  # the stray pixel lies inside the ignored area
    assert boundary_f(pred, gt, tolerance=1) == (1.0, 1.0, 1.0)
    assert boundary_f(pred, gt, tolerance=1, ignore_index=None)[0] < 1.0


def test_input_checks():
    with pytest.raises(ValueError, match="shape"):
        boundary_f(np.zeros((4, 5), np.uint8), np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="one frame"):
        boundary_f(np.zeros((2, 4, 4), np.uint8), np.zeros((2, 4, 4), np.uint8))


def _brute_boundary(fg):
    """Independent per-pixel loop over the right / lower / lower-right rule."""
    H, W = fg.shape
    out = np.zeros_like(fg, dtype=bool)
    for y in range(H):
        for x in range(W):
            for dy, dx in ((0, 1), (1, 0), (1, 1)):
                if y + dy < H and x + dx < W and fg[y, x] != fg[y + dy, x + dx]:
                    out[y, x] = True
    return out


def _brute_boundary_f(pred, gt, radius):
    pb, gb = _brute_boundary(pred > 0), _brute_boundary(gt > 0)
    # Distance from every pixel to the nearest boundary pixel of the other map.
    dist_to_gt = distance_transform_edt(~gb)
    dist_to_pred = distance_transform_edt(~pb)
    precision = np.mean(dist_to_gt[pb] <= radius)
    recall = np.mean(dist_to_pred[gb] <= radius)
    return 2 * precision * recall / (precision + recall), precision, recall


def _blob(rng, shape, sigma):
    return (gaussian_filter(rng.standard_normal(shape), sigma) > 0.05).astype(np.uint8)


@pytest.mark.parametrize("tolerance", [1, 1.5, 2, 3.2, 0.05])
def test_against_distance_transform_on_random_blobs(tolerance):
    rng = np.random.default_rng(int(tolerance * 100))
    shape = (36, 44)
    gt = _blob(rng, shape, 3.0)
    pred = np.where(rng.random(shape) < 0.97, gt, 1 - gt).astype(np.uint8)  # gt with speckle
    pred[:, -6:] = _blob(rng, (36, 6), 1.5)
    radius = tolerance if tolerance >= 1 else math.ceil(tolerance * math.hypot(*shape))
    expected = _brute_boundary_f(pred, gt, radius)
    got = boundary_f(pred, gt, tolerance=tolerance)
    assert 0 < got[0] < 1  # a case where the tolerance matters
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
