"""Network inputs of the segmentation variants, built the same way in training and in prediction.

Tensors: frames ``float32 (N, 3, H, W)`` RGB in [0, 1]; ``flow_bwd`` ``(N, 2, H, W)`` in pixels from frame t to
frame t−1 (docs/conventions.md), so it lives on frame t's pixel grid; ``prev_probs`` ``(N, K, H, W)`` class
probabilities of the previous frame's prediction (K = 1: the sigmoid of the binary logit).

- ``rgb``: RGB (``unet`` and the fast network).
- ``funet``: ``[motion mask, R, G, B]`` as the seed. The motion mask is 1 where the motion between t−1 and t
  is at least ``MOTION_THRESHOLD`` px **in any direction** (the seed kept only u ≥ 0.5 px, i.e. rightward
  motion), and it is exactly 0/1 in training *and* prediction (the seed fed 1.0 in training and ≈0.3 at
  prediction through a wrong colour conversion). We evaluate the magnitude of the flow from t to t−1: the
  same motion, expressed at frame t's pixels, which is where the mask is used.
- ``funet_flow`` (ours): ``[R, G, B, u/FLOW_NORM, v/FLOW_NORM, warped previous probabilities]``. The previous
  prediction is backward-warped to frame t by ``flow_bwd``; where the warp samples outside the frame, or on
  the first frame of a clip, the probabilities are uninformative (1/2 for binary, 1/K otherwise).
"""

from __future__ import annotations

import torch

from workbench.ops import warp

MOTION_THRESHOLD = 0.5  # px, the seed's threshold (applied there to u only)
FLOW_NORM = 10.0  # px: typical video-call motion at 320×192 is within ±10 px per frame
VARIANTS = ("rgb", "funet", "funet_flow")
#: where R, G, B sit among each variant's input channels
RGB_CHANNELS = {"rgb": slice(0, 3), "funet": slice(1, 4), "funet_flow": slice(0, 3)}


def motion_mask(flow_bwd: torch.Tensor, threshold: float = MOTION_THRESHOLD) -> torch.Tensor:
    """``(N, 1, H, W)`` 0/1: |flow| ≥ ``threshold`` px. NaN (unknown) flow counts as no motion."""
    magnitude = torch.linalg.vector_norm(torch.nan_to_num(flow_bwd), dim=1, keepdim=True)
    return (magnitude >= threshold).to(flow_bwd.dtype if flow_bwd.is_floating_point() else torch.float32)


def uninformative(num_classes: int, like: torch.Tensor) -> torch.Tensor:
    """Probabilities that say nothing: 1/2 (binary, one channel) or 1/K per class."""
    N, _, H, W = like.shape
    value = 0.5 if num_classes == 1 else 1.0 / num_classes
    return like.new_full((N, num_classes, H, W), value)


def warp_probs(prev_probs: torch.Tensor, flow_bwd: torch.Tensor) -> torch.Tensor:
    """The previous frame's probabilities on frame t's grid; outside samples become uninformative."""
    warped, valid = warp(prev_probs, flow_bwd)
    return warped * valid + uninformative(prev_probs.shape[1], prev_probs) * (1 - valid)


def build_input(variant: str, frame: torch.Tensor, flow_bwd: torch.Tensor | None = None,
                prev_probs: torch.Tensor | None = None, num_classes: int = 1) -> torch.Tensor:
    """The input tensor of ``variant`` (``rgb`` | ``funet`` | ``funet_flow``) for frame t."""
    if variant == "rgb":
        return frame
    if variant not in VARIANTS:
        raise ValueError(f"unknown input variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    if flow_bwd is None:
        raise ValueError(f"{variant} needs the flow from frame t to t−1")
    if flow_bwd.shape[0] != frame.shape[0] or flow_bwd.shape[-2:] != frame.shape[-2:]:
        raise ValueError(f"flow {tuple(flow_bwd.shape)} does not match frame {tuple(frame.shape)}")
    flow_bwd = torch.nan_to_num(flow_bwd.to(frame.dtype))
    if variant == "funet":
        return torch.cat([motion_mask(flow_bwd), frame], dim=1)  # (N, 4, H, W)
    probs = uninformative(num_classes, frame) if prev_probs is None else warp_probs(prev_probs, flow_bwd)
    return torch.cat([frame, flow_bwd / FLOW_NORM, probs], dim=1)  # (N, 3 + 2 + K, H, W)
