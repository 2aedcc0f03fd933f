"""A seeded model of a webcam's image pipeline, applied to rendered frames so that they look like video calls.

Networks trained on clean renders fail on real calls: real frames are defocused, vignetted, noisy, drift in
exposure and colour, and reach us at a low resolution through a lossy codec. :class:`CameraModel` draws one
camera per clip from a :class:`CameraConfig` (a probability and a parameter range per effect) and applies it
frame by frame. Everything is photometric or optical: the output has the input's size and the ground truth
(masks, flow) stays valid, even where defocus or resolution loss blurs the image.

Conventions (docs/conventions.md): input ``float32 (H, W, 3)`` RGB in ``[0, 1]`` (values outside are clipped where a
sensor would clip); output ``uint8 (H, W, 3)`` RGB. The renders are display-referred (their colours are
sRGB-like values), so the sensor stages first decode them to linear light with ``x ** gamma`` (``gamma = 2``
by default: ``x * x``, a cheap stand-in for sRGB's ≈2.2; a choice) and the tone curve encodes back.

Stages, in the order light meets them (each is on for a clip with its ``*_prob``; ranges are per clip):

1. **Optics**: defocus, an anti-aliased disc of radius ``defocus_radius`` × frame height (fixed-focus webcams
   are sharp at ≈0.5–1 m; a face closer to the lens is not), convolved with a Gaussian lens softness of σ
   ``softness_sigma`` × frame height. Sizes scale with the height so that a clip looks alike at any size.
2. **Vignetting**: ``1 / (1 + k r²)²`` (the shape of the cos⁴ law), ``r = 1`` at the corners, ``k`` set so
   that the corners lose ``vignette_strength`` of their light; centre jittered by ≈2 % of the frame.
3. **Auto exposure (AE)**: a gain in linear light that steers the frame's centre-weighted mean luminance to
   the first frame's level × ``2 ** exposure_bias`` (EV; the bias is the metering error against a window or
   a dark room). The log gain follows its target as a damped second-order system (settling time
   ``exposure_settle`` s, damping ratio ``exposure_damping``; < 1 overshoots) that sees the frame statistics
   ``exposure_delay`` frames late (UVC cameras apply new exposure settings a few frames later), plus a slow
   drift of amplitude ``exposure_drift`` (log gain). The gain is limited to ×1/8…×8.
4. **Sensor noise**, in linear light after the exposure gain: variance ``λ_shot · g · s + λ_read · g²`` for
   signal ``s`` and AE gain ``g`` (Poisson–Gaussian model, Foi et al. 2008; the gain is analogue, so both terms
   grow with it). ``λ_shot`` is log-uniform in ``shot_noise`` and ``log λ_read ~ N(2.18 log λ_shot + 1.20,
   0.26)``, the joint distribution fitted to real sensors by Brooks et al., "Unprocessing Images for Learned
   Raw Denoising" (arXiv 1811.11127), whose full range is λ_shot ∈ [1e-4, 1.2e-2]. The noise is split into a
   full-resolution luma part and a half-resolution (demosaicking makes it blotchy) chroma part whose standard
   deviation is ``chroma_noise`` × the luma's. Frame ``t`` draws from ``default_rng([noise_seed, t])``:
   independent over time, reproducible per (clip, frame).
5. **White balance (ISP)**: per-channel digital gains after the noise (so they scale it): a static cast along
   the red–blue (colour temperature) axis of ``wb_cast`` in log gain with a random sign, a green–magenta
   ``wb_tint``, and a slow temperature wobble ``wb_drift``; normalised to leave brightness alone. The
   signal is quantised to 12 bits (ISPs work at 10–12 bits; a choice) and clipped at full scale.
6. **Tone**: ``saturation`` (1 = unchanged) as the ISP's colour matrix in linear light (about Rec.709
   luminance, so it also amplifies chroma noise, as real colour matrices do); then the encoding back to
   display values (``c ** (1 / gamma)``) with the clip's deviation from it: a power ``tone_gamma``, an
   S-curve ``contrast`` (``y + k (y − y²)(2y − 1)``; < 0 flattens) and a lifted black ``black_level``
   (webcams' washed-out shadows), as one look-up table from the 12-bit code to the 8-bit output.
7. **Resolution**: the sensor or the call's stream at a lower resolution: a width drawn from
   ``stream_widths`` (those below the frame width; the height keeps the frame's aspect), area-downscaled
   there; compression runs at that size and the receiver upscales bilinearly to the frame size.
8. **Compression**: ``jpeg``: a real JPEG (``cv2.imencode``, 4:2:0 chroma, quality in ``jpeg_quality``;
   MJPEG webcams and image-based call paths); and/or ``video``: an emulated inter-frame codec at a bit rate
   of ``video_bpp`` bits per pixel per frame (0.05–0.3 bpp is 150–900 kbit/s for 640×360 at 30 fps, the
   range of a video call; a choice). The installed OpenCV (5.0, FFmpeg backend) cannot write H.264/HEVC (only
   the absent ``h264_v4l2m2m``/``hevc_v4l2m2m`` hardware encoders are built in); it writes MPEG-4 Part 2
   ('mp4v'), XVID, VP8, VP9 and MJPG, but always at its own rate (≈1.5 bits per pixel per frame, ignoring
   ``OPENCV_FFMPEG_WRITER_OPTIONS`` rate keys and refusing ``VIDEOWRITER_PROP_QUALITY``): 5–30× a call's
   budget, with no knob. So the video codec is emulated, in memory: full-range YCbCr with 4:2:0 chroma, 8×8
   orthonormal DCT, key frames every ``video_key_interval`` frames coded against mid-grey with the JPEG
   (ITU-T T.81 Annex K) tables, other frames coded as the residual to the previous *decoded* frame with a
   flat matrix (16) and the H.264 reference encoder's dead zone (rounding offset 1/3 intra, 1/6 inter). The
   quantiser scale is set per frame (a few passes over the same coefficients) to meet the bit budget
   (key frames get 4×), estimated as 3 bits per non-zero level + 2·log2|level| + 1 bit per 16×16 block.
   There is **no motion compensation** (every vector is zero): moving regions become residual, which the
   rate control quantises coarsely — the blocking, smearing and stale ("dirty window") blocks of a starved
   encoder, with more ghosting on fast motion than a real encoder with motion search would leave.

The preset ``"none"`` is the plain quantisation ``np.clip(rgb * 255 + 0.5, 0, 255).astype(uint8)``;
``"webcam"`` (the defaults) is a spread of laptop webcams; ``"harsh"`` the bad end of it. AE and the codec
carry state from frame to frame, so :meth:`CameraModel.apply` takes a clip's frames in order (index 0 starts
over). Every random draw of a clip comes from the ``rng`` given to the model, in a fixed order, and each
effect's parameters are drawn whether or not it is on, so changing one probability does not re-draw the rest.

Cost of :meth:`CameraModel.apply` at 320×192 (median over 50 frames, one thread, CPU time on a busy 2-core
machine): ``none`` 0.2 ms; ``webcam`` ≈3.5 ms for the median clip, ≈6–7 ms for a clip with every stage on
and the video codec at full resolution; ``harsh`` ≈6 ms. The codec (≈1.5–3 ms) and the noise (≈1.5–2 ms) are
the dearest stages; the cost grows with the pixel count (≈4× at 640×360).
"""

