"""The synthetic video-call generator: contract, determinism, exact ground truth, difficulty levels."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from workbench.data.synthetic import SynthConfig, TalkingHeadClip, sample_frames, synthesize
from workbench.errors import InputError
from workbench.io import ClipFolder, find_clip_folders, read_flo, read_mask
from workbench.ops import warp


def _consistent_warp(clip: ClipFolder, t: int):
    """Frame t−1 warped to t by flow_bwd[t], and the pixels visible in both (forward–backward consistent)."""
    prev = torch.from_numpy(clip.frame(t - 1)).permute(2, 0, 1).float()[None]
    cur = torch.from_numpy(clip.frame(t)).permute(2, 0, 1).float()[None]
    bwd = torch.from_numpy(clip.flow_bwd(t))[None]
    fwd = torch.from_numpy(clip.flow_fwd(t - 1))[None]
    warped, valid = warp(prev, bwd)
    fwd_at, valid_fwd = warp(fwd, bwd)
    consistent = ((bwd + fwd_at).norm(dim=1) < 0.5) & (valid[:, 0] > 0)
    return warped[0], cur[0], consistent[0], bwd[0]


def test_clip_folder_contract(easy_clips):
    clips = find_clip_folders(easy_clips)
    assert [c.name for c in clips] == ["clip_0000", "clip_0001", "clip_0002"]
    root = clips[0]
    names = sorted(p.name for p in (root / "frames").iterdir())
    assert names == [f"{i:06d}.png" for i in range(16)]
    assert sorted(p.name for p in (root / "masks").iterdir()) == names
    assert sorted(p.name for p in (root / "flow_fwd").iterdir()) == [f"{i:06d}.flo" for i in range(15)]
    assert sorted(p.name for p in (root / "flow_bwd").iterdir()) == [f"{i:06d}.flo" for i in range(1, 16)]
    meta = json.loads((root / "meta.json").read_text())
    assert meta["size"] == [320, 192] and meta["num_frames"] == 16 and meta["fps"] == 30
    assert meta["classes"] == ["background", "head", "torso", "arm"]
    assert meta["seed"] == 11 and meta["difficulty"] == "easy"
    clip = ClipFolder(root)
    assert clip.frame(3).shape == (192, 320, 3) and clip.frame(3).dtype == np.uint8
    mask = read_mask(root / "masks" / "000003.png")
    assert mask.shape == (192, 320) and set(np.unique(mask)) <= {0, 1, 2, 3}
    assert {0, 1, 2} <= set(np.unique(mask))  # background, head, torso are always in view
    flow = read_flo(root / "flow_fwd" / "000003.flo")
    assert flow.shape == (2, 192, 320) and np.isfinite(flow).all()


def test_easy_clips_photometric_error(easy_clips):
    """Acceptance: warping t−1 by flow_bwd[t] reproduces t (median < 2 grey levels, ≥ 90 % within 8)."""
    errors, moving_errors = [], []
    for root in find_clip_folders(easy_clips):
        clip = ClipFolder(root)
        for t in range(1, len(clip)):
            warped, cur, visible, bwd = _consistent_warp(clip, t)
            err = (warped - cur).abs()[:, visible]
            errors.append(err.flatten())
            moving = visible & (bwd.norm(dim=0) > 0.5)
            moving_errors.append((warped - cur).abs()[:, moving].flatten())
    errors, moving_errors = torch.cat(errors), torch.cat(moving_errors)
    assert errors.numel() > 0.8 * 3 * 15 * 3 * 320 * 192  # most pixels are visible in both frames
    assert errors.median() < 2.0 and (errors <= 8).float().mean() >= 0.90
    # The same holds on the moving pixels alone, which is where the flow is actually tested.
    assert moving_errors.numel() > 10_000
    assert moving_errors.median() < 2.0 and (moving_errors <= 8).float().mean() >= 0.90


def test_flow_carries_masks(easy_clips):
    """Masks move with the flow: the previous mask warped by flow_bwd matches, except near boundaries."""
    for root in find_clip_folders(easy_clips):
        clip = ClipFolder(root)
        for t in (1, 8, 15):
            prev = torch.from_numpy(clip.mask(t - 1)).float()[None, None]
            bwd = torch.from_numpy(clip.flow_bwd(t))[None]
            warped, valid = warp(prev, bwd, mode="nearest")
            agree = (warped[0, 0].numpy() == clip.mask(t)) | (valid[0, 0].numpy() == 0)
            assert agree.mean() > 0.99


def test_easy_has_no_noise_or_lighting_change(easy_clips):
    """Where nothing moves in an easy clip, consecutive frames are bit-identical (no noise, light, blur)."""
    checked = 0
    for root in find_clip_folders(easy_clips):
        clip = ClipFolder(root)
        meta = clip.meta
        assert meta["noise_sigma"] == 0 and meta["motion_blur"] is False and meta["lighting"] == 0
        for t in range(1, len(clip)):
            # Static in both directions, and 2 px away from anything that moves (soft edges of the person).
            still = (np.abs(clip.flow_bwd(t)).max(axis=0) == 0) & (np.abs(clip.flow_fwd(t - 1)).max(axis=0) == 0)
            still = cv2.erode(still.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
            if still.sum() > 1000:
                diff = np.abs(clip.frame(t).astype(int) - clip.frame(t - 1).astype(int)).max(axis=2)
                assert diff[still].max() == 0
                checked += 1
    assert checked > 0, "no easy clip with a static camera in the fixture"


def test_hard_clips_have_noise_blur_and_lighting():
    """Hard clips say so in meta.json, and pixels where nothing moves still change (sensor noise)."""
    for index in range(6):  # find a hard clip with a static region (clips with a moving camera have none)
        clip = TalkingHeadClip(SynthConfig(clips=1, frames=3, size=(96, 64), seed=5, difficulty="hard"), index)
        assert clip.meta["noise_sigma"] >= 3 and clip.meta["motion_blur"] and clip.meta["lighting"] > 0
        frames = list(clip)
        still = (np.abs(frames[1].flow_bwd).max(axis=0) == 0) & (np.abs(frames[0].flow_fwd).max(axis=0) == 0)
        if still.sum() > 500:
            break
    else:
        pytest.fail("no hard clip with a static region among the first six")
    diff = frames[1].frame.astype(int) - frames[0].frame.astype(int)
    assert diff[still].std() > 1.0


def test_same_seed_same_bytes_and_clip_independent_of_count(tmp_path):
    def files(root):
        return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    config = SynthConfig(clips=2, frames=5, size=(80, 48), seed=3, difficulty="mixed")
    synthesize(tmp_path / "a", config, progress=False)
    synthesize(tmp_path / "b", config, progress=False)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    synthesize(tmp_path / "c", SynthConfig(clips=3, frames=5, size=(80, 48), seed=3, difficulty="mixed"),
               progress=False)
    assert files(tmp_path / "a" / "clip_0001") == files(tmp_path / "c" / "clip_0001")
    synthesize(tmp_path / "d", SynthConfig(clips=1, frames=5, size=(80, 48), seed=4), progress=False)
    assert files(tmp_path / "d" / "clip_0000") != files(tmp_path / "a" / "clip_0000")


def test_any_size_and_in_memory_frames():
    frames = sample_frames(SynthConfig(frames=3, size=(75, 101), seed=0, difficulty="medium"))
    assert [f.frame.shape for f in frames] == [(101, 75, 3)] * 3
    assert frames[0].flow_bwd is None and frames[-1].flow_fwd is None
    assert frames[1].flow_fwd.shape == (2, 101, 75) and frames[1].mask.dtype == np.uint8


def test_motion_has_fast_moves_and_events():
    """Across clips: some hand events, some head shakes; fast moves give large displacements."""
    kinds, peak = set(), 0.0
    for index in range(8):
        clip = TalkingHeadClip(SynthConfig(frames=40, size=(160, 96), seed=2, difficulty="hard"), index)
        kinds |= {e["kind"] for e in clip.meta["events"]}
        if clip.meta["events"]:
            frames = list(clip)
            peak = max(peak, max(np.abs(f.flow_fwd).max() for f in frames[:-1]))
    assert {"wave", "cross"} & kinds and {"shake", "nod", "lean"} & kinds
    assert peak > 3.0  # px per frame at 160×96


def test_camouflage_brings_wall_to_shirt_colour():
    config = SynthConfig(frames=2, size=(96, 64), seed=0, difficulty="easy", camouflage=1.0)
    clip = TalkingHeadClip(config, 0)
    assert clip.meta["camouflage"] is True
    frame = next(iter(clip)).frame.astype(float)
    shirt = np.array([int(clip.meta["person"]["shirt"][i:i + 2], 16) for i in (1, 3, 5)], float)
    corner = frame[:8, :8].reshape(-1, 3).mean(axis=0)  # the wall, top-left
    assert np.abs(corner - shirt).max() < 80


@pytest.mark.parametrize("kwargs, message", [
    ({"size": (16, 16)}, "between 32 and 8192"),
    ({"frames": 1}, "at least 1 clip and 2 frames"),
    ({"difficulty": "insane"}, "easy, medium, hard or mixed"),
    ({"classes": "rainbow"}, "binary or parts"),
])
def test_invalid_config(tmp_path, kwargs, message):
    with pytest.raises(InputError, match=message):
        synthesize(tmp_path / "out", SynthConfig(**kwargs), progress=False)
    assert not (tmp_path / "out").exists()


def test_existing_clip_is_not_overwritten(tmp_path):
    config = SynthConfig(clips=1, frames=2, size=(48, 32))
    synthesize(tmp_path / "out", config, progress=False)
    before = (tmp_path / "out" / "clip_0000" / "frames" / "000000.png").read_bytes()
    with pytest.raises(InputError, match="already exists"):
        synthesize(tmp_path / "out", SynthConfig(clips=1, frames=2, size=(48, 32), seed=9), progress=False)
    assert (tmp_path / "out" / "clip_0000" / "frames" / "000000.png").read_bytes() == before
    synthesize(tmp_path / "out", SynthConfig(clips=1, frames=2, size=(48, 32), seed=9), overwrite=True,
               progress=False)
    assert (tmp_path / "out" / "clip_0000" / "frames" / "000000.png").read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left behind
