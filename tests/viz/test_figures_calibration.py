"""The calibration figure's bins hold equal shares of the points, so scores crowded near 100 still spread."""

from __future__ import annotations

import numpy as np

from workbench.viz.figures import calibration_bins


def test_quantile_bins_spread_crowded_scores():
    rng = np.random.default_rng(0)
    pred = 100 - rng.exponential(3, 400)  # most predictions within a few points of 100
    true = np.clip(pred + rng.normal(0, 2, 400), 0, 100)
    mean_pred, mean_true, count = calibration_bins(pred, true, bins=8)
    assert len(count) == 8 and count.sum() == 400 and count.min() >= 45
    assert np.all(np.diff(mean_pred) > 0)
    fixed_width = np.histogram(pred, bins=np.linspace(0, 100, 11))[0]
    assert fixed_width.max() >= 0.9 * 400  # what the old 10-point bins did: one bin held nearly everything
