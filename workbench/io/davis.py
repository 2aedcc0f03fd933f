"""The DAVIS layout (docs/conventions.md).

```
<root>/JPEGImages/<resolution>/<seq>/00000.jpg     RGB frames
<root>/Annotations/<resolution>/<seq>/00000.png    palette PNGs: pixel value = object id (0 background)
```

``ImageSets/`` is not needed: every folder under ``JPEGImages/<resolution>/`` is a sequence. With
``binary=True`` (the default, the workbench's binary task) every object id > 0 becomes 1; 255 stays
"ignore". With ``binary=False`` masks keep the object ids and the classes are
``["background", "object 1", ...]``. DAVIS 2016 annotations are gray 0/255 PNGs rather than palette
PNGs; a non-palette mask holding only 0 and 255 is read as one object (255 → 1). Other non-palette masks
are read as object ids, except that one holding 255 with values other than 0 and 1 is an error naming
them: 255 there is ambiguous (object or ignore), and an anti-aliased 0..255 mask would have its object read
as "ignore".

A sequence whose annotation folder is missing, or annotates only some frames (DAVIS test-dev gives the
first frame only), loads without masks; ``meta["annotated_frames"]`` counts what was there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.errors import InputError
from workbench.io.images import image_header, list_images, natural_key, read_image, read_mask
from workbench.io.sequence import FileSequence, Sequence

DEFAULT_RESOLUTION = "480p"
DAVIS_FPS = 24.0  # DAVIS sequences were captured at 24 fps (Perazzi et al., CVPR 2016)
IGNORE = 255


def read_davis_mask(path: str | Path) -> np.ndarray:
    """Object ids ``uint8 (H, W)`` of a DAVIS annotation (palette indices; gray 0/255 → 0/1)."""
    path = Path(path)
    header = image_header(path, "a DAVIS annotation")
    mask = read_mask(path)
    if header.format == "PNG" and header.mode == "P":
        return mask  # palette indices are object ids
    values = np.unique(mask)
    if np.all(np.isin(values, (0, IGNORE))):
        return (mask > 0).astype(np.uint8)  # DAVIS 2016: gray 0/255 = one object
    if IGNORE in values and not np.all(np.isin(values, (0, 1, IGNORE))):
        stray = ", ".join(str(v) for v in values[(values > 1) & (values != IGNORE)][:6].tolist())
        raise InputError(f"{path}: gray annotation holds 255 with values {stray}; expected 0/255 (one object) "
                         "or object ids in a palette PNG")
    return mask


class DavisSequence(FileSequence):
    """One DAVIS sequence: ``JPEGImages/<res>/<seq>`` frames with optional ``Annotations/<res>/<seq>``."""

    def __init__(self, frame_dir: str | Path, mask_dir: str | Path | None = None, binary: bool = True):
        self.frame_dir = Path(frame_dir)
        self.name = self.frame_dir.name
        self.binary = binary
        self.fps = DAVIS_FPS
        self.frame_files = list_images(self.frame_dir)
        self.mask_files: list[Path] = []
        annotated = 0
        if mask_dir is not None and Path(mask_dir).is_dir():
            by_stem = {p.stem: p for p in Path(mask_dir).iterdir()
                       if p.suffix.lower() == ".png" and not p.name.startswith(".") and p.is_file()}
            frame_stems = {p.stem for p in self.frame_files}
            orphans = sorted(set(by_stem) - frame_stems, key=natural_key)
            if orphans:
                raise InputError(f"{by_stem[orphans[0]]}: annotation without a frame in {self.frame_dir}")
            annotated = len(by_stem)
            if annotated == len(self.frame_files):
                self.mask_files = [by_stem[p.stem] for p in self.frame_files]
        self.has_masks = bool(self.mask_files)
        self.meta = {"layout": "DAVIS", "resolution": self.frame_dir.parent.name,
                     "annotated_frames": annotated, "binary": binary}
        first = read_image(self.frame_files[0])
        self.size = (first.shape[1], first.shape[0])
        self._classes: list[str] | None = None

    @property
    def classes(self) -> list[str] | None:  # type: ignore[override]
        """Class names; with ``binary=False`` found by scanning every mask once (objects may appear late)."""
        if not self.has_masks:
            return None
        if self.binary:
            return ["background", "object"]
        if self._classes is None:
            num_objects = 0
            for index in range(len(self)):
                ids = np.unique(self.mask(index))
                ids = ids[ids != IGNORE]
                num_objects = max(num_objects, int(ids.max()) if ids.size else 0)
            self._classes = ["background"] + [f"object {i}" for i in range(1, num_objects + 1)]
        return self._classes

    def mask(self, index: int) -> np.ndarray:
        annotated = self.meta["annotated_frames"]
        if not self.has_masks and annotated:
            raise InputError(f"{self.name}: only {annotated} of {len(self)} frames are annotated; "
                             "the sequence is loaded without masks")
        return super().mask(index)

    def read_mask_file(self, path: Path) -> np.ndarray:
        mask = read_davis_mask(path)
        if self.binary:
            mask = np.where(mask == IGNORE, IGNORE, mask > 0).astype(np.uint8)
        return mask


def davis_resolutions(root: str | Path) -> list[str]:
    """Resolution folders under ``<root>/JPEGImages`` (e.g. ``["480p", "Full-Resolution"]``)."""
    images = Path(root) / "JPEGImages"
    if not images.is_dir():
        return []
    return sorted((p.name for p in images.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=natural_key)


def read_davis(root: str | Path, resolution: str | None = None, binary: bool = True) -> list[Sequence]:
    """Read a DAVIS folder → one :class:`DavisSequence` per sequence folder, in natural order.

    ``resolution`` defaults to ``"480p"`` when present, else the only resolution folder there is.
    """
    root = Path(root)
    images = root / "JPEGImages"
    if not images.is_dir():
        raise InputError(f"{root}: no JPEGImages/ folder (expected a DAVIS folder)")
    available = davis_resolutions(root)
    if resolution is None:
        if DEFAULT_RESOLUTION in available:
            resolution = DEFAULT_RESOLUTION
        elif len(available) == 1:
            resolution = available[0]
        elif not available:
            raise InputError(f"{images}: no resolution folders (expected e.g. JPEGImages/480p/<seq>/)")
        else:
            raise InputError(f"{images}: several resolutions ({', '.join(available)}) and no 480p; "
                             "choose one")
    elif resolution not in available:
        raise InputError(f"{images / resolution}: resolution not found (available: "
                         f"{', '.join(available) or 'none'})")
    frame_root = images / resolution
    mask_root = root / "Annotations" / resolution
    seq_dirs = sorted((p for p in frame_root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                      key=lambda p: natural_key(p.name))
    if not seq_dirs:
        raise InputError(f"{frame_root}: no sequence folders (expected JPEGImages/{resolution}/<seq>/*.jpg)")
    return [DavisSequence(d, mask_root / d.name, binary=binary) for d in seq_dirs]
