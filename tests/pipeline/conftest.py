"""Shared fixtures of the pipeline tests."""

from __future__ import annotations

import pytest
import torch

from workbench.seg.checkpoint import build_network


@pytest.fixture(scope="module")
def net():
    """A tiny untrained U-Net (seed 0): the pipeline tests check plumbing, not accuracy."""
    torch.manual_seed(0)
    net = build_network("unet", {"size": "tiny"})
    net.model.eval()
    return net
