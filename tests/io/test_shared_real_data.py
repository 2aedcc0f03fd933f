"""Real-image material from ../shared/data (tests only; skipped when absent): a Sintel pair and PWC-Net flow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workbench.io import read_flo, read_image
from workbench.metrics import epe
from workbench.viz import flow_to_color

SINTEL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sintel-pair"
pytestmark = pytest.mark.skipif(not SINTEL.is_dir(), reason="../shared/data/sintel-pair not present")


def test_reads_the_reference_flow_and_frames():
    flow = read_flo(SINTEL / "pwcnet_caffe_0010_to_0011.flo")
    frame = read_image(SINTEL / "frame_0010.png")
    assert flow.shape == (2, 436, 1024) and frame.shape == (436, 1024, 3)
    # The data's README: mean |flow| 5.92 px, max 37.4 px — so zero flow scores 5.92 px EPE against it.
    magnitude = np.sqrt((flow**2).sum(axis=0))
    assert magnitude.mean() == pytest.approx(5.92, abs=0.01)
    assert magnitude.max() == pytest.approx(37.4, abs=0.1)
    assert epe(np.zeros_like(flow), flow) == pytest.approx(5.92, abs=0.01)
    assert flow_to_color(flow).shape == (436, 1024, 3)


def test_opencv_dis_lands_near_the_reference():
    """The data's README measured DIS medium at 1.48 px EPE from the PWC-Net output."""
    import cv2

    gray = [cv2.cvtColor(read_image(SINTEL / f"frame_00{n}.png"), cv2.COLOR_RGB2GRAY) for n in (10, 11)]
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    estimate = dis.calc(gray[0], gray[1], None).transpose(2, 0, 1)
    assert epe(estimate, read_flo(SINTEL / "pwcnet_caffe_0010_to_0011.flo")) == pytest.approx(1.48, abs=0.25)
