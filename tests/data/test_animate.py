"""Still-to-video synthesis (workbench data animate): clips from (portrait, mask) pairs, and bad input."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from workbench.data.animate import animate
from workbench.errors import InputError
from workbench.io import ClipFolder, find_clip_folders
from workbench.ops import warp


def _portrait(size=(120, 90), seed=0):
    """A textured 'person' blob reaching the bottom edge, and its 0/255 mask."""
    rng = np.random.default_rng(seed)
    W, H = size
    image = cv2.GaussianBlur(rng.integers(0, 255, (H, W, 3), dtype=np.uint8), (0, 0), 2)
    mask = np.zeros((H, W), np.uint8)
    cv2.ellipse(mask, (W // 2, H // 3), (W // 8, H // 6), 0, 0, 360, 255, -1)
    cv2.rectangle(mask, (W // 4, H // 2), (3 * W // 4, H - 1), 255, -1)
    return image, mask


@pytest.fixture()
def stills(tmp_path):
    for sub in ("images", "masks", "backgrounds"):
        (tmp_path / sub).mkdir()
    for i, name in enumerate(["anna", "ben"]):
        image, mask = _portrait(seed=i)
        cv2.imwrite(str(tmp_path / "images" / f"{name}.jpg"), image)
        cv2.imwrite(str(tmp_path / "masks" / f"{name}.png"), mask)
    bg = np.random.default_rng(5).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "backgrounds" / "wall.png"), cv2.GaussianBlur(bg, (0, 0), 3))
    return tmp_path


def test_animate_writes_one_clip_per_portrait_with_exact_ground_truth(stills):
    summary = animate(stills / "images", stills / "masks", stills / "out", backgrounds=stills / "backgrounds",
                      frames=12, seed=1, progress=False)
    clips = find_clip_folders(stills / "out")
    assert [c.name for c in clips] == ["anna", "ben"] and summary["frames"] == 24
    clip = ClipFolder(clips[1])
    meta = json.loads((clips[1] / "meta.json").read_text())
    assert meta["size"] == [120, 90] and meta["source"] == {"image": "ben.jpg", "mask": "ben.png"}
    assert meta["classes"] == ["background", "person"]
    # Frame 0's mask is the portrait's mask moved by the motion of time 0: most of it agrees.
    _, mask = _portrait(seed=1)
    assert ((clip.mask(0) > 0) == (mask > 0)).mean() > 0.9
    for t in range(1, len(clip)):
        prev = torch.from_numpy(clip.frame(t - 1)).permute(2, 0, 1).float()[None]
        cur = torch.from_numpy(clip.frame(t)).permute(2, 0, 1).float()[None]
        bwd = torch.from_numpy(clip.flow_bwd(t))[None]
        warped, valid = warp(prev, bwd)
        fwd_at, _ = warp(torch.from_numpy(clip.flow_fwd(t - 1))[None], bwd)
        visible = ((bwd + fwd_at).norm(dim=1) < 0.5) & (valid[:, 0] > 0)
        err = (warped - cur).abs()[0][:, visible[0]]
        assert err.median() < 2 and (err <= 8).float().mean() > 0.9


def test_size_option_fits_portraits(stills):
    animate(stills / "images", stills / "masks", stills / "out", frames=3, size=(64, 48), progress=False)
    assert ClipFolder(stills / "out" / "anna").frame(2).shape == (48, 64, 3)


def _expect_error(stills, match, **kwargs):
    with pytest.raises(InputError, match=match):
        animate(stills / "images", stills / "masks", stills / "out", frames=3, progress=False, **kwargs)
    assert not (stills / "out").exists()
    assert not [p for p in stills.iterdir() if p.name.startswith(".")]  # no staging left


def test_mask_of_other_size(stills):
    cv2.imwrite(str(stills / "masks" / "ben.png"), np.zeros((10, 10), np.uint8))
    _expect_error(stills, r"ben\.png: mask is 10x10 but ben\.jpg is 120x90")


def test_mask_not_binary(stills):
    _, mask = _portrait()
    cv2.imwrite(str(stills / "masks" / "anna.png"), np.where(mask > 0, 200, 0).astype(np.uint8))
    _expect_error(stills, r"anna\.png: mask has values 0, 200; expected only 0 and 255")
    animate(stills / "images", stills / "masks", stills / "out", frames=2, matte=True, progress=False)
    assert (stills / "out" / "anna").is_dir()  # as a soft matte it is accepted


def test_missing_mask_zero_byte_and_empty_folders(stills):
    (stills / "masks" / "ben.png").unlink()
    _expect_error(stills, r"ben\.jpg: no mask named ben\.\*")
    (stills / "masks" / "ben.png").write_bytes(b"")
    _expect_error(stills, r"ben\.png: file is empty \(0 bytes\)")
    _, mask = _portrait()
    cv2.imwrite(str(stills / "masks" / "ben.png"), mask)
    _expect_error(stills, r"nowhere: folder not found", backgrounds=stills / "nowhere")
    (stills / "masks" / "ben.png").unlink()
    (stills / "masks" / "anna.png").unlink()
    _expect_error(stills, r"masks: no images found")


def test_corrupt_background(stills):
    (stills / "backgrounds" / "broken.png").write_bytes(b"\x89PNG not really")
    _expect_error(stills, r"broken\.png: cannot decode", backgrounds=stills / "backgrounds")


def test_person_framing_over_heldout_photos_with_a_camera(stills):
    """Video-call framing: the person is 45-80 % of the width, the background shows around them, the torso goes
    on below the portrait; photographs of the held-out split; several clips per portrait; exact flow still."""
    summary = animate(stills / "images", stills / "masks", stills / "out", frames=6, size=(160, 96), seed=3,
                      framing="person", photos="heldout", camera="webcam", clips_per_portrait=2, progress=False)
    clips = find_clip_folders(stills / "out")
    assert [c.name for c in clips] == ["anna_00", "anna_01", "ben_00", "ben_01"] and summary["frames"] == 24
    for folder in clips:
        meta = json.loads((folder / "meta.json").read_text())
        assert meta["framing"] == "person" and meta["background"].startswith(("photo", "collage"))
        assert not any(p in meta["background"] for p in ("chelsea", "brick", "grass"))  # held-out photographs only
        assert "camera_model" in meta
        mask = ClipFolder(folder).mask(0)
        cover = mask.mean()
        assert 0.1 < cover < 0.75, cover  # background around the person
        assert mask[-1].any() and not mask[0].all()  # the torso reaches the bottom edge; the top row is not person
    with pytest.raises(InputError, match="--clips-per-portrait"):
        animate(stills / "images", stills / "masks", stills / "o2", frames=3, clips_per_portrait=0, progress=False)
    with pytest.raises(InputError, match="--framing"):
        animate(stills / "images", stills / "masks", stills / "o2", frames=3, framing="full", progress=False)
