"""Dataset auto-detection: every layout, naming of FUNet splits, and the errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from workbench.errors import InputError
from workbench.io.clips import ClipFolder, ClipWriter
from workbench.io.davis import DavisSequence
from workbench.io.detect import describe_layout, open_dataset
from workbench.io.folders import ImageFolderSequence
from workbench.io.funet import FunetSequence
from workbench.io.images import write_image, write_mask
from workbench.io.video import VideoSequence, VideoWriter


def make_clip(root: Path, num_frames: int = 3) -> Path:
    writer = ClipWriter(root)
    for t in range(num_frames):
        writer.write(t, np.full((6, 8, 3), t, np.uint8), np.zeros((6, 8), np.uint8))
    return root


def make_funet(root: Path, split: str, seqs: list[int]) -> None:
    for sub in (f"original_{split}", f"ground_truth_{split}"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for seq in seqs:
        for n in (1, 2):
            cv2.imwrite(str(root / f"original_{split}" / f"original{seq}_{n}.jpg"), np.zeros((6, 8, 3), np.uint8))
            cv2.imwrite(str(root / f"ground_truth_{split}" / f"gt{seq}_{n}.jpg"), np.zeros((6, 8), np.uint8))


def test_clip_folder_and_clip_folders(tmp_path):
    make_clip(tmp_path / "set" / "clip10")
    make_clip(tmp_path / "set" / "clip2", 2)
    (tmp_path / "set" / "notes").mkdir()
    assert describe_layout(tmp_path / "set" / "clip2") == "clip folder"
    (seq,) = open_dataset(tmp_path / "set" / "clip2")
    assert isinstance(seq, ClipFolder) and len(seq) == 2
    assert describe_layout(tmp_path / "set") == "clip folders"
    sequences = open_dataset(tmp_path / "set")
    assert [s.name for s in sequences] == ["clip2", "clip10"]


def test_funet_splits(tmp_path):
    make_funet(tmp_path, "training", [1, 12])
    make_funet(tmp_path, "testing", [3])
    assert describe_layout(tmp_path) == "FUNet"
    sequences = open_dataset(tmp_path)
    assert [s.name for s in sequences] == ["training/seq1", "training/seq12", "testing/seq3"]
    assert all(isinstance(s, FunetSequence) for s in sequences)
    assert [s.name for s in open_dataset(tmp_path, split="testing")] == ["seq3"]
    with pytest.raises(InputError, match="split must be one of"):
        open_dataset(tmp_path, split="val")


def test_davis(tmp_path):
    frame_dir = tmp_path / "JPEGImages" / "480p" / "bear"
    frame_dir.mkdir(parents=True)
    cv2.imwrite(str(frame_dir / "00000.jpg"), np.zeros((6, 8, 3), np.uint8))
    assert describe_layout(tmp_path) == "DAVIS"
    (seq,) = open_dataset(tmp_path)
    assert isinstance(seq, DavisSequence) and seq.name == "bear" and not seq.has_masks


def test_video_and_image_folder_with_masks(tmp_path):
    path = tmp_path / "talk.MP4"
    with VideoWriter(path, 25, (16, 16)) as writer:
        for t in range(2):
            writer.write(np.full((16, 16, 3), 50 * t, np.uint8))
    for t in range(2):
        write_mask(tmp_path / "masks" / f"{t}.png", np.zeros((16, 16), np.uint8))
    assert describe_layout(path) == "video"
    (seq,) = open_dataset(path, masks=tmp_path / "masks")
    assert isinstance(seq, VideoSequence) and seq.has_masks and len(seq) == 2

    for t in range(3):
        write_image(tmp_path / "imgs" / f"{t}.png", np.zeros((4, 4, 3), np.uint8))
    assert describe_layout(tmp_path / "imgs") == "image folder"
    (seq,) = open_dataset(tmp_path / "imgs")
    assert isinstance(seq, ImageFolderSequence) and len(seq) == 3 and not seq.has_masks


def test_errors(tmp_path):
    with pytest.raises(InputError, match=r"nowhere: not found$"):
        open_dataset(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="empty: empty folder; expected a clip folder .*DAVIS.*video file"):
        open_dataset(tmp_path / "empty")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "readme.txt").write_text("hi")
    with pytest.raises(InputError, match="junk: nothing recognisable; expected"):
        describe_layout(tmp_path / "junk")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(InputError, match="not a video file or dataset folder"):
        open_dataset(tmp_path / "notes.txt")
    clip = make_clip(tmp_path / "clip")
    with pytest.raises(InputError, match="applies to a video or an image folder"):
        open_dataset(clip, masks=tmp_path / "masks")
    with pytest.raises(InputError, match="applies to the FUNet layout only"):
        open_dataset(clip, split="training")
