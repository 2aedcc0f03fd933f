"""Chroma (green/blue-screen) keying: label a user's own screen video with a soft matte and a clean mask.

The FUNet seed built its data set by green-screen keying; this module does that job well enough to label
real footage, and :func:`green_screen_backdrop` makes unevenly lit screens so that a keyed clip can be
scored against the exact masks of the synthetic generator (``TalkingHeadClip(..., backgrounds=[png])``).

Frames are ``uint8 (H, W, 3)`` RGB, masks ``uint8 (H, W)`` 0/1 (1 = foreground), alpha ``float32 (H, W)``
in [0, 1] (docs/conventions.md). Everything is vectorised numpy/OpenCV: a 320×192 frame takes a few milliseconds.

Method
------
*Colour space.* A pixel is described by its YCbCr chroma divided by its luma, ``c = (Cb, Cr) / max(Y, floor)``
(BT.601 full range, as OpenCV's ``RGB2YCrCb``). Uneven lighting scales R, G and B together, hence Y, Cb and
Cr together, so dividing by luma gives the screen one colour in its hot spot and in its shadowed folds. The
floor (``shadow`` × the key's luma) keeps dark pixels — hair, a black shirt — from taking the key's colour
from their noise: below the floor their chroma shrinks towards grey, away from any saturated key.

*Key colour and spread.* :func:`estimate_key_color` starts from the median of the top and side border strips
(the person usually fills the bottom edge, so it is left out), keeps the strips' pixels within a robust
distance of that median — the dominant cluster — and re-centres on them (three rounds). The *spread* is the
robust per-axis standard deviation of the kept pixels around the key in ``c`` (from their median squared
distance, which for 2-D Gaussian noise is 2 ln 2 σ²), floored by ``min_spread`` so that a noiseless frame
does not get a zero tolerance; the bottom strip's screen pixels join in once the key is known. Noise,
colour casts and wrinkles of the screen thus set the tolerance.
A border with no dominant, saturated colour is not a chroma screen: an :class:`InputError` says so.

*Matte.* ``d = |c − c_key| / spread`` gives a trimap: ``d ≤ inner`` is screen (α = 0); ``d ≥ outer`` more
than 3 px from the screen is sure foreground (α = 1); the rest is unknown. Unknown pixels with both near
solve the compositing equation ``p = α f + (1 − α) b`` along the *key signal* ``s = u · p`` (``u``: the
key's colour minus its grey part, unit length). ``s`` is linear in RGB, so ``α = (s_b − s_p) / (s_b − s_f)``
with ``s_b`` and ``s_f`` the means of the sure screen and sure foreground pixels in a 9×9 window — the
colour-difference idea of classic keyers, with local references instead of global constants, so ``s_b``
follows the screen's lighting and ``s_f`` the person's edge, and the person's colours across the key
(stripes, shading) do not matter. It puts α = ½ where the edge is; a ramp of ``d`` would put it far out
on the edge of a red hand (whose ``d`` soars) and far in on a dark green sleeve's. Elsewhere — in-between
colours inside the person, thin parts with no sure foreground near, a person nearly as key-coloured as the
screen — α is the ramp of ``d`` from ``inner`` to ``outer``.

*Spill.* Light bounced off the screen tints the person's edges with the key. In the key's dominant channel
(G for green, B for blue) the excess over the larger of the two other channels is removed, times ``spill``,
wherever α > 0; the screen itself is left as shot.

*Clean-up.* ``mask = α ≥ ½``, then an opening (drops noise specks), a closing (bridges hairline cracks),
filling of enclosed holes up to ``max_hole`` of the frame (a key-coloured logo on a shirt; bigger enclosed
regions — the gap between an arm on the hip and the body — stay background), and removal of components
smaller than ``min_component`` of the frame, keeping the ``keep_components`` largest if asked. Alpha is made
to agree: ``mask == (alpha >= 0.5)`` holds for every result.

Limits: a foreground colour within the screen's tolerance (a green shirt on a green screen) is keyed out, as
with any keyer; a screen clipped to white in a hot spot loses its chroma and reads as foreground.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from workbench.config import Config
from workbench.data.textures import smooth_noise, streaks
from workbench.errors import InputError

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # BT.601, as OpenCV's RGB2YCrCb
# For 2-D isotropic Gaussian noise |x|² / σ² is χ² with 2 degrees of freedom, whose median is 2 ln 2.
_CHI2_2_MEDIAN = 2.0 * np.log(2.0)
_DOMINANT = 0.5  # share of the top and side border that must be screen
_MIN_SATURATION = 0.2  # |c| of the key: a beige wall is ≈ 0.05, a lit green screen ≈ 0.5, a blue one ≈ 1
_MAX_SPREAD = 0.1  # a screen noisier than this (σ 6 noise gives ≈ 0.035) is a textured wall, not a screen
_BAND = 3  # px: width of the edge band where alpha is unmixed (anti-aliasing and most motion blur)
_LOCAL_RADIUS = 4  # px: the 9×9 window of the local screen / foreground means reaches across that band
_NEAR = 0.05  # share of sure pixels in that window that counts as "near" (4 of 81)
_MIN_CONTRAST = 20.0  # s_b − s_f in grey levels below which unmixing divides noise by noise

KeyColor = Sequence[float]


@dataclass
class ChromaConfig(Config):
    """Options of the chroma keyer (saved with the key colour in a clip's ``meta.json``)."""

    key_color: tuple[int, int, int] | None = None  # RGB of the screen; None = estimate from the frame border
    border: float = 0.05  # width of the border strips that estimate the key, as a fraction of min(H, W)
    inner: float = 4.0  # d (in spreads) up to which a pixel is screen: 4σ of noise, ≈ 3e-4 false alarms
    outer: float = 10.0  # d from which a pixel is foreground (sure once 3 px from the screen)
    shadow: float = 0.35  # screen down to this fraction of the key's luma still counts as screen
    min_spread: float = 0.01  # floor of the estimated spread (normalised chroma units; ≈ 1 grey level at Y 120)
    spill: float = 1.0  # spill suppression strength: 0 = off, 1 = cap the key channel at the others' maximum
    open_radius: int = 1  # px: opening removes specks (and lines thinner than 2r + 1)
    close_radius: int = 1  # px: closing bridges cracks narrower than 2r + 1
    keep_components: int = 0  # keep the N largest foreground components; 0 = all
    min_component: float = 0.002  # drop foreground components smaller than this fraction of the frame
    fill_holes: bool = True  # fill enclosed background holes ...
    max_hole: float = 0.01  # ... up to this fraction of the frame
    adapt: float = 0.0  # per-frame rate at which ChromaKeyer re-estimates an estimated key; 0 = fixed

    def __post_init__(self) -> None:
        if isinstance(self.key_color, list):  # from JSON
            self.key_color = tuple(self.key_color)  # type: ignore[assignment]

    def validate(self) -> None:
        if self.key_color is not None:
            ok = (isinstance(self.key_color, (tuple, list)) and len(self.key_color) == 3
                  and all(isinstance(v, (int, np.integer)) and 0 <= v <= 255 for v in self.key_color))
            if not ok:
                raise InputError(f"--key-color {self.key_color!r}: expected three integers R,G,B in 0..255, "
                                 "e.g. 60,170,80")
        if not 0.0 < self.border <= 0.25:
            raise InputError(f"--border {self.border}: expected a fraction of the frame size in (0, 0.25]")
        if not 0.0 <= self.inner < self.outer:
            raise InputError(f"--inner {self.inner} --outer {self.outer}: expected 0 <= inner < outer "
                             "(distances in units of the screen's spread)")
        if not 0.0 <= self.shadow < 1.0:
            raise InputError(f"--shadow {self.shadow}: expected a fraction of the key's luma in [0, 1)")
        if not self.min_spread > 0.0:
            raise InputError(f"--min-spread {self.min_spread}: expected a positive number")
        if not 0.0 <= self.spill <= 1.0:
            raise InputError(f"--spill {self.spill}: expected a strength in [0, 1]")
        for name, value in (("--open-radius", self.open_radius), ("--close-radius", self.close_radius),
                            ("--keep-components", self.keep_components)):
            if not isinstance(value, (int, np.integer)) or value < 0:
                raise InputError(f"{name} {value!r}: expected a non-negative integer")
        for name, value in (("--min-component", self.min_component), ("--max-hole", self.max_hole),
                            ("--adapt", self.adapt)):
            if not 0.0 <= value <= 1.0:
                raise InputError(f"{name} {value}: expected a fraction in [0, 1]")


@dataclass
class ChromaResult:
    """One keyed frame."""

    alpha: np.ndarray  # float32 (H, W) in [0, 1], 1 = foreground; mask == (alpha >= 0.5)
    mask: np.ndarray  # uint8 (H, W) 0/1 after clean-up
    despilled: np.ndarray  # uint8 (H, W, 3) RGB, the key's spill removed where alpha > 0
    key_color: tuple[int, int, int]  # RGB of the screen used
    spread: float  # the screen's spread (normalised chroma units) that scales inner / outer


# ------------------------------------------------------------------------------------------------ colour


def _check_frame(frame: np.ndarray) -> None:
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        got = f"{frame.dtype} {frame.shape}" if isinstance(frame, np.ndarray) else type(frame).__name__
        raise InputError(f"chroma key: expected a uint8 RGB frame (H, W, 3), got {got}")


def _floor(key: np.ndarray, shadow: float) -> float:
    # At least one grey level, so that a black key (never sensible, but possible) cannot divide by zero.
    return max(float(shadow * (_LUMA @ key)), 1.0)


def _chroma(rgb: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Luma-normalised chroma (Cb / Y, Cr / Y) of float32 RGB ``(H, W, 3)`` in grey levels; Y clamped at ``floor``."""
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)  # BT.601: Y, Cr = 0.713 (R − Y) + δ, Cb = 0.564 (B − Y) + δ
    denom = np.maximum(ycc[:, :, 0], floor)
    # For float input OpenCV's δ is 0.5 (not 128) whatever the value range.
    return (ycc[:, :, 2] - 0.5) / denom, (ycc[:, :, 1] - 0.5) / denom


def _distance(rgb: np.ndarray, key: np.ndarray, shadow: float) -> np.ndarray:
    """|c − c_key| (normalised chroma units) of float32 RGB ``(H, W, 3)`` or ``(N, 3)`` → ``(H, W)`` or ``(N,)``."""
    image = rgb if rgb.ndim == 3 else rgb.reshape(-1, 1, 3)
    floor = _floor(key, shadow)
    cb, cr = _chroma(np.ascontiguousarray(image, np.float32), floor)
    kb, kr = _chroma(np.asarray(key, np.float32).reshape(1, 1, 3), floor)
    dist = cv2.magnitude(cb - kb[0, 0], cr - kr[0, 0])
    return dist if rgb.ndim == 3 else dist.ravel()


def _border_pixels(frame: np.ndarray, border: float) -> tuple[np.ndarray, np.ndarray]:
    """(top and side strips, bottom strip) as float RGB rows ``(N, 3)``."""
    H, W = frame.shape[:2]
    t = max(1, int(round(border * min(H, W))))
    sides = np.concatenate([frame[:t].reshape(-1, 3), frame[t:H - t, :t].reshape(-1, 3),
                            frame[t:H - t, W - t:].reshape(-1, 3)])
    return sides.astype(np.float32), frame[H - t:].reshape(-1, 3).astype(np.float32)


def _robust_sigma(dist: np.ndarray) -> float:
    return float(np.sqrt(np.median(dist**2) / _CHI2_2_MEDIAN)) if dist.size else 0.0


def _screen_spread(frame: np.ndarray, key: np.ndarray, border: float, shadow: float, min_spread: float) -> float:
    """Spread of the border's screen pixels around a *given* key (a key picked a little off widens it)."""
    sides, bottom = _border_pixels(frame, border)
    dist = _distance(np.concatenate([sides, bottom]), key, shadow)
    near = dist[dist <= 3.0 * _MAX_SPREAD]  # farther than that is no screen, however noisy
    for _ in range(3):  # trim the person's pixels, then measure the screen alone
        sigma = max(_robust_sigma(near), min_spread)
        near = near[near <= 3.0 * sigma]
    # Capped: a key far from every border pixel must not widen the tolerance until everything is screen.
    return min(max(_robust_sigma(near), min_spread), _MAX_SPREAD)


def estimate_key_color(frame: np.ndarray, border: float = 0.05, shadow: float = 0.35,
                       min_spread: float = 0.01) -> tuple[tuple[int, int, int], float]:
    """The screen's RGB colour and its spread (normalised chroma units), from the frame's border.

    Raises :class:`InputError` when the border has no dominant saturated colour (not a chroma screen).
    """
    _check_frame(frame)
    sides, bottom = _border_pixels(frame, border)
    key = np.median(sides, axis=0).astype(np.float32)
    keep = np.ones(len(sides), bool)
    sigma = 0.0
    for _ in range(3):
        dist = _distance(sides, key, shadow)
        # The median distance is the screen's as long as the screen is most of the border; 3σ keeps 99 %
        # of Gaussian noise and drops a head or a shoulder that reaches an edge.
        sigma = max(_robust_sigma(dist[keep]), min_spread)
        keep = dist <= 3.0 * sigma
        if not keep.any():
            break
        key = np.median(sides[keep], axis=0).astype(np.float32)
    hint = "pass --key-color R,G,B to key it anyway"
    share = float(keep.mean())
    if share < _DOMINANT or sigma > _MAX_SPREAD:
        raise InputError(f"chroma key: the frame border has no dominant colour ({share:.0%} of the top and side "
                         f"border within the tolerance, spread {sigma:.3f}); not a green or blue screen? {hint}")
    saturation = float(np.hypot(*_chroma(key.reshape(1, 1, 3), _floor(key, shadow)))[0, 0])
    if saturation < _MIN_SATURATION:
        rgb = ",".join(str(int(round(v))) for v in key)
        raise InputError(f"chroma key: the frame border's dominant colour {rgb} is too grey for a chroma screen "
                         f"(saturation {saturation:.2f} < {_MIN_SATURATION}); {hint}")
    # The bottom strip counts once the key is known (its screen pixels sharpen the spread; the torso does not).
    everything = np.concatenate([sides, bottom])
    dist = _distance(everything, key, shadow)
    spread = max(_robust_sigma(dist[dist <= 3.0 * sigma]), min_spread)
    return tuple(int(round(v)) for v in key), spread  # type: ignore[return-value]


# ------------------------------------------------------------------------------------------------- matte


def _matte(rgb: np.ndarray, key: np.ndarray, spread: float, config: ChromaConfig) -> np.ndarray:
    """Soft matte ``float32 (H, W)`` before clean-up (see the module docstring)."""
    dist = _distance(rgb, key, config.shadow) / spread
    alpha = np.clip((dist - config.inner) / (config.outer - config.inner), 0.0, 1.0)
    screen = (dist <= config.inner).astype(np.float32)
    # A pixel far from the key may still be mostly screen when it lies on an edge (a quarter of a red hand
    # is far from green): only pixels at least _BAND px from the screen are sure foreground.
    beside = cv2.dilate(screen, np.ones((2 * _BAND + 1,) * 2, np.uint8)) > 0
    sure = ((dist >= config.outer) & ~beside).astype(np.float32)
    unknown = (screen == 0) & (sure == 0)
    if not unknown.any():
        return alpha
    # Local screen / foreground colours: window means of the sure pixels (normalised convolution, box filter).
    window = (2 * _LOCAL_RADIUS + 1,) * 2
    wb, wf = cv2.blur(screen, window), cv2.blur(sure, window)
    # Unmix only beside the screen: an in-between colour inside the person (a stripe of a colour near the
    # key's) is no mixture, and reading it as one would punch a hole.
    where = unknown & (wb > _NEAR) & (wf > _NEAR)
    if not where.any():
        return alpha
    # The key signal: each colour's component along the key's own colour away from grey. It is linear in
    # RGB, so a mixture's signal is the same mixture of the signals, and it ignores whatever the person's
    # colours do across the key (stripes, shading), which a projection onto one mean colour f would not
    # (tried: on dark/light striped shirts it cut the dark stripes' edges).
    u = key - key.mean()
    u = (u / np.linalg.norm(u)).astype(np.float32)
    signal = rgb @ u
    s_b = cv2.blur(signal * screen, window)[where] / wb[where]
    s_f = cv2.blur(signal * sure, window)[where] / wf[where]
    contrast = s_b - s_f
    unmixed = np.clip((s_b - signal[where]) / np.maximum(contrast, 1e-6), 0.0, 1.0)
    # Where the person is nearly as key-coloured as the screen, the ratio divides noise by noise: keep the ramp.
    alpha[where] = np.where(contrast > _MIN_CONTRAST, unmixed, alpha[where])
    return alpha


def despill(frame: np.ndarray, key: KeyColor, strength: float = 1.0, where: np.ndarray | None = None) -> np.ndarray:
    """Remove the key's spill: cap the key's dominant channel at the larger of the other two, by ``strength``.

    ``frame`` is ``uint8 (H, W, 3)`` RGB; ``where`` (bool ``(H, W)``) limits the change to those pixels.
    """
    _check_frame(frame)
    channel = int(np.argmax(key))
    others = [c for c in range(3) if c != channel]
    out = frame.astype(np.int16)
    limit = np.maximum(out[:, :, others[0]], out[:, :, others[1]])
    excess = np.maximum(out[:, :, channel] - limit, 0)
    if where is not None:
        excess = excess * where
    out[:, :, channel] -= np.round(strength * excess).astype(np.int16)
    return out.astype(np.uint8)


def _disk(radius: int) -> np.ndarray:
    # |offset| <= r + ½ rather than OpenCV's ellipse: radius 1 is then the full 3×3 square, not a cross that
    # would shave the corner pixel off every right-angled corner.
    d = np.arange(-radius, radius + 1)
    return (d[:, None] ** 2 + d[None, :] ** 2 <= (radius + 0.5) ** 2).astype(np.uint8)


def _clean(raw: np.ndarray, config: ChromaConfig) -> tuple[np.ndarray, np.ndarray]:
    """(cleaned 0/1 mask, filled holes 0/1) from the soft matte before clean-up."""
    mask = (raw >= 0.5).astype(np.uint8)
    H, W = mask.shape
    if config.open_radius:
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _disk(config.open_radius))
    if config.close_radius:
        # Closing near the frame edge must not pull in the (zero) padding: pad by replication first.
        r = config.close_radius
        padded = cv2.copyMakeBorder(mask, r, r, r, r, cv2.BORDER_REPLICATE)
        mask = np.ascontiguousarray(cv2.morphologyEx(padded, cv2.MORPH_CLOSE, _disk(r))[r:-r, r:-r])
    holes = np.zeros_like(mask)
    if config.fill_holes and config.max_hole > 0:
        # Background components that do not touch the frame's edge are enclosed by the foreground
        # (4-connected background against an 8-connected foreground, so diagonals do not leak).
        count, labels, stats, _ = cv2.connectedComponentsWithStats(1 - mask, connectivity=4)
        x, y, w, h, area = (stats[:, i] for i in range(5))
        inside = (x > 0) & (y > 0) & (x + w < W) & (y + h < H) & (area <= config.max_hole * H * W)
        # A hole that is mostly sure screen is real background seen through the person (between an arm and
        # the body); one of in-between colours is foreground that came out near the key (a stripe, a crease).
        screen = np.bincount(labels.ravel(), weights=(raw == 0).ravel(), minlength=count)
        inside &= screen < 0.5 * area
        inside[0] = False  # label 0 is the foreground itself here
        if inside[1:].any():
            holes = inside[labels].astype(np.uint8)
            mask = mask | holes
    if config.min_component > 0 or config.keep_components:
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        area = stats[:, cv2.CC_STAT_AREA].astype(np.int64)
        area[0] = 0  # background
        keep = area >= max(config.min_component * H * W, 1)
        if config.keep_components:
            order = np.argsort(-area)
            keep[order[config.keep_components:]] = False
        mask = keep[labels].astype(np.uint8)
        holes &= mask
    return mask, holes


def _key_frame(frame: np.ndarray, config: ChromaConfig, key: np.ndarray, spread: float) -> ChromaResult:
    rgb = frame.astype(np.float32)
    raw = _matte(rgb, key, spread, config)
    mask, holes = _clean(raw, config)
    # Make the matte agree with the cleaned mask; far from the mask (removed specks) it is screen.
    near = cv2.dilate(mask, _disk(2)).astype(bool)
    alpha = np.where(mask.astype(bool), np.maximum(raw, 0.5), np.where(near, np.minimum(raw, 0.499), 0.0))
    alpha[holes.astype(bool)] = 1.0
    alpha = alpha.astype(np.float32)
    despilled = despill(frame, key, config.spill, where=alpha > 0) if config.spill > 0 else frame.copy()
    return ChromaResult(alpha, mask, despilled, tuple(int(round(v)) for v in key), float(spread))  # type: ignore[arg-type]


def _as_key(key: KeyColor) -> np.ndarray:
    array = np.asarray(key, np.float32)
    if array.shape != (3,) or not np.all((array >= 0) & (array <= 255)):
        raise InputError(f"--key-color {key!r}: expected three values R,G,B in 0..255")
    return array


def chroma_key(frame: np.ndarray, config: ChromaConfig | None = None, key: KeyColor | None = None,
               spread: float | None = None) -> ChromaResult:
    """Key one ``uint8 (H, W, 3)`` RGB frame.

    ``key`` (RGB) overrides ``config.key_color``; with neither, the key is estimated from the frame's
    border. ``spread`` (normalised chroma units) is measured on the frame's border when not given.
    """
    config = config if config is not None else ChromaConfig()
    config.validate()
    _check_frame(frame)
    if key is None and config.key_color is not None:
        key = config.key_color
    if key is None:
        estimated, estimated_spread = estimate_key_color(frame, config.border, config.shadow, config.min_spread)
        key_rgb = _as_key(estimated)
        spread = estimated_spread if spread is None else spread
    else:
        key_rgb = _as_key(key)
        if spread is None:
            spread = _screen_spread(frame, key_rgb, config.border, config.shadow, config.min_spread)
    return _key_frame(frame, config, key_rgb, max(float(spread), config.min_spread))


class ChromaKeyer:
    """Streaming labeller of a screen video: the key is fixed on the first frame (or given) and reused.

    With ``config.adapt > 0`` an estimated key follows slow changes (white balance, daylight): after each
    frame it moves by that fraction towards the median colour of the frame's sure screen pixels.
    """

    def __init__(self, config: ChromaConfig | None = None):
        self.config = config if config is not None else ChromaConfig()
        self.config.validate()
        self.key: np.ndarray | None = None if self.config.key_color is None else _as_key(self.config.key_color)
        self.spread: float | None = None
        self.num_frames = 0

    def __call__(self, frame: np.ndarray) -> ChromaResult:
        _check_frame(frame)
        config = self.config
        if self.key is None:
            key, self.spread = estimate_key_color(frame, config.border, config.shadow, config.min_spread)
            self.key = _as_key(key)
        elif self.spread is None:
            self.spread = _screen_spread(frame, self.key, config.border, config.shadow, config.min_spread)
        result = _key_frame(frame, config, self.key, self.spread)
        if config.adapt > 0 and config.key_color is None:
            screen = result.alpha == 0
            if np.count_nonzero(screen) >= 0.05 * screen.size:  # a frame the person fills says little
                pixels = frame[screen].astype(np.float32)
                # Only pixels within `inner` of the key: the median cannot be dragged off by a shadow.
                near = _distance(pixels, self.key, config.shadow) <= config.inner * self.spread
                if near.any():
                    self.key = (1 - config.adapt) * self.key + config.adapt * np.median(pixels[near], axis=0)
        self.num_frames += 1
        return result

    def settings(self) -> dict:
        """JSON-ready record for a clip's ``meta.json``: the config and the key colour actually used."""
        return {
            "method": "workbench.data.chroma",
            "config": self.config.to_dict(),
            "key_color": None if self.key is None else [int(round(v)) for v in self.key],
            "key_source": "config" if self.config.key_color is not None else "border estimate",
            "spread": None if self.spread is None else round(float(self.spread), 6),
            "frames": self.num_frames,
        }


# -------------------------------------------------------------------------------------------- test material


def green_screen_backdrop(rng: np.random.Generator, size: tuple[int, int],
                          color: KeyColor | None = None) -> np.ndarray:
    """An unevenly lit cloth screen ``uint8 (H, W, 3)`` RGB of ``size = (W, H)``; green unless ``color``.

    Lit like a home setup: a brightness gradient across the cloth, a lamp's hot spot, darker corners,
    hanging folds and soft wrinkles (shading only: a fold does not change the cloth's colour), and a slight
    colour cast that wanders over the cloth.
    """
    W, H = size
    base = np.asarray(color, np.float32) / 255.0 if color is not None else \
        np.array([0.24, 0.63, 0.31], np.float32) + rng.uniform(-0.03, 0.03, 3).astype(np.float32)
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    xs, ys = xs / W - 0.5, ys / H - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    gradient = np.cos(angle) * xs + np.sin(angle) * ys  # −0.7 … 0.7
    hx, hy = rng.uniform(-0.3, 0.3), rng.uniform(-0.35, 0.1)
    hot = np.exp(-((xs - hx) ** 2 + (ys - hy) ** 2) / (2 * rng.uniform(0.2, 0.35) ** 2))
    vignette = 1.0 - 0.25 * (xs**2 + ys**2)
    folds = streaks(rng, (H, W), 0.5 * H, 90.0 + rng.uniform(-15, 15), sigma=0.02 * W)
    wrinkles = smooth_noise(rng, (H, W), 0.15 * min(H, W), octaves=3)
    light = (rng.uniform(0.85, 0.95) + rng.uniform(0.2, 0.35) * gradient + rng.uniform(0.12, 0.22) * hot) \
        * vignette * (1.0 + 0.05 * folds + 0.03 * wrinkles)
    cast = 1.0 + 0.02 * np.stack([smooth_noise(rng, (H, W), 0.4 * min(H, W), octaves=2) for _ in range(3)], -1)
    rgb = base[None, None, :] * cast * light[:, :, None]
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


__all__ = ["ChromaConfig", "ChromaKeyer", "ChromaResult", "chroma_key", "despill", "estimate_key_color",
           "green_screen_backdrop"]
