"""Guarded sentences: no verdict below a quality floor or within measured noise."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.metrics.compare import NOISE_SE, compare_sentence, paired_difference


def test_a_clear_difference_is_a_verdict_with_its_error():
    a, b = np.full(20, 0.95) + np.linspace(0, 0.001, 20), np.full(20, 0.90)
    text = compare_sentence(a, b, "adaptive", "fixed", floor=0.8)
    assert text.startswith("adaptive is better than fixed on these 20 frames") and "±" in text
    lower = compare_sentence(b, a, "fixed", "adaptive", what="EPE", higher_is_better=False)
    assert lower.startswith("fixed is better than adaptive")  # lower error wins


def test_noise_and_failures_give_no_verdict():
    rng = np.random.default_rng(0)
    a, b = 0.9 + 0.05 * rng.standard_normal(12), 0.9 + 0.05 * rng.standard_normal(12)
    diff, se, n = paired_difference(a, b)
    assert n == 12 and abs(diff) <= NOISE_SE * se
    assert "cannot be told apart" in compare_sentence(a, b, "A", "B")
    empty = compare_sentence([0.26, 0.25, 0.27], [0.0, 0.01, 0.0], "unet", "funet", floor=0.8)
    assert "no verdict" in empty and "better" not in empty  # the quick-mode trap: two failures compared
    assert "no verdict" in compare_sentence([0.9], [0.8], "A", "B")
    shared = compare_sentence([0.9, np.nan, 0.9, 0.9], [0.5, 0.1, 0.5, 0.5], "A", "B")
    assert "IoU 0.900 vs 0.500" in shared and "3 frames" in shared  # means over the items both have
    assert "the same IoU on every one of these 3 frames" in compare_sentence([0.9] * 3, [0.9] * 3, "A", "B")
    assert "no verdict" in compare_sentence([np.nan, 0.9], [0.8, np.nan], "A", "B")  # no shared item
    with pytest.raises(ValueError, match="lengths"):
        paired_difference([1, 2], [1])
