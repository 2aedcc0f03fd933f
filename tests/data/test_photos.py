"""Bundled photographs as backgrounds and textures; realism options of the generator."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.data.photos import EXCLUDED, PHOTOS, PORTRAITS, list_photos, load_photo, photo_background, photo_texture
from workbench.data.synthetic import SynthConfig, TalkingHeadClip
from workbench.errors import InputError


def test_splits_are_disjoint_and_exclude_people_and_evaluation_material():
    train, heldout = {p.name for p in list_photos("train")}, {p.name for p in list_photos("heldout")}
    assert len(train) >= 10 and {"coffee", "rocket"} <= heldout and not train & heldout
    names = {p.name for p in PHOTOS}
    assert not names & set(PORTRAITS) and "camera" not in names and not any("motorcycle" in n for n in names)
    assert "camera" in EXCLUDED and "astronaut" in EXCLUDED
    with pytest.raises(InputError, match="photo split"):
        list_photos("test")


def test_photo_background_is_deterministic_and_varied():
    a = photo_background(np.random.default_rng(5), (96, 64))
    b = photo_background(np.random.default_rng(5), (96, 64))
    np.testing.assert_array_equal(a[0], b[0])
    assert a[0].shape == (64, 96, 3) and a[0].dtype == np.float32 and 0 <= a[0].min() and a[0].max() <= 1
    descriptions = {photo_background(np.random.default_rng(s), (96, 64))[1].split("(")[0] for s in range(40)}
    assert descriptions == {"photo", "collage"}
    used = " ".join(photo_background(np.random.default_rng(s), (96, 64), "heldout")[1] for s in range(20))
    assert not any(p.name in used for p in list_photos("train"))
    texture = photo_texture(np.random.default_rng(1), (30, 45))
    assert texture.shape == (30, 45, 3) and texture.std() > 0.01


def test_realism_options_keep_the_default_world_and_change_the_pictures():
    plain = SynthConfig(clips=1, frames=3, size=(96, 64), seed=4, difficulty="easy")
    real = SynthConfig(clips=1, frames=3, size=(96, 64), seed=4, difficulty="easy", photo_backgrounds=1.0,
                       photo_textures=1.0, hats=1.0, clutter=1.0, camera="webcam")
    default_clip = list(TalkingHeadClip(SynthConfig(clips=1, frames=3, size=(96, 64), seed=4, difficulty="easy"), 0))
    plain_clip, real_clip = list(TalkingHeadClip(plain, 0)), list(TalkingHeadClip(real, 0))
    for d, p in zip(default_clip, plain_clip, strict=True):  # options at 0: the same bytes as before
        np.testing.assert_array_equal(d.frame, p.frame)
    # The ground truth does not depend on photographs or the camera: same motion, same masks and flow.
    for p, r in zip(plain_clip, real_clip, strict=True):
        np.testing.assert_array_equal(p.mask, r.mask)
        assert not np.array_equal(p.frame, r.frame)
    clip = TalkingHeadClip(real, 0)
    assert clip.meta["background"].startswith(("photo", "collage")) and clip.meta["person"]["shirt_pattern"] == "photo"
    assert "+clutter" in clip.meta["background"] and clip.meta["hat"]
    assert "camera_model" in clip.meta
    clean = SynthConfig(clips=1, frames=2, size=(96, 64), seed=4, camera="webcam", camera_prob=0.0)
    assert "camera_model" not in TalkingHeadClip(clean, 0).meta  # a share of clips may stay clean
    with pytest.raises(InputError, match="--photo-backgrounds"):
        SynthConfig(photo_backgrounds=1.5).validate()
    with pytest.raises(InputError, match="camera"):
        SynthConfig(camera="dslr").validate()


def test_clutter_draws_shaded_objects_some_skin_toned():
    from workbench.data.photos import add_clutter

    flat = np.full((64, 96, 3), 0.5, np.float32)
    out, n = add_clutter(np.random.default_rng(2), flat, (4, 4))
    assert n == 4 and out.shape == flat.shape and (np.abs(out - 0.5) > 0.05).mean() > 0.1
    np.testing.assert_array_equal(flat, 0.5)  # the input is not changed
    same, _ = add_clutter(np.random.default_rng(2), flat, (4, 4))
    np.testing.assert_array_equal(out, same)


def test_load_photo_errors():
    with pytest.raises(InputError, match="unknown photograph"):
        load_photo("nope")
    assert load_photo("astronaut").shape == (512, 512, 3)
