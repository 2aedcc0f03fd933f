"""Chroma keying: exact masks on hand-made screens, key estimation, spill, clean-up, errors, and the IoU of
the keyer on synthetic green-screen clips with known masks."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from workbench.data.chroma import (
    ChromaConfig,
    ChromaKeyer,
    chroma_key,
    despill,
    estimate_key_color,
    green_screen_backdrop,
)
from workbench.data.synthetic import SynthConfig, TalkingHeadClip
from workbench.errors import InputError
from workbench.io.images import write_image
from workbench.metrics.segmentation import foreground_iou

GREEN = (60, 170, 80)
BLUE = (30, 70, 190)
H, W = 64, 96


def _disc(radius: float = 18.5, center: tuple[float, float] = (48, 30)) -> np.ndarray:
    ys, xs = np.mgrid[0:H, 0:W]
    return ((xs - center[0]) ** 2 + (ys - center[1]) ** 2 <= radius**2).astype(np.uint8)


def _screen(color: tuple[int, int, int] = GREEN, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    frame = np.empty((H, W, 3), np.float32)
    frame[:] = color
    if noise:
        frame += np.random.default_rng(seed).normal(0.0, noise, frame.shape)
    return np.clip(frame + 0.5, 0, 255).astype(np.uint8)


def test_red_disc_on_flat_green_gives_the_exact_mask():
    truth = _disc()
    frame = _screen()
    frame[truth == 1] = (200, 40, 40)
    result = chroma_key(frame)
    assert result.key_color == GREEN
    assert result.mask.dtype == np.uint8 and result.mask.shape == (H, W)
    np.testing.assert_array_equal(result.mask, truth)
    assert result.alpha.dtype == np.float32
    np.testing.assert_allclose(result.alpha, truth, atol=1e-5)  # hard edges: a hard matte
    np.testing.assert_array_equal(result.despilled, frame)  # red and pure screen: nothing to despill


def test_blue_screen_with_noise():
    truth = _disc(15.5, (40, 36))
    frame = _screen(BLUE, noise=3.0, seed=1)
    frame[truth == 1] = (225, 180, 150)  # skin
    key, spread = estimate_key_color(frame)
    assert np.abs(np.subtract(key, BLUE)).max() <= 2
    assert 0.01 <= spread < 0.05
    result = chroma_key(frame)
    assert foreground_iou(result.mask, truth) == 1.0
    assert (result.alpha[truth == 0] == 0).mean() > 0.99  # noise stays inside the screen's tolerance


def test_estimate_ignores_a_person_filling_the_bottom_of_the_border():
    frame = _screen(noise=2.0, seed=2)
    frame[18:] = (40, 40, 45)  # a dark torso filling the lower 70 % edge to edge: most of the whole border
    key, spread = estimate_key_color(frame)
    assert np.abs(np.subtract(key, GREEN)).max() <= 2 and spread < 0.03
    np.testing.assert_array_equal(chroma_key(frame).mask[18:], 1)


def test_given_key_works_where_estimation_cannot():
    truth = np.zeros((H, W), np.uint8)
    truth[1:, 1:95] = 1  # a close-up: the screen shows only as a 1-px margin, no dominant border colour
    frame = _screen(noise=1.5, seed=3)
    frame[truth == 1] = (60, 55, 62)  # a dark sweater
    with pytest.raises(InputError, match="--key-color"):
        chroma_key(frame)
    result = chroma_key(frame, ChromaConfig(key_color=GREEN))
    assert result.key_color == GREEN
    np.testing.assert_array_equal(result.mask, truth)
    np.testing.assert_array_equal(chroma_key(frame, key=GREEN).mask, truth)  # the argument overrides too


def test_given_key_equals_estimated_key_result():
    frame = _screen(noise=2.0, seed=4)
    frame[_disc() == 1] = (90, 60, 140)
    estimated = chroma_key(frame)
    given = chroma_key(frame, key=estimated.key_color, spread=estimated.spread)
    np.testing.assert_array_equal(given.mask, estimated.mask)
    np.testing.assert_array_equal(given.alpha, estimated.alpha)


@pytest.mark.parametrize("color", [(200, 40, 40), (225, 180, 150)])
def test_soft_edge_alpha_follows_the_mixture(color):
    frame = _screen().astype(np.float32)
    frame[16:48, 43:70] = color
    for column, alpha in zip(range(40, 43), (0.2, 0.55, 0.85), strict=True):  # a 3-px soft edge
        frame[16:48, column] = alpha * np.array(color) + (1 - alpha) * np.array(GREEN)
    result = chroma_key(np.round(frame).astype(np.uint8))
    rows = slice(24, 40)  # away from the rectangle's corners
    np.testing.assert_allclose(result.alpha[rows, 40:43], np.tile([0.2, 0.55, 0.85], (16, 1)), atol=0.01)
    assert (result.alpha[rows, 43:70] == 1).all() and (result.alpha[rows, :40] == 0).all()
    assert (result.mask[rows, 40] == 0).all() and (result.mask[rows, 41:70] == 1).all()


def test_spill_is_removed_from_a_greenish_edge_only():
    frame = _screen()
    frame[20:44, 30:60] = (128, 128, 128)
    frame[20:44, 30] = (120, 150, 110)  # the left edge column lit by the screen
    result = chroma_key(frame)
    assert result.mask[30, 30] == 1 and result.alpha[30, 30] >= 0.5
    np.testing.assert_array_equal(result.despilled[30, 30], (120, 120, 110))  # G capped at max(R, B)
    np.testing.assert_array_equal(result.despilled[30, 40], (128, 128, 128))  # grey: no excess
    np.testing.assert_array_equal(result.despilled[5, 5], GREEN)  # the screen is left as shot
    half = chroma_key(frame, ChromaConfig(spill=0.5))
    np.testing.assert_array_equal(half.despilled[30, 30], (120, 135, 110))
    off = chroma_key(frame, ChromaConfig(spill=0.0))
    np.testing.assert_array_equal(off.despilled, frame)
    # Blue screen: the blue channel is the one capped.
    pixel = np.array([[[100, 90, 160]]], np.uint8)
    np.testing.assert_array_equal(despill(pixel, BLUE)[0, 0], (100, 90, 100))


def test_specks_are_removed_and_components_kept_by_size():
    frame = _screen()
    frame[10:40, 10:40] = (200, 40, 40)  # the person: 900 px
    frame[50:52, 80:82] = (200, 40, 40)  # a 2×2 speck: gone with the opening
    frame[5:12, 70:77] = (200, 40, 40)  # a 7×7 blob (49 px = 0.8 % of the frame)
    result = chroma_key(frame)
    assert result.mask[50:52, 80:82].sum() == 0 and result.mask[5:12, 70:77].sum() == 49
    small = chroma_key(frame, ChromaConfig(min_component=0.01))
    assert small.mask[5:12, 70:77].sum() == 0 and small.mask[10:40, 10:40].sum() == 900
    largest = chroma_key(frame, ChromaConfig(keep_components=1, min_component=0.0))
    assert largest.mask.sum() == 900
    raw = chroma_key(frame, ChromaConfig(open_radius=0, min_component=0.0))
    assert raw.mask[50:52, 80:82].sum() == 4  # without the opening the speck stays: the opening removed it
    for r in (result, small, largest, raw):
        np.testing.assert_array_equal(r.mask, (r.alpha >= 0.5).astype(np.uint8))
        assert r.alpha[r.mask == 0].max(initial=0) < 0.5


def test_holes_near_the_key_are_filled_but_screen_seen_through_stays():
    frame = _screen()
    frame[10:50, 10:50] = (200, 40, 40)
    frame[20:25, 20:25] = (70, 170, 80)  # in-between colour (d ≈ 5 spreads): foreground near the key
    frame[35:40, 35:40] = GREEN  # the screen itself, enclosed
    truth = np.zeros((H, W), np.uint8)
    truth[10:50, 10:50] = 1
    truth[35:40, 35:40] = 0
    result = chroma_key(frame)
    np.testing.assert_array_equal(result.mask, truth)
    assert (result.alpha[20:25, 20:25] == 1).all() and (result.alpha[35:40, 35:40] == 0).all()
    unfilled = chroma_key(frame, ChromaConfig(fill_holes=False))
    assert unfilled.mask[20:25, 20:25].sum() == 0


@pytest.mark.parametrize(("overrides", "option"), [
    ({"key_color": (300, 0, 0)}, "--key-color"),
    ({"key_color": (1, 2)}, "--key-color"),
    ({"border": 0.0}, "--border"),
    ({"inner": 8.0, "outer": 8.0}, "--outer"),
    ({"spill": 1.5}, "--spill"),
    ({"open_radius": -1}, "--open-radius"),
    ({"keep_components": 1.5}, "--keep-components"),
    ({"min_component": 2.0}, "--min-component"),
    ({"min_spread": 0.0}, "--min-spread"),
])
def test_bad_config_is_an_input_error_naming_the_option(overrides, option):
    config = ChromaConfig(**overrides)
    with pytest.raises(InputError, match=option) as info:
        config.validate()
    assert "\n" not in str(info.value)
    with pytest.raises(InputError):
        ChromaKeyer(config)


def test_a_border_without_a_dominant_colour_is_refused():
    noise = np.random.default_rng(5).integers(0, 256, (H, W, 3), dtype=np.uint8)
    with pytest.raises(InputError, match="no dominant colour.*--key-color"):
        estimate_key_color(noise)
    wall = _screen((200, 190, 175), noise=2.0, seed=6)  # a plain beige wall is dominant, but no chroma screen
    with pytest.raises(InputError, match="too grey.*--key-color"):
        chroma_key(wall)
    with pytest.raises(InputError, match="uint8 RGB"):
        chroma_key(noise.astype(np.float32))


def test_config_round_trips_through_json():
    config = ChromaConfig(key_color=GREEN, inner=3.0, keep_components=2)
    again = ChromaConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and again.key_color == GREEN


def test_backdrop_is_uneven_green_and_keys_to_nothing():
    rng = np.random.default_rng(7)
    backdrop = green_screen_backdrop(rng, (160, 96))
    assert backdrop.shape == (96, 160, 3) and backdrop.dtype == np.uint8
    np.testing.assert_array_equal(backdrop, green_screen_backdrop(np.random.default_rng(7), (160, 96)))
    luma = cv2.cvtColor(backdrop, cv2.COLOR_RGB2GRAY).astype(np.float32)
    assert np.percentile(luma, 99) > 1.3 * np.percentile(luma, 1)  # unevenly lit ...
    assert (backdrop[:, :, 1] > backdrop[:, :, [0, 2]].max(axis=2) + 30).all()  # ... but green everywhere
    result = chroma_key(backdrop)
    assert result.mask.sum() == 0 and result.alpha.max() == 0
    blue = green_screen_backdrop(rng, (160, 96), color=BLUE)
    assert np.argmax(estimate_key_color(blue)[0]) == 2


# Clips with a known mask: the generator's person over a backdrop written to disk. Seed 3 is the first seed
# from 1 up whose clips 0 and 1 have no green shirt (#3f6e4a, the only green in scene.SHIRT_COLORS — a green
# shirt on a green screen is keyed out by any keyer); it was picked on that rule alone, before keying it.
# The keyer's defaults were chosen on seeds 100–111, never on this one.
CLIP_SEED = 3


@pytest.fixture(scope="module")
def green_screen_clips(tmp_path_factory) -> list[TalkingHeadClip]:
    folder = tmp_path_factory.mktemp("chroma")
    path = folder / "screen.png"
    # 1.3× the frame, like the generator's background canvas, so pans and zooms stay on the screen.
    write_image(path, green_screen_backdrop(np.random.default_rng(CLIP_SEED), (420, 252)))
    config = SynthConfig(size=(320, 192), frames=10, difficulty="medium", seed=CLIP_SEED)
    return [TalkingHeadClip(config, index, backgrounds=[path]) for index in (0, 1)]


def test_keyer_labels_synthetic_green_screen_clips(green_screen_clips):
    ious = []
    for clip in green_screen_clips:
        assert clip.meta["noise_sigma"] > 0 and clip.meta["motion_blur"]  # medium: noise and motion blur
        keyer = ChromaKeyer()
        for item in clip:
            result = keyer(item.frame)
            np.testing.assert_array_equal(result.mask, (result.alpha >= 0.5).astype(np.uint8))
            ious.append(foreground_iou(result.mask, item.mask))
        settings = json.loads(json.dumps(keyer.settings()))
        assert settings["frames"] == 10 and settings["key_source"] == "border estimate"
        assert ChromaConfig.from_dict(settings["config"]) == keyer.config
        key = np.array(settings["key_color"], float)
        assert key[1] > key[0] + 50 and key[1] > key[2] + 50
    mean = float(np.mean(ious))
    summary = f"mean IoU {mean:.4f}, min {min(ious):.4f} over {len(ious)} frames (seed {CLIP_SEED}, clips 0-1)"
    print(summary)
    assert mean >= 0.95, summary
    assert min(ious) >= 0.85, summary  # the worst frame: a hand waved fast, motion-blurred into ghosts


def test_keyer_keeps_its_key_and_adapts_only_when_asked(green_screen_clips):
    frames = [item.frame for item in green_screen_clips[1]]
    fixed = ChromaKeyer()
    fixed(frames[0])
    first = fixed.settings()["key_color"]
    shifted = np.clip(frames[1].astype(np.int16) + (0, 0, 6), 0, 255).astype(np.uint8)  # white balance drifts
    for _ in range(4):
        fixed(shifted)
    assert fixed.settings()["key_color"] == first
    adaptive = ChromaKeyer(ChromaConfig(adapt=0.5))
    adaptive(frames[0])
    for _ in range(4):
        adaptive(shifted)
    key = adaptive.settings()["key_color"]
    assert key[2] >= first[2] + 4 and abs(key[0] - first[0]) <= 1, (first, key)
