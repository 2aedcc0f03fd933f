"""Image and mask reading (workbench.io.images) and clip folder validation (workbench.io.clips)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image

from workbench.errors import InputError
from workbench.io.clips import ClipFolder, ClipWriter, find_clip_folders
from workbench.io.images import read_image, read_image_alpha, read_mask, write_image, write_mask


def test_read_image_gray_rgba_16bit(tmp_path):
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    image = read_image(tmp_path / "gray.png")
    assert image.shape == (3, 4, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image, np.repeat(gray[:, :, None], 3, axis=2))

    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2], rgba[..., 3] = 200, 100, 50, 77  # R, G, B, A
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    image, alpha = read_image_alpha(tmp_path / "rgba.png")
    assert image.shape == (2, 3, 3) and tuple(image[0, 0]) == (200, 100, 50)  # RGB order, alpha dropped
    assert alpha is not None and (alpha == 77).all()
    assert read_image_alpha(tmp_path / "gray.png")[1] is None

    deep = np.full((2, 2, 3), 0, np.uint16)
    deep[..., 2] = 0xAB12  # OpenCV order: channel 2 is red
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    image = read_image(tmp_path / "deep.png")
    assert image.dtype == np.uint8 and tuple(image[0, 0]) == (0xAB, 0, 0)  # high byte kept


def test_read_image_errors_name_the_file(tmp_path):
    (tmp_path / "zero.png").write_bytes(b"")
    with pytest.raises(InputError, match=r"zero\.png: file is empty"):
        read_image(tmp_path / "zero.png")
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8 definitely not a jpeg" * 10)
    with pytest.raises(InputError, match=r"bad\.jpg: cannot decode"):
        read_image(tmp_path / "bad.jpg")
    with pytest.raises(InputError, match=r"absent\.png: file not found"):
        read_image(tmp_path / "absent.png")


def test_read_mask_palette_gray_rgb_and_colour(tmp_path):
    ids = np.array([[0, 1, 2], [3, 255, 0]], np.uint8)
    im = Image.fromarray(ids, mode="P")
    im.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [9] * (252 * 3))
    im.save(tmp_path / "pal.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "pal.png"), ids)  # indices, not colours

    gray_as_rgb = np.repeat(ids[:, :, None], 3, axis=2)
    write_image(tmp_path / "rgb.png", gray_as_rgb)
    np.testing.assert_array_equal(read_mask(tmp_path / "rgb.png"), ids)

    colour = gray_as_rgb.copy()
    colour[0, 1] = (255, 0, 0)
    write_image(tmp_path / "colour.png", colour)
    with pytest.raises(InputError, match=r"colour\.png: colour mask"):
        read_mask(tmp_path / "colour.png")


def make_clip(root, num_frames=3, size=(8, 6), masks=True, meta=None):
    writer = ClipWriter(root)
    width, height = size
    for t in range(num_frames):
        writer.write(t, np.full((height, width, 3), 30 * t, np.uint8),
                     np.full((height, width), t % 2, np.uint8) if masks else None)
    if meta is not None:
        writer.write_meta(meta)
    return root


def test_clip_folder_reads_what_was_written(tmp_path):
    clip = ClipFolder(make_clip(tmp_path / "c", meta={"size": [8, 6], "num_frames": 3, "fps": 15}))
    assert (len(clip), clip.size, clip.fps, clip.has_masks) == (3, (8, 6), 15.0, True)
    assert int(clip.frame(2).mean()) == 60 and int(clip.mask(1).max()) == 1
    assert find_clip_folders(tmp_path) == [tmp_path / "c"]


def test_clip_folder_validation(tmp_path):
    (tmp_path / "noframes").mkdir()
    with pytest.raises(InputError, match="noframes: no frames/ folder"):
        ClipFolder(tmp_path / "noframes")
    with pytest.raises(InputError, match="missing: folder not found"):
        ClipFolder(tmp_path / "missing")

    clip = make_clip(tmp_path / "extra")
    write_mask(clip / "masks" / "000007.png", np.zeros((6, 8), np.uint8))
    with pytest.raises(InputError, match="masks do not match frames one to one .*000007"):
        ClipFolder(clip)

    clip = make_clip(tmp_path / "size")
    write_mask(clip / "masks" / "000002.png", np.zeros((7, 8), np.uint8))
    seq = ClipFolder(clip)
    seq.mask(1)
    with pytest.raises(InputError, match=r"masks/000002\.png: mask is 8x7, expected 8x6"):
        seq.mask(2)

    clip = make_clip(tmp_path / "count", meta={"num_frames": 5})
    with pytest.raises(InputError, match=r"meta\.json: num_frames is 5 but frames/ holds 3 images"):
        ClipFolder(clip)

    clip = make_clip(tmp_path / "badjson")
    (clip / "meta.json").write_text("{not json")
    with pytest.raises(InputError, match=r"meta\.json: not valid JSON"):
        ClipFolder(clip)
    (clip / "meta.json").write_text(json.dumps([1, 2]))
    with pytest.raises(InputError, match="expected a JSON object"):
        ClipFolder(clip)


def test_clip_written_without_masks_or_flow(tmp_path):
    # ClipWriter creates masks/ and flow folders up front; empty ones mean "none", not an error
    clip = ClipFolder(make_clip(tmp_path / "plain", masks=False))
    assert not clip.has_masks and not clip.has_flow and clip.classes is None
    assert clip.flow_bwd(1) is None
    with pytest.raises(InputError, match="no masks"):
        clip.mask(0)
