"""The native clip folder (DESIGN.md §4): reading and writing.

```
<root>/<clip>/frames/000000.png      RGB
<root>/<clip>/masks/000000.png       uint8 class ids (single channel)
<root>/<clip>/flow_fwd/000000.flo    t → t+1 (absent for the last frame)
<root>/<clip>/flow_bwd/000001.flo    t → t−1 (absent for the first frame)
<root>/<clip>/meta.json              {"size": [W, H], "num_frames", "fps", "classes": [...], "seed", ...}
```
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import InputError
from workbench.io.atomic import write_text_atomic
from workbench.io.flo import flo_bytes, read_flo
from workbench.io.images import (
    IMAGE_EXTENSIONS,
    encode_image,
    list_images,
    natural_key,
    read_image,
)
from workbench.io.sequence import FileSequence


def frame_name(index: int, suffix: str = ".png") -> str:
    """File name of frame ``index`` in a clip folder: ``000042.png``."""
    return f"{index:06d}{suffix}"


def is_clip_folder(path: str | Path) -> bool:
    return (Path(path) / "frames").is_dir()


class ClipFolder(FileSequence):
    """Read one clip folder; the folder is validated when opened, every file when read."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputError(f"{self.root}: folder not found (expected a clip folder with frames/)")
        if not (self.root / "frames").is_dir():
            raise InputError(f"{self.root}: no frames/ folder (expected a clip folder, DESIGN.md §4)")
        self.name = self.root.name
        self.frame_files = list_images(self.root / "frames")
        self.meta = self._read_meta()
        mask_dir = self.root / "masks"
        # ClipWriter creates every subfolder up front: an empty masks/ means "no masks", not an error
        has_mask_files = mask_dir.is_dir() and any(p.suffix.lower() in IMAGE_EXTENSIONS
                                                   for p in mask_dir.iterdir())
        self.mask_files = list_images(mask_dir) if has_mask_files else []
        if self.mask_files and [p.stem for p in self.mask_files] != [p.stem for p in self.frame_files]:
            missing = sorted({p.stem for p in self.frame_files} ^ {p.stem for p in self.mask_files},
                             key=str)[:3]
            raise InputError(f"{mask_dir}: masks do not match frames one to one (e.g. {', '.join(missing)})")
        self.has_masks = bool(self.mask_files)
        self.has_flow = any(any((self.root / kind).glob("*.flo")) for kind in ("flow_fwd", "flow_bwd"))
        self.fps = float(self.meta.get("fps", 30.0))
        self.classes = self.meta.get("classes") or (["background", "person"] if self.has_masks else None)
        if "size" in self.meta:
            self.size = (int(self.meta["size"][0]), int(self.meta["size"][1]))
        else:
            first = read_image(self.frame_files[0])
            self.size = (first.shape[1], first.shape[0])
        if "num_frames" in self.meta and int(self.meta["num_frames"]) != len(self.frame_files):
            raise InputError(f"{self.root / 'meta.json'}: num_frames is {self.meta['num_frames']} but "
                             f"frames/ holds {len(self.frame_files)} images")

    def _read_meta(self) -> dict[str, Any]:
        path = self.root / "meta.json"
        if not path.exists():
            return {}
        try:
            meta = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(meta, dict):
            raise InputError(f"{path}: expected a JSON object")
        return meta

    def _flow(self, kind: str, index: int) -> np.ndarray | None:
        path = self.root / kind / frame_name(self._check_index(index), ".flo")
        if not path.exists():
            return None
        return self._check_shape(read_flo(path), "flow", path)

    def flow_fwd(self, index: int) -> np.ndarray | None:
        return self._flow("flow_fwd", index)

    def flow_bwd(self, index: int) -> np.ndarray | None:
        return self._flow("flow_bwd", index)


def find_clip_folders(root: str | Path) -> list[Path]:
    """``root`` itself if it is a clip folder, else its clip-folder children (natural order)."""
    root = Path(root)
    if is_clip_folder(root):
        return [root]
    if not root.is_dir():
        return []
    clips = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and is_clip_folder(p)]
    return sorted(clips, key=lambda p: natural_key(p.name))


class ClipWriter:
    """Write one clip folder frame by frame.

    Files are written directly (not one by one atomically): build the clip inside
    :func:`workbench.io.atomic.atomic_dir` or a staging folder, which makes the whole clip appear at once.
    Sub-folders are created on first use, so a clip without masks or flow has no empty folders.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.num_frames = 0

    def _put(self, sub: str, name: str, data: bytes) -> None:
        folder = self.root / sub
        folder.mkdir(exist_ok=True)
        (folder / name).write_bytes(data)

    def write(self, index: int, frame: np.ndarray, mask: np.ndarray | None = None,
              flow_fwd: np.ndarray | None = None, flow_bwd: np.ndarray | None = None) -> None:
        self._put("frames", frame_name(index), encode_image(frame))
        if mask is not None:
            if mask.ndim != 2:
                raise ValueError(f"mask must be (H, W) class ids, got {mask.shape}")
            self._put("masks", frame_name(index), encode_image(np.ascontiguousarray(mask, np.uint8)))
        if flow_fwd is not None:
            self._put("flow_fwd", frame_name(index, ".flo"), flo_bytes(flow_fwd))
        if flow_bwd is not None:
            self._put("flow_bwd", frame_name(index, ".flo"), flo_bytes(flow_bwd))
        self.num_frames = max(self.num_frames, index + 1)

    def write_meta(self, meta: dict[str, Any]) -> None:
        write_text_atomic(self.root / "meta.json", json.dumps(meta, indent=2, sort_keys=True) + "\n")
