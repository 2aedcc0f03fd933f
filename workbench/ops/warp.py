"""Backward warping by optical flow.

Convention (docs/conventions.md): flow is in pixels, channel 0 = dx (+right), channel 1 = dy (+down);
``warp(img, flow)`` samples ``img`` at ``x + flow(x)`` with bilinear interpolation, so warping frame t−1
by ``flow_bwd[t]`` predicts frame t. Pixel centres sit at integer coordinates (0 … W−1), which is what
``grid_sample(align_corners=True)`` expects after normalising by ``W − 1``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def flow_grid(flow: torch.Tensor) -> torch.Tensor:
    """Absolute sampling positions ``x + flow(x)`` → ``(N, H, W, 2)`` normalised to [−1, 1]."""
    N, _, H, W = flow.shape
    ys, xs = torch.meshgrid(torch.arange(H, device=flow.device, dtype=flow.dtype),
                            torch.arange(W, device=flow.device, dtype=flow.dtype), indexing="ij")
    x = xs + flow[:, 0]  # (N, H, W)
    y = ys + flow[:, 1]
    # A 1-pixel axis has no extent to normalise by; any x maps to the centre.
    gx = 2.0 * x / max(W - 1, 1) - 1.0
    gy = 2.0 * y / max(H - 1, 1) - 1.0
    return torch.stack([gx, gy], dim=-1)


def warp(x: torch.Tensor, flow: torch.Tensor, mode: str = "bilinear", padding: str = "zeros", valid: bool = True
         ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Backward-warp ``x (N, C, H, W)`` by ``flow (N, 2, H, W)`` → ``(warped, valid)``.

    ``valid (N, 1, H, W)`` is 1.0 where the sample position lies inside the image (within the outermost
    pixel centres) and 0.0 elsewhere; ``warped`` is zero-padded outside (``padding="border"`` repeats the
    border instead — what warped logits need, since a zero logit means "undecided"). Unbatched ``(C, H, W)`` and
    ``(2, H, W)`` inputs are accepted and return unbatched results. Differentiable in ``x`` and ``flow``.
    ``valid=False`` skips the mask (``None``): a third less time for a one-channel warp (the warp path's logits;
    640×360, 2 threads: 5.3 → 3.5 ms median).
    """
    unbatched = x.dim() == 3
    if unbatched:
        x, flow = x.unsqueeze(0), flow.unsqueeze(0)
    if x.dim() != 4 or flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"warp expects x (N, C, H, W) and flow (N, 2, H, W), got {tuple(x.shape)} and "
                         f"{tuple(flow.shape)}")
    if x.shape[0] != flow.shape[0] or x.shape[-2:] != flow.shape[-2:]:
        raise ValueError(f"warp: x {tuple(x.shape)} and flow {tuple(flow.shape)} differ in batch or size")
    flow = flow.to(x.dtype)
    grid = flow_grid(flow)  # (N, H, W, 2)
    warped = F.grid_sample(x, grid, mode=mode, padding_mode=padding, align_corners=True)
    if not valid:
        return (warped[0] if unbatched else warped), None
    # Tolerance of 1e-3 px keeps samples exactly on the border valid despite float rounding.
    tol = 1e-3 * 2.0 / max(x.shape[-1] - 1, 1)
    inside = (grid.abs() <= 1.0 + tol).all(dim=-1)  # (N, H, W)
    mask = inside.unsqueeze(1).to(x.dtype)
    if unbatched:
        return warped[0], mask[0]
    return warped, mask
