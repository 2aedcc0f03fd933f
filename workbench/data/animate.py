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
from workbench.data.scene import BINARY_CLASSES, Layer, make_background, make_photo_background, with_clutter
from workbench.data.synthetic import LayeredClip, SynthConfig, write_clips
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
    """→ (``uint8 (H, W, 3)`` RGB, ``float32 (H, W)`` alpha in [0, 1]) with every check of docs/conventions.md."""
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


FRAMINGS = ("cover", "person")


def _person_jitter(rng: np.random.Generator, rgb: np.ndarray) -> np.ndarray:
    """Training-time appearance change of a real person (float RGB in [0, 1]): exposure, contrast, a little
    saturation and hue, so that one portrait does not teach one exact set of colours."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-8, 8)) % 360.0
    hsv[..., 1] *= rng.uniform(0.7, 1.2)
    out = cv2.cvtColor(np.clip(hsv, 0, [360, 1, 1]).astype(np.float32), cv2.COLOR_HSV2RGB)
    mean = out.mean()
    return np.clip((out - mean) * rng.uniform(0.8, 1.15) + mean * rng.uniform(0.75, 1.2), 0, 1).astype(np.float32)


class AnimatedPortrait(LayeredClip):
    """One portrait cut-out moving rigidly over a background.

    ``framing``: ``cover`` scales the portrait to cover the frame (a portrait-matting still as it is);
    ``person`` frames the person as a webcam does in a video call — shoulders 45–80 % of the frame's width,
    the head's top 3–18 % below the frame's top edge, centred within ±6 % — with the torso continued below the
    portrait's bottom edge, so that the background shows around the person. ``photo_split`` puts a bundled
    photograph behind the person when no background image is given; ``augment`` (training) flips the portrait
    and changes its colours; ``camera`` applies a webcam model (:mod:`workbench.data.camera`).
    """

    def __init__(self, image: np.ndarray, alpha: np.ndarray, config: SynthConfig, index: int,
                 background: np.ndarray | None, source: dict, framing: str = "cover", augment: bool = False):
        """Animate one portrait into clip ``index``: framing, background, motion and camera, then the layers.

        Long because it draws the clip's whole scene in one seeded order; splitting it would hide the order that
        keeps clips byte-identical by seed."""
        if framing not in FRAMINGS:
            raise InputError(f"--framing {framing!r}: expected one of {', '.join(FRAMINGS)}")
        rng, extra, difficulty, effects = self._start_clip(config, index)
        W, H = config.size
        rgb = image.astype(np.float32) / 255.0
        if augment:
            if extra.random() < 0.5:
                rgb, alpha = rgb[:, ::-1], alpha[:, ::-1]
            rgb = _person_jitter(extra, np.ascontiguousarray(rgb))
            alpha = np.ascontiguousarray(alpha)
        if framing == "person":
            # Continue the torso below the portrait (edge rows repeated), then place the person's box.
            ys, xs = np.nonzero(alpha >= 0.5)
            if alpha[-1].max() >= 0.5:
                pad = alpha.shape[0]
                rgb = np.pad(rgb, ((0, pad), (0, 0), (0, 0)), mode="edge")
                alpha = np.pad(alpha, ((0, pad), (0, 0)), mode="edge")
            box_w = xs.max() - xs.min() + 1
            fit = extra.uniform(0.45, 0.8) * W / box_w
            top = extra.uniform(0.03, 0.18) * H
            cx = W / 2.0 + extra.normal(0, 0.06) * W
            self.fit = translate(cx, top) @ scale(fit) @ translate(-(xs.min() + xs.max()) / 2.0, -float(ys.min()))
            border = cv2.BORDER_CONSTANT
        else:
            # Fit the portrait to the output frame (cover, centred), in sprite space.
            h0, w0 = alpha.shape
            fit = max(W / w0, H / h0)
            self.fit = translate(W / 2.0, H / 2.0) @ scale(fit) @ translate(-w0 / 2.0, -h0 / 2.0)
            # Extend the cut-out past any image border the person touches (replicate); otherwise transparent.
            touches = alpha[-1].max() >= 0.5 or alpha[:, 0].max() >= 0.5 or alpha[:, -1].max() >= 0.5
            border = cv2.BORDER_REPLICATE if touches else cv2.BORDER_CONSTANT
        person = Layer("person", np.dstack([rgb * alpha[:, :, None], alpha]).astype(np.float32), None, 1, border)
        bg_size = (int(np.ceil(W * 1.3)) + 2, int(np.ceil(H * 1.3)) + 2)
        if background is None and config.photo_backgrounds > 0 and extra.random() < config.photo_backgrounds:
            background_layer, bg_desc = make_photo_background(extra, bg_size, config.photo_split)
        else:
            background_layer, bg_desc = make_background(rng, bg_size, image=background)
        if config.clutter and extra.random() < config.clutter:
            background_layer, bg_desc = with_clutter(extra, background_layer, bg_desc)
        self.layers = [background_layer, person]
        self.bg_offset = ((W - bg_size[0]) / 2.0, (H - bg_size[1]) / 2.0)
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
            "framing": framing, "augment": augment,
        }
        if self.camera is not None:
            self.meta["camera_model"] = self.camera.describe()

    def transforms(self, t: float) -> list[np.ndarray]:
        cam = self.motion.camera(t, self.size)
        dx, dy, roll, s = self.motion.body(t, self.size)
        px, py = self.pivot
        person = cam @ translate(px + dx, py + dy) @ rotate(roll) @ scale(s) @ translate(-px, -py) @ self.fit
        return [(np.eye(3) + 0.6 * (cam - np.eye(3))) @ translate(*self.bg_offset), person]


def animate(images: str | Path, masks: str | Path, out: str | Path, backgrounds: str | Path | None = None,
            frames: int = 60, size: tuple[int, int] | None = None, seed: int = 0, difficulty: str = "easy",
            fps: float = 30.0, matte: bool = False, overwrite: bool = False, progress: bool = True,
            framing: str = "cover", photos: str | None = None, camera: str = "none", clips_per_portrait: int = 1,
            camera_prob: float = 1.0) -> dict:
    """Animate every (portrait, mask) pair into a clip folder ``<out>/<image stem>`` (``<stem>_NN`` when
    ``clips_per_portrait`` > 1: each with its own motion, background and camera).

    ``photos`` (``train`` | ``heldout``) puts bundled photographs behind the person when ``backgrounds`` is
    not given; ``framing`` and ``camera``: :class:`AnimatedPortrait`. Every input is read and checked before
    anything is written; on any error nothing is left behind. ``size`` defaults to the first portrait's size.
    """
    if clips_per_portrait < 1:
        raise InputError(f"--clips-per-portrait {clips_per_portrait}: expected at least 1")
    if framing not in FRAMINGS:
        raise InputError(f"--framing {framing!r}: expected one of {', '.join(FRAMINGS)}")
    pairs = pair_portraits(images, masks)
    portraits = [load_portrait(image, mask, matte) for image, mask in pairs]
    bg_images = [read_image(p) for p in list_images(backgrounds)] if backgrounds is not None else []
    if size is None:
        size = (portraits[0][0].shape[1], portraits[0][0].shape[0])
    config = SynthConfig(clips=len(pairs) * clips_per_portrait, frames=frames, size=size, seed=seed,
                         difficulty=difficulty, fps=fps, camera=camera, camera_prob=camera_prob,
                         photo_backgrounds=1.0 if photos and not bg_images else 0.0, photo_split=photos or "train")
    config.validate()
    out = Path(out)
    names = [image_path.stem if clips_per_portrait == 1 else f"{image_path.stem}_{k:02d}"
             for image_path, _ in pairs for k in range(clips_per_portrait)]
    for name in names:
        if (out / name).exists() and not overwrite:
            raise InputError(f"{out / name} already exists; pass --overwrite or choose another --out")

    def clips():
        for index, name in enumerate(names):
            (image_path, mask_path), (image, alpha) = pairs[index // clips_per_portrait], \
                portraits[index // clips_per_portrait]
            rng = np.random.default_rng(np.random.SeedSequence([seed, index, 1]))
            background = bg_images[int(rng.integers(len(bg_images)))] if bg_images else None
            source = {"image": image_path.name, "mask": mask_path.name}
            yield name, AnimatedPortrait(image, alpha, config, index, background, source, framing)

    start = time.perf_counter()
    paths = write_clips(out, clips(), len(names) * frames, overwrite=overwrite, progress=progress)
    seconds = time.perf_counter() - start
    return {"clips": [str(p) for p in paths], "frames": len(names) * frames, "seconds": seconds,
            "fps": len(names) * frames / seconds}
