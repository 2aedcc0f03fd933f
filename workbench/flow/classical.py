"""Classical optical flow behind the :class:`~workbench.flow.base.FlowEstimator` interface: OpenCV DIS,
OpenCV Farnebäck, and zero flow (the baseline every method must beat).

Convention (``workbench.flow.base``): ``estimate(frame_a, frame_b)`` takes ``uint8`` RGB ``(H, W, 3)`` frames
and returns ``float32 (2, H, W)`` flow **from a to b** in pixels (dx, dy), ``frame_a(x) ≈ frame_b(x + flow(x))``.
OpenCV's ``calc(prev, next)`` returns exactly that (``prev(x) ≈ next(x + flow(x))``) as ``(H, W, 2)``; we pass
``prev = a``, ``next = b`` and move the channel axis first. Both OpenCV methods work on one grey channel:
frames are converted with ``cv2.COLOR_RGB2GRAY`` (ITU-R BT.601 luma, rounded) inside :meth:`estimate`.

Threads: DIS and Farnebäck parallelise internally over ``cv2.getNumThreads()`` threads. Their output does not
depend on the thread count (checked: identical flow with 1, 2, 4 and 8 threads on the motorcycle pair), so
``estimate`` does not pin threads; whoever times them (``workbench bench flow``) sets ``cv2.setNumThreads``.
An estimator holds one OpenCV object: use one estimator per Python thread.

- **DIS** — Kroeger et al., "Fast Optical Flow using Dense Inverse Search", ECCV 2016 (arXiv 1603.03590).
  OpenCV's three presets trade accuracy for speed (8×8 patches in all): ``ultrafast`` stops at 1/4
  resolution (then upsamples) with 12 descent iterations and no variational refinement; ``fast`` adds 16
  iterations and 5 refinement iterations; ``medium`` (our default) goes down to 1/2 resolution with patch
  stride 3 and 25 iterations.
- **Farnebäck** — Farnebäck, "Two-Frame Motion Estimation Based on Polynomial Expansion", SCIA 2003.
  Defaults are OpenCV's tutorial values (pyramid scale 0.5, 3 levels, 15 px window, 3 iterations,
  5 px polynomial neighbourhood with σ 1.2). With 3 levels the coarsest image is 1/4 size, so
  displacements beyond roughly 10–20 px are lost: fine for webcam motion between consecutive frames,
  poor on wide-baseline pairs (25.5 px EPE on the motorcycle stereo pair, where DIS gets 2.6 px; more levels
  did not change that result in OpenCV 5.0, a larger window of 21 px with 5 levels gave 21.7 px).
- **zero** — no motion anywhere; its EPE is the mean true flow magnitude.
"""

from __future__ import annotations

import cv2
import numpy as np

from workbench.errors import InputError
from workbench.flow.base import FlowEstimator, check_pair, register_flow

DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


def to_gray(frame: np.ndarray) -> np.ndarray:
    """``uint8`` RGB ``(H, W, 3)`` → ``uint8 (H, W)`` luma (BT.601, rounded: OpenCV's ``RGB2GRAY``)."""
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def _channels_first(flow: np.ndarray) -> np.ndarray:
    """OpenCV ``(H, W, 2)`` flow → ``float32 (2, H, W)``."""
    return np.ascontiguousarray(flow.transpose(2, 0, 1), dtype=np.float32)


@register_flow("dis")
class DISFlow(FlowEstimator):
    """OpenCV Dense Inverse Search flow with one of the presets ``ultrafast``, ``fast``, ``medium``."""

    def __init__(self, preset: str = "medium"):
        if preset not in DIS_PRESETS:
            raise InputError(f"unknown DIS preset {preset!r}; expected one of {', '.join(DIS_PRESETS)}")
        self.preset = preset
        self._dis = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])

    def estimate(self, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        check_pair(frame_a, frame_b)
        h, w = frame_a.shape[:2]
        if min(h, w) < 8 or max(h, w) < 12:  # OpenCV's DIS refuses smaller images with an exception
            raise InputError(f"flow (dis): {w}x{h} frames are too small; DIS needs at least 12x8 px (or 8x12)")
        return _channels_first(self._dis.calc(to_gray(frame_a), to_gray(frame_b), None))

    def __repr__(self) -> str:
        return f"DISFlow(preset={self.preset!r})"


@register_flow("farneback")
class FarnebackFlow(FlowEstimator):
    """OpenCV Farnebäck flow; the defaults are OpenCV's tutorial values (see the module docstring)."""

    def __init__(self, pyr_scale: float = 0.5, levels: int = 3, winsize: int = 15, iterations: int = 3,
                 poly_n: int = 5, poly_sigma: float = 1.2):
        if not 0 < pyr_scale < 1 or levels < 1 or winsize < 3 or iterations < 1:
            raise InputError(f"farneback: expected 0 < pyr_scale < 1, levels >= 1, winsize >= 3, iterations >= 1; "
                             f"got {pyr_scale}, {levels}, {winsize}, {iterations}")
        if poly_n not in (5, 7):
            raise InputError(f"farneback: poly_n must be 5 or 7 (OpenCV's polynomial neighbourhoods), got {poly_n}")
        self.params = {"pyr_scale": pyr_scale, "levels": levels, "winsize": winsize, "iterations": iterations,
                       "poly_n": poly_n, "poly_sigma": poly_sigma}

    def estimate(self, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        check_pair(frame_a, frame_b)
        p = self.params
        flow = cv2.calcOpticalFlowFarneback(to_gray(frame_a), to_gray(frame_b), None, p["pyr_scale"], p["levels"],
                                            p["winsize"], p["iterations"], p["poly_n"], p["poly_sigma"], 0)
        return _channels_first(flow)

    def __repr__(self) -> str:
        return f"FarnebackFlow({', '.join(f'{k}={v}' for k, v in self.params.items())})"


@register_flow("zero")
class ZeroFlow(FlowEstimator):
    """Zero flow everywhere: the "nothing moved" baseline."""

    def estimate(self, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        check_pair(frame_a, frame_b)
        H, W = frame_a.shape[:2]
        return np.zeros((2, H, W), np.float32)
