"""Flow colour coding (Middlebury wheel), legend, arrows, overlays and label palettes."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.viz import (
    IGNORE_COLOR,
    PERSON_COLOR,
    color_wheel,
    colorize_labels,
    draw_arrows,
    flow_legend,
    flow_to_color,
    label_colors,
    overlay_mask,
    sample_arrows,
)


def one_vector(u, v):
    return np.array([[[u]], [[v]]], dtype=np.float32)


def test_color_wheel_segments():
    wheel = color_wheel()
    assert wheel.shape == (55, 3) and wheel.dtype == np.uint8
    starts = np.cumsum([0, 15, 6, 4, 11, 13])  # RY, YG, GC, CB, BM, MR
    np.testing.assert_array_equal(starts, [0, 15, 21, 25, 36, 49])
    expected_first = [(255, 0, 0), (255, 255, 0), (0, 255, 0), (0, 255, 255), (0, 0, 255), (255, 0, 255)]
    np.testing.assert_array_equal(wheel[starts], expected_first)
    # Segment lengths: each segment changes exactly one channel monotonically over its run.
    changing = [1, 0, 2, 1, 0, 2]
    for start, length, channel in zip(starts, [15, 6, 4, 11, 13, 6], changing, strict=True):
        run = wheel[start:start + length, channel].astype(int)
        assert np.all(np.diff(run) != 0)
    np.testing.assert_array_equal(wheel[14], (255, 238, 0))  # RY end: floor(255 · 14 / 15)
    np.testing.assert_array_equal(wheel[54], (255, 0, 43))  # MR end: 255 − floor(255 · 5 / 6)


def test_cardinal_directions_at_full_radius():
    # Rightward: angle = atan2(−0, −1)/π = −1 → fk = 0 → wheel[0] = red.
    np.testing.assert_array_equal(flow_to_color(one_vector(3, 0))[0, 0], (255, 0, 0))
    # Leftward: angle = atan2(0, 1)/π = 0 → fk = (0 + 1)/2 · 54 = 27 = CB start (25) + 2;
    # CB offset 2 = (0, 255 − floor(255 · 2 / 11), 255) = (0, 255 − 46, 255) = (0, 209, 255); r = 1 keeps it.
    np.testing.assert_array_equal(flow_to_color(one_vector(-3, 0))[0, 0], (0, 209, 255))
    # Upward: angle = atan2(1, −0)/π = 0.5 → fk = 40.5, halfway between BM offsets 4 and 5:
    # red = (floor(255·4/13) + floor(255·5/13)) / 2 = (78 + 98) / 2 = 88 → (88, 0, 255).
    np.testing.assert_array_equal(flow_to_color(one_vector(0, -3))[0, 0], (88, 0, 255))


def test_every_wheel_entry_at_full_radius_in_its_direction():
    wheel = color_wheel()
    for k in range(55):
        angle = np.pi * (2 * k / 54 - 1)  # inverts fk = (angle/π + 1)/2 · 54
        flow = np.array([[[-np.cos(angle)]], [[-np.sin(angle)]]])  # angle = atan2(−v, −u)
        np.testing.assert_array_equal(flow_to_color(flow, max_flow=1)[0, 0], wheel[k], err_msg=f"entry {k}")


def test_negative_zero_vertical_component_is_still_red():
    # Without canonicalising −0, atan2(+0, −1) = +π would pick wheel[54] = (255, 0, 43) instead.
    np.testing.assert_array_equal(flow_to_color(one_vector(3, -0.0))[0, 0], (255, 0, 0))


def test_zero_unknown_and_saturation():
    flow = np.zeros((2, 2, 3), dtype=np.float32)
    flow[0, 0, 0] = 2.0  # the largest vector: full red
    flow[0, 0, 1] = 1.0  # half radius: 1 − 0.5 · (1 − c) → (255, 127, 127)
    flow[:, 1, 0] = np.nan
    flow[:, 1, 1] = 1e10  # the .flo unknown marker
    image = flow_to_color(flow)
    assert image.shape == (2, 3, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image[0, 0], (255, 0, 0))
    np.testing.assert_array_equal(image[0, 1], (255, 127, 127))
    np.testing.assert_array_equal(image[0, 2], (255, 255, 255))
    np.testing.assert_array_equal(image[1, 0], (0, 0, 0))
    np.testing.assert_array_equal(image[1, 1], (0, 0, 0))
    np.testing.assert_array_equal(image[1, 2], (255, 255, 255))
    np.testing.assert_array_equal(flow_to_color(np.zeros((2, 4, 4))), np.full((4, 4, 3), 255))


def test_max_flow_normalisation():
    # Beyond max_flow the colour is darkened to 75 %: floor(0.75 · 255) = 191.
    np.testing.assert_array_equal(flow_to_color(one_vector(2, 0), max_flow=1)[0, 0], (191, 0, 0))
    rng = np.random.default_rng(0)
    flow = rng.normal(size=(2, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(flow_to_color(flow), flow_to_color(3 * flow))  # auto scale
    with pytest.raises(ValueError, match="max_flow"):
        flow_to_color(flow, max_flow=0)
    with pytest.raises(ValueError, match=r"\(2, H, W\)"):
        flow_to_color(np.zeros((8, 8, 2), np.float32))


def test_legend():
    legend = flow_legend(64)
    assert legend.shape == (64, 64, 3) and legend.dtype == np.uint8
    np.testing.assert_array_equal(legend[32, 32], (255, 255, 255))
    # An off-axis point of the disk shows the colour of the same normalised vector.
    radius = 31
    dx, dy = 10, -20
    expected = flow_to_color(one_vector(dx / radius, dy / radius), max_flow=1)[0, 0]
    np.testing.assert_array_equal(legend[32 + dy, 32 + dx], expected)
    assert not np.array_equal(expected, (255, 255, 255))
    np.testing.assert_array_equal(legend[32, 32 + 10], (64, 64, 64))  # the cross on the x axis
    np.testing.assert_array_equal(legend[0, 0], (255, 255, 255))  # outside the disk


def test_sample_arrows_grid():
    H, W = 48, 64
    flow = np.zeros((2, H, W), dtype=np.float32)
    flow[0], flow[1] = 1.0, 2.0
    xs, ys, us, vs = sample_arrows(flow, step=16)
    assert all(a.dtype == np.float32 for a in (xs, ys, us, vs))
    assert len(xs) == 12  # centres x ∈ {8, 24, 40, 56}, y ∈ {8, 24, 40}
    np.testing.assert_array_equal(xs[:4], [8, 24, 40, 56])
    np.testing.assert_array_equal(ys[::4], [8, 24, 40])
    assert np.all(us == 1) and np.all(vs == 2)
    flow[:, 24, 40] = np.nan
    flow[:, 8, 8] = (0.1, 0.0)
    assert len(sample_arrows(flow, step=16)[0]) == 11
    assert len(sample_arrows(flow, step=16, min_magnitude=1.0)[0]) == 10
    assert len(sample_arrows(np.zeros((2, 10, 60)), step=16)[0]) == 4  # partial cell, centre 56 inside


def test_draw_arrows_on_a_copy():
    image = np.full((32, 32, 3), 255, dtype=np.uint8)
    flow = np.zeros((2, 32, 32), dtype=np.float32)
    np.testing.assert_array_equal(draw_arrows(image, flow, step=16), image)  # no motion, no marks
    flow[0] = 6.0
    drawn = draw_arrows(image, flow, step=16, color=(255, 0, 0))
    assert np.all(image == 255)  # input untouched
    assert drawn[8, 11, 1] < 255 and drawn[8, 11, 0] == 255  # red ink along the arrow from (8, 8)
    assert np.array_equal(drawn[20:, :4], image[20:, :4])  # far from any arrow
    with pytest.raises(ValueError, match=r"\(32, 32\)"):
        draw_arrows(image[:16], flow)


def test_overlay_mask():
    image = np.full((2, 2, 3), 100, dtype=np.uint8)
    mask = np.array([[0, 1], [255, 2]], dtype=np.uint8)
    out = overlay_mask(image, mask, color=(255, 0, 0), alpha=0.5)
    np.testing.assert_array_equal(out[0, 1], (178, 50, 50))  # round(0.5·100 + 0.5·255) = 178 (177.5)
    np.testing.assert_array_equal(out[1, 1], (178, 50, 50))
    np.testing.assert_array_equal(out[0, 0], (100, 100, 100))
    np.testing.assert_array_equal(out[1, 0], (100, 100, 100))  # ignore stays unchanged
    assert np.all(image == 100)
    with pytest.raises(ValueError, match="alpha"):
        overlay_mask(image, mask, alpha=2)


def test_label_palette_and_colorize():
    colors = label_colors(256)
    assert colors.shape == (256, 3) and colors.dtype == np.uint8
    np.testing.assert_array_equal(colors[0], (0, 0, 0))
    np.testing.assert_array_equal(colors[1], PERSON_COLOR)
    assert len({tuple(c) for c in colors}) == 256
    assert tuple(IGNORE_COLOR) not in {tuple(c) for c in colors}
    np.testing.assert_array_equal(label_colors(3), colors[:3])  # a prefix: stable across K
    labels = np.array([[0, 1], [2, 255]], dtype=np.uint8)
    image = colorize_labels(labels)
    np.testing.assert_array_equal(image, [[colors[0], colors[1]], [colors[2], IGNORE_COLOR]])
