"""FUNet seed layout: numeric ordering by (seq, n), JPEG masks binarised, pairing errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from workbench.errors import InputError
from workbench.io.funet import FunetSequence, read_funet
from workbench.io.images import read_mask

W, H = 32, 24


def _frame(level: int) -> np.ndarray:
    """A flat gray frame whose level identifies it after JPEG compression."""
    return np.full((H, W, 3), level, np.uint8)


def _mask(seq: int, n: int) -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[4:4 + seq % 10 + 4, 6:6 + n + 4] = 255  # a rectangle whose size depends on (seq, n)
    return mask


def make_funet(root: Path, frames: dict[int, list[int]], split: str = "training", masks: bool = True) -> None:
    (root / f"original_{split}").mkdir(parents=True, exist_ok=True)
    if masks:
        (root / f"ground_truth_{split}").mkdir(parents=True, exist_ok=True)
    for seq, numbers in frames.items():
        for n in numbers:
            cv2.imwrite(str(root / f"original_{split}" / f"original{seq}_{n}.jpg"), _frame(10 * seq + n))
            if masks:
                cv2.imwrite(str(root / f"ground_truth_{split}" / f"gt{seq}_{n}.jpg"), _mask(seq, n),
                            [cv2.IMWRITE_JPEG_QUALITY, 60])


def test_sequences_and_frames_sort_numerically(tmp_path):
    # The seed sorted file names, which put seq10 before seq2 and frame 10 before frame 2.
    make_funet(tmp_path, {2: [1, 2, 10], 10: [3, 1], 1: [5]})
    sequences = read_funet(tmp_path)
    assert [s.name for s in sequences] == ["seq1", "seq2", "seq10"]
    assert all(isinstance(s, FunetSequence) for s in sequences)
    seq2 = sequences[1]
    assert [p.name for p in seq2.frame_files] == ["original2_1.jpg", "original2_2.jpg", "original2_10.jpg"]
    assert seq2.meta["frame_numbers"] == [1, 2, 10]
    assert [p.name for p in seq2.mask_files] == ["gt2_1.jpg", "gt2_2.jpg", "gt2_10.jpg"]
    # the pixels really come from the matching file: level 10 * seq + n
    assert [int(round(seq2.frame(i).mean())) for i in range(3)] == [21, 22, 30]
    assert len(sequences[2]) == 2 and sequences[2].size == (W, H)
    assert seq2.classes == ["background", "person"] and seq2.has_masks and not seq2.has_flow


def test_jpeg_masks_are_binarised(tmp_path):
    make_funet(tmp_path, {3: [1, 2]})
    seq = read_funet(tmp_path)[0]
    raw = read_mask(seq.mask_files[1])
    assert set(np.unique(raw)) - {0, 255}, "the fixture should have JPEG artefacts"
    mask = seq.mask(1)
    assert mask.dtype == np.uint8 and mask.shape == (H, W)
    assert set(np.unique(mask)) <= {0, 1}
    expected = (_mask(3, 2) > 0).astype(np.uint8)
    assert np.mean(mask == expected) > 0.99
    assert mask.sum() == pytest.approx(expected.sum(), abs=4)


def test_frame_without_mask_names_the_frame(tmp_path):
    make_funet(tmp_path, {3: [1, 2]})
    (tmp_path / "ground_truth_training" / "gt3_2.jpg").unlink()
    with pytest.raises(InputError, match=r"original3_2\.jpg: no mask gt3_2\.jpg"):
        read_funet(tmp_path)


def test_mask_without_frame_names_the_mask(tmp_path):
    make_funet(tmp_path, {3: [1, 2]})
    (tmp_path / "original_training" / "original3_1.jpg").unlink()
    with pytest.raises(InputError, match=r"gt3_1\.jpg: no frame original3_1\.jpg"):
        read_funet(tmp_path)


def test_non_matching_names_are_ignored_unless_nothing_matches(tmp_path):
    make_funet(tmp_path, {1: [1, 2]})
    cv2.imwrite(str(tmp_path / "original_training" / "thumbnail.jpg"), _frame(0))
    assert [len(s) for s in read_funet(tmp_path)] == [2]

    other = tmp_path / "other"
    (other / "original_training").mkdir(parents=True)
    cv2.imwrite(str(other / "original_training" / "frame_001.jpg"), _frame(0))
    with pytest.raises(InputError, match=r"no file named original\{seq\}_\{n\}\.jpg \(found frame_001\.jpg\)"):
        read_funet(other)


def test_mask_of_another_size_names_the_mask(tmp_path):
    make_funet(tmp_path, {4: [1, 2]})
    bad = tmp_path / "ground_truth_training" / "gt4_2.jpg"
    cv2.imwrite(str(bad), np.zeros((H + 2, W), np.uint8))
    seq = read_funet(tmp_path)[0]
    assert seq.mask(0).shape == (H, W)
    with pytest.raises(InputError, match=r"gt4_2\.jpg: mask is 32x26, expected 32x24"):
        seq.mask(1)


def test_testing_split_and_missing_ground_truth(tmp_path):
    make_funet(tmp_path, {7: [1, 2, 3]}, split="testing", masks=False)
    seq = read_funet(tmp_path, "testing")[0]
    assert seq.meta["split"] == "testing" and len(seq) == 3
    assert not seq.has_masks and seq.classes is None
    with pytest.raises(InputError, match="no masks"):
        seq.mask(0)
    with pytest.raises(InputError, match="original_training: folder not found"):
        read_funet(tmp_path, "training")
    with pytest.raises(InputError, match="split must be one of"):
        read_funet(tmp_path, "validation")
