"""Rendering of layered scenes and their exact ground truth.

A frame at time ``t`` is the back-to-front "over" composite of every layer's sprite warped by its
transform ``A_l(t)`` (sprite → image). The pixel ``x`` belongs to the topmost layer whose warped alpha is
at least 0.5 (its *owner*); that defines the mask. Because a layer's content is fixed in sprite space, the
point shown at ``x`` at time ``t`` is at ``A_l(t') A_l(t)⁻¹ x`` at time ``t'``, so the flow from ``t`` to
``t'`` is exactly ``(A_l(t') A_l(t)⁻¹ − I) x`` for the owner ``l`` of ``x``. Occlusion is handled by
construction: the flow of a background pixel follows the background even where the person covers its
destination, as in Sintel and KITTI ground truth, and forward–backward consistency exposes occlusions.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from workbench.data.scene import Layer


def pixel_grid(size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``(X, Y)`` float64 pixel-centre coordinates of a ``size = (W, H)`` frame."""
    W, H = size
    return np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))


def _footprint(layer: Layer, matrix: np.ndarray, size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """Pixel box ``(x0, y0, x1, y1)`` the layer can touch in the frame, or ``None`` if it misses the frame.

    Layers that extend past their canvas (replicated borders: the torso below the frame edge) may touch
    anything, so they get the whole frame; a hand at rest far below the frame gets ``None``.
    """
    W, H = size
    if layer.border != cv2.BORDER_CONSTANT:
        return 0, 0, W, H
    w, h = layer.size
    corners = matrix @ np.array([[-1, w + 1, w + 1, -1], [-1, -1, h + 1, h + 1], [1, 1, 1, 1]], np.float64)
    x0, y0 = max(int(np.floor(corners[0].min())), 0), max(int(np.floor(corners[1].min())), 0)
    x1, y1 = min(int(np.ceil(corners[0].max())) + 1, W), min(int(np.ceil(corners[1].max())) + 1, H)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1


def composite(layers: Sequence[Layer], mats: Sequence[np.ndarray], size: tuple[int, int]) -> tuple[np.ndarray,
                                                                                                      np.ndarray]:
    """Render one instant → (``float32 (H, W, 3)`` RGB in [0, 1], ``uint8 (H, W)`` owner layer index)."""
    W, H = size
    background = layers[0]
    # The bottom layer is opaque and stored as RGB (h, w, 3): warp it as the starting canvas.
    rgb = cv2.warpAffine(background.rgba, mats[0][:2], (W, H), flags=cv2.INTER_LINEAR, borderMode=background.border)
    owner = np.zeros((H, W), np.uint8)
    for index in range(1, len(layers)):
        layer, matrix = layers[index], mats[index]
        box = _footprint(layer, matrix, size)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        # Warp only the footprint: the same samples as a full-frame warp, shifted by (x0, y0).
        shifted = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0]]) @ matrix
        warped = cv2.warpAffine(layer.rgba, shifted, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                borderMode=layer.border)
        alpha = warped[:, :, 3]
        view = rgb[y0:y1, x0:x1]
        view *= 1.0 - alpha[:, :, None]
        view += warped[:, :, :3]  # premultiplied colour
        owner[y0:y1, x0:x1][alpha >= 0.5] = index
    return rgb, owner


def part_labels(layers: Sequence[Layer], mats: Sequence[np.ndarray], owner: np.ndarray,
                size: tuple[int, int]) -> np.ndarray:
    """Class ids of the owners: a layer's own label map (nearest sample) or its single label."""
    W, H = size
    labels = np.zeros((H, W), np.uint8)
    for index in range(1, len(layers)):
        where = owner == index
        if not where.any():
            continue
        layer = layers[index]
        if layer.labels is None:
            labels[where] = layer.label
        else:
            warped = cv2.warpAffine(layer.labels, mats[index][:2], (W, H), flags=cv2.INTER_NEAREST,
                                    borderMode=layer.border)
            labels[where] = warped[where]
    return labels


def layer_flow(mats_from: Sequence[np.ndarray], mats_to: Sequence[np.ndarray], owner: np.ndarray,
               grid: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Exact flow ``float32 (2, H, W)`` from the instant of ``mats_from`` to that of ``mats_to``."""
    X, Y = grid
    # Per layer, the displacement is affine in x: (A_to A_from⁻¹ − I) x.
    D = np.stack([(m_to @ np.linalg.inv(m_from) - np.eye(3))[:2] for m_from, m_to in zip(mats_from, mats_to,
                                                                                           strict=True)])
    C = D[owner]  # (H, W, 2, 3): the owner's coefficients at every pixel
    flow = C[..., 0] * X[..., None] + C[..., 1] * Y[..., None] + C[..., 2]  # (H, W, 2)
    return np.ascontiguousarray(flow.transpose(2, 0, 1), dtype=np.float32)


def max_speed(flow: np.ndarray | None, owner: np.ndarray) -> float:
    """Largest displacement (px) of any person pixel: sets the number of motion-blur samples."""
    if flow is None:
        return 0.0
    person = owner > 0
    if not person.any():
        return 0.0
    return float(np.sqrt((flow[:, person] ** 2).sum(axis=0)).max())
