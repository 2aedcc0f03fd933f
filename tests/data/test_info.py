"""Dataset summaries behind `workbench data info` (workbench.data.info)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from workbench.data.info import dataset_info, format_info
from workbench.io.clips import ClipWriter
from workbench.io.images import write_mask
from workbench.io.video import VideoWriter

W, H = 10, 8


def make_clip(root: Path, num_frames: int, person_rows: int, flow_scale: float, difficulty=None) -> None:
    """Masks: the top ``person_rows`` rows are class 1. flow_fwd[t] = (flow_scale·t, −1), pixel (0, 0) unknown."""
    writer = ClipWriter(root)
    for t in range(num_frames):
        mask = np.zeros((H, W), np.uint8)
        mask[:person_rows] = 1
        flow = None
        if t < num_frames - 1:
            flow = np.stack([np.full((H, W), flow_scale * t, np.float32), np.full((H, W), -1.0, np.float32)])
            flow[:, 0, 0] = np.nan
        writer.write(t, np.zeros((H, W, 3), np.uint8), mask, flow_fwd=flow)
    meta = {"size": [W, H], "num_frames": num_frames, "fps": 25, "classes": ["background", "person"]}
    if difficulty is not None:
        meta["difficulty"] = difficulty
    writer.write_meta(meta)


def test_info_of_clip_folders(tmp_path):
    make_clip(tmp_path / "set" / "easy", 3, person_rows=2, flow_scale=1.0, difficulty=0.25)
    make_clip(tmp_path / "set" / "hard", 4, person_rows=4, flow_scale=-2.0)
    info = dataset_info(tmp_path / "set")
    json.dumps(info)  # JSON-ready
    assert info["layout"] == "clip folders" and info["root"] == str((tmp_path / "set").resolve())
    assert (info["num_sequences"], info["num_frames"], info["sizes"]) == (2, 7, [[W, H]])
    assert info["classes"] == ["background", "person"]
    assert info["has_masks"] and info["has_flow"] and info["masks_sampled"] == 7
    person = (3 * 2 + 4 * 4) / (7 * H)  # rows of class 1 over all sampled mask rows
    assert info["class_fractions"] == pytest.approx({"background": 1 - person, "person": person})
    flow = info["flow"]
    # easy: u ∈ {0, 1}; hard: u ∈ {0, −2, −4}; v = −1 everywhere; unknown pixel (0, 0) ignored
    assert flow["files"] == 2 + 3
    assert (flow["u_min"], flow["u_max"], flow["v_min"], flow["v_max"]) == (-4.0, 1.0, -1.0, -1.0)
    assert flow["max_magnitude"] == pytest.approx(np.hypot(4, 1))
    mags = [1, np.hypot(1, 1), 1, np.hypot(2, 1), np.hypot(4, 1)]  # one per file, every known pixel equal
    assert flow["mean_magnitude"] == pytest.approx(np.mean(mags))
    assert flow["unknown_fraction"] == pytest.approx(1 / (W * H))
    assert info["sequences"] == [
        {"name": "easy", "frames": 3, "size": [W, H], "fps": 25.0, "masks": True, "flow": True, "difficulty": 0.25},
        {"name": "hard", "frames": 4, "size": [W, H], "fps": 25.0, "masks": True, "flow": True, "difficulty": None},
    ]
    assert dataset_info(tmp_path / "set", flow_stats=False)["flow"] is None


def test_mask_sampling_is_capped(tmp_path):
    make_clip(tmp_path / "long", 45, person_rows=1, flow_scale=0.0)
    info = dataset_info(tmp_path / "long", flow_stats=False)
    assert info["layout"] == "clip folder" and info["masks_sampled"] == 20
    assert info["class_fractions"]["person"] == pytest.approx(1 / H)


def test_info_of_unlabelled_funet_folder(tmp_path):
    (tmp_path / "original_testing").mkdir()
    for seq, size in ((1, (12, 6)), (2, (10, 8))):
        for n in (1, 2):
            cv2.imwrite(str(tmp_path / "original_testing" / f"original{seq}_{n}.jpg"),
                        np.zeros((size[1], size[0], 3), np.uint8))
    info = dataset_info(tmp_path)
    assert info["layout"] == "FUNet" and info["sizes"] == [[10, 8], [12, 6]]
    assert not info["has_masks"] and info["class_fractions"] is None and info["flow"] is None
    assert [s["name"] for s in info["sequences"]] == ["testing/seq1", "testing/seq2"]
    text = format_info(info)
    assert "Masks         0 of 2 sequences" in text and "Class pixels" not in text


def test_format_info_report(tmp_path):
    make_clip(tmp_path / "set" / "a_long_clip_name", 3, person_rows=2, flow_scale=1.0, difficulty=0.5)
    make_clip(tmp_path / "set" / "b", 12, person_rows=2, flow_scale=1.0)
    text = format_info(dataset_info(tmp_path / "set"))
    lines = text.splitlines()
    assert lines[1] == "Layout        clip folders"
    assert "Sequences     2, 15 frames in all" in lines
    assert "Class pixels  background 75.0 %, person 25.0 % (15 masks sampled)" in lines
    assert any(line.startswith("Flow range    u 0.00..10.00 px, v -1.00..-1.00 px") for line in lines)
    table = lines[lines.index("") + 1:]
    assert table[0].split() == ["name", "frames", "size", "fps", "masks", "flow", "difficulty"]
    assert table[1].split() == ["a_long_clip_name", "3", "10x8", "25.0", "yes", "yes", "0.50"]
    assert table[2].split() == ["b", "12", "10x8", "25.0", "yes", "yes", "-"]
    # aligned: every column starts at the same offset in every row; numbers are right-aligned
    assert table[0].index("size") == table[1].index("10x8") == table[2].index("10x8")
    assert table[1].index("3") + 1 == table[2].index("12") + 2 == table[0].index("frames") + len("frames")


def test_info_of_video_with_mask_folder(tmp_path):
    with VideoWriter(tmp_path / "talk.mp4", 15, (16, 16)) as writer:
        for t in range(3):
            writer.write(np.full((16, 16, 3), 40 * t, np.uint8))
    for t in range(3):
        mask = np.zeros((16, 16), np.uint8)
        mask[:, :4] = 255  # a quarter of the pixels; 0/255 → 0/1
        write_mask(tmp_path / "masks" / f"{t}.png", mask)
    info = dataset_info(tmp_path / "talk.mp4", masks=tmp_path / "masks")
    assert info["layout"] == "video" and info["num_frames"] == 3 and info["sequences"][0]["fps"] == 15.0
    assert info["class_fractions"] == pytest.approx({"background": 0.75, "person": 0.25})
    assert info["flow"] is None and not info["has_flow"]