from __future__ import annotations

import functools
import math
from collections import deque
from dataclasses import dataclass, fields
from statistics import NormalDist
from typing import Any

import cv2
import numpy as np

from workbench.config import Config
from workbench.errors import InputError

CAMERA_PRESETS = ("none", "webcam", "harsh")

_ADC_MAX = 4095  # 12-bit sensor read-out
_MAX_LOG_GAIN = math.log(8.0)  # AE range ×1/8 … ×8
_LUMA709 = np.array([0.2126, 0.7152, 0.0722], np.float32)  # luminance of linear RGB (metering, saturation)
_METER_STEP = 4  # AE meters every 4th pixel: a mean needs no more
# Brooks et al. (arXiv 1811.11127), the read-noise variance given the shot-noise factor: log-normal about a line.
_READ_SLOPE, _READ_OFFSET, _READ_SPREAD = 2.18, 1.20, 0.26
# Variance of zero-channel-mean N(0, 1) noise (2/3) after a ×2 bilinear upscale (weights 3/4, 1/4 per axis:
# (9/16 + 1/16)² = 0.39): divides it out so that ``chroma_noise`` is a ratio of standard deviations.
_CHROMA_VAR = (2.0 / 3.0) * 0.390625
# Orthonormal axes perpendicular to grey, as columns: two N(0, 1) fields map to zero-mean RGB colour noise.
_OPPONENT = np.array([[1 / math.sqrt(2), 1 / math.sqrt(6)], [-1 / math.sqrt(2), 1 / math.sqrt(6)],
                      [0.0, -2 / math.sqrt(6)]], np.float32)

