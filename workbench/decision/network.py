"""The decision network: regress the expected confidence score (0–100) of warping a region (DVSNet §3.3).

DVSNet's design, scaled to our sizes: one 3×3 conv over the pooled features, then fully connected layers
(DVSNet: conv 96 → FC 1024 → FC 1024 → FC 10 → FC 1; ours by default conv 32 → FC 256 → FC 64 → FC 10 →
FC 1), leaky ReLU 0.1 and dropout 0.5 after the two large FC layers, trained with MSE on the score. Our
extra scalar inputs (the frames since the key frame) join the flattened conv output.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from workbench.config import Config
from workbench.registry import register_model


@dataclass
class DecisionConfig(Config):
    in_channels: int = 11
    grid: tuple[int, int] = (4, 8)  # (rows, cols) the features are pooled to (DVSNet: 4×8)
    extra: int = 1  # scalar inputs (frames since the key frame)
    conv_channels: int = 32  # DVSNet: 96
    fc: tuple[int, ...] = (256, 64, 10)  # DVSNet: 1024, 1024, 10
    dropout: float = 0.5
    # Ours: whole-region summaries of the input grid join the FC layers — each channel's mean and maximum
    # over the grid and, when ``area_channel`` names the warped key foreground channel, each channel's mean
    # divided by the person's share of the region (the score is an IoU: the same error costs more on a small
    # person). DVSNet's FC layers see only the conv features.
    summaries: bool = True
    area_channel: int | None = 6  # "key_prob" of the flow features; None for the flow network's features


class DecisionNet(nn.Module):
    """``forward(grid (N, C, gh, gw), extra (N, E))`` → predicted score ``(N,)`` (unbounded; clamp to use)."""

    def __init__(self, config: DecisionConfig | None = None):
        super().__init__()
        self.config = config = config or DecisionConfig()
        self.conv = nn.Sequential(nn.Conv2d(config.in_channels, config.conv_channels, 3, padding=1),
                                  nn.LeakyReLU(0.1))
        cin = config.conv_channels * config.grid[0] * config.grid[1] + config.extra + self.num_summaries
        layers: list[nn.Module] = []
        for i, width in enumerate(config.fc):
            layers += [nn.Linear(cin, width), nn.LeakyReLU(0.1)]
            if i < 2 and config.dropout > 0:
                layers.append(nn.Dropout(config.dropout))
            cin = width
        layers.append(nn.Linear(cin, 1))
        self.head = nn.Sequential(*layers)
        # Per-channel standardisation of the inputs, set from the training data (set_normalization).
        self.register_buffer("in_mean", torch.zeros(config.in_channels))
        self.register_buffer("in_std", torch.ones(config.in_channels))
        self.register_buffer("sum_mean", torch.zeros(self.num_summaries))
        self.register_buffer("sum_std", torch.ones(self.num_summaries))
        # Start near a high score, where most labels are: the last bias holds the mean until it learns more.
        nn.init.constant_(self.head[-1].bias, 80.0)

    @property
    def num_summaries(self) -> int:
        c = self.config
        return 0 if not c.summaries else c.in_channels * (3 if c.area_channel is not None else 2)

    def summarize(self, grid: torch.Tensor) -> torch.Tensor:
        """``(N, num_summaries)``: per-channel mean and max over the grid (and means per person area)."""
        mean = grid.mean(dim=(2, 3))
        parts = [mean, grid.amax(dim=(2, 3))]
        if self.config.area_channel is not None:
            parts.append(mean / mean[:, self.config.area_channel:self.config.area_channel + 1].clamp_min(0.05))
        return torch.cat(parts, dim=1)

    def set_normalization(self, grid: torch.Tensor) -> None:
        """Standardise each input channel (and summary) by its mean and std over ``grid (N, C, gh, gw)``."""
        self.in_mean.copy_(grid.mean(dim=(0, 2, 3)))
        self.in_std.copy_(grid.std(dim=(0, 2, 3)).clamp_min(1e-3))
        if self.num_summaries:
            summaries = self.summarize(grid)
            self.sum_mean.copy_(summaries.mean(dim=0))
            self.sum_std.copy_(summaries.std(dim=0).clamp_min(1e-3))

    def forward(self, grid: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        parts = [self.conv((grid - self.in_mean[:, None, None]) / self.in_std[:, None, None]).flatten(1)]
        if self.num_summaries:
            parts.append((self.summarize(grid) - self.sum_mean) / self.sum_std)
        x = torch.cat(parts, dim=1)
        if self.config.extra:
            if extra is None:
                raise ValueError(f"DecisionNet expects {self.config.extra} extra input(s)")
            x = torch.cat([x, extra.to(x.dtype)], dim=1)
        return self.head(x)[:, 0]


@register_model("decision", task="decision")
def decision(**overrides) -> DecisionNet:
    return DecisionNet(DecisionConfig(**overrides))
