"""Optical flow: one interface (:class:`FlowEstimator`), one registry, several methods.

Convention (docs/conventions.md): ``estimate(frame_a, frame_b)`` takes two ``uint8`` RGB ``(H, W, 3)`` frames of
the same size and returns ``float32 (2, H, W)`` flow **from a to b** in pixels — channel 0 = dx (+right),
channel 1 = dy (+down) — so that ``frame_a(x) ≈ frame_b(x + flow(x))``; NaN marks unknown vectors (only the
ground truth has them). Every estimator checks its inputs with :func:`check_pair`.

Methods (``create_flow(name, **options)``, ``list_flows()``):

- ``dis`` — OpenCV Dense Inverse Search (Kroeger et al., ECCV 2016); ``preset`` = ultrafast | fast |
  medium (default);
- ``farneback`` — OpenCV Farnebäck polynomial expansion (SCIA 2003); pyramid and window parameters;
- ``zero`` — zero flow, the "nothing moved" baseline;
- ``gt`` — a sequence's ground-truth flow, composed over gaps longer than one frame (ablations);
  ``sequence`` (required);
- ``pwc`` — PWC-Net (Sun et al., CVPR 2018, arXiv 1709.02371) with our checkpoint from ``models/``.
"""

from workbench.flow import classical, ground_truth, pwc
from workbench.flow.base import (
    FlowEstimator,
    check_pair,
    create_flow,
    flow_capability,
    flow_for,
    list_flows,
    register_flow,
)

__all__ = ["FlowEstimator", "check_pair", "classical", "create_flow", "flow_capability", "flow_for", "ground_truth",
           "list_flows", "pwc", "register_flow"]
