"""Procedural texture and drawing helpers for the synthetic scenes.

All colours are float32 RGB in [0, 1]. Shapes are drawn anti-aliased by supersampling (drawn at ``SS``×
with OpenCV and area-averaged down), which matters twice: edges look like a camera's, and the soft alpha
they give keeps bilinear resampling of moving layers close to what a real moving edge produces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

SS = 2  # supersampling factor for shape masks
SHIFT = 4  # OpenCV fixed-point bits: sub-pixel precise shape coordinates


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: float, octaves: int = 3,
                 persistence: float = 0.5) -> np.ndarray:
    """Fractal value noise ``float32 (h, w)`` with zero mean and unit-ish std.

    ``cell`` is the feature size in pixels of the coarsest octave; each octave halves it. Random grids are
    upsampled with bicubic interpolation, so the texture has no pixel-level aliasing.
    """
    h, w = shape
    out = np.zeros((h, w), np.float32)
    amplitude, total = 1.0, 0.0
    for _ in range(octaves):
        gh, gw = max(2, int(np.ceil(h / cell)) + 2), max(2, int(np.ceil(w / cell)) + 2)
        grid = rng.standard_normal((gh, gw)).astype(np.float32)
        out += amplitude * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amplitude
        amplitude *= persistence
        cell = max(cell / 2.0, 1.5)
    out /= total
    return out / max(float(out.std()), 1e-6)


def fine_texture(rng: np.random.Generator, shape: tuple[int, int], sigma: float = 0.9) -> np.ndarray:
    """Fine-grained texture (fabric, skin pores) blurred to ``sigma`` px so that it survives resampling."""
    noise = rng.standard_normal(shape).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), sigma)
    return noise / max(float(noise.std()), 1e-6)


def streaks(rng: np.random.Generator, shape: tuple[int, int], length: float, angle_deg: float = 90.0,
            sigma: float = 0.8) -> np.ndarray:
    """Directional texture (hair strands, wood grain): noise smeared along ``angle_deg``."""
    noise = fine_texture(rng, shape, sigma)
    k = max(3, int(length) | 1)
    kernel = np.zeros((k, k), np.float32)
    c = k // 2
    dx, dy = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    cv2.line(kernel, (int(round(c - dx * c)), int(round(c - dy * c))),
             (int(round(c + dx * c)), int(round(c + dy * c))), 1.0, 1)
    kernel /= kernel.sum()
    out = cv2.filter2D(noise, -1, kernel, borderType=cv2.BORDER_REFLECT)
    return out / max(float(out.std()), 1e-6)


def shape_mask(shape: tuple[int, int], draw: Callable[[np.ndarray, Callable[[float], int]], None]) -> np.ndarray:
    """Anti-aliased mask ``float32 (h, w)`` in [0, 1] of whatever ``draw(canvas, p)`` paints with 255.

    ``p(v)`` converts a coordinate in output pixels to OpenCV's fixed-point supersampled integer; pass
    ``shift=SHIFT`` to the OpenCV call.
    """
    h, w = shape
    canvas = np.zeros((h * SS, w * SS), np.uint8)

    def p(v: float) -> int:
        # OpenCV pixel centres are integers; output pixel centre x maps to SS*x + (SS-1)/2 supersampled.
        return int(round((v * SS + (SS - 1) / 2.0) * (1 << SHIFT)))

    draw(canvas, p)
    return cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def ellipse_mask(shape: tuple[int, int], center: tuple[float, float], axes: tuple[float, float],
                 angle: float = 0.0, start: float = 0.0, end: float = 360.0) -> np.ndarray:
    """Filled (sector of an) ellipse, anti-aliased."""
    def draw(canvas: np.ndarray, p: Callable[[float], int]) -> None:
        ax = (max(1, int(round(axes[0] * SS * (1 << SHIFT)))), max(1, int(round(axes[1] * SS * (1 << SHIFT)))))
        cv2.ellipse(canvas, (p(center[0]), p(center[1])), ax, angle, start, end, 255, -1, cv2.LINE_8, SHIFT)
    return shape_mask(shape, draw)


def polygon_mask(shape: tuple[int, int], points: Sequence[tuple[float, float]]) -> np.ndarray:
    """Filled polygon, anti-aliased; ``points`` in output pixel coordinates."""
    def draw(canvas: np.ndarray, p: Callable[[float], int]) -> None:
        pts = np.array([[p(x), p(y)] for x, y in points], np.int32)
        cv2.fillPoly(canvas, [pts], 255, cv2.LINE_8, SHIFT)
    return shape_mask(shape, draw)


def polyline_mask(shape: tuple[int, int], points: Sequence[tuple[float, float]], thickness: float) -> np.ndarray:
    """Thick open polyline (eyebrows, fingers, hair strands), anti-aliased with round caps."""
    def draw(canvas: np.ndarray, p: Callable[[float], int]) -> None:
        t = max(1, int(round(thickness * SS)))
        pts = [(p(x), p(y)) for x, y in points]
        for a, b in zip(pts[:-1], pts[1:], strict=False):
            cv2.line(canvas, a, b, 255, t, cv2.LINE_8, SHIFT)
        r = max(1, t // 2) << SHIFT
        for c in (pts[0], pts[-1]):
            cv2.circle(canvas, c, r, 255, -1, cv2.LINE_8, SHIFT)
    return shape_mask(shape, draw)


def rect_mask(shape: tuple[int, int], x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return polygon_mask(shape, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)])


def paint(canvas: np.ndarray, mask: np.ndarray, color: np.ndarray | Sequence[float]) -> None:
    """Composite a colour (``(3,)`` or an ``(h, w, 3)`` image) into ``canvas`` through ``mask``, in place."""
    m = mask[:, :, None]
    canvas *= 1.0 - m
    canvas += m * np.asarray(color, np.float32)


def jitter_color(rng: np.random.Generator, color: Sequence[float], amount: float) -> np.ndarray:
    return np.clip(np.asarray(color, np.float32) + rng.uniform(-amount, amount, 3), 0.0, 1.0).astype(np.float32)


def hex_color(text: str) -> np.ndarray:
    text = text.lstrip("#")
    return np.array([int(text[i:i + 2], 16) for i in (0, 2, 4)], np.float32) / 255.0
