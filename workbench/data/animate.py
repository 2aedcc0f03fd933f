"""Still-to-video synthesis: (portrait, mask) pairs → clips with exact mask and flow ground truth.

``workbench data animate --images DIR --masks DIR --backgrounds DIR --out DIR`` cuts the person out of each
portrait with its mask and moves the cut-out over a background with the talking-head motion model (sway,
roll, lean, fast leans; camera pan/zoom), one clip per portrait. This is how to build training video from
a portrait-matting data set or from green-screen stills. The person is one rigid layer, so the flow is
exact (``workbench.data.render``); where the portrait's mask touches an image border (a torso cut by the
bottom edge), the cut-out is extended past that border so that no gap opens when the person moves.

Masks pair with images by file stem. They must be 0/255 (or 0/1); ``--matte`` accepts soft alpha mattes
(0–255), composited as alpha and thresholded at 128 for the ground truth.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

from workbench import __version__
from workbench.data.motion import MotionModel, MotionParams, rotate, scale, translate
from workbench.data.scene import BINARY_CLASSES, Layer, make_background
from workbench.data.synthetic import DIFFICULTIES, LayeredClip, SynthConfig, effects_for, write_clips
from workbench.errors import InputError
from workbench.io.images import check_binary_mask, list_images, read_image, read_image_alpha, read_mask


def pair_portraits(images: str | Path, masks: str | Path) -> list[tuple[Path, Path]]:
    """(image, mask) file pairs matched by stem; a portrait without a mask is an error naming it."""
    image_files = list_images(images)
    mask_files = {p.stem: p for p in list_images(masks)}
    pairs = []
    for path in image_files:
        if path.stem not in mask_files:
            raise InputError(f"{path}: no mask named {path.stem}.* in {masks}")
        pairs.append((path, mask_files[path.stem]))
    return pairs


def load_portrait(image_path: Path, mask_path: Path, matte: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """→ (``uint8 (H, W, 3)`` RGB, ``float32 (H, W)`` alpha in [0, 1]) with every check of DESIGN.md."""
    image, _ = read_image_alpha(image_path)
    mask = read_mask(mask_path)
    if mask.shape != image.shape[:2]:
        raise InputError(f"{mask_path}: mask is {mask.shape[1]}x{mask.shape[0]} but {image_path.name} is "
                         f"{image.shape[1]}x{image.shape[0]}; expected the same size")
    if matte:
        alpha = mask.astype(np.float32) / 255.0
    else:
        alpha = check_binary_mask(mask, mask_path).astype(np.float32)
    if (alpha >= 0.5).sum() < 16:
        raise InputError(f"{mask_path}: mask is (almost) empty; expected the person in white (255)")
    return image, alpha


class AnimatedPortrait(LayeredClip):
    """One portrait cut-out moving rigidly over a background."""

    def __init__(self, image: np.ndarray, alpha: np.ndarray, config: SynthConfig, index: int,
                 background: np.ndarray | None, source: dict):
        rng = np.random.default_rng(np.random.SeedSequence([config.seed, index]))
        difficulty = config.difficulty if config.difficulty != "mixed" else str(rng.choice(DIFFICULTIES))
        effects = effects_for(difficulty)
        super().__init__(config.size, config.frames, config.fps, effects, config.exposure, rng)
        W, H = config.size
        # Fit the portrait to the output frame (cover, centred), in sprite space.
        h0, w0 = alpha.shape
        fit = max(W / w0, H / h0)
        rgb = image.astype(np.float32) / 255.0
        # Extend the cut-out past any image border the person touches (replicate); otherwise transparent.
        touches = alpha[-1].max() >= 0.5 or alpha[:, 0].max() >= 0.5 or alpha[:, -1].max() >= 0.5
        person = Layer("person", np.dstack([rgb * alpha[:, :, None], alpha]).astype(np.float32), None, 1,
                       cv2.BORDER_REPLICATE if touches else cv2.BORDER_CONSTANT)
        bg_size = (int(np.ceil(W * 1.3)) + 2, int(np.ceil(H * 1.3)) + 2)
        background_layer, bg_desc = make_background(rng, bg_size, image=background)
        self.layers = [background_layer, person]
        self.bg_offset = ((W - bg_size[0]) / 2.0, (H - bg_size[1]) / 2.0)
        self.fit = translate(W / 2.0, H / 2.0) @ scale(fit) @ translate(-w0 / 2.0, -h0 / 2.0)
        self.pivot = (W / 2.0, float(H))  # sway and lean about the bottom centre, like a seated person
        params = MotionParams(**{**asdict(effects.motion), "sway": 0.05, "roll": 3.0})
        if rng.random() < effects.camera:
            params.camera_pan, params.camera_zoom = float(rng.uniform(0.01, 0.03)), float(rng.uniform(0.0, 0.06))
        self.motion = MotionModel(rng, params, config.frames / config.fps, has_arm=False, rigid=True)
        self.classes = BINARY_CLASSES
        self.meta = {
            "size": [W, H], "num_frames": config.frames, "fps": config.fps, "classes": self.classes,
            "seed": config.seed, "clip_index": index, "difficulty": difficulty,
            "generator": "workbench.data.animate", "workbench_version": __version__, "source": source,
            "background": bg_desc, "camera": {"pan": params.camera_pan, "zoom": params.camera_zoom},
            "noise_sigma": round(self.noise_sigma, 3), "motion_blur": effects.motion_blur,
            "lighting": effects.lighting, "light_switch": self.switch is not None,
            "events": [e.to_dict() for e in self.motion.events], "config": config.per_clip(),
        }

    def transforms(self, t: float) -> list[np.ndarray]:
        cam = self.motion.camera(t, self.size)
        dx, dy, roll, s = self.motion.body(t, self.size)
        px, py = self.pivot
        person = cam @ translate(px + dx, py + dy) @ rotate(roll) @ scale(s) @ translate(-px, -py) @ self.fit
        return [(np.eye(3) + 0.6 * (cam - np.eye(3))) @ translate(*self.bg_offset), person]


def animate(images: str | Path, masks: str | Path, out: str | Path, backgrounds: str | Path | None = None,
            frames: int = 60, size: tuple[int, int] | None = None, seed: int = 0, difficulty: str = "easy",
            fps: float = 30.0, matte: bool = False, overwrite: bool = False, progress: bool = True) -> dict:
    """Animate every (portrait, mask) pair into a clip folder ``<out>/<image stem>``.

    Every input is read and checked before anything is written; on any error nothing is left behind.
    ``size`` defaults to the first portrait's size (each portrait is fitted to it).
    """
    pairs = pair_portraits(images, masks)
    portraits = [load_portrait(image, mask, matte) for image, mask in pairs]
    bg_images = [read_image(p) for p in list_images(backgrounds)] if backgrounds is not None else []
    if size is None:
        size = (portraits[0][0].shape[1], portraits[0][0].shape[0])
    config = SynthConfig(clips=len(pairs), frames=frames, size=size, seed=seed, difficulty=difficulty, fps=fps)
    config.validate()
    out = Path(out)
    for image_path, _ in pairs:
        if (out / image_path.stem).exists() and not overwrite:
            raise InputError(f"{out / image_path.stem} already exists; pass --overwrite or choose another --out")

    def clips():
        for index, ((image_path, mask_path), (image, alpha)) in enumerate(zip(pairs, portraits, strict=True)):
            rng = np.random.default_rng(np.random.SeedSequence([seed, index, 1]))
            background = bg_images[int(rng.integers(len(bg_images)))] if bg_images else None
            source = {"image": image_path.name, "mask": mask_path.name}
            yield image_path.stem, AnimatedPortrait(image, alpha, config, index, background, source)

    start = time.perf_counter()
    paths = write_clips(out, clips(), len(pairs) * frames, overwrite=overwrite, progress=progress)
    seconds = time.perf_counter() - start
    return {"clips": [str(p) for p in paths], "frames": len(pairs) * frames, "seconds": seconds,
            "fps": len(pairs) * frames / seconds}
