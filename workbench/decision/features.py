"""Inputs of the decision network: what it sees of a (current region, key region) pair.

Two kinds (``FEATURE_KINDS``), both pooled to a fixed ``grid`` so that any region size gives one input size:

- ``flownet`` (DVSNet's choice): the flow network's deepest features — for ``pwc``, the output of the
  coarsest level's dense decoder, computed while estimating the flow from the current region to its key
  region. Only with ``--flow pwc``.
- ``flow`` (ours; any flow method, e.g. ``dis``): channels computed from the flow field and the warp —
  u and v and the magnitude (/ ``FLOW_NORM``), the flow's spatial gradient (motion boundaries, where warping
  fails), the photometric residual ``|current − warp(key frame)|``, the share of pixels warped from outside
  the key region, the warped key foreground probability, its uncertainty ``4p(1−p)`` (object boundaries), and
  residual × uncertainty (a boundary that moved). Average-pooled to the grid, plus max-pooled residual and
  motion boundaries.

- ``flow+fast`` (ours): the ``flow`` channels plus what a fast single-frame network (``fastseg``) says about
  the *current* region: its foreground probability and its disagreement ``|warped key prob − fast prob|``
  (average- and max-pooled). The true score is the warp's agreement with the accurate network's output on the
  current frame; the fast network's output is a cheap stand-in for it, and the corrector (``--correct``)
  computes it anyway.

All kinds add one scalar, the number of frames since the key frame / 10 (DVSNet does not; it is free and
tells the network how far the warp reaches).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from workbench.ops import warp

FEATURE_KINDS = ("flow", "flow+fast", "flownet")
FLOW_NORM = 10.0  # px, as the segmentation inputs
FLOW_CHANNELS = ("u", "v", "magnitude", "flow_gradient", "residual", "outside", "key_prob", "key_uncertainty",
                 "residual_x_uncertainty", "residual_max", "flow_gradient_max")
FAST_CHANNELS = ("fast_prob", "disagreement", "disagreement_max")  # appended after FLOW_CHANNELS (flow+fast)
OFFSET_NORM = 10.0
FEATURE_STRIDE = 2  # flow features are computed at half resolution


def foreground_prob(logits: torch.Tensor) -> torch.Tensor:
    """``(N, K, H, W)`` logits → ``(N, 1, H, W)`` probability of "not background"."""
    if logits.shape[1] == 1:
        return torch.sigmoid(logits)
    return 1.0 - torch.softmax(logits, dim=1)[:, :1]


def _gradient(flow: torch.Tensor) -> torch.Tensor:
    """``(N, 1, H, W)`` sum of absolute finite differences of u and v (px per px)."""
    dx = F.pad((flow[..., :, 1:] - flow[..., :, :-1]).abs(), (0, 1, 0, 0))
    dy = F.pad((flow[..., 1:, :] - flow[..., :-1, :]).abs(), (0, 0, 0, 1))
    return (dx + dy).sum(dim=1, keepdim=True)


def flow_features(current: torch.Tensor, key: torch.Tensor, flow: torch.Tensor, key_logits: torch.Tensor,
                  grid: tuple[int, int], fast_logits: torch.Tensor | None = None) -> torch.Tensor:
    """``flow`` features ``(N, 11, gh, gw)`` from frames ``(N, 3, H, W)`` in [0, 1], the flow current → key
    ``(N, 2, H, W)`` in px and the key region's logits ``(N, K, H, W)``; with ``fast_logits`` (a fast network's
    logits on the current region, ``(N, K, H, W)``) the ``flow+fast`` features ``(N, 14, gh, gw)``.

    Computed at 1/``FEATURE_STRIDE`` resolution (flow in pixels of that resolution): the grid is coarse anyway,
    and the warp path must stay cheap next to a segmentation (full resolution costs ~4× more)."""
    flow_px = torch.nan_to_num(flow.to(current.dtype))  # the u, v, |flow| channels stay in input pixels
    stride = FEATURE_STRIDE if min(current.shape[-2:]) >= 2 * FEATURE_STRIDE * max(grid) else 1
    if stride > 1:  # one pooling call for all inputs (per channel, so the same as pooling each)
        inputs = [current, key, key_logits.to(current.dtype), flow_px] + ([] if fast_logits is None else
                                                                          [fast_logits.to(current.dtype)])
        sizes = [x.shape[1] for x in inputs]
        pooled_inputs = F.avg_pool2d(torch.cat(inputs, dim=1), stride).split(sizes, dim=1)
        current, key, key_logits, flow_px = pooled_inputs[:4]
        if fast_logits is not None:
            fast_logits = pooled_inputs[4]
    flow = flow_px / stride
    warped_key, valid = warp(key, flow)
    residual = (current - warped_key).abs().mean(dim=1, keepdim=True) * valid
    prob, _ = warp(foreground_prob(key_logits), flow)
    uncertainty = 4.0 * prob * (1.0 - prob)
    gradient = _gradient(flow)
    magnitude = torch.sqrt(flow_px[:, :1] ** 2 + flow_px[:, 1:] ** 2)  # (linalg.norm over dim 1 is ~50× slower)
    dense = torch.cat([flow_px / FLOW_NORM, magnitude / FLOW_NORM, gradient, residual, 1.0 - valid, prob,
                       uncertainty, residual * uncertainty], dim=1)
    peaks = torch.cat([residual, gradient], dim=1)
    parts = [F.adaptive_avg_pool2d(dense, grid), F.adaptive_max_pool2d(peaks, grid)]
    if fast_logits is not None:
        fast = foreground_prob(fast_logits)
        disagreement = (prob - fast).abs()
        parts += [F.adaptive_avg_pool2d(torch.cat([fast, disagreement], dim=1), grid),
                  F.adaptive_max_pool2d(disagreement, grid)]
    return torch.cat(parts, dim=1)


def pooled(features: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """Flow-network features ``(N, C, h, w)`` resized (bilinearly) to the grid, as DVSNet resizes to 4×8."""
    return F.interpolate(features, size=grid, mode="bilinear", align_corners=False)


def offset_extra(offset: int) -> np.ndarray:
    return np.array([offset / OFFSET_NORM], np.float32)


def pair_inputs(kind: str, grid: tuple[int, int], current: torch.Tensor, key: torch.Tensor, flow: torch.Tensor,
                key_logits: torch.Tensor, offset: int, flownet_features: torch.Tensor | None = None,
                fast_logits: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The decision network's input ``(grid (1, C, gh, gw), extra (1, 1))`` for one region pair of ``kind``."""
    if kind == "flownet":
        if flownet_features is None:
            raise ValueError("flownet features need the flow network's features (--flow pwc)")
        features = pooled(flownet_features, grid)
    elif kind in ("flow", "flow+fast"):
        if kind == "flow+fast" and fast_logits is None:
            raise ValueError("flow+fast features need the fast network's logits on the current region")
        features = flow_features(current, key, flow, key_logits, grid, fast_logits if kind == "flow+fast" else None)
    else:
        raise ValueError(f"unknown decision features {kind!r}; expected one of {', '.join(FEATURE_KINDS)}")
    return features, torch.from_numpy(offset_extra(offset))[None]
