"""The motorcycle stereo pair: real images with ground-truth flow, as scikit-image ships them."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("skimage")

from workbench.data.realflow import motorcycle_pair  # noqa: E402
from workbench.flow import create_flow  # noqa: E402
from workbench.metrics import flow_errors  # noqa: E402
from workbench.ops import warp  # noqa: E402

# Measured with workbench.flow's DIS medium (OpenCV 5.0.0, rounded BT.601 grey); the 2.60 px came
# from a truncating grey conversion (see workbench.data.realflow).
DIS_MEDIUM_EPE = 2.628


@pytest.fixture(scope="module")
def pair():
    return motorcycle_pair()


def test_shapes_and_known_pixels(pair):
    frame_a, frame_b, flow = pair
    assert frame_a.shape == frame_b.shape == (500, 741, 3) and frame_a.dtype == frame_b.dtype == np.uint8
    assert flow.shape == (2, 500, 741) and flow.dtype == np.float32
    known = np.isfinite(flow).all(axis=0)
    assert np.array_equal(known, np.isfinite(flow).any(axis=0))  # unknown = both components NaN
    assert 0.92 < known.mean() < 0.93
    assert (flow[1][known] == 0).all()  # rectified stereo: horizontal flow only
    assert -60 < flow[0][known].min() and flow[0][known].max() < -7  # left → right moves left by d
    assert np.abs(flow[0][known]).mean() == pytest.approx(34.34, abs=0.01)  # zero flow's EPE


def test_flow_direction_predicts_the_first_image(pair):
    """warp(frame_b, flow) ≈ frame_a where known, and much better than the opposite sign."""
    import torch

    frame_a, frame_b, flow = pair
    known = np.isfinite(flow).all(axis=0)
    b = torch.from_numpy(frame_b).permute(2, 0, 1).float()
    a = frame_a.astype(np.float32).transpose(2, 0, 1)
    errors = []
    for sign in (1, -1):
        warped, valid = warp(b, torch.from_numpy(np.nan_to_num(sign * flow)))
        where = known & (valid[0].numpy() > 0)
        errors.append(np.median(np.abs(warped.numpy() - a)[:, where]))
    assert errors[0] < 6 and errors[1] > 3 * errors[0]


def test_dis_medium_epe(pair):
    frame_a, frame_b, flow = pair
    errors = flow_errors(create_flow("dis", preset="medium").estimate(frame_a, frame_b), flow)
    assert errors["epe"] == pytest.approx(DIS_MEDIUM_EPE, abs=0.1)
    assert errors["fl_all"] == pytest.approx(0.168, abs=0.01)
    assert errors["num_valid"] == int(np.isfinite(flow[0]).sum())
