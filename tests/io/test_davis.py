"""DAVIS layout: palette annotations, binary vs object ids, resolutions, missing annotations."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from workbench.errors import InputError
from workbench.io.davis import read_davis, read_davis_mask

W, H = 20, 16
PALETTE = [0, 0, 0, 128, 0, 0, 0, 128, 0] + [200] * (256 * 3 - 9)


def _objects(t: int) -> np.ndarray:
    """Object ids: object 1 always, object 2 only from frame 2 on, an ignore (255) border."""
    ids = np.zeros((H, W), np.uint8)
    ids[2:8, 2:8] = 1
    if t >= 2:
        ids[9:14, 10:18] = 2
    ids[0, :] = 255
    return ids


def write_palette_png(path: Path, ids: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(ids, mode="P")
    im.putpalette(PALETTE)
    im.save(path)


def make_davis(root: Path, seqs: dict[str, int], res: str = "480p", annotate: bool = True) -> None:
    for name, num_frames in seqs.items():
        frame_dir = root / "JPEGImages" / res / name
        frame_dir.mkdir(parents=True, exist_ok=True)
        for t in range(num_frames):
            cv2.imwrite(str(frame_dir / f"{t:05d}.jpg"), np.full((H, W, 3), 20 * t, np.uint8))
            if annotate:
                write_palette_png(root / "Annotations" / res / name / f"{t:05d}.png", _objects(t))


def test_binary_masks_map_objects_to_one_and_keep_ignore(tmp_path):
    make_davis(tmp_path, {"bear": 4})
    (seq,) = read_davis(tmp_path)
    assert seq.name == "bear" and len(seq) == 4 and seq.size == (W, H) and seq.fps == 24.0
    assert seq.has_masks and seq.classes == ["background", "object"]
    mask = seq.mask(3)
    expected = np.where(_objects(3) == 255, 255, _objects(3) > 0).astype(np.uint8)
    np.testing.assert_array_equal(mask, expected)
    assert int(round(seq.frame(2).mean())) == 40


def test_object_ids_kept_when_not_binary(tmp_path):
    make_davis(tmp_path, {"bear": 4})
    (seq,) = read_davis(tmp_path, binary=False)
    np.testing.assert_array_equal(seq.mask(3), _objects(3))
    # object 2 only appears in frame 2: the class list comes from every mask, not the first one
    assert seq.classes == ["background", "object 1", "object 2"]


def test_resolution_choice(tmp_path):
    make_davis(tmp_path, {"a": 2}, res="Full-Resolution")
    make_davis(tmp_path, {"b": 2}, res="480p")
    assert [s.name for s in read_davis(tmp_path)] == ["b"]  # 480p preferred
    assert [s.name for s in read_davis(tmp_path, resolution="Full-Resolution")] == ["a"]
    with pytest.raises(InputError, match="1080p: resolution not found"):
        read_davis(tmp_path, resolution="1080p")

    only = tmp_path / "only"
    make_davis(only, {"c": 2}, res="Full-Resolution")
    (seq,) = read_davis(only)
    assert seq.name == "c" and seq.meta["resolution"] == "Full-Resolution"

    several = tmp_path / "several"
    make_davis(several, {"c": 2}, res="720p")
    make_davis(several, {"c": 2}, res="1080p")
    with pytest.raises(InputError, match="several resolutions"):
        read_davis(several)


def test_sequences_in_natural_order_and_without_annotations(tmp_path):
    make_davis(tmp_path, {"walk10": 2, "walk2": 3})
    make_davis(tmp_path, {"unlabelled": 2}, annotate=False)
    sequences = read_davis(tmp_path)
    assert [s.name for s in sequences] == ["unlabelled", "walk2", "walk10"]
    assert [s.has_masks for s in sequences] == [False, True, True]
    assert sequences[0].classes is None
    with pytest.raises(InputError, match="no masks"):
        sequences[0].mask(0)


def test_partial_annotations_load_without_masks(tmp_path):
    # DAVIS test-dev annotates only the first frame
    make_davis(tmp_path, {"dog": 3})
    for t in (1, 2):
        (tmp_path / "Annotations" / "480p" / "dog" / f"{t:05d}.png").unlink()
    (seq,) = read_davis(tmp_path)
    assert not seq.has_masks and seq.meta["annotated_frames"] == 1
    with pytest.raises(InputError, match="only 1 of 3 frames are annotated"):
        seq.mask(0)


def test_annotation_without_frame_is_an_error(tmp_path):
    make_davis(tmp_path, {"dog": 2})
    write_palette_png(tmp_path / "Annotations" / "480p" / "dog" / "00007.png", _objects(0))
    with pytest.raises(InputError, match=r"00007\.png: annotation without a frame"):
        read_davis(tmp_path)


def test_davis2016_gray_masks(tmp_path):
    gray = np.zeros((H, W), np.uint8)
    gray[3:9, 4:12] = 255
    path = tmp_path / "gray.png"
    cv2.imwrite(str(path), gray)
    np.testing.assert_array_equal(read_davis_mask(path), (gray > 0).astype(np.uint8))
    # a palette PNG keeps index 255 as ignore
    write_palette_png(tmp_path / "pal.png", gray)
    np.testing.assert_array_equal(read_davis_mask(tmp_path / "pal.png"), gray)


def test_not_a_davis_folder(tmp_path):
    with pytest.raises(InputError, match="no JPEGImages"):
        read_davis(tmp_path)
