"""Optical-flow errors: end-point error (EPE) and the KITTI outlier rate Fl-all.

Conventions (docs/conventions.md): flow is ``float32 (2, H, W)`` — or a batch ``(N, 2, H, W)`` — in pixels,
channel 0 = dx (+right), channel 1 = dy (+down). A ground-truth vector with a non-finite component (NaN,
as ``workbench.io.read_flo`` returns unknown vectors) is unknown and excluded; an optional boolean
``valid`` mask ``(H, W)`` (``(N, H, W)`` for a batch) excludes more, e.g. KITTI's sparse valid map.

- end-point error at a pixel: ``|flow − gt|`` (Euclidean, in pixels);
- EPE: mean end-point error over valid pixels;
- Fl-all (KITTI 2015): fraction of valid pixels with error > 3 px **and** > 5 % of ``|gt|``;
- ``px1`` / ``px3`` / ``px5``: fraction of valid pixels with error < 1 / 3 / 5 px.

Every rate is a fraction in ``[0, 1]``; with no valid pixel the scores are NaN. A non-finite *estimated*
vector at a valid pixel is an error (``ValueError``), not something to average over.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.metrics.segmentation import _to_numpy

FL_ABS_PX = 3.0  # KITTI 2015 outlier: end-point error above 3 px ...
FL_REL = 0.05  # ... and above 5 % of the true flow magnitude


def _flow_pair(flow: Any, gt: Any) -> tuple[np.ndarray, np.ndarray]:
    """Checked ``float64`` (flow, gt) of equal shape ``(2, H, W)`` or ``(N, 2, H, W)``."""
    flow_array = _to_numpy(flow).astype(np.float64)
    gt_array = _to_numpy(gt).astype(np.float64)
    if gt_array.ndim not in (3, 4) or gt_array.shape[-3] != 2:
        raise ValueError(f"gt: expected flow of shape (2, H, W) or (N, 2, H, W), got {gt_array.shape}")
    if flow_array.shape != gt_array.shape:
        raise ValueError(f"flow: expected shape {gt_array.shape} like gt, got {flow_array.shape}")
    return flow_array, gt_array


def epe_map(flow: Any, gt: Any) -> np.ndarray:
    """Per-pixel end-point error, ``float32 (H, W)`` (``(N, H, W)`` for a batch); NaN where gt is unknown."""
    flow, gt = _flow_pair(flow, gt)
    known = np.isfinite(gt).all(axis=-3)
    error = np.sqrt(((flow - gt) ** 2).sum(axis=-3))
    return np.where(known, error, np.nan).astype(np.float32)


def _errors(flow: Any, gt: Any, valid: Any) -> tuple[np.ndarray, np.ndarray]:
    """End-point errors and true magnitudes (``float64``, 1-D) at valid pixels."""
    flow, gt = _flow_pair(flow, gt)
    mask = np.isfinite(gt).all(axis=-3)
    if valid is not None:
        valid_array = _to_numpy(valid)
        if valid_array.shape != mask.shape:
            raise ValueError(f"valid: expected a mask of shape {mask.shape}, got {valid_array.shape}")
        mask &= valid_array.astype(bool)
    delta = np.moveaxis(flow - gt, -3, 0)[:, mask]  # (2, M)
    if not np.isfinite(delta).all():
        bad = int(np.count_nonzero(~np.isfinite(delta).all(axis=0)))
        raise ValueError(f"flow: {bad} non-finite vector(s) where the ground truth is known; expected finite")
    magnitude = np.sqrt((np.moveaxis(gt, -3, 0)[:, mask] ** 2).sum(axis=0))
    return np.sqrt((delta**2).sum(axis=0)), magnitude


def epe(flow: Any, gt: Any, valid: Any = None) -> float:
    """Mean end-point error in pixels over valid pixels (NaN if there are none)."""
    error, _ = _errors(flow, gt, valid)
    return float(error.mean()) if error.size else float("nan")


def fl_all(flow: Any, gt: Any, valid: Any = None) -> float:
    """KITTI Fl-all: fraction of valid pixels with error > 3 px and > 5 % of ``|gt|`` (NaN if none)."""
    error, magnitude = _errors(flow, gt, valid)
    if not error.size:
        return float("nan")
    return float(np.mean((error > FL_ABS_PX) & (error > FL_REL * magnitude)))


def flow_errors(flow: Any, gt: Any, valid: Any = None) -> dict[str, float | int]:
    """Summary ``{"epe", "fl_all", "px1", "px3", "px5", "num_valid"}`` (see the module docstring)."""
    error, magnitude = _errors(flow, gt, valid)
    if not error.size:
        nan = float("nan")
        return {"epe": nan, "fl_all": nan, "px1": nan, "px3": nan, "px5": nan, "num_valid": 0}
    return {
        "epe": float(error.mean()),
        "fl_all": float(np.mean((error > FL_ABS_PX) & (error > FL_REL * magnitude))),
        "px1": float(np.mean(error < 1.0)),
        "px3": float(np.mean(error < 3.0)),
        "px5": float(np.mean(error < 5.0)),
        "num_valid": int(error.size),
    }
