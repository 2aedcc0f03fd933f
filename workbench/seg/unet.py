"""U-Net and the FUNet variants (flow-guided U-Nets for head-and-shoulders segmentation).

U-Net: Ronneberger, Fischer, Brox, "U-Net: Convolutional Networks for Biomedical Image Segmentation",
MICCAI 2015 (arXiv 1505.04597). FUNet: Kuang & Tie, "Flow-based Video Segmentation for Human Head and
Shoulders" (arXiv 2104.09752): a U-Net whose input is ``[motion mask, R, G, B]``.

The seed code's U-Net has depth 3 — widths 64/128/256, two max-poolings, bilinear upsampling, two 3×3
conv + ReLU per stage, no batch norm — and one logit map. Here the widths are a parameter (``seed`` size and
smaller ones), the number of output classes too, and inputs of any size are padded (replicate) to a
multiple of ``2**(depth−1)`` and cropped back. Outputs are logits ``(N, num_classes, H, W)``.

Variants (inputs are assembled by the caller; channels in order):

- ``unet``: RGB in [0, 1] (3 channels);
- ``funet``: motion mask (1: |flow from t−1 to t| ≥ threshold, the *same* value in training and prediction —
  the seed used 1.0 in training and ≈0.3 at prediction, and only rightward motion) + RGB (4 channels);
- ``funet_flow`` (ours): RGB + flow t → t−1 divided by a normalisation (2) + the previous frame's prediction
  warped to t by that flow, as class probabilities (``num_classes`` channels, 1 for binary).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from workbench.config import Config
from workbench.registry import register_model

SEED_WIDTHS = (64, 128, 256)  # the seed code's depth-3 U-Net
# Depth 5: a receptive field that spans a head and shoulders at 320×192 (the depth-3 nets see ~40 px), at about
# the cost of ``small``; 1.7 M parameters.
DEEP_WIDTHS = (24, 48, 96, 128, 160)


@dataclass
class UNetConfig(Config):
    in_channels: int = 3
    num_classes: int = 1  # 1: one logit map (binary, BCE-with-logits); K > 1: K logits (CE)
    widths: tuple[int, ...] = SEED_WIDTHS
    batch_norm: bool = False  # the seed has none; with it, training from scratch converges much faster


def double_conv(cin: int, cout: int, batch_norm: bool = False) -> nn.Sequential:
    if not batch_norm:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
                             nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True))
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """Encoder of ``len(widths)`` stages (max-pool between them), decoder with bilinear upsampling and skips."""

    def __init__(self, config: UNetConfig | None = None):
        super().__init__()
        self.config = config = config or UNetConfig()
        widths = list(config.widths)
        self.encoders = nn.ModuleList()
        cin = config.in_channels
        for width in widths:
            self.encoders.append(double_conv(cin, width, config.batch_norm))
            cin = width
        self.decoders = nn.ModuleList()
        for skip in reversed(widths[:-1]):  # upsampled features concatenated with the skip of that scale
            self.decoders.append(double_conv(cin + skip, skip, config.batch_norm))
            cin = skip
        self.head = nn.Conv2d(cin, config.num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, C, H, W = x.shape
        if C != self.config.in_channels:
            raise ValueError(f"{type(self).__name__} expects {self.config.in_channels} input channels, got {C}")
        multiple = 2 ** (len(self.config.widths) - 1)
        pad_h, pad_w = (-H) % multiple, (-W) % multiple
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        skips = []
        for index, encoder in enumerate(self.encoders):
            if index:
                x = F.max_pool2d(x, 2)
            x = encoder(x)
            skips.append(x)
        for decoder, skip in zip(self.decoders, reversed(skips[:-1]), strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = decoder(torch.cat([x, skip], dim=1))
        return self.head(x)[:, :, :H, :W]  # (N, num_classes, H, W) logits


def _widths(size: str) -> tuple[int, ...]:
    sizes = {"seed": SEED_WIDTHS, "small": (32, 64, 128), "tiny": (16, 32, 64), "deep": DEEP_WIDTHS}
    if size not in sizes:
        raise ValueError(f"unknown U-Net size {size!r}; expected one of {', '.join(sizes)}")
    return sizes[size]


UNET_OPTIONS = ("size", "batch_norm")  # the SegTrainConfig fields a U-Net's builder takes


@register_model("unet", task="seg", input="rgb", options=UNET_OPTIONS,
                description="image-only U-Net (Ronneberger et al., MICCAI 2015, arXiv 1505.04597) in the FUNet "
                            "seed's depth-3 layout; input RGB")
def unet(size: str = "seed", num_classes: int = 1, **overrides) -> UNet:
    return UNet(UNetConfig(in_channels=3, num_classes=num_classes, widths=_widths(size), **overrides))


@register_model("funet", task="seg", input="funet", options=UNET_OPTIONS,
                description="FUNet (Kuang & Tie, arXiv 2104.09752): a U-Net fed `[motion mask, R, G, B]`, the "
                            "motion mask being |flow from t−1 to t| ≥ 0.5 px in any direction, exactly 0/1 in "
                            "training and prediction")
def funet(size: str = "seed", num_classes: int = 1, **overrides) -> UNet:
    return UNet(UNetConfig(in_channels=4, num_classes=num_classes, widths=_widths(size), **overrides))


@register_model("funet_flow", task="seg", input="funet_flow", options=UNET_OPTIONS,
                description="FUNet-flow (ours): a U-Net fed RGB + the flow from t to t−1 (÷10) + the previous "
                            "frame's prediction warped to frame t by that flow")
def funet_flow(size: str = "seed", num_classes: int = 1, **overrides) -> UNet:
    return UNet(UNetConfig(in_channels=3 + 2 + num_classes, num_classes=num_classes, widths=_widths(size),
                           **overrides))
