"""A plain folder of images as a sequence, with an optional folder of masks.

Frames are the images of the folder in natural order (``frame2`` before ``frame10``). Masks are paired
with frames by file stem (``a/frame7.jpg`` ↔ ``masks/frame7.png``); masks without a frame are ignored.
Mask values are kept as stored (class ids), except that a mask holding only 0 and 255 is read as 0/1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.errors import InputError
from workbench.io.images import check_mask_values, list_images, read_image, read_mask
from workbench.io.sequence import FileSequence

MAX_CLASS_IDS = 32
"""Masks in image folders and mask videos' folders: 0/255 (binary), or class ids 0..31 with 255 = ignore."""


def read_folder_mask(path: str | Path) -> np.ndarray:
    """A mask file of an image folder: binary 0/255 → 0/1, class ids kept; stray values (an anti-aliased or
    grey-level picture) are an error naming the file, never a silently meaningless IoU."""
    return check_mask_values(normalize_mask(read_mask(path)), path, MAX_CLASS_IDS)


def normalize_mask(mask: np.ndarray) -> np.ndarray:
    """Class ids as stored, except that a 0/255 mask (a binary mask saved for viewing) becomes 0/1."""
    if np.all(np.isin(np.unique(mask), (0, 255))):
        return (mask > 0).astype(np.uint8)
    return mask


class ImageFolderSequence(FileSequence):
    """Frames from ``frames_dir``; masks from ``masks_dir`` paired by file stem (every frame needs one)."""

    def __init__(self, frames_dir: str | Path, masks_dir: str | Path | None = None):
        self.root = Path(frames_dir)
        self.name = self.root.name
        self.frame_files = list_images(self.root)
        self.mask_files: list[Path] = []
        if masks_dir is not None:
            masks_dir = Path(masks_dir)
            by_stem = {p.stem: p for p in list_images(masks_dir)}
            for frame_path in self.frame_files:
                if frame_path.stem not in by_stem:
                    raise InputError(f"{frame_path}: no mask named {frame_path.stem}.* in {masks_dir} "
                                     "(masks are paired with frames by file name)")
            self.mask_files = [by_stem[p.stem] for p in self.frame_files]
        self.has_masks = bool(self.mask_files)
        self.classes = ["background", "person"] if self.has_masks else None
        self.meta = {"layout": "image folder", "masks_dir": str(masks_dir) if masks_dir else None}
        first = read_image(self.frame_files[0])
        self.size = (first.shape[1], first.shape[0])

    def read_mask_file(self, path: Path) -> np.ndarray:
        return read_folder_mask(path)
