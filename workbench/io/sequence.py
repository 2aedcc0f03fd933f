"""The one interface every dataset reader yields: a :class:`Sequence` of frames.

A sequence is one clip (one continuous shot). Readers for every layout (clip folders, the FUNet seed
layout, DAVIS, image folders, video files) return lists of sequences, so that datasets, splits, the
pipeline and ``workbench data info`` never care where frames came from.

Shapes (docs/conventions.md): ``frame(i)`` → ``uint8 (H, W, 3)`` RGB; ``mask(i)`` → ``uint8 (H, W)`` class ids
(0 background, 255 ignore); ``flow_fwd(i)`` (t → t+1) and ``flow_bwd(i)`` (t → t−1) → ``float32 (2, H, W)``
in pixels, or ``None`` when the sequence has no ground-truth flow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import InputError
from workbench.io.images import read_image, read_mask


class Sequence:
    """Base class: random access to frames, masks and ground-truth flow of one clip.

    Readers never hold a whole file in memory: ``frame(i)``, ``mask(i)`` and ``frames()`` read lazily, so a
    pass over the frames in order (what every command makes) takes the same memory for ten frames or an hour
    of video (:class:`workbench.io.VideoSequence` decodes frame by frame). Only :class:`MemorySequence` holds
    its frames, by definition.
    """

    name: str = ""
    #: ``(W, H)`` of every frame.
    size: tuple[int, int] = (0, 0)
    #: class names indexed by id, or ``None`` when unknown (no masks).
    classes: list[str] | None = None
    has_masks: bool = False
    has_flow: bool = False
    fps: float = 30.0
    #: free-form metadata (meta.json of clip folders; layout details of others).
    meta: dict[str, Any]

    def __len__(self) -> int:
        raise NotImplementedError

    @property
    def num_frames(self) -> int:
        return len(self)

    def frame(self, index: int) -> np.ndarray:
        raise NotImplementedError

    def mask(self, index: int) -> np.ndarray:
        raise InputError(f"{self.name}: this sequence has no masks")

    def flow_fwd(self, index: int) -> np.ndarray | None:
        return None

    def flow_bwd(self, index: int) -> np.ndarray | None:
        return None

    def frames(self) -> Iterator[np.ndarray]:
        for index in range(len(self)):
            yield self.frame(index)

    def _check_index(self, index: int) -> int:
        if not -len(self) <= index < len(self):
            raise IndexError(f"{self.name}: frame {index} out of range (0..{len(self) - 1})")
        return index % len(self)

    def _check_shape(self, array: np.ndarray, what: str, source: object) -> np.ndarray:
        """Every frame, mask and flow of a sequence has the sequence's size; say which file does not."""
        width, height = self.size
        if array.shape[-2:] != (height, width) and array.shape[:2] != (height, width):
            got = array.shape[:2] if array.ndim == 3 and array.shape[2] in (3, 4) else array.shape[-2:]
            raise InputError(f"{source}: {what} is {got[1]}x{got[0]}, expected {width}x{height} like the "
                             f"first frame of {self.name}")
        return array

    def __repr__(self) -> str:
        width, height = self.size
        return (f"{type(self).__name__}(name={self.name!r}, frames={len(self)}, size={width}x{height}, "
                f"masks={self.has_masks}, flow={self.has_flow})")


class FileSequence(Sequence):
    """A sequence stored as one image file per frame and, optionally, one per mask.

    Subclasses fill ``frame_files`` and ``mask_files`` (empty: no masks) and may override
    :meth:`read_mask_file` to decode their layout's mask convention.
    """

    frame_files: list[Path]
    mask_files: list[Path]

    def __len__(self) -> int:
        return len(self.frame_files)

    def frame(self, index: int) -> np.ndarray:
        path = self.frame_files[self._check_index(index)]
        return self._check_shape(read_image(path), "frame", path)

    def mask(self, index: int) -> np.ndarray:
        if not self.mask_files:
            return super().mask(index)
        path = self.mask_files[self._check_index(index)]
        return self._check_shape(self.read_mask_file(path), "mask", path)

    def read_mask_file(self, path: Path) -> np.ndarray:
        """Class ids ``uint8 (H, W)`` of one mask file (default: values as stored)."""
        return read_mask(path)


class MemorySequence(Sequence):
    """A sequence held in memory (generated clips, notebooks, tests): lists of frames, masks and flows."""

    def __init__(self, name: str, frames: list[np.ndarray], masks: list[np.ndarray] | None = None,
                 flows_bwd: list[np.ndarray | None] | None = None, classes: list[str] | None = None,
                 fps: float = 30.0, meta: dict[str, Any] | None = None):
        if not frames:
            raise InputError(f"{name}: no frames")
        self.name = name
        self._frames = list(frames)
        height, width = self._frames[0].shape[:2]
        self.size = (width, height)
        for i, frame in enumerate(self._frames):
            self._check_shape(frame, "frame", f"{name} frame {i}")
        self._masks = list(masks) if masks is not None else None
        if self._masks is not None and len(self._masks) != len(self._frames):
            raise InputError(f"{name}: {len(self._masks)} masks for {len(self._frames)} frames")
        self._flows = list(flows_bwd) if flows_bwd is not None else None
        self.has_masks = self._masks is not None
        self.has_flow = self._flows is not None
        self.classes = classes or (["background", "person"] if self.has_masks else None)
        self.fps = fps
        self.meta = dict(meta or {})

    def __len__(self) -> int:
        return len(self._frames)

    def frame(self, index: int) -> np.ndarray:
        return self._frames[self._check_index(index)]

    def mask(self, index: int) -> np.ndarray:
        if self._masks is None:
            return super().mask(index)
        return self._masks[self._check_index(index)]

    def flow_bwd(self, index: int) -> np.ndarray | None:
        return None if self._flows is None else self._flows[self._check_index(index)]
