"""Frame regions of the streaming pipeline and the stitching of their logits (DVSNet §3.1).

A frame is cut into a ``rows × cols`` grid; each cell is grown by ``overlap`` pixels into its neighbours
(never past the frame), so DVSNet's 2×2 grid with overlap 64 on a 1024×2048 frame gives regions of
576×1088 pixels, as in its code. Each region has its own key frame and is segmented or warped on its own.

Where regions overlap, the stitched frame takes the logits of the region that is more confident there
(DVSNet keeps the label whose maximum logit is higher). Confidence is the largest logit for multi-class
outputs and ``|z|`` for a single binary logit ``z`` — the largest logit of the equivalent two-class output
``(−z/2, z/2)``, so that a confident "background" counts as much as a confident "person".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from workbench.errors import InputError

MIN_REGION = 16  # px: the smallest grid cell a network can usefully see


@dataclass(frozen=True)
class Region:
    """One region: grid position and its pixel box ``[y0, y1) × [x0, x1)`` in the frame."""

    index: int
    row: int
    col: int
    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def box(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    @property
    def size(self) -> tuple[int, int]:
        """``(W, H)`` of the region."""
        return self.x1 - self.x0, self.y1 - self.y0

    def crop(self, array: np.ndarray, channels_first: bool = False) -> np.ndarray:
        """The region of an ``(H, W, ...)`` array, or with ``channels_first`` of one whose last two axes are
        ``(H, W)`` — ``(C, H, W)`` or ``(N, C, H, W)``, arrays or tensors (a view, no copy)."""
        ys, xs = self.box
        return array[..., ys, xs] if channels_first else array[ys, xs]


def parse_grid(text: str) -> tuple[int, int]:
    """``"2x2"`` → ``(rows, cols)``."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", str(text))
    if not match:
        raise InputError(f"--regions {text!r}: expected ROWSxCOLS, e.g. 2x2")
    return int(match.group(1)), int(match.group(2))


def region_grid(width: int, height: int, rows: int = 2, cols: int = 2, overlap: int = 0) -> list[Region]:
    """The regions of a ``width × height`` frame, row-major."""
    if rows < 1 or cols < 1:
        raise InputError(f"--regions {rows}x{cols}: expected at least one row and one column")
    if overlap < 0:
        raise InputError(f"--overlap {overlap}: expected 0 or more pixels")
    ys = [round(i * height / rows) for i in range(rows + 1)]
    xs = [round(j * width / cols) for j in range(cols + 1)]
    cell_h, cell_w = min(np.diff(ys)), min(np.diff(xs))
    if min(cell_h, cell_w) < MIN_REGION:
        raise InputError(f"--regions {rows}x{cols} does not fit a {width}x{height} frame: cells of "
                         f"{cell_w}x{cell_h} px, expected at least {MIN_REGION}x{MIN_REGION}")
    split = [cell for cell, n in ((cell_h, rows), (cell_w, cols)) if n > 1]  # overlap only between cells
    if split and overlap > min(split):
        raise InputError(f"--overlap {overlap} px is larger than a region ({cell_w}x{cell_h} px cells for "
                         f"--regions {rows}x{cols} on {width}x{height})")
    regions = []
    for r in range(rows):
        for c in range(cols):
            regions.append(Region(len(regions), r, c, max(0, ys[r] - overlap), min(height, ys[r + 1] + overlap),
                                  max(0, xs[c] - overlap), min(width, xs[c + 1] + overlap)))
    return regions


def confidence(logits: np.ndarray) -> np.ndarray:
    """Per-pixel confidence ``(H, W)`` of ``(K, H, W)`` logits: ``|z|`` for K = 1, else the largest logit."""
    return np.abs(logits[0]) if logits.shape[0] == 1 else logits.max(axis=0)


def stitch(parts: list[np.ndarray], regions: list[Region], width: int, height: int) -> np.ndarray:
    """Region logits ``(K, h, w)`` → frame logits ``(K, H, W)``; overlaps keep the more confident region."""
    if len(parts) != len(regions):
        raise ValueError(f"stitch: {len(parts)} logit maps for {len(regions)} regions")
    if len(parts) == 1 and regions[0].box == (slice(0, height), slice(0, width)) \
            and parts[0].shape[1:] == (height, width) and parts[0].dtype == np.float32:
        return parts[0].copy()  # one region covering the frame (1×1): nothing to stitch (a copy: parts may be a key)
    K = parts[0].shape[0]
    out = np.zeros((K, height, width), np.float32)
    best = np.full((height, width), -np.inf, np.float32)
    for logits, region in zip(parts, regions, strict=True):
        ys, xs = region.box
        conf = confidence(logits)
        take = conf > best[ys, xs]
        out[:, ys, xs] = np.where(take[None], logits, out[:, ys, xs])
        best[ys, xs] = np.where(take, conf, best[ys, xs])
    return out
