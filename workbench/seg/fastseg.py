"""A fast per-frame segmentation network: strided stem, depthwise-separable encoder, light decoder.

In the spirit of real-time portrait segmenters (MobileNet-style blocks, Howard et al., arXiv 1704.04861;
the encoder–decoder of MediaPipe Selfie Segmentation): a stride-4 stem, inverted-residual blocks down to 1/16
(optionally 1/32), and a decoder that fuses the 1/4 features before upsampling bilinearly to the input size.
This is the per-frame baseline that adaptive key-frame scheduling of a slower network has to beat. Outputs are
logits.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from workbench.config import Config
from workbench.registry import register_model


@dataclass
class FastSegConfig(Config):
    in_channels: int = 3
    num_classes: int = 1
    width: int = 16  # channels after the stem; the encoder doubles it twice
    context: bool = False  # gate the deepest features by their global average (LR-ASPP, Howard et al. 2019)
    deep: bool = False  # one more stage, to 1/32 (8 × width channels), fused back at 1/16: a wider receptive field


def conv_bn(cin: int, cout: int, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, stride, 1, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """1×1 expand → 3×3 depthwise (stride) → 1×1 project, with a residual when shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int = 4):
        super().__init__()
        mid = cin * expand
        self.block = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(inplace=True),
            nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(inplace=True),
            nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.residual else self.block(x)


class FastSeg(nn.Module):
    def __init__(self, config: FastSegConfig | None = None):
        super().__init__()
        self.config = config = config or FastSegConfig()
        w = config.width
        self.stem = nn.Sequential(conv_bn(config.in_channels, w, stride=2), conv_bn(w, w, stride=2))  # 1/4
        self.stage8 = nn.Sequential(InvertedResidual(w, 2 * w, 2), InvertedResidual(2 * w, 2 * w, 1))  # 1/8
        self.stage16 = nn.Sequential(InvertedResidual(2 * w, 4 * w, 2), InvertedResidual(4 * w, 4 * w, 1),
                                     InvertedResidual(4 * w, 4 * w, 1))  # 1/16
        # Optional 1/32 stage: a pixel's label can depend on the whole head and shoulders (and the room around
        # them), which the receptive field at 1/16 (about 100 px) does not cover at 320×192.
        self.stage32 = self.fuse16 = None
        deepest = 4 * w
        if config.deep:
            deepest = 8 * w
            self.stage32 = nn.Sequential(InvertedResidual(4 * w, 8 * w, 2), InvertedResidual(8 * w, 8 * w, 1),
                                         InvertedResidual(8 * w, 8 * w, 1))
            self.fuse16 = nn.Sequential(nn.Conv2d(8 * w + 4 * w, 4 * w, 1, bias=False), nn.BatchNorm2d(4 * w),
                                        nn.ReLU6(inplace=True))
        # Whole-frame context: which channels matter is decided from the average over the frame, so a cue seen
        # anywhere (a face, a photograph's room) reaches every position; the receptive field alone does not.
        self.context = (nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(deepest, deepest, 1), nn.Sigmoid())
                        if config.context else None)
        self.fuse8 = nn.Sequential(nn.Conv2d(4 * w + 2 * w, 2 * w, 1, bias=False), nn.BatchNorm2d(2 * w),
                                   nn.ReLU6(inplace=True))
        self.fuse4 = nn.Sequential(nn.Conv2d(2 * w + w, w, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU6(inplace=True),
                                   nn.Conv2d(w, w, 3, padding=1, groups=w, bias=False), nn.BatchNorm2d(w),
                                   nn.ReLU6(inplace=True))
        self.head = nn.Conv2d(w, config.num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, C, H, W = x.shape
        if C != self.config.in_channels:
            raise ValueError(f"FastSeg expects {self.config.in_channels} input channels, got {C}")
        x4 = self.stem(x)
        x8 = self.stage8(x4)
        x16 = self.stage16(x8)
        if self.stage32 is not None:
            x32 = self.stage32(x16)
            if self.context is not None:
                x32 = x32 * self.context(x32)
            y = F.interpolate(x32, size=x16.shape[-2:], mode="bilinear", align_corners=False)
            x16 = self.fuse16(torch.cat([y, x16], dim=1))
        elif self.context is not None:
            x16 = x16 * self.context(x16)
        y = F.interpolate(x16, size=x8.shape[-2:], mode="bilinear", align_corners=False)
        y = self.fuse8(torch.cat([y, x8], dim=1))
        y = F.interpolate(y, size=x4.shape[-2:], mode="bilinear", align_corners=False)
        y = self.fuse4(torch.cat([y, x4], dim=1))
        return F.interpolate(self.head(y), size=(H, W), mode="bilinear", align_corners=False)  # logits


@register_model("fastseg", task="seg", input="rgb", options=("width", "context", "deep"),
                description="fast per-frame network: strided stem, inverted-residual encoder to 1/16 (1/32 with "
                            "deep), light decoder; input RGB")
def fastseg(num_classes: int = 1, **overrides) -> FastSeg:
    return FastSeg(FastSegConfig(num_classes=num_classes, **overrides))
