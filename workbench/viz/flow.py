"""Pictures of flow fields and label maps, returned as arrays (nothing is shown or written here).

Conventions (docs/conventions.md): flow is ``float32 (2, H, W)`` in pixels, channel 0 = dx (+right), channel 1 =
dy (+down); NaN (or a component with magnitude > 1e9, the ``.flo`` unknown marker) = unknown. Images in and
out are ``uint8`` RGB ``(H, W, 3)``; masks / labels are integer class ids ``(H, W)`` with ``255`` = ignore.

Flow colours follow the Middlebury colour code (Baker et al., "A Database and Evaluation Methodology for
Optical Flow", IJCV 2011): the direction picks a hue on a 55-entry colour wheel, the magnitude (relative to
the normalising maximum) moves from white at zero to the full hue at the maximum; vectors beyond the
maximum are darkened to 75 %. Right = red, down = orange-yellow, left = cyan-blue, up = blue-violet (see
:func:`flow_legend`).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

# Middlebury colour-wheel segment lengths (Baker et al.): red→yellow, yellow→green, green→cyan,
# cyan→blue, blue→magenta, magenta→red. They are uneven so that hues are perceptually spaced.
RY, YG, GC, CB, BM, MR = 15, 6, 4, 11, 13, 6
UNKNOWN_THRESHOLD = 1e9  # |u| or |v| above this marks an unknown vector in .flo files
PERSON_COLOR = (255, 0, 0)  # class 1 in label_colors, and overlay_mask's default tint
IGNORE_COLOR = (255, 255, 255)  # how colorize_labels shows the ignore label 255


def _to_numpy(x: Any) -> np.ndarray:
    """numpy view of ``x``; torch tensors are moved to the CPU first."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _check_flow(flow: Any) -> np.ndarray:
    """``float64 (2, H, W)`` copy of ``flow`` with unknown vectors set to NaN."""
    array = _to_numpy(flow)
    if array.ndim != 3 or array.shape[0] != 2:
        raise ValueError(f"expected flow of shape (2, H, W) (dx, dy), got {array.shape}")
    array = array.astype(np.float64)  # copy
    with np.errstate(invalid="ignore"):
        unknown = ~(np.abs(array) <= UNKNOWN_THRESHOLD).all(axis=0)  # NaN, inf or the .flo marker
    array[:, unknown] = np.nan
    return array