# ITU-T T.81 Annex K tables (quality 50), the basis of JPEG quality scaling and of our key frames.
_JPEG_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], np.float32)
_JPEG_CHROMA = np.array([
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32, np.float32)
_INTER_MATRIX = np.full(64, 16.0, np.float32)  # MPEG-4/H.263-style flat inter matrix
_KEY_BUDGET = 4.0  # a key frame may spend 4× a predicted frame's bits
_SCALE_RANGE = (0.1, 16.0)  # quantiser scale limits (× the quality-50 tables)


@dataclass
class CameraConfig(Config):
    """Probabilities and per-clip ranges of the camera effects (defaults: the ``webcam`` preset).

    ``*_prob`` is the share of clips with the effect; a ``(lo, hi)`` range is drawn uniformly per clip
    (``shot_noise`` and ``video_bpp`` log-uniformly; integer ranges include ``hi``).
    """

    gamma: float = 2.0  # display → linear light: x ** gamma (2 is the fast path)
    defocus_prob: float = 0.3
    defocus_radius: tuple[float, float] = (0.002, 0.008)  # disc radius / frame height (1–4 px at 480 lines)
    softness_prob: float = 0.7
    softness_sigma: tuple[float, float] = (0.0008, 0.002)  # Gaussian σ / frame height (0.4–1 px at 480 lines)
    vignette_prob: float = 0.8
    vignette_strength: tuple[float, float] = (0.05, 0.35)  # share of the light lost in the corners
    exposure_prob: float = 1.0
    exposure_bias: tuple[float, float] = (-0.5, 0.5)  # EV against the first frame's level
    exposure_settle: tuple[float, float] = (0.5, 2.0)  # seconds to settle after a change
    exposure_damping: tuple[float, float] = (0.45, 1.0)  # damping ratio (< 1 overshoots)
    exposure_delay: tuple[int, int] = (1, 3)  # frames between a frame and the AE seeing it
    exposure_drift: tuple[float, float] = (0.0, 0.03)  # slow log-gain wobble
    wb_prob: float = 1.0
    wb_cast: tuple[float, float] = (0.0, 0.08)  # |log gain| along red–blue
    wb_tint: tuple[float, float] = (0.0, 0.03)  # |log gain| of green
    wb_drift: tuple[float, float] = (0.0, 0.03)  # slow red–blue wobble (log gain)
    noise_prob: float = 1.0
    shot_noise: tuple[float, float] = (2e-4, 4e-3)  # λ_shot (log-uniform); read noise follows it
    chroma_noise: tuple[float, float] = (1.0, 2.0)  # chroma σ / luma σ
    tone_prob: float = 1.0
    tone_gamma: tuple[float, float] = (0.85, 1.15)
    contrast: tuple[float, float] = (-0.1, 0.25)
    black_level: tuple[float, float] = (0.0, 0.04)
    saturation: tuple[float, float] = (0.75, 1.15)
    lowres_prob: float = 0.5
    stream_widths: tuple[int, ...] = (160, 176, 256, 320, 424, 480, 640, 848, 960, 1280)
    jpeg_prob: float = 0.6
    jpeg_quality: tuple[int, int] = (40, 92)
    video_prob: float = 0.5
    video_bpp: tuple[float, float] = (0.05, 0.3)  # bits per pixel per frame (log-uniform)
    video_key_interval: tuple[int, int] = (60, 300)  # frames between key frames

    def validate(self) -> None:
        """Raise :class:`InputError` naming the first field that is out of range."""
        if not 0.5 <= self.gamma <= 3.0:
            raise InputError(f"CameraConfig.gamma = {self.gamma!r}: expected a decoding gamma in [0.5, 3]")
        for f in fields(self):
            if f.name.endswith("_prob"):
                value = getattr(self, f.name)
                if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                    raise InputError(f"CameraConfig.{f.name} = {value!r}: expected a probability in [0, 1]")
        _check_range(self, "defocus_radius", 0.0, 0.1)
        _check_range(self, "softness_sigma", 0.0, 0.05)
        _check_range(self, "vignette_strength", 0.0, 0.9)
        _check_range(self, "exposure_bias", -3.0, 3.0)
        _check_range(self, "exposure_settle", 0.05, 30.0)
        _check_range(self, "exposure_damping", 0.1, 2.0)
        _check_range(self, "exposure_delay", 0, 10, integer=True)
        _check_range(self, "exposure_drift", 0.0, 0.5)
        _check_range(self, "wb_cast", 0.0, 0.5)
        _check_range(self, "wb_tint", 0.0, 0.5)
        _check_range(self, "wb_drift", 0.0, 0.5)
        _check_range(self, "shot_noise", 1e-6, 0.1)
        _check_range(self, "chroma_noise", 0.0, 5.0)
        _check_range(self, "tone_gamma", 0.3, 3.0)
        _check_range(self, "contrast", -0.5, 0.8)  # the S-curve stays monotonic for |k| ≤ 1
        _check_range(self, "black_level", 0.0, 0.3)
        _check_range(self, "saturation", 0.0, 3.0)
        _check_range(self, "jpeg_quality", 1, 100, integer=True)
        _check_range(self, "video_bpp", 0.005, 8.0)
        _check_range(self, "video_key_interval", 1, 100_000, integer=True)
        widths = self.stream_widths
        if (not isinstance(widths, (tuple, list)) or not widths
                or not all(isinstance(w, int) and not isinstance(w, bool) and w >= 16 for w in widths)):
            raise InputError(f"CameraConfig.stream_widths = {widths!r}: expected a non-empty list of widths ≥ 16")


def _check_range(config: CameraConfig, name: str, low: float, high: float, integer: bool = False) -> None:
    value = getattr(config, name)
    kind = "integers" if integer else "numbers"
    ok = isinstance(value, (tuple, list)) and len(value) == 2
    if ok:
        types = (int,) if integer else (int, float)
        ok = all(isinstance(v, types) and not isinstance(v, bool) and math.isfinite(v) for v in value)
        ok = ok and low <= value[0] <= value[1] <= high
    if not ok:
        raise InputError(f"CameraConfig.{name} = {value!r}: expected ({kind}) lo ≤ hi within [{low}, {high}]")


def camera_preset(name: str) -> CameraConfig:
    """The config of a named camera: ``none`` (identity), ``webcam`` (training default) or ``harsh``."""
    if name == "webcam":
        return CameraConfig()
    if name == "none":
        return CameraConfig(**{f.name: 0.0 for f in fields(CameraConfig) if f.name.endswith("_prob")})
    if name == "harsh":
        return CameraConfig(
            defocus_prob=0.6, defocus_radius=(0.006, 0.02), softness_prob=1.0, softness_sigma=(0.0015, 0.004),
            vignette_prob=1.0, vignette_strength=(0.3, 0.6),
            exposure_bias=(-1.0, 1.0), exposure_settle=(1.0, 3.0), exposure_damping=(0.3, 0.7),
            exposure_delay=(2, 4), exposure_drift=(0.02, 0.08),
            wb_cast=(0.05, 0.2), wb_tint=(0.02, 0.06), wb_drift=(0.02, 0.06),
            shot_noise=(2e-3, 1.2e-2), chroma_noise=(1.5, 3.0),
            tone_gamma=(0.7, 1.35), contrast=(-0.2, 0.4), black_level=(0.0, 0.08), saturation=(0.5, 1.3),
            lowres_prob=1.0, stream_widths=(160, 176, 256, 320), jpeg_prob=0.7, jpeg_quality=(15, 45),
            video_prob=1.0, video_bpp=(0.02, 0.08), video_key_interval=(30, 150))
    raise InputError(f"unknown camera preset {name!r}; expected one of {', '.join(CAMERA_PRESETS)}")


def _dct_matrix(n: int = 8) -> np.ndarray:
    """Orthonormal DCT-II: row k is the k-th basis vector."""
    k, i = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    d = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    d[0] /= np.sqrt(2.0)
    return d


# A block flattened row-major times this gives its 2-D DCT flattened (vec(D X Dᵀ) = (D ⊗ D) vec X);
# the transpose inverts it (orthonormal). One (num_blocks, 64) @ (64, 64) product codes a whole plane.
_DCT64 = np.kron(_dct_matrix(), _dct_matrix()).T.astype(np.float32)
_DCT64_INV = np.ascontiguousarray(_DCT64.T)


def _gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` by OpenCV: numpy's threaded BLAS costs 20× more on a small product when the cores are busy."""
    return cv2.gemm(a, b, 1.0, None, 0.0)


def _blocks(plane: np.ndarray) -> np.ndarray:
    h, w = plane.shape
    return plane.reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 64)


def _unblocks(blocks: np.ndarray, h: int, w: int) -> np.ndarray:
    return blocks.reshape(h // 8, w // 8, 8, 8).transpose(0, 2, 1, 3).reshape(h, w)


class _BlockCodec:
    """Emulated low-bit-rate inter-frame codec (see the module docstring); stateful, frames in order."""

    def __init__(self, bpp: float, key_interval: int):
        self.bpp, self.key_interval = bpp, key_interval
        self.reset()

    def reset(self) -> None:
        self.ref: list[np.ndarray] | None = None  # decoded Y, Cr, Cb planes (padded)
        self.since_key = 0
        self.scale = 1.0

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        ph, pw = -h % 16, -w % 16  # whole macroblocks: 16 luma / 8 chroma pixels
        ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
        if ph or pw:
            ycc = cv2.copyMakeBorder(ycc, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
        H, W = h + ph, w + pw
        chroma = cv2.resize(ycc, (W // 2, H // 2), interpolation=cv2.INTER_AREA)  # 4:2:0 (Y is dropped)
        planes = [ycc[..., 0].astype(np.float32), chroma[..., 1].astype(np.float32),
                  chroma[..., 2].astype(np.float32)]
        key = self.ref is None or self.since_key >= self.key_interval
        self.since_key = 1 if key else self.since_key + 1
        preds = [np.float32(128.0)] * 3 if key else self.ref
        coeffs = _gemm(np.concatenate([_blocks(p - q) for p, q in zip(planes, preds, strict=True)]), _DCT64)
        if key:  # (num_blocks, 64): Y blocks, then Cr, then Cb
            n_luma = (H // 8) * (W // 8)
            matrix = np.concatenate([np.tile(_JPEG_LUMA, (n_luma, 1)),
                                     np.tile(_JPEG_CHROMA, (len(coeffs) - n_luma, 1))])
            rounding = 1.0 / 3.0
        else:
            matrix, rounding = _INTER_MATRIX, 1.0 / 6.0
        magnitude = np.abs(coeffs) / matrix
        budget = self.bpp * h * w * (_KEY_BUDGET if key else 1.0) - H * W / 256.0  # 1 bit per macroblock
        # Rate control: from the last frame's scale, a few corrections on the same coefficients (bits fall
        # roughly as scale^-1.5; at most ×2 a step, as an empty residual says little), kept inside the bracket
        # of scales already found too coarse / too fine. Only levels ≥ 1 cost bits, so each pass looks at
        # those alone, in every 4th block (an estimate is all a rate controller has). The finest scale within
        # budget wins.
        scale, best = self.scale, None
        low, high = _SCALE_RANGE
        sample = magnitude[::4]
        extrapolate = len(magnitude) / len(sample)
        for _ in range(8 if key else 6):
            kept = sample[sample >= scale * (1.0 - rounding)] * np.float32(1.0 / scale)
            bits = extrapolate * (3.0 * kept.size + 2.0 * float(np.log2(np.floor(kept + rounding)).sum()))
            if bits <= 1.1 * budget:
                best, high = (scale if best is None else min(best, scale)), scale
                if bits >= 0.8 * budget:
                    break
            else:
                low = scale
            proposal = scale * min(max((max(bits, 1.0) / max(budget, 1.0)) ** (1.0 / 1.5), 0.5), 2.0)
            scale = proposal if low < proposal < high else math.sqrt(low * high)
        scale = best if best is not None else scale
        self.scale = scale
        levels = np.floor(magnitude * np.float32(1.0 / scale) + np.float32(rounding))
        recon = _gemm(np.copysign(levels, coeffs) * (matrix * np.float32(scale)), _DCT64_INV)
        out, start = [], 0
        for plane, pred in zip(planes, preds, strict=True):
            n = plane.size // 64
            rec = _unblocks(recon[start:start + n], *plane.shape) + pred
            out.append(np.clip(np.rint(rec), 0.0, 255.0))  # decoders hold integer samples
            start += n
        self.ref = out
        decoded = np.empty((H, W, 3), np.uint8)
        decoded[..., 0] = out[0]
        decoded[..., 1:] = cv2.resize(cv2.merge([out[1], out[2]]).astype(np.uint8), (W, H),
                                      interpolation=cv2.INTER_LINEAR)
        return cv2.cvtColor(decoded[:h, :w], cv2.COLOR_YCrCb2RGB)


def _optics_kernel(radius: float, sigma: float) -> np.ndarray | None:
    """Anti-aliased disc of ``radius`` px convolved with a Gaussian of ``sigma`` px (None: no blur)."""
    r = int(math.ceil(radius + 0.5 + 3.0 * sigma))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1].astype(np.float32)
    kernel = np.clip(radius + 0.5 - np.hypot(xx, yy), 0.0, 1.0)  # coverage of each pixel by the disc
    if sigma > 0.05:
        kernel = cv2.GaussianBlur(kernel, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    kernel /= kernel.sum()
    if kernel[r, r] > 0.999:
        return None
    # Trim rows/columns that carry almost nothing: filter cost grows with the kernel's area.
    keep = np.nonzero(kernel.max(axis=0) > 1e-4)[0]
    lo, hi = int(keep.min()), int(keep.max())
    lo, hi = min(lo, 2 * r - hi), max(hi, 2 * r - lo)  # keep it centred
    kernel = kernel[lo:hi + 1, lo:hi + 1]
    return (kernel / kernel.sum()).astype(np.float32)


@functools.cache
def _normal_table() -> np.ndarray:
    """Quantiles of N(0, 1) at (i + ½) / 65536: a uint16 draw indexes a Gaussian sample (±4.3 σ).

    Three times faster than ``standard_normal`` (the noise is the dearest stage); built once, ≈30 ms.
    """
    dist = NormalDist()
    table = np.array([dist.inv_cdf((i + 0.5) / 65536) for i in range(65536)], np.float64)
    return (table / table.std()).astype(np.float32)


def _loguniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(math.exp(rng.uniform(math.log(bounds[0]), math.log(bounds[1]))))


def _wobble(t: float, amplitude: float, freqs: np.ndarray, phases: np.ndarray) -> float:
    """A slow smooth wobble in [-amplitude, amplitude]: the mean of two sinusoids."""
    if not amplitude:
        return 0.0
    return float(amplitude * np.mean(np.sin(2.0 * np.pi * freqs * t + phases)))


def _short(value: float) -> float:
    return float(f"{value:.4g}")


class CameraModel:
    """One camera drawn for one clip; :meth:`apply` turns a clip's rendered frames, in order, into uint8 frames.

    ``size`` is ``(W, H)``. All randomness comes from ``rng`` (a clip's generator): the same state gives the
    same camera and the same bytes.
    """

    def __init__(self, config: CameraConfig, rng: np.random.Generator, num_frames: int, size: tuple[int, int],
                 fps: float = 30.0):
        """Draw this clip's camera: its blur, vignetting, exposure and white-balance lag, noise, tone, stream
        resolution and codec.

        Long because it draws every parameter of the camera model in one seeded order (a clip's look is fixed by
        that order)."""
        config.validate()
        W, H = (int(v) for v in size)
        if W < 1 or H < 1 or num_frames < 1 or not fps > 0:
            raise InputError(f"CameraModel: size {size}, num_frames {num_frames}, fps {fps}: expected positive values")
        self.config, self.size, self.num_frames, self.fps = config, (W, H), int(num_frames), float(fps)
        c = config

        # 1. Optics.
        defocus_on = rng.random() < c.defocus_prob
        radius = float(rng.uniform(*c.defocus_radius)) * H
        soft_on = rng.random() < c.softness_prob
        sigma = float(rng.uniform(*c.softness_sigma)) * H
        self.defocus_px = radius if defocus_on else 0.0
        self.softness_px = sigma if soft_on else 0.0
        self._kernel = _optics_kernel(self.defocus_px, self.softness_px)

        # 2. Vignetting.
        vig_on = rng.random() < c.vignette_prob
        strength = float(rng.uniform(*c.vignette_strength))
        centre = rng.normal(0.0, 0.02, 2) * (W, H) + (W / 2.0, H / 2.0)
        self.vignette = strength if vig_on else 0.0
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32) + 0.5
        r2 = ((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / ((W / 2.0) ** 2 + (H / 2.0) ** 2)
        self._vmap = None
        if self.vignette > 0:
            k = 1.0 / math.sqrt(1.0 - self.vignette) - 1.0  # 1 / (1 + k)² = 1 − strength at r = 1
            falloff = (1.0 / (1.0 + k * r2) ** 2).astype(np.float32)
            self._vmap = cv2.merge([falloff] * 3)  # (H, W, 3): OpenCV multiplies it in one pass, no broadcast

        # 3. Auto exposure; centre-weighted metering on a coarse grid.
        ae_on = rng.random() < c.exposure_prob
        self._ae_bias = float(rng.uniform(*c.exposure_bias)) * math.log(2.0)
        self._ae_settle = float(rng.uniform(*c.exposure_settle))
        self._ae_damping = float(rng.uniform(*c.exposure_damping))
        self._ae_delay = int(rng.integers(c.exposure_delay[0], c.exposure_delay[1] + 1))
        self._ae_drift = float(rng.uniform(*c.exposure_drift))
        self._ae_freqs, self._ae_phases = rng.uniform(0.05, 0.5, 2), rng.uniform(0.0, 2 * np.pi, 2)
        self.auto_exposure = ae_on
        weights = 1.0 - 0.6 * np.minimum(r2[::_METER_STEP, ::_METER_STEP], 1.0)  # centre counts ≈2.5× a corner
        self._meter_w = (weights / weights.sum()).astype(np.float32)
        # ω from the 2 % settling time ≈ 4 / (ζ ω); kept below the frame rate for a stable discrete update.
        self._ae_omega = min(4.0 / (self._ae_damping * self._ae_settle), 0.9 * self.fps)

        # 5. White balance (drawn before the noise to keep the order of draws fixed, applied after it).
        wb_on = rng.random() < c.wb_prob
        cast = float(rng.uniform(*c.wb_cast)) * (1.0 if rng.random() < 0.5 else -1.0)
        tint = float(rng.uniform(*c.wb_tint)) * (1.0 if rng.random() < 0.5 else -1.0)
        self._wb_drift = float(rng.uniform(*c.wb_drift))
        self._wb_freqs, self._wb_phases = rng.uniform(0.03, 0.3, 2), rng.uniform(0.0, 2 * np.pi, 2)
        self.white_balance = wb_on
        self._wb_cast, self._wb_tint = cast, tint

        # 4. Sensor noise.
        noise_on = rng.random() < c.noise_prob
        shot = _loguniform(rng, c.shot_noise)
        read = float(math.exp(rng.normal(_READ_SLOPE * math.log(shot) + _READ_OFFSET, _READ_SPREAD)))
        chroma = float(rng.uniform(*c.chroma_noise))
        self.noise_seed = int(rng.integers(2**63))
        self.noise = noise_on
        self.shot_noise, self.read_noise, self.chroma_noise = shot, read, chroma

        # 6. Tone.
        tone_on = rng.random() < c.tone_prob
        tone = (float(rng.uniform(*c.tone_gamma)), float(rng.uniform(*c.contrast)),
                float(rng.uniform(*c.black_level)), float(rng.uniform(*c.saturation)))
        self.tone = tone if tone_on else None

        # 7. Resolution: a stream width below the frame's (a uniform draw indexes the candidates).
        lowres_on = rng.random() < c.lowres_prob
        pick = rng.random()
        widths = sorted(wd for wd in c.stream_widths if wd < W)
        self.stream_size: tuple[int, int] | None = None
        if lowres_on and widths:
            ws = widths[int(pick * len(widths))]
            self.stream_size = (ws, max(1, round(ws * H / W)))

        # 8. Compression.
        jpeg_on = rng.random() < c.jpeg_prob
        quality = int(rng.integers(c.jpeg_quality[0], c.jpeg_quality[1] + 1))
        video_on = rng.random() < c.video_prob
        bpp = _loguniform(rng, c.video_bpp)
        key_interval = int(rng.integers(c.video_key_interval[0], c.video_key_interval[1] + 1))
        self.jpeg_quality = quality if jpeg_on else None
        self._codec = _BlockCodec(bpp, key_interval) if video_on else None

        # The linear-light path (sensor + ISP) runs when any of its stages is on.
        self._sensor = any([self._kernel is not None, self._vmap is not None, ae_on, wb_on, noise_on, tone_on])
        self._identity = not self._sensor and self.stream_size is None and not jpeg_on and not video_on
        self._lut = self._tone_lut()
        self._next = 0
        self._reset_state()

    # -- state -------------------------------------------------------------------------------------------------

    def _reset_state(self) -> None:
        self._ae_x, self._ae_v = self._ae_bias, 0.0  # log gain and its rate; starts settled
        self._ae_ref = 0.0  # log level of frame 0, set when it arrives
        self._ae_seen: deque[float] = deque()
        if self._codec is not None:
            self._codec.reset()

    def _tone_lut(self) -> np.ndarray:
        """ADC code → display uint8: the encoding back from linear light with the clip's tone deviation."""
        y = np.linspace(0.0, 1.0, _ADC_MAX + 1, dtype=np.float64) ** (1.0 / self.config.gamma)
        if self.tone is not None:
            power, contrast, black, _ = self.tone
            y = y ** power
            y = y + contrast * (y - y * y) * (2.0 * y - 1.0)
            y = black + (1.0 - black) * y
        return np.clip(y * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)

    # -- per frame ---------------------------------------------------------------------------------------------

    def _exposure_gain(self, linear: np.ndarray, index: int) -> float:
        """The AE gain for this frame (from earlier frames), then one controller step with this frame's level."""
        sub = cv2.transform(np.ascontiguousarray(linear[::_METER_STEP, ::_METER_STEP]), _LUMA709[None])  # (h, w)
        if self._vmap is not None:
            sub = sub * self._vmap[::_METER_STEP, ::_METER_STEP, 0]
        level = math.log(max(float((sub * self._meter_w).sum()), 1e-5))
        if index == 0:
            self._ae_ref = level
            self._ae_seen.extend([self._ae_bias] * self._ae_delay)
        log_gain = self._ae_x + _wobble(index / self.fps, self._ae_drift, self._ae_freqs, self._ae_phases)
        gain = math.exp(min(max(log_gain, -_MAX_LOG_GAIN), _MAX_LOG_GAIN))
        # The gain that would restore the reference level, seen ``delay`` frames late; a damped
        # second-order step (semi-implicit Euler) towards it.
        self._ae_seen.append(self._ae_bias + self._ae_ref - level)
        target = self._ae_seen.popleft()
        dt, omega, zeta = 1.0 / self.fps, self._ae_omega, self._ae_damping
        self._ae_v += (omega * omega * (target - self._ae_x) - 2.0 * zeta * omega * self._ae_v) * dt
        self._ae_x = min(max(self._ae_x + self._ae_v * dt, -_MAX_LOG_GAIN), _MAX_LOG_GAIN)
        return gain

    def _isp_matrix(self, index: int) -> np.ndarray:
        """(3, 4) linear RGB → ADC code + ½: white-balance gains, then the colour matrix (saturation)."""
        wb = np.ones(3)
        if self.white_balance:
            temp = self._wb_cast + _wobble(index / self.fps, self._wb_drift, self._wb_freqs, self._wb_phases)
            log_gains = np.array([temp, self._wb_tint, -temp])
            wb = np.exp(log_gains - log_gains.mean())  # a colour change, not a brightness change
        s = self.tone[3] if self.tone is not None else 1.0
        # Saturation as an ISP colour-correction matrix in linear light: rows sum to 1, so grey stays grey.
        ccm = s * np.eye(3) + (1.0 - s) * np.outer(np.ones(3), _LUMA709)
        matrix = np.empty((3, 4))
        matrix[:, :3] = _ADC_MAX * ccm * wb[None, :]
        matrix[:, 3] = 0.5  # rounding, so that the uint16 cast rounds
        return matrix.astype(np.float32)

    def _add_noise(self, x: np.ndarray, gain: float, index: int) -> None:
        """Signal-dependent sensor noise, added in place to the linear signal ``x``."""
        H, W = x.shape[:2]
        rng = np.random.default_rng([self.noise_seed, index])
        rho = self.chroma_noise
        norm2 = 1.0 / (1.0 + rho * rho)  # luma + chroma parts sum to unit variance per channel
        # σ · norm, with σ² = λ_shot g s + λ_read g² (one pass: a diagonal matrix and an offset per channel).
        affine = np.zeros((3, 4), np.float32)
        affine[:, :3] = np.eye(3) * (self.shot_noise * gain * norm2)
        affine[:, 3] = self.read_noise * gain * gain * norm2
        sigma = cv2.transform(x, affine)
        cv2.sqrt(sigma, sigma)
        table = _normal_table()
        luma = table.take(rng.integers(0, 65536, (H, W), dtype=np.uint16))
        h2, w2 = (H + 1) // 2, (W + 1) // 2
        opponent = [cv2.resize(table.take(rng.integers(0, 65536, (h2, w2), dtype=np.uint16)), (W, H),
                               interpolation=cv2.INTER_LINEAR) for _ in range(2)]  # blotchy: half resolution
        # (luma, two opponent axes) → RGB: grey for luma, zero-mean colour for the rest.
        mix = np.concatenate([np.ones((3, 1)), _OPPONENT * (rho / math.sqrt(_CHROMA_VAR))], axis=1)
        noise = cv2.transform(cv2.merge([luma, *opponent]), mix.astype(np.float32))
        cv2.accumulateProduct(noise, sigma, x)  # x += noise · σ

    def _sensor_path(self, rgb: np.ndarray, index: int) -> np.ndarray:
        """Linear light through optics, exposure, noise, white balance, colour matrix, ADC and tone → uint8."""
        x = cv2.max(rgb, 0.0)
        if self.config.gamma == 2.0:
            cv2.multiply(x, x, dst=x)
        elif self.config.gamma != 1.0:
            cv2.pow(x, self.config.gamma, dst=x)
        if self._kernel is not None:
            x = cv2.filter2D(x, -1, self._kernel, borderType=cv2.BORDER_REFLECT)
        gain = self._exposure_gain(x, index) if self.auto_exposure else 1.0
        if self._vmap is not None:
            cv2.multiply(x, self._vmap, dst=x, scale=gain)
        elif gain != 1.0:
            x *= np.float32(gain)
        if self.noise:
            self._add_noise(x, gain, index)
        codes = cv2.transform(x, self._isp_matrix(index))
        np.clip(codes, 0.0, float(_ADC_MAX), out=codes)
        return self._lut.take(codes.astype(np.uint16))

    def apply(self, rgb: np.ndarray, index: int) -> np.ndarray:
        """Frame ``index`` of the clip (``float32 (H, W, 3)`` in [0, 1]) as the camera delivers it: ``uint8 (H, W, 3)``.

        Frames go in order: index 0 (re)starts the clip, index ``t`` must follow ``t − 1``.
        """
        W, H = self.size
        rgb = np.ascontiguousarray(rgb, dtype=np.float32)
        if rgb.shape != (H, W, 3):
            raise InputError(f"CameraModel.apply: expected a float (H, W, 3) = ({H}, {W}, 3) frame, got {rgb.shape}")
        if not 0 <= index < self.num_frames or (index != 0 and index != self._next):
            raise InputError(f"CameraModel.apply: frame {index} out of order; expected 0 or {self._next} "
                             f"(of {self.num_frames})")
        self._next = index + 1
        if self._identity:
            return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
        if index == 0:
            self._reset_state()
        if self._sensor:
            frame = self._sensor_path(rgb, index)
        else:
            frame = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
        if self.stream_size is not None:  # area averaging keeps the mean
            frame = cv2.resize(frame, self.stream_size, interpolation=cv2.INTER_AREA)
        if self.jpeg_quality is not None:
            frame = _jpeg(frame, self.jpeg_quality)
        if self._codec is not None:
            frame = self._codec(frame)
        if self.stream_size is not None:
            frame = cv2.resize(frame, (W, H), interpolation=cv2.INTER_LINEAR)
        return frame

    def describe(self) -> dict[str, Any]:
        """What was drawn for this clip, JSON-ready (for meta.json); ``None`` marks an effect that is off."""
        tone = None
        if self.tone is not None:
            tone = dict(zip(("gamma", "contrast", "black_level", "saturation"), map(_short, self.tone), strict=True))
        return {
            "gamma": self.config.gamma,
            "defocus_px": _short(self.defocus_px), "softness_px": _short(self.softness_px),
            "vignette": _short(self.vignette),
            "auto_exposure": None if not self.auto_exposure else {
                "bias_ev": _short(self._ae_bias / math.log(2.0)), "settle_s": _short(self._ae_settle),
                "damping": _short(self._ae_damping), "delay_frames": self._ae_delay, "drift": _short(self._ae_drift)},
            "white_balance": None if not self.white_balance else {
                "cast": _short(self._wb_cast), "tint": _short(self._wb_tint), "drift": _short(self._wb_drift)},
            "noise": None if not self.noise else {
                "shot": _short(self.shot_noise), "read": _short(self.read_noise), "chroma": _short(self.chroma_noise),
                "seed": self.noise_seed},
            "tone": tone,
            "stream_size": None if self.stream_size is None else list(self.stream_size),
            "jpeg_quality": self.jpeg_quality,
            "video": None if self._codec is None else {
                "bits_per_pixel": _short(self._codec.bpp), "key_interval": self._codec.key_interval},
        }


def _jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    """A real baseline JPEG round trip (4:2:0 chroma, as webcams' MJPEG streams)."""
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, int(quality),
                             cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420])
    if not ok:  # pragma: no cover - OpenCV's JPEG codec is built in
        raise RuntimeError("cv2.imencode('.jpg') failed")
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


__all__ = ["CAMERA_PRESETS", "CameraConfig", "CameraModel", "camera_preset"]
