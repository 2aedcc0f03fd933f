"""Flow errors on hand cases: EPE, Fl-all (the > 3 px but < 5 % case), unknown and masked pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.metrics import epe, epe_map, fl_all, flow_errors

NAN = np.nan
# Pixels (row-major): exact; error 5 on |gt| = 5; unknown truth; error 4 on |gt| = 100 (> 3 px, < 5 %).
GT = np.array([[[0, 3], [NAN, 100]],
               [[0, 4], [NAN, 0]]], dtype=np.float32)
FLOW = np.array([[[0, 0], [7, 104]],
                 [[0, 0], [7, 0]]], dtype=np.float32)


def test_epe_map_marks_unknown_as_nan():
    errors = epe_map(FLOW, GT)
    assert errors.dtype == np.float32 and errors.shape == (2, 2)
    np.testing.assert_array_equal(errors, [[0, 5], [NAN, 4]])


def test_epe_and_fl_all_hand_case():
    assert epe(FLOW, GT) == pytest.approx(3.0)  # (0 + 5 + 4) / 3
    assert fl_all(FLOW, GT) == pytest.approx(1 / 3)  # only the 5-px error on a 5-px vector
    assert flow_errors(FLOW, GT) == pytest.approx(
        {"epe": 3.0, "fl_all": 1 / 3, "px1": 1 / 3, "px3": 1 / 3, "px5": 2 / 3, "num_valid": 3})


def test_valid_mask_excludes_more():
    valid = np.array([[False, True], [True, True]])
    assert epe(FLOW, GT, valid) == pytest.approx(4.5)
    assert fl_all(FLOW, GT, valid) == pytest.approx(1 / 2)
    assert flow_errors(FLOW, GT, valid)["num_valid"] == 2


def test_no_valid_pixel_gives_nan():
    none = np.zeros((2, 2), dtype=bool)
    assert np.isnan(epe(FLOW, GT, none))
    assert np.isnan(fl_all(FLOW, GT, none))
    summary = flow_errors(FLOW, GT, none)
    assert summary["num_valid"] == 0 and np.isnan(summary["epe"])


def test_nan_estimate_where_truth_known_is_an_error():
    flow = FLOW.copy()
    flow[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        epe(flow, GT)
    flow = FLOW.copy()
    flow[:, 1, 0] = np.inf  # where the truth is unknown: fine
    assert epe(flow, GT) == pytest.approx(3.0)


def test_batches_and_tensors():
    batch_flow, batch_gt = np.stack([FLOW, FLOW]), np.stack([GT, GT])
    assert epe(batch_flow, batch_gt) == pytest.approx(3.0)
    assert epe_map(batch_flow, batch_gt).shape == (2, 2, 2)
    assert fl_all(torch.from_numpy(FLOW), torch.from_numpy(GT)) == pytest.approx(1 / 3)


def test_input_checks():
    with pytest.raises(ValueError, match=r"\(2, 2, 2\).*\(2, 2, 3\)"):
        epe(np.zeros((2, 2, 3), np.float32), GT)
    with pytest.raises(ValueError, match=r"\(2, H, W\)"):
        epe(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="valid"):
        epe(FLOW, GT, np.ones((3, 3), bool))
