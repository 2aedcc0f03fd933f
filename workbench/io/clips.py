"""The native clip folder (docs/conventions.md): reading and writing.

```
<root>/<clip>/frames/000000.png      RGB
<root>/<clip>/masks/000000.png       uint8 class ids (single channel)
<root>/<clip>/flow_fwd/000000.flo    t → t+1 (absent for the last frame)
<root>/<clip>/flow_bwd/000001.flo    t → t−1 (absent for the first frame)
<root>/<clip>/meta.json              {"size": [W, H], "num_frames", "fps", "classes": [...], "seed", ...}
```

Every key of ``meta.json`` is optional; those the reader uses are checked when the folder is opened
(:data:`META_KEYS`): ``size`` two positive integers, ``num_frames`` an integer equal to the number of frames,
``fps`` a positive number, ``classes`` a list of 1 to 255 names. When ``meta.json`` lists ``classes``, masks
must hold class ids below ``len(classes)`` or 255 (ignore); other values are an error naming the file, not a
silently wrong score. Without ``classes`` the number of classes is unknown and mask values are kept as stored
(``classes`` then defaults to ``["background", "person"]``).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import InputError
from workbench.io.atomic import write_text_atomic
from workbench.io.flo import flo_bytes, read_flo
from workbench.io.images import (
    IMAGE_EXTENSIONS,
    check_mask_values,
    encode_image,
    list_images,
    natural_key,
    read_image,
    read_mask,
)
from workbench.io.sequence import FileSequence

#: What ``meta.json`` may say about the keys the reader uses (all optional).
META_KEYS = {"size": "[W, H], two positive integers", "num_frames": "a non-negative integer",
             "fps": "a positive number", "classes": "a list of 1 to 255 class names (strings)"}
MAX_META_BYTES = 16 * 1024 * 1024  # meta.json of a generated clip is a few kB


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_meta(meta: dict[str, Any], path: Path) -> None:
    """Refuse a value of a key the reader uses that is not what :data:`META_KEYS` says."""
    checks = {
        "size": lambda v: isinstance(v, list) and len(v) == 2 and all(_is_int(x) and x > 0 for x in v),
        "num_frames": lambda v: _is_int(v) and v >= 0,
        "fps": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0,
        "classes": lambda v: isinstance(v, list) and 1 <= len(v) <= 255 and all(isinstance(x, str) for x in v),
    }
    for key, ok in checks.items():
        if key in meta and not ok(meta[key]):
            shown = json.dumps(meta[key])
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise InputError(f"{path}: \"{key}\" is {shown}, expected {META_KEYS[key]}")


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
            raise InputError(f"{self.root}: no frames/ folder (expected a clip folder, docs/conventions.md)")
        self.name = self.root.name
        self.frame_files = list_images(self.root / "frames")
        self.meta = self._read_meta()
        mask_dir = self.root / "masks"
        # ClipWriter creates every subfolder up front: an empty masks/ means "no masks", not an error
        has_mask_files = mask_dir.is_dir() and any(p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
                                                   and not p.name.startswith(".") for p in mask_dir.iterdir())
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
        if "num_frames" in self.meta and self.meta["num_frames"] != len(self.frame_files):
            raise InputError(f"{self.root / 'meta.json'}: num_frames is {self.meta['num_frames']} but "
                             f"frames/ holds {len(self.frame_files)} images")

    def _read_meta(self) -> dict[str, Any]:
        path = self.root / "meta.json"
        if not path.exists():
            return {}
        if not path.is_file():  # opening a named pipe would wait for a writer forever
            raise InputError(f"{path}: not a regular file, expected a JSON object")
        try:
            with path.open("rb") as file:
                size = os.fstat(file.fileno()).st_size
                if size > MAX_META_BYTES:
                    raise InputError(f"{path}: over {MAX_META_BYTES // 2**20} MiB, expected a small JSON object")
                data = file.read(size + 1)  # read(n) allocates n bytes up front
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror or exc}), expected a JSON object") from None
        if len(data) > size:
            raise InputError(f"{path}: the file grew while it was read, expected a JSON object")
        try:
            meta = json.loads(data)  # bytes: UTF-8/16/32 detected as JSON allows
        except RecursionError:
            raise InputError(f"{path}: not valid JSON (nested too deeply)") from None
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer over Python's digit limit
            raise InputError(f"{path}: not valid JSON ({' '.join(str(exc).split())[:160]})") from None
        if not isinstance(meta, dict):
            raise InputError(f"{path}: expected a JSON object")
        _check_meta(meta, path)
        return meta

    def read_mask_file(self, path: Path) -> np.ndarray:
        """Class ids as stored; with ``classes`` in meta.json, a value that is neither one of its ids nor 255
        is an error."""
        mask = read_mask(path)
        if "classes" in self.meta:
            check_mask_values(mask, path, len(self.meta["classes"]))
        return mask

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
