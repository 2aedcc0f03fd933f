"""Synthetic head-and-shoulders video calls with exact ground-truth masks and optical flow.

``workbench data synth`` writes clip folders (docs/conventions.md). Each clip is a layered scene
(``workbench.data.scene``: a room or a user's background image, a person with torso, head with hair and
face, and optionally a hand and forearm that can wave or cross the face) moved by a webcam-like motion
model (``workbench.data.motion``) and rendered with exact per-frame class ids and forward/backward flow
(``workbench.data.render``).

Difficulty (per clip; ``mixed`` draws one of the three):

========  ======  ============  ========  ======  ===========  ==========
level     noise   motion blur   lighting  camera  fast moves   camouflage
========  ======  ============  ========  ======  ===========  ==========
easy      none    none          constant  30 %    50 % clips   never
medium    σ 1–3   yes           ±5 %      50 %    80 % + rate  10 % clips
hard      σ 3–6   yes           ±10 %     70 %    100 % + rate 30 % clips
========  ======  ============  ========  ======  ===========  ==========

Determinism: clip ``i`` draws everything from ``SeedSequence([seed, i])``, so the same seed and arguments
give byte-identical files, and clip ``i`` is the same whatever ``--clips`` is.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from workbench import __version__
from workbench.config import Config
from workbench.data.motion import MotionModel, MotionParams, about, rotate, scale, translate
from workbench.data.render import composite, layer_flow, max_speed, part_labels, pixel_grid
from workbench.data.scene import (
    BINARY_CLASSES,
    PART_CLASSES,
    Layer,
    PersonStyle,
    _light,
    make_arm,
    make_background,
    make_head,
    make_photo_background,
    make_torso,
    with_clutter,
)
from workbench.data.textures import hex_color, jitter_color
from workbench.errors import InputError
from workbench.io.clips import ClipWriter
from workbench.io.images import list_images, read_image
from workbench.io.sequence import MemorySequence

DIFFICULTIES = ("easy", "medium", "hard")
#: Seeds from here up are held out: training (``workbench.train``) draws clips from seeds below it, and
#: evaluation (``workbench bench flow``) from seeds at or above it, so no benchmark clip was ever trained on.
HELD_OUT_SEED = 10_000


@dataclass
class Effects:
    """Photometric effects of one difficulty level (easy has none: brightness constancy holds)."""

    noise: tuple[float, float] = (0.0, 0.0)  # sensor noise σ range, grey levels
    motion_blur: bool = False
    lighting: float = 0.0  # slow global gain change amplitude
    light_switch: float = 0.0  # probability of a sudden (3-frame) brightness step
    camera: float = 0.3  # probability that the camera pans/zooms
    camouflage: float = 0.0  # probability that the wall takes the shirt's colour
    arm: float = 0.4  # probability that the person has a visible hand/arm in the clip
    motion: MotionParams = field(default_factory=MotionParams)


def effects_for(difficulty: str) -> Effects:
    if difficulty == "easy":
        return Effects(motion=MotionParams(event_prob=0.5, event_rate=0.04))
    if difficulty == "medium":
        return Effects(noise=(1.0, 3.0), motion_blur=True, lighting=0.05, light_switch=0.1, camera=0.5,
                       camouflage=0.1, arm=0.6, motion=MotionParams(event_prob=0.8, event_rate=0.07, speed=1.2))
    if difficulty == "hard":
        return Effects(noise=(3.0, 6.0), motion_blur=True, lighting=0.10, light_switch=0.3, camera=0.7,
                       camouflage=0.3, arm=0.8,
                       motion=MotionParams(sway=0.08, lean=0.1, head_roll=8.0, head_yaw=0.35, event_prob=1.0,
                                           event_rate=0.12, speed=1.5))
    raise InputError(f"unknown difficulty {difficulty!r}; expected easy, medium, hard or mixed")


@dataclass
class SynthConfig(Config):
    """Arguments of ``workbench data synth`` (saved, per clip, in meta.json as ``config``)."""

    clips: int = 4
    frames: int = 60
    size: tuple[int, int] = (320, 192)  # (W, H)
    seed: int = 0
    classes: str = "binary"  # binary | parts
    difficulty: str = "mixed"  # easy | medium | hard | mixed
    fps: float = 30.0
    camouflage: float | None = None  # override the difficulty's camouflage probability
    exposure: float = 0.6  # shutter open for this fraction of a frame interval (motion blur)
    # Realism for transfer to real video (issue 14); the defaults keep the procedural world of earlier
    # versions, byte for byte. Their random draws come from a separate stream (SeedSequence([seed, i, 2])).
    photo_backgrounds: float = 0.0  # probability that the background is a bundled photograph (data/photos.py)
    photo_split: str = "train"  # train | heldout: which photographs (held-out ones are for evaluation only)
    photo_textures: float = 0.0  # probability that the shirt is printed with a photographic texture
    hats: float = 0.0  # probability of a cap or beanie (plain, or a photograph's texture) over the hair
    clutter: float = 0.0  # probability of shaded objects (some skin-toned) in front of the background
    camera: str = "none"  # webcam model preset (data/camera.py): none | webcam | harsh
    camera_prob: float = 1.0  # probability that a clip goes through that camera (else: clean quantisation)

    def per_clip(self) -> dict:
        """The config as recorded in each clip's meta.json: without ``clips`` (clip i does not depend on it)."""
        return {k: v for k, v in self.to_dict().items() if k != "clips"}

    def validate(self) -> None:
        if self.clips < 1 or self.frames < 2:
            raise InputError(f"need at least 1 clip and 2 frames, got --clips {self.clips} --frames {self.frames}")
        W, H = self.size
        if W < 32 or H < 32 or W > 8192 or H > 8192:
            raise InputError(f"--size {W}x{H}: expected width and height between 32 and 8192")
        if self.classes not in ("binary", "parts"):
            raise InputError(f"--classes {self.classes!r}: expected binary or parts")
        if self.difficulty not in (*DIFFICULTIES, "mixed"):
            raise InputError(f"--difficulty {self.difficulty!r}: expected easy, medium, hard or mixed")
        if self.camouflage is not None and not 0.0 <= self.camouflage <= 1.0:
            raise InputError(f"--camouflage {self.camouflage}: expected a probability in [0, 1]")
        for name in ("photo_backgrounds", "photo_textures", "hats", "clutter", "camera_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"--{name.replace('_', '-')} {getattr(self, name)}: expected a probability in [0, 1]")
        if self.photo_split not in ("train", "heldout"):
            raise InputError(f"--photo-split {self.photo_split!r}: expected train or heldout")
        from workbench.data.camera import camera_preset

        camera_preset(self.camera)  # an unknown preset is an InputError naming it


def parse_size(text: str) -> tuple[int, int]:
    """``'320x192'`` → ``(320, 192)`` with a clear error otherwise."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 320x192") from None
    return w, h


@dataclass
class FrameData:
    """One rendered frame with its ground truth (flow_fwd is None on the last frame, flow_bwd on the first)."""

    index: int
    frame: np.ndarray  # uint8 (H, W, 3) RGB
    mask: np.ndarray  # uint8 (H, W) class ids
    flow_fwd: np.ndarray | None  # float32 (2, H, W), t → t+1
    flow_bwd: np.ndarray | None  # float32 (2, H, W), t → t−1


class LayeredClip:
    """A scene (layers + a function from time to their transforms) rendered into frames with ground truth.

    Shared by the talking-head generator and the still-to-video animator; subclasses build ``layers``
    and implement :meth:`transforms`.
    """

    layers: list[Layer]
    motion: MotionModel
    classes: list[str]
    meta: dict

    def __init__(self, size: tuple[int, int], num_frames: int, fps: float, effects: Effects, exposure: float,
                 rng: np.random.Generator, camera: str = "none", camera_rng: np.random.Generator | None = None,
                 camera_prob: float = 1.0):
        self.size, self.num_frames, self.fps = size, num_frames, fps
        self.effects, self.exposure = effects, exposure
        self.noise_sigma = float(rng.uniform(*effects.noise)) if effects.noise[1] > 0 else 0.0
        self.noise_seed = int(rng.integers(2**31))
        # Lighting: slow gain + a possible light switch (a brightness step smoothed over 3 frames).
        self.gain_phase = rng.uniform(0, 2 * np.pi, 4)
        self.gain_freq = rng.uniform(0.05, 0.3, 4)
        self.switch = None
        if effects.lighting and rng.random() < effects.light_switch:
            self.switch = (float(rng.uniform(0.2, 0.8) * num_frames / fps), float(rng.choice([-1, 1])
                                                                                   * rng.uniform(0.12, 0.25)))
        # A webcam's image pipeline after the scene (data/camera.py); "none" keeps the plain quantisation.
        self.camera = None
        if camera != "none" and (camera_prob >= 1.0 or (camera_rng or rng).random() < camera_prob):
            from workbench.data.camera import CameraModel, camera_preset

            self.camera = CameraModel(camera_preset(camera), camera_rng if camera_rng is not None else rng,
                                      num_frames, size, fps)

    def _start_clip(self, config: SynthConfig, index: int
                    ) -> tuple[np.random.Generator, np.random.Generator, str, Effects]:
        """Clip ``index`` of a generator: its two random streams (``SeedSequence([seed, index])`` for the scene,
        ``[seed, index, 2]`` for the realism draws only), its difficulty and effects, and the shared set-up above.
        Returns ``(rng, extra, difficulty, effects)`` for the subclass to draw its scene from."""
        rng = np.random.default_rng(np.random.SeedSequence([config.seed, index]))
        extra = np.random.default_rng(np.random.SeedSequence([config.seed, index, 2]))
        difficulty = config.difficulty if config.difficulty != "mixed" else str(rng.choice(DIFFICULTIES))
        effects = effects_for(difficulty)
        LayeredClip.__init__(self, config.size, config.frames, config.fps, effects, config.exposure, rng,
                             config.camera, extra, config.camera_prob)
        return rng, extra, difficulty, effects

    def transforms(self, t: float) -> list[np.ndarray]:
        raise NotImplementedError

    def labels(self, owner: np.ndarray, mats: list[np.ndarray]) -> np.ndarray:
        if len(self.classes) == 2:
            return (owner > 0).astype(np.uint8)
        return part_labels(self.layers, mats, owner, self.size)

    def _light(self, t: float) -> np.ndarray:
        """Per-channel gain at time t (1 everywhere when the clip has no lighting change)."""
        a = self.effects.lighting
        if not a:
            return np.ones(3, np.float32)
        wave = np.sin(2 * np.pi * self.gain_freq * t + self.gain_phase)
        gain = 1.0 + a * wave[0] + 0.5 * a * wave[1:]  # global + a small colour-temperature drift
        if self.switch is not None:
            gain = gain + self.switch[1] * np.clip((t - self.switch[0]) * self.fps / 3.0, 0.0, 1.0)
        return gain.astype(np.float32)

    def _blur_samples(self, speed: float) -> int:
        """Odd number of sub-frame samples, ≤ 1.5 px apart along the fastest motion (1 = no blur).

        Odd, so that the centre sample is the frame's own instant and its render is reused.
        """
        if not self.effects.motion_blur or speed * self.exposure <= 1.0:
            return 1
        return int(min(7, 1 + 2 * np.ceil(speed * self.exposure / 3.0)))

    def _photometric(self, rgb: np.ndarray, index: int) -> np.ndarray:
        """Lighting, sensor noise and quantisation → uint8 RGB."""
        rgb = rgb * self._light(index / self.fps)
        if self.noise_sigma and self.camera is None:  # a camera model brings its own, signal-dependent noise
            rng = np.random.default_rng([self.noise_seed, index])
            rgb = rgb + rng.standard_normal(rgb.shape, dtype=np.float32) * (self.noise_sigma / 255.0)
        if self.camera is not None:
            return self.camera.apply(np.clip(rgb, 0.0, 1.0).astype(np.float32), index)
        return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)

    def __iter__(self) -> Iterator[FrameData]:
        grid = pixel_grid(self.size)
        mats = [self.transforms(i / self.fps) for i in range(self.num_frames)]
        for i in range(self.num_frames):
            rgb, owner = composite(self.layers, mats[i], self.size)
            fwd = layer_flow(mats[i], mats[i + 1], owner, grid) if i + 1 < self.num_frames else None
            bwd = layer_flow(mats[i], mats[i - 1], owner, grid) if i > 0 else None
            samples = 1
            if self.effects.motion_blur:  # the speed only matters when the shutter can blur
                samples = self._blur_samples(max(max_speed(fwd, owner), max_speed(bwd, owner)))
            if samples > 1:
                # The shutter integrates the scene over the exposure, centred on the frame time; the ground
                # truth (mask, flow) stays that of the centre instant.
                steps = [k for k in range(-(samples // 2), samples // 2 + 1) if k]  # 0 = the centre, done
                rgb = (rgb + sum(composite(self.layers, self.transforms((i + k / (samples - 1) * self.exposure)
                                                                        / self.fps), self.size)[0]
                                 for k in steps)) / samples
            yield FrameData(i, self._photometric(rgb, i), self.labels(owner, mats[i]), fwd, bwd)


def _hat_texture(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A cap's texture: a plain colour (dark, white or bright) with knit noise, or a photograph's crop."""
    from workbench.data.photos import photo_texture
    from workbench.data.textures import fine_texture

    if rng.random() < 0.35:
        return photo_texture(rng, shape)
    color = np.array(rng.choice([[0.08, 0.09, 0.15], [0.9, 0.9, 0.88], [0.15, 0.15, 0.15], [0.6, 0.1, 0.1],
                                 [0.2, 0.35, 0.6], [0.75, 0.6, 0.3]]), np.float32)
    color = jitter_color(rng, color, 0.06)
    return np.clip(color[None, None, :] * (1 + 0.06 * fine_texture(rng, shape, 1.0))[:, :, None], 0, 1)


class TalkingHeadClip(LayeredClip):
    """A procedural person in front of a room (or a user background): the ``data synth`` clip."""

    def __init__(self, config: SynthConfig, index: int, backgrounds: list[Path] | None = None):
        rng, extra, difficulty, effects = self._start_clip(config, index)
        W, H = config.size
        self.u = u = min(H, 0.8 * W) * rng.uniform(0.85, 1.1)  # person scale (≈ frame height)
        style = PersonStyle.sample(rng)
        camo_p = effects.camouflage if config.camouflage is None else config.camouflage
        camouflage = bool(rng.random() < camo_p)
        light = _light(rng)
        has_arm = bool(rng.random() < effects.arm)

        bg_size = (int(np.ceil(W * 1.3)) + 2, int(np.ceil(H * 1.3)) + 2)  # margin for pan/zoom
        bg_image = None
        if backgrounds:
            bg_path = backgrounds[int(rng.integers(len(backgrounds)))]
            bg_image = read_image(bg_path)
        wall = jitter_color(rng, hex_color(style.shirt), 0.05) if camouflage else None
        background, bg_desc = make_background(rng, bg_size, wall=wall, image=bg_image)
        if bg_image is None and extra.random() < config.photo_backgrounds:
            background, bg_desc = make_photo_background(extra, bg_size, config.photo_split)
        if config.clutter and extra.random() < config.clutter:
            background, bg_desc = with_clutter(extra, background, bg_desc)
        texture = None
        if extra.random() < config.photo_textures:
            from workbench.data.photos import photo_texture

            texture = photo_texture(extra, (int(1.0 * u), int(1.5 * u)))
        hat = None
        if extra.random() < config.hats:
            hat = _hat_texture(extra, (int(0.7 * u), int(0.66 * u)))
        self.layers = [background, make_torso(rng, u, style, light, texture), make_head(rng, u, style, light, hat)]
        if texture is not None:
            style.shirt_pattern = "photo"  # after the torso: its pattern draws keep the geometry of the plain clip
        if has_arm:
            self.layers.append(make_arm(rng, u, style, light))
        self.bg_offset = ((W - bg_size[0]) / 2.0, (H - bg_size[1]) / 2.0)
        # Where the torso's neck point sits in the frame: head top ≈ 8–16 % below the frame's top edge.
        self.neck = (W / 2.0 + rng.normal(0, 0.06) * W, rng.uniform(0.06, 0.14) * H + 0.36 * u)
        params = effects.motion
        if rng.random() < effects.camera:
            params = MotionParams(**{**asdict(params), "camera_pan": float(rng.uniform(0.01, 0.04)),
                                     "camera_zoom": float(rng.uniform(0.0, 0.08))})
        self.motion = MotionModel(rng, params, config.frames / config.fps, has_arm)
        self.classes = PART_CLASSES if config.classes == "parts" else BINARY_CLASSES
        self.meta = {
            "size": [W, H], "num_frames": config.frames, "fps": config.fps, "classes": self.classes,
            "seed": config.seed, "clip_index": index, "difficulty": difficulty,
            "generator": "workbench.data.synthetic", "workbench_version": __version__,
            "person": asdict(style), "has_arm": has_arm, "camouflage": camouflage, "background": bg_desc,
            "camera": {"pan": params.camera_pan, "zoom": params.camera_zoom},
            "noise_sigma": round(self.noise_sigma, 3), "motion_blur": effects.motion_blur,
            "lighting": effects.lighting, "light_switch": self.switch is not None,
            "events": [e.to_dict() for e in self.motion.events], "config": config.per_clip(),
        }
        if self.camera is not None:
            self.meta["camera_model"] = self.camera.describe()
        if config.hats:
            self.meta["hat"] = hat is not None
        if bg_image is not None:
            self.meta["background_image"] = bg_path.name

    def transforms(self, t: float) -> list[np.ndarray]:
        u, size = self.u, self.size
        cam = self.motion.camera(t, size)
        # The wall is farther than the person: it follows 60 % of the camera motion (parallax).
        mats = [(np.eye(3) + 0.6 * (cam - np.eye(3))) @ translate(*self.bg_offset)]
        dx, dy, roll, s = self.motion.body(t, size)
        torso_layer, head_layer = self.layers[1], self.layers[2]
        neck_t = torso_layer.anchors["neck"]
        torso = cam @ translate(self.neck[0] + dx, self.neck[1] + dy) @ rotate(roll) @ scale(s) \
            @ translate(-neck_t[0], -neck_t[1])
        mats.append(torso)
        head_roll, yaw, pitch = self.motion.head(t)
        # Turning compresses the face horizontally and shifts it; nodding compresses it vertically.
        turn = np.array([[1 - 0.22 * (1 - np.cos(yaw)), 0.0, 0.05 * u * np.sin(yaw)],
                         [0.0, 1 - 0.15 * (1 - np.cos(pitch)), 0.03 * u * np.sin(pitch)], [0.0, 0.0, 1.0]])
        neck_h = head_layer.anchors["neck"]
        mats.append(torso @ translate(*neck_t) @ rotate(head_roll) @ translate(-neck_h[0], -neck_h[1])
                    @ about(head_layer.anchors["face"], turn))
        if len(self.layers) > 3:
            x, y, angle = self.motion.arm(t, u, neck_t)
            wrist = self.layers[3].anchors["wrist"]
            mats.append(torso @ translate(x, y) @ rotate(angle) @ translate(-wrist[0], -wrist[1]))
        return mats


def write_clip(clip: LayeredClip, folder: Path, progress: tqdm | None = None) -> None:
    """Render ``clip`` into the clip folder ``folder`` (which must be a fresh, temporary folder)."""
    writer = ClipWriter(folder)
    for item in clip:
        writer.write(item.index, item.frame, item.mask, item.flow_fwd, item.flow_bwd)
        if progress is not None:
            progress.update(1)
    writer.write_meta(clip.meta)


def clip_name(index: int) -> str:
    return f"clip_{index:04d}"


def write_clips(out: str | Path, clips: list[tuple[str, LayeredClip]] | Iterator[tuple[str, LayeredClip]],
                total_frames: int, overwrite: bool = False, progress: bool = True) -> list[Path]:
    """Write clips under ``out``: all of them, or on error none (a staging folder is removed)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    created = not out.exists()
    names: list[str] = []
    try:
        with tqdm(total=total_frames, unit="frame", desc="synth", disable=not progress, leave=False) as bar:
            for name, clip in clips:
                if (out / name).exists() and not overwrite:
                    raise InputError(f"{out / name} already exists; pass --overwrite or choose another --out")
                bar.set_postfix_str(name)
                write_clip(clip, staging / name, bar)
                names.append(name)
        out.mkdir(exist_ok=True)
        for name in names:  # each clip appears whole (rename); an old one is replaced only now
            if (out / name).exists():
                shutil.rmtree(out / name)
            (staging / name).rename(out / name)
    except BaseException:
        if created and out.exists() and not any(out.iterdir()):
            out.rmdir()
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / name for name in names]


def synthesize(out: str | Path, config: SynthConfig, backgrounds: str | Path | None = None,
               overwrite: bool = False, progress: bool = True) -> dict:
    """Generate ``config.clips`` clips into ``out``; returns a summary with the generation speed."""
    config.validate()
    bg_files = _check_backgrounds(backgrounds) if backgrounds is not None else None
    return generate(out, lambda i: TalkingHeadClip(config, i, bg_files), config.clips, config.frames, overwrite,
                    progress)


def generate(out: str | Path, make_clip: Callable[[int], LayeredClip], clips: int, frames: int,
             overwrite: bool = False, progress: bool = True) -> dict:
    """Write clips ``make_clip(0..clips-1)`` of ``frames`` frames as ``out/clip_NNNN`` (all or none); returns a
    summary with the generation speed. An existing clip is refused unless ``overwrite``, before any work."""
    out = Path(out)
    existing = [n for n in map(clip_name, range(clips)) if (out / n).exists()]
    if existing and not overwrite:
        raise InputError(f"{out / existing[0]} already exists; pass --overwrite or choose another --out")
    start = time.perf_counter()
    paths = write_clips(out, ((clip_name(i), make_clip(i)) for i in range(clips)), clips * frames,
                        overwrite=overwrite, progress=progress)
    seconds = time.perf_counter() - start
    return {"clips": [str(p) for p in paths], "frames": clips * frames, "seconds": seconds,
            "fps": clips * frames / seconds}


def _check_backgrounds(folder: str | Path) -> list[Path]:
    """All background images decode (checked before anything is written)."""
    files = list_images(folder)
    for path in files:
        read_image(path)
    return files


def sample_frames(config: SynthConfig, index: int = 0) -> list[FrameData]:
    """All frames of clip ``index`` in memory (for notebooks and tests; nothing is written)."""
    config.validate()
    return list(TalkingHeadClip(config, index))


__all__ = ["DIFFICULTIES", "HELD_OUT_SEED", "Effects", "FrameData", "LayeredClip", "SynthConfig",
           "TalkingHeadClip", "effects_for", "generate", "parse_size", "sample_frames", "synthesize", "write_clip",
           "write_clips"]


def memory_clips(config: SynthConfig) -> list[MemorySequence]:
    """``config.clips`` generated clips held in memory (frames, masks, backward flow), named like on disk."""
    config.validate()
    classes = list(BINARY_CLASSES if config.classes == "binary" else PART_CLASSES)
    return [in_memory(TalkingHeadClip(config, index), index, config.fps, classes,
                      {"seed": config.seed, "index": index, "difficulty": config.difficulty})
            for index in range(config.clips)]


def in_memory(clip: LayeredClip, index: int, fps: float, classes: list[str], meta: dict) -> MemorySequence:
    """Clip ``index`` rendered into a :class:`MemorySequence` (frames, masks, backward flow), named like on disk."""
    items = list(clip)
    return MemorySequence(clip_name(index), [d.frame for d in items], [d.mask for d in items],
                          [d.flow_bwd for d in items], fps=fps, classes=classes, meta=meta)
