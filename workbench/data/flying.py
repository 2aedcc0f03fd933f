"""Generic layered flow scenes: training data that teaches optical flow, not our video calls.

In the tradition of FlyingChairs (Dosovitskiy et al., ICCV 2015) and AutoFlow (Sun et al., CVPR 2021): a
photographic or procedural background and several foreground *layers* — shapes cut from photographs and
procedural textures — each moved by its own random affine motion (translation, rotation, zoom, shear) with
large displacements (up to ``max_motion`` of the frame width per frame), occluding one another. The frames
go through the same renderer as the talking heads (:mod:`workbench.data.render`: the flow of a pixel is
that of its topmost layer, exact, occlusions included) and the same photometric effects (sensor noise,
motion blur, lighting drift; ``difficulty``), so forward and backward flow are exact by construction.

Photographs come from the bundled ``train`` split (:mod:`workbench.data.photos`: scikit-image's and
scikit-learn's sample images, never a person and never a pair with true flow or disparity); ``photo_split
= "heldout"`` draws the held-out ones for evaluation scenes (``workbench bench flow``).

Determinism: clip ``i`` draws everything from ``SeedSequence([seed, i, 7])`` (7: the layered scenes' own
stream, so seed ``s`` here shares no draws with the talking head of seed ``s``).

The mask written with each frame marks the foreground layers (1) against the background (0), which lets
a flow benchmark split its errors by moving object; it is no segmentation ground truth of a person.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from workbench import __version__
from workbench.config import Config
from workbench.data.motion import about, rotate, scale, translate
from workbench.data.scene import Layer, _premultiply
from workbench.data.synthetic import DIFFICULTIES, LayeredClip, effects_for, generate, in_memory
from workbench.data.textures import ellipse_mask, polygon_mask, smooth_noise
from workbench.errors import InputError
from workbench.io.sequence import MemorySequence

LAYER_CLASSES = ("background", "layer")
STREAM = 7  # the layered scenes' own random stream within a seed (module docstring)


@dataclass
class FlyingConfig(Config):
    clips: int = 4
    frames: int = 8
    size: tuple[int, int] = (320, 192)  # (W, H)
    seed: int = 0
    layers: tuple[int, int] = (3, 8)  # foreground layers per clip, inclusive range
    max_motion: float = 0.15  # largest translation per frame, as a share of the width
    difficulty: str = "mixed"  # photometric effects (noise, blur, lighting): easy | medium | hard | mixed
    photo_split: str = "train"  # train | heldout (module docstring)
    fps: float = 1.0  # a frame per time unit: motions are given per frame

    def validate(self) -> None:
        W, H = self.size
        if self.clips < 1 or self.frames < 2:
            raise InputError(f"--clips {self.clips} --frames {self.frames}: expected at least 1 clip of 2 frames")
        if min(W, H) < 16:
            raise InputError(f"--size {W}x{H}: expected at least 16 pixels a side")
        lo, hi = self.layers
        if not 0 <= lo <= hi <= 32:
            raise InputError(f"layers {lo}..{hi}: expected 0 ≤ min ≤ max ≤ 32")
        if not 0 <= self.max_motion <= 0.5:
            raise InputError(f"--max-motion {self.max_motion}: expected a share of the width in [0, 0.5]")
        if self.difficulty not in DIFFICULTIES + ("mixed",):
            raise InputError(f"--difficulty {self.difficulty!r}: expected easy, medium, hard or mixed")
        if self.photo_split not in ("train", "heldout"):
            raise InputError(f"photo split {self.photo_split!r}: expected train or heldout")


def _speed(rng: np.random.Generator, top: float) -> float:
    """A displacement magnitude in [0, top], most small, some near ``top`` (flow datasets' long tail)."""
    return float(top * rng.uniform(0.0, 1.0) ** 1.7)


def _texture(rng: np.random.Generator, shape: tuple[int, int], split: str) -> np.ndarray:
    """``float32 (h, w, 3)`` in [0, 1]: a photograph's crop (70 %) or coloured fractal noise with fine grain."""
    from workbench.data.photos import photo_texture

    if rng.random() < 0.7:
        try:
            return photo_texture(rng, shape, split)
        except InputError:  # no photographs installed: procedural only
            pass
    h, w = shape
    a, b = rng.uniform(0, 1, 3), rng.uniform(0, 1, 3)
    t = 0.5 + 0.25 * smooth_noise(rng, shape, cell=float(rng.uniform(4, 40)), octaves=4)
    rgb = a[None, None, :] * (1 - t[..., None]) + b[None, None, :] * t[..., None]
    grain = rng.standard_normal((h, w, 1)).astype(np.float32) * rng.uniform(0.0, 0.06)
    return np.clip(rgb + grain, 0, 1).astype(np.float32)


def _shape(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """An anti-aliased alpha ``float32 (h, w)``: an ellipse, a random polygon or a smooth blob."""
    kind = rng.choice(["ellipse", "polygon", "blob"])
    c = (w / 2, h / 2)
    if kind == "ellipse":
        return ellipse_mask((h, w), c, (w * rng.uniform(0.3, 0.48), h * rng.uniform(0.3, 0.48)),
                            float(rng.uniform(0, 180)))
    if kind == "polygon":
        n = int(rng.integers(3, 9))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = rng.uniform(0.25, 0.48, n)
        return polygon_mask((h, w), [(c[0] + r * w * np.cos(a), c[1] + r * h * np.sin(a))
                                     for a, r in zip(angles, radii, strict=True)])
    noise = smooth_noise(rng, (h, w), cell=max(w, h) / 3, octaves=2)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    radial = ((xx - c[0]) / (0.45 * w)) ** 2 + ((yy - c[1]) / (0.45 * h)) ** 2
    field = 1.0 - radial + 0.35 * noise
    return np.clip(field / 0.08 + 0.5, 0, 1).astype(np.float32)  # a soft 1–2 px edge


class FlyingClip(LayeredClip):
    """Clip ``index`` of a :class:`FlyingConfig`: layers of textures in independent affine motion."""

    def __init__(self, config: FlyingConfig, index: int):
        rng = np.random.default_rng(np.random.SeedSequence([config.seed, index, STREAM]))
        difficulty = config.difficulty if config.difficulty != "mixed" else str(rng.choice(DIFFICULTIES))
        super().__init__(config.size, config.frames, config.fps, effects_for(difficulty),
                         float(rng.uniform(0.2, 0.6)), rng)
        W, H = config.size
        top = config.max_motion * W
        self.classes = list(LAYER_CLASSES)
        # The background: a canvas large enough that it never runs out over the clip, moved slowly.
        v_bg = _speed(rng, 0.4 * top) * np.array([np.cos(a := rng.uniform(0, 2 * np.pi)), np.sin(a)])
        margin = int(np.ceil(np.abs(v_bg).max() * (config.frames - 1) + 0.1 * max(W, H))) + 2
        bg_size = (W + 2 * margin, H + 2 * margin)
        if rng.random() < 0.75:
            from workbench.data.photos import photo_background

            try:
                bg, _ = photo_background(rng, bg_size, config.photo_split)
            except InputError:
                bg = _texture(rng, bg_size[::-1], config.photo_split)
        else:
            bg = _texture(rng, bg_size[::-1], config.photo_split)
        self.layers = [Layer("background", np.ascontiguousarray(bg, np.float32), None, 0, cv2.BORDER_REFLECT)]
        bg_zoom = float(np.exp(rng.normal(0, 0.01)))
        # Per layer: its placement at t = 0 (sprite → image), velocity (px/frame), spin (°/frame), zoom (×/frame)
        # and the image point it turns and zooms about.
        self.motions = [(translate(-margin, -margin), v_bg, float(rng.normal(0, 0.3)), bg_zoom, (W / 2, H / 2))]
        count = int(rng.integers(config.layers[0], config.layers[1] + 1))
        for k in range(count):
            side = float(min(W, H) * rng.uniform(0.2, 0.8))
            w, h = (max(8, int(side * rng.uniform(0.6, 1.6))), max(8, int(side * rng.uniform(0.6, 1.6))))
            alpha = _shape(rng, w, h)
            shade = 1.0 + 0.15 * smooth_noise(rng, (h, w), cell=max(w, h) / 2, octaves=1)[..., None]
            rgb = _texture(rng, (h, w), config.photo_split) * shade
            self.layers.append(Layer(f"layer{k + 1}", _premultiply(rgb, alpha), None, 1))
            # Start anywhere in the frame (partly outside allowed), rotated, scaled, sheared.
            place = (translate(float(rng.uniform(-0.1, 1.1) * W), float(rng.uniform(-0.1, 1.1) * H))
                     @ rotate(float(rng.uniform(0, 360)))
                     @ np.array([[1.0, float(rng.normal(0, 0.15)), 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
                     @ scale(float(np.exp(rng.normal(0, 0.2))))
                     @ translate(-w / 2, -h / 2))
            direction = rng.uniform(0, 2 * np.pi)
            velocity = _speed(rng, top) * np.array([np.cos(direction), np.sin(direction)])
            spin = float(rng.normal(0, 3.0))  # degrees per frame
            zoom = float(np.exp(rng.normal(0, 0.03)))  # per frame
            centre = place @ np.array([w / 2, h / 2, 1.0])
            self.motions.append((place, velocity, spin, zoom, (float(centre[0]), float(centre[1]))))
        self.meta = {"generator": "workbench.data.flying", "version": __version__, "index": index,
                     "config": asdict(config), "difficulty": difficulty, "layers": count, "classes": self.classes,
                     "max_motion_px": top}

    def transforms(self, t: float) -> list[np.ndarray]:
        return [translate(*(velocity * t)) @ about(pivot, rotate(spin * t) @ scale(zoom ** t)) @ place
                for place, velocity, spin, zoom, pivot in self.motions]


def flying_clips(config: FlyingConfig) -> list[MemorySequence]:
    """``config.clips`` layered scenes held in memory (frames, layer masks, backward flow), named like on disk."""
    config.validate()
    return [in_memory(FlyingClip(config, index), index, config.fps, list(LAYER_CLASSES),
                      {"seed": config.seed, "index": index, "kind": "layers"}) for index in range(config.clips)]


def synthesize_flying(out: str | Path, config: FlyingConfig, overwrite: bool = False, progress: bool = True) -> dict:
    """Write ``config.clips`` layered scenes as clip folders under ``out`` (all or none)."""
    config.validate()
    return generate(out, lambda i: FlyingClip(config, i), config.clips, config.frames, overwrite, progress)


__all__ = ["LAYER_CLASSES", "FlyingClip", "FlyingConfig", "flying_clips", "synthesize_flying"]