def _check_image(image: Any, shape: tuple[int, int] | None = None) -> np.ndarray:
    """``uint8 (H, W, 3)`` image, optionally of spatial size ``shape``."""
    array = _to_numpy(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected a uint8 RGB image (H, W, 3), got {array.dtype} {array.shape}")
    if shape is not None and array.shape[:2] != tuple(shape):
        raise ValueError(f"expected an image of size (H, W) = {tuple(shape)}, got {array.shape[:2]}")
    return array


def color_wheel() -> np.ndarray:
    """The Middlebury colour wheel, ``uint8 (55, 3)`` RGB; segment k starts at a pure primary/secondary."""
    def ramp(n: int) -> np.ndarray:
        return np.floor(255 * np.arange(n) / n)  # 0 → 255·(n−1)/n, rounded down

    segments = []
    for n, channels in (
        (RY, (255, ramp(RY), 0)),  # red → yellow: green rises
        (YG, (255 - ramp(YG), 255, 0)),  # yellow → green: red falls
        (GC, (0, 255, ramp(GC))),  # green → cyan: blue rises
        (CB, (0, 255 - ramp(CB), 255)),  # cyan → blue: green falls
        (BM, (ramp(BM), 0, 255)),  # blue → magenta: red rises
        (MR, (255, 0, 255 - ramp(MR))),  # magenta → red: blue falls
    ):
        segments.append(np.stack([np.broadcast_to(c, (n,)) for c in channels], axis=1))
    return np.concatenate(segments).astype(np.uint8)


def _code(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Middlebury colour of already-normalised (u, v) → ``uint8 (..., 3)``; NaN → black."""
    wheel = color_wheel().astype(np.float64) / 255.0
    ncols = len(wheel)
    unknown = np.isnan(u) | np.isnan(v)
    u = np.where(unknown, 0.0, u)
    v = np.where(unknown, 0.0, v) + 0.0  # + 0.0 turns −0 into +0, so v = 0 always has angle −π (red)
    radius = np.sqrt(u * u + v * v)
    angle = np.arctan2(-v, -u) / np.pi  # in [−1, 1]; rightward (u > 0, v = 0) → −1
    fk = (angle + 1) / 2 * (ncols - 1)  # position on the wheel, 0 … 54
    k0 = np.floor(fk).astype(np.int64)
    k1 = (k0 + 1) % ncols
    f = (fk - k0)[..., None]
    color = (1 - f) * wheel[k0] + f * wheel[k1]  # (..., 3) in [0, 1]
    inside = (radius <= 1)[..., None]
    # Inside the unit circle desaturate towards white with decreasing radius; outside, darken.
    color = np.where(inside, 1 - radius[..., None] * (1 - color), color * 0.75)
    # The tiny epsilon keeps exact wheel colours (e.g. 209/255) from flooring one below through rounding.
    out = np.floor(255 * color + 1e-6).clip(0, 255).astype(np.uint8)
    out[unknown] = 0
    return out


def flow_to_color(flow: Any, max_flow: float | None = None) -> np.ndarray:
    """Middlebury colour coding of ``flow`` → ``uint8 (H, W, 3)`` RGB.

    Vectors are divided by ``max_flow`` if given, else by the largest finite magnitude in ``flow`` (1 if the
    flow is all zero), so the strongest vector gets the full hue. Zero flow is white, unknown flow black;
    with a fixed ``max_flow``, vectors longer than it are shown darkened (75 %).
    """
    array = _check_flow(flow)
    if max_flow is not None and not max_flow > 0:
        raise ValueError(f"max_flow must be > 0 pixels, got {max_flow}")
    if max_flow is None:
        magnitude = np.sqrt(array[0] ** 2 + array[1] ** 2)
        finite = magnitude[np.isfinite(magnitude)]
        max_flow = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    return _code(array[0] / max_flow, array[1] / max_flow)


def flow_legend(size: int = 128) -> np.ndarray:
    """The colour key, ``uint8 (size, size, 3)`` RGB: the unit disk of flow vectors, white outside.

    The pixel at ``(size // 2, size // 2)`` is zero flow (white); the disk edge is the normalising maximum
    in each direction (image axes: +x right, +y down, like the flow). A thin dark cross marks the axes,
    leaving the centre clear.
    """
    if size < 8:
        raise ValueError(f"flow_legend size must be >= 8 pixels, got {size}")
    centre = size // 2
    radius = (size - 1) // 2
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    u, v = (xs - centre) / radius, (ys - centre) / radius
    legend = _code(u, v)
    legend[u * u + v * v > 1] = 255  # white background outside the disk
    gap = max(2, size // 16)  # keep the white centre visible
    axis = np.abs(np.arange(size) - centre) >= gap
    inside_row = axis & (np.abs(np.arange(size) - centre) <= radius)
    legend[centre, inside_row] = (64, 64, 64)
    legend[inside_row, centre] = (64, 64, 64)
    return legend


def sample_arrows(flow: Any, step: int = 16, min_magnitude: float = 0.0
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flow vectors on a regular grid for quiver plots: ``(xs, ys, us, vs)``, ``float32`` 1-D.

    Samples sit at the centre ``k·step + step // 2`` of each ``step × step`` cell (a partial cell at the
    right/bottom edge counts when its centre is inside the image), in row-major order. Unknown vectors and
    vectors shorter than ``min_magnitude`` are left out.
    """
    if step < 1:
        raise ValueError(f"step must be >= 1 pixel, got {step}")
    array = _check_flow(flow)
    _, H, W = array.shape
    ys, xs = np.meshgrid(np.arange(step // 2, H, step), np.arange(step // 2, W, step), indexing="ij")
    us, vs = array[0][ys, xs], array[1][ys, xs]
    with np.errstate(invalid="ignore"):
        keep = np.isfinite(us) & np.isfinite(vs) & (np.sqrt(us * us + vs * vs) >= min_magnitude)
    xs, ys, us, vs = (a[keep].astype(np.float32) for a in (xs, ys, us, vs))
    return xs, ys, us, vs


def draw_arrows(image: Any, flow: Any, step: int = 16, scale: float = 1.0,
                color: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """Anti-aliased arrows (from each grid point along ``scale · flow``) drawn on a copy of ``image``."""
    _, H, W = _check_flow(flow).shape
    canvas = _check_image(image, (H, W)).copy()
    color = tuple(int(c) for c in color)
    for x, y, u, v in zip(*sample_arrows(flow, step), strict=True):
        start = (int(round(float(x))), int(round(float(y))))
        end = (int(round(float(x + scale * u))), int(round(float(y + scale * v))))
        if start != end:  # a zero-length arrow would only draw a stray dot
            cv2.arrowedLine(canvas, start, end, color, 1, cv2.LINE_AA, 0, 0.3)
    return canvas


def overlay_mask(image: Any, mask: Any, color: tuple[int, int, int] = PERSON_COLOR, alpha: float = 0.5
                 ) -> np.ndarray:
    """Tint pixels with ``mask > 0`` by ``color`` at opacity ``alpha``; ignore (255) and 0 stay unchanged."""
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    mask_array = _to_numpy(mask)
    if mask_array.ndim != 2:
        raise ValueError(f"expected a mask (H, W), got shape {mask_array.shape}")
    canvas = _check_image(image, mask_array.shape).copy()
    tint = (mask_array > 0) & (mask_array != 255)
    blended = (1 - alpha) * canvas[tint].astype(np.float64) + alpha * np.asarray(color, dtype=np.float64)
    canvas[tint] = np.round(blended).clip(0, 255).astype(np.uint8)
    return canvas


def _bit_color(index: int) -> tuple[int, int, int]:
    """PASCAL-VOC-style colour: the bits of ``index`` spread over the high bits of R, G, B (injective)."""
    r = g = b = 0
    for shift in range(8):
        r |= ((index >> (3 * shift)) & 1) << (7 - shift)
        g |= ((index >> (3 * shift + 1)) & 1) << (7 - shift)
        b |= ((index >> (3 * shift + 2)) & 1) << (7 - shift)
    return r, g, b


# Hand-picked first colours: background, person, then the part labels torso / hand-arm and a few more.
_BASE_COLORS = [(0, 0, 0), PERSON_COLOR, (0, 160, 0), (0, 90, 255), (255, 200, 0), (160, 0, 200),
                (0, 200, 200), (255, 120, 180), (128, 64, 0), (128, 128, 128)]


def label_colors(num_classes: int) -> np.ndarray:
    """A fixed palette ``uint8 (K, 3)`` RGB of distinct colours: 0 = black, 1 = the person colour, ...

    Entries after the hand-picked ones come from the PASCAL VOC bit pattern, skipping colours already used
    and the ignore colour (white), so any ``K`` up to 2²⁴ − 2 gets distinct colours.
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    colors = list(_BASE_COLORS[:num_classes])
    used = set(_BASE_COLORS) | {IGNORE_COLOR}
    index = 1
    while len(colors) < num_classes:
        candidate = _bit_color(index)
        index += 1
        if candidate not in used:
            colors.append(candidate)
            used.add(candidate)
    return np.asarray(colors, dtype=np.uint8).reshape(num_classes, 3)


def colorize_labels(labels: Any, ignore_index: int | None = 255) -> np.ndarray:
    """Class ids ``(H, W)`` → ``uint8 (H, W, 3)`` RGB with :func:`label_colors`; ignore pixels are white."""
    array = _to_numpy(labels)
    if array.ndim != 2 or not (np.issubdtype(array.dtype, np.integer) or array.dtype == bool):
        raise ValueError(f"expected integer class ids (H, W), got {array.dtype} {array.shape}")
    array = array.astype(np.int64)
    ignored = (array == ignore_index) if ignore_index is not None else np.zeros(array.shape, dtype=bool)
    ids = array[~ignored]
    if ids.size and ids.min() < 0:
        raise ValueError(f"class ids must be >= 0, got {int(ids.min())}")
    palette = label_colors(int(ids.max()) + 1 if ids.size else 1)
    out = palette[np.where(ignored, 0, array)]
    out[ignored] = IGNORE_COLOR
    return out
