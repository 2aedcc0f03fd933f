"""PyTorch datasets of consecutive frame pairs, and train/validation splits by clip.

One item of :class:`FramePairDataset` is frame t of a sequence with what a flow-guided segmenter needs:

- ``frame_prev``, ``frame``: ``float32 (3, H, W)`` RGB in ``[0, 1]`` (frames t−1 and t);
- ``mask``: ``int64 (H, W)`` class ids of frame t (255 = ignore);
- ``flow_bwd``: ``float32 (2, H, W)`` in pixels, from frame t into frame t−1 (docs/conventions.md); unknown
  (NaN) vectors are 0.

Splits are made by clip, never by frame: neighbouring frames are near-duplicates, so a per-frame split
(what the FUNet seed did) leaks validation frames into training.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from workbench.errors import InputError
from workbench.io.detect import open_dataset
from workbench.io.images import natural_key
from workbench.io.sequence import Sequence

#: ``flow_fn(frame_t, frame_prev) -> (2, H, W)``: flow from frame t into frame t−1 (uint8 RGB inputs).
FlowFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def split_by_clip(names: Iterable[str], val_percent: float, seed: int) -> tuple[list[str], list[str]]:
    """Split clip names into (train, val), each in the order given.

    About ``val_percent`` % of the clips (rounded) go to validation, at least one when ``val_percent > 0``
    and there are two clips or more, never all of them. The choice depends only on the set of names and
    the seed, not on their order.
    """
    names = list(names)
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"clip names must be unique to split by clip; repeated: {', '.join(duplicates)}")
    if not 0 <= val_percent < 100:
        raise InputError(f"val_percent must be in [0, 100), got {val_percent}")
    num_clips = len(names)
    num_val = int(num_clips * val_percent / 100 + 0.5)  # round half up
    if val_percent > 0 and num_clips >= 2:
        num_val = max(num_val, 1)
    num_val = min(num_val, max(num_clips - 1, 0))  # keep at least one training clip
    ordered = sorted(names, key=natural_key)  # order-independent: shuffle a canonical order
    order = np.random.default_rng(seed).permutation(num_clips)
    val = {ordered[i] for i in order[:num_val]}
    return [n for n in names if n not in val], [n for n in names if n in val]


def resize_flow(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize ``(2, H, W)`` flow to ``size = (W', H')`` bilinearly, scaling dx by W'/W and dy by H'/H."""
    _, height, width = flow.shape
    new_width, new_height = size
    u = cv2.resize(flow[0], (new_width, new_height), interpolation=cv2.INTER_LINEAR) * (new_width / width)
    v = cv2.resize(flow[1], (new_width, new_height), interpolation=cv2.INTER_LINEAR) * (new_height / height)
    return np.stack([u, v]).astype(np.float32)


class FramePairDataset(Dataset):
    """Items ``(frame_prev, frame, mask, flow_bwd)`` for every t ≥ 1 of every sequence (see module doc).

    ``source``: a list of sequences or a dataset path (opened with :func:`open_dataset`). Every sequence
    needs masks. Flow is the sequence's ground truth; a sequence without it needs ``flow_fn``
    (``flow_fn(frame_t, frame_prev)`` → flow from t into t−1, ``(2, H, W)``), computed at the native size.
    ``size = (W, H)`` resizes frames (bilinear), masks (nearest) and flow (bilinear, vectors rescaled).
    """

    def __init__(self, source: str | Path | Iterable[Sequence], flow_fn: FlowFn | None = None,
                 size: tuple[int, int] | None = None):
        self.sequences: list[Sequence] = (open_dataset(source) if isinstance(source, (str, Path))
                                          else list(source))
        self.flow_fn = flow_fn
        if size is not None:
            size = (int(size[0]), int(size[1]))
            if size[0] <= 0 or size[1] <= 0:
                raise InputError(f"size must be (W, H) with positive values, got {size}")
        self.size = size
        for seq in self.sequences:
            if not seq.has_masks:
                raise InputError(f"{seq.name}: no masks; a training dataset needs a mask for every frame")
            if flow_fn is None and len(seq) >= 2 and (not seq.has_flow or seq.flow_bwd(1) is None):
                raise InputError(f"{seq.name}: no ground-truth backward flow; pass flow_fn to compute it")
        #: (sequence index, frame index t) of every item
        self.index: list[tuple[int, int]] = [(s, t) for s, seq in enumerate(self.sequences)
                                             for t in range(1, len(seq))]

    def __len__(self) -> int:
        return len(self.index)

    def item_info(self, item: int) -> tuple[str, int]:
        """(sequence name, frame index t) of an item."""
        s, t = self.index[item]
        return self.sequences[s].name, t

    def _flow(self, seq: Sequence, t: int, frame: np.ndarray, frame_prev: np.ndarray) -> np.ndarray:
        flow = seq.flow_bwd(t) if seq.has_flow else None
        if flow is None:
            if self.flow_fn is None:
                raise InputError(f"{seq.name}: no backward flow for frame {t} and no flow_fn")
            flow = np.asarray(self.flow_fn(frame, frame_prev), dtype=np.float32)
            height, width = frame.shape[:2]
            if flow.shape != (2, height, width):
                raise ValueError(f"flow_fn returned {flow.shape}, expected (2, {height}, {width})")
        return np.where(np.isfinite(flow), flow, 0.0).astype(np.float32)  # unknown (NaN) → 0

    def __getitem__(self, item: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        s, t = self.index[item]
        seq = self.sequences[s]
        frame_prev, frame = seq.frame(t - 1), seq.frame(t)
        mask = seq.mask(t)
        flow = self._flow(seq, t, frame, frame_prev)
        if self.size is not None and self.size != seq.size:
            frame_prev = cv2.resize(frame_prev, self.size, interpolation=cv2.INTER_LINEAR)
            frame = cv2.resize(frame, self.size, interpolation=cv2.INTER_LINEAR)
            mask = cv2.resize(mask, self.size, interpolation=cv2.INTER_NEAREST)
            flow = resize_flow(flow, self.size)
        return (_to_tensor(frame_prev), _to_tensor(frame), torch.from_numpy(mask.astype(np.int64)),
                torch.from_numpy(np.ascontiguousarray(flow)))


def _to_tensor(frame: np.ndarray) -> torch.Tensor:
    """``uint8 (H, W, 3)`` → ``float32 (3, H, W)`` in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frame.transpose(2, 0, 1))).float().div_(255.0)


def train_val_datasets(source: str | Path | Iterable[Sequence], val_percent: float = 20, seed: int = 0,
                       **kwargs) -> tuple[FramePairDataset, FramePairDataset]:
    """(train, val) :class:`FramePairDataset` s split by clip with :func:`split_by_clip`.

    ``kwargs`` go to both datasets (``flow_fn``, ``size``).
    """
    sequences = open_dataset(source) if isinstance(source, (str, Path)) else list(source)
    train_names, val_names = split_by_clip([s.name for s in sequences], val_percent, seed)
    val_set = set(val_names)
    train = FramePairDataset([s for s in sequences if s.name not in val_set], **kwargs)
    val = FramePairDataset([s for s in sequences if s.name in val_set], **kwargs)
    return train, val
