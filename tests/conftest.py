"""Shared fixtures: small synthetic clips generated once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def easy_clips(tmp_path_factory) -> Path:
    """Three easy 320×192 clips of 16 frames (parts labels), written through the public API."""
    from workbench.data.synthetic import SynthConfig, synthesize

    out = tmp_path_factory.mktemp("synth") / "easy"
    synthesize(out, SynthConfig(clips=3, frames=16, size=(320, 192), seed=11, classes="parts", difficulty="easy"),
               progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_unet():
    """A tiny untrained U-Net (seed 0, eval mode) for tests of plumbing, not accuracy; never modify it."""
    import torch

    from workbench.seg.checkpoint import build_network

    torch.manual_seed(0)
    net = build_network("unet", {"size": "tiny"})
    net.model.eval()
    return net
