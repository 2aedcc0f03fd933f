"""Generic layered flow scenes (`workbench.data.flying`, `data synth --kind layers`): exact flow by
construction, deterministic by seed, large displacements, and held-out photographs kept for evaluation."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from workbench.cli import main
from workbench.data.flying import FlyingClip, FlyingConfig, flying_clips
from workbench.errors import InputError
from workbench.io import ClipFolder


def _frames(config: FlyingConfig, index: int = 0):
    return list(FlyingClip(config, index))


def _warp(image: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``image`` sampled at ``x + flow(x)`` and where that lies inside the frame."""
    H, W = flow.shape[1:]
    X, Y = np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))
    mx, my = X + flow[0], Y + flow[1]
    inside = (mx >= 0) & (mx <= W - 1) & (my >= 0) & (my <= H - 1)
    return cv2.remap(image.astype(np.float32), mx, my, cv2.INTER_LINEAR), inside


@pytest.mark.parametrize("index", range(4))
def test_flow_is_exact_where_the_point_stays_visible(index):
    """Easy scenes (no noise, blur or lighting): frame t+1 sampled along the forward flow reproduces frame t
    wherever forward and backward flow agree (not occluded), and they agree on most of the frame."""
    items = _frames(FlyingConfig(frames=3, difficulty="easy"), index)
    for a, b in zip(items[:-1], items[1:], strict=True):
        warped, inside = _warp(b.frame, a.flow_fwd)
        back, _ = _warp(np.moveaxis(b.flow_bwd, 0, -1), a.flow_fwd)
        visible = inside & (np.hypot(a.flow_fwd[0] + back[..., 0], a.flow_fwd[1] + back[..., 1]) < 0.25)
        assert visible.mean() > 0.6
        error = np.abs(warped - a.frame.astype(np.float32)).mean(axis=-1)
        assert np.median(error[visible]) < 1.5  # grey levels: interpolation of textures only
        zero = np.abs(b.frame.astype(np.float32) - a.frame).mean(axis=-1)
        assert np.median(error[visible]) < 0.25 * np.median(zero[visible])  # the flow explains the change


def test_deterministic_with_layers_in_range_and_large_motion():
    config = FlyingConfig(clips=6, frames=2, layers=(2, 5), max_motion=0.15)
    first, again = _frames(config, 3), _frames(config, 3)
    assert len(first) == len(again) == 2
    assert all(np.array_equal(x.frame, y.frame) and np.array_equal(x.mask, y.mask)
               for x, y in zip(first, again, strict=True))
    assert np.array_equal(first[0].flow_fwd, again[0].flow_fwd)
    assert not np.array_equal(first[0].frame, _frames(config, 4)[0].frame)
    speeds = []
    for i in range(6):
        clip = FlyingClip(config, i)
        assert 2 <= clip.meta["layers"] <= 5 and clip.meta["classes"] == ["background", "layer"]
        item = list(clip)[0]
        speeds.append(np.hypot(*item.flow_fwd).max())
        assert set(np.unique(item.mask)) <= {0, 1}
    assert max(speeds) <= 0.15 * 320 * 1.6  # translation bound, plus spin and zoom of a large layer
    assert max(speeds) > 10  # displacements far beyond a video call's


def test_heldout_split_uses_other_photographs(monkeypatch):
    """Evaluation scenes draw only held-out photographs; training scenes only train ones."""
    import workbench.data.photos as photos

    seen: list[str] = []
    original = photos.load_photo

    def spy(name: str):
        seen.append(name)
        return original(name)

    monkeypatch.setattr(photos, "load_photo", spy)
    for split in ("train", "heldout"):
        seen.clear()
        for i in range(3):
            _frames(FlyingConfig(frames=2, photo_split=split), i)
        names = {p.name for p in photos.list_photos(split)}
        assert seen and set(seen) <= names, split


def test_memory_clips_and_config_errors():
    clips = flying_clips(FlyingConfig(clips=2, frames=3, size=(64, 48)))
    assert [c.name for c in clips] == ["clip_0000", "clip_0001"] and len(clips[0]) == 3
    for bad, match in [(dict(frames=1), "at least 1 clip of 2 frames"), (dict(layers=(4, 2)), "layers 4..2"),
                       (dict(max_motion=0.9), "--max-motion 0.9"), (dict(photo_split="test"), "photo split")]:
        with pytest.raises(InputError, match=match):
            FlyingConfig(**bad).validate()


def test_cli_writes_clip_folders_and_refuses_call_options(tmp_path, capsys):
    out = tmp_path / "layers"
    assert main(["data", "synth", "--kind", "layers", "--clips", "2", "--frames", "3", "--size", "64x48",
                 "--layers", "1:3", "--out", str(out), "--quiet"]) == 0
    clip = ClipFolder(out / "clip_0001")
    assert len(clip) == 3 and clip.flow_fwd(0) is not None and clip.flow_bwd(2) is not None
    meta = json.loads((out / "clip_0001" / "meta.json").read_text())
    assert meta["generator"] == "workbench.data.flying" and 1 <= meta["layers"] <= 3
    memory = _frames(FlyingConfig(frames=3, size=(64, 48), layers=(1, 3)), 1)
    assert np.array_equal(clip.frame(2), memory[2].frame)
    np.testing.assert_allclose(clip.flow_fwd(1), memory[1].flow_fwd, atol=1e-3)
    capsys.readouterr()
    assert main(["data", "synth", "--kind", "layers", "--photo-backgrounds", "0.5", "--out", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()
    assert "--photo-backgrounds: a video-call option" in capsys.readouterr().err
    assert main(["data", "synth", "--max-motion", "0.3", "--out", str(tmp_path / "y")]) == 2  # calls: refused too
    assert not (tmp_path / "y").exists()
    assert "--max-motion: an option of --kind layers" in capsys.readouterr().err
