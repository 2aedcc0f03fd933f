"""The FUNet seed layout (docs/conventions.md).

```
<root>/original_training/original{seq}_{n}.jpg      RGB frames
<root>/ground_truth_training/gt{seq}_{n}.jpg        masks, 0/255 JPEG
<root>/original_testing/...  <root>/ground_truth_testing/...
```

Every ``seq`` number is one clip and becomes one :class:`FunetSequence`, so that training splits can be
made by clip. Fixes to the seed's reader: sequences and frames are ordered numerically by ``(seq, n)``
(the seed sorted file names and so ordered by the last digit of the sequence number), and the JPEG masks
are binarised at 128 (the seed never re-binarised them, so JPEG artefacts became soft labels). A mask
that is not 0/255 (or 0/1) is an error naming the file and its stray values: in a lossless file any other
value, in a JPEG more mid-gray than JPEG damage makes (see :func:`~workbench.io.images.check_binary_mask`).

Masks come out as ``uint8 (H, W)`` with 0 = background and 1 = person.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from workbench.errors import InputError
from workbench.io.images import IMAGE_EXTENSIONS, check_binary_mask, read_image
from workbench.io.sequence import FileSequence, Sequence

SPLITS = ("training", "testing")
CLASSES = ["background", "person"]
LOSSY_EXTENSIONS = (".jpg", ".jpeg", ".webp")  # masks in these may carry compression damage

_FRAME_RE = re.compile(r"^original(\d+)_(\d+)$", re.IGNORECASE)
_MASK_RE = re.compile(r"^gt(\d+)_(\d+)$", re.IGNORECASE)


def _index_files(folder: Path, pattern: re.Pattern, expected: str) -> dict[tuple[int, int], Path]:
    """``{(seq, n): path}`` for the images of ``folder`` whose stem matches ``pattern``.

    Names that do not match are ignored, unless nothing matches: then they are shown in the error.
    """
    if not folder.is_dir():
        raise InputError(f"{folder}: folder not found (expected FUNet files named {expected})")
    images = sorted(p for p in folder.iterdir()
                    if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith("."))
    found: dict[tuple[int, int], Path] = {}
    for path in images:
        match = pattern.match(path.stem)
        if match is None:
            continue
        key = (int(match.group(1)), int(match.group(2)))
        if key in found:  # e.g. original3_1.jpg and original3_01.jpg
            raise InputError(f"{path}: same sequence and frame number as {found[key].name}")
        found[key] = path
    if not found:
        if images:
            shown = ", ".join(p.name for p in images[:3]) + (", ..." if len(images) > 3 else "")
            raise InputError(f"{folder}: no file named {expected} (found {shown})")
        raise InputError(f"{folder}: no images found (expected files named {expected})")
    return found


class FunetSequence(FileSequence):
    """One FUNet sequence (one clip): frames ordered by ``n``, masks binarised to 0/1."""

    def __init__(self, name: str, frame_files: list[Path], mask_files: list[Path] | None = None,
                 meta: dict | None = None):
        if not frame_files:
            raise InputError(f"{name}: no frames")
        if mask_files is not None and len(mask_files) != len(frame_files):
            raise ValueError(f"{name}: {len(mask_files)} masks for {len(frame_files)} frames")
        self.name = name
        self.frame_files = list(frame_files)
        self.mask_files = list(mask_files) if mask_files is not None else []
        self.has_masks = bool(self.mask_files)
        self.classes = list(CLASSES) if self.has_masks else None
        self.meta = {"layout": "FUNet", **(meta or {})}
        first = read_image(self.frame_files[0])
        self.size = (first.shape[1], first.shape[0])

    def read_mask_file(self, path: Path) -> np.ndarray:
        # JPEG colour artefacts can make the channels of a white-on-black mask differ a little, so the
        # mask is the channel mean rather than read_mask's strict equal-channels check.
        gray = read_image(path).mean(axis=2)
        return check_binary_mask(gray, path, lossy=path.suffix.lower() in LOSSY_EXTENSIONS)


def read_funet(root: str | Path, split: str = "training") -> list[Sequence]:
    """Read one split of a FUNet folder → one :class:`FunetSequence` per sequence number, ordered by it.

    Sequences are named ``seq{number}``. A missing ``ground_truth_{split}/`` folder gives sequences
    without masks (inference only); when it exists, every frame needs its mask and every mask its frame.
    """
    root = Path(root)
    if split not in SPLITS:
        raise InputError(f"FUNet split must be one of {', '.join(SPLITS)}, got {split!r}")
    frame_dir = root / f"original_{split}"
    mask_dir = root / f"ground_truth_{split}"
    frames = _index_files(frame_dir, _FRAME_RE, "original{seq}_{n}.jpg")
    masks = _index_files(mask_dir, _MASK_RE, "gt{seq}_{n}.jpg") if mask_dir.is_dir() else None
    if masks is not None:
        unmasked = sorted(frames.keys() - masks.keys())
        if unmasked:
            seq, n = unmasked[0]
            more = f" (and {len(unmasked) - 1} more frames)" if len(unmasked) > 1 else ""
            raise InputError(f"{frames[seq, n]}: no mask gt{seq}_{n}.jpg in {mask_dir}{more}")
        orphans = sorted(masks.keys() - frames.keys())
        if orphans:
            seq, n = orphans[0]
            more = f" (and {len(orphans) - 1} more masks)" if len(orphans) > 1 else ""
            raise InputError(f"{masks[seq, n]}: no frame original{seq}_{n}.jpg in {frame_dir}{more}")

    sequences: list[Sequence] = []
    for seq in sorted({key[0] for key in frames}):
        keys = sorted(key for key in frames if key[0] == seq)  # numeric (seq, n) order
        sequences.append(FunetSequence(
            f"seq{seq}", [frames[k] for k in keys], [masks[k] for k in keys] if masks is not None else None,
            meta={"split": split, "seq": seq, "frame_numbers": [k[1] for k in keys]}))
    return sequences
