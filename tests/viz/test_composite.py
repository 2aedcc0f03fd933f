"""Background replacement: OpenCV's per-pixel blend against the formula it implements."""

from __future__ import annotations

import numpy as np

from workbench.viz.composite import replace_background


def test_replace_background_is_the_alpha_blend():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (36, 64, 3), np.uint8)
    background = rng.integers(0, 256, (36, 64, 3), np.uint8)
    alpha = rng.random((36, 64)).astype(np.float32) * 1.4 - 0.2  # out of [0, 1] on purpose: clipped
    out = replace_background(frame, alpha, background, feather=0)
    a = np.clip(alpha, 0, 1)[:, :, None]
    expected = np.round(a * frame + (1 - a) * background)
    assert out.dtype == np.uint8 and out.shape == frame.shape
    assert np.abs(out.astype(int) - expected).max() <= 1  # float rounding may differ by one level
    assert np.array_equal(replace_background(frame, np.ones((36, 64)), background), frame)  # feathered: still 1
    assert np.array_equal(replace_background(frame, np.zeros((36, 64)), background), background)
    person = np.zeros((36, 64), np.float32)
    person[10:30, 20:40] = 1
    feathered = replace_background(frame, person, background, feather=2.0)
    assert np.array_equal(feathered[18:22, 28:32], frame[18:22, 28:32])  # far from the edge: untouched
    assert not np.array_equal(feathered[10, 20:40], frame[10, 20:40])  # the edge is blended
    colour = np.array([0, 200, 0], np.float32)  # a background that broadcasts: the same blend, by NumPy
    flat = replace_background(frame, alpha, np.broadcast_to(colour, frame.shape).astype(np.uint8), feather=0)
    assert np.abs(replace_background(frame, alpha, colour, feather=0).astype(int) - flat).max() <= 1
