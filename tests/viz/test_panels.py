"""The dashboard's frame panels: the region labels state the comparison that was made."""

import numpy as np

from workbench.viz.panels import (
    AGREEMENT_COLORS,
    agreement,
    agreement_panel,
    compared_score,
    epe_panel,
    panel_sheet,
    region_label,
    regions_panel,
)

NAN = float("nan")


def test_compared_score_is_the_number_the_rule_compared():
    # cumulative rule: the compound score, not the decision network's prediction for this frame
    assert compared_score(80.4, NAN, 49.9) == (49.9, "compound")
    assert compared_score(80.4, 70.0, NAN) == (80.4, "predicted")  # threshold rule, adaptive
    assert compared_score(NAN, 70.0, NAN) == (70.0, "true")  # oracle
    value, name = compared_score(NAN, NAN, NAN)  # per-frame, fixed, flow-only: nothing compared
    assert np.isnan(value) and name == ""


def test_region_label_agrees_with_the_decision():
    score, name = compared_score(80.4, NAN, 49.9)
    assert region_label("segment", 12, score, name, 60.0) == ["segment (key 12)", "compound 49.9 < 60.0"]
    assert region_label("warp", 3, 91.0, "predicted", 90.0) == ["warp (key 3)", "predicted 91.0 >= 90.0"]
    assert region_label("segment", None, NAN, "", NAN) == ["segment"]
    assert region_label("warp", 0, 77.0, "true", NAN) == ["warp (key 0)", "true 77.0"]


def test_regions_panel_is_enlarged_for_readable_labels():
    image = np.full((192, 320, 3), 90, np.uint8)
    boxes = [[0, 0, 176, 112], [144, 0, 320, 112], [0, 80, 176, 192], [144, 80, 320, 192]]
    panel = regions_panel(image, boxes, ["segment", "warp", "warp", "segment"], [49.9, 95.0, NAN, 10.0],
                          [60.0] * 4, [4, 0, 0, 4], selected=1, names=["compound"] * 4)
    assert panel.shape == (384, 640, 3) and panel.dtype == np.uint8
    assert (panel > 200).any(axis=2).sum() > 500  # white label glyphs were drawn
    wide = regions_panel(np.zeros((360, 640, 3), np.uint8), [[0, 0, 640, 360]], ["warp"], [NAN], [NAN])
    assert wide.shape == (360, 640, 3)  # already wide enough: not enlarged


def test_agreement_says_who_is_right():
    truth = np.array([[1, 1, 0, 0, 255]], np.uint8)
    a = np.array([[1, 0, 0, 1, 1]], np.uint8)
    b = np.array([[1, 1, 1, 1, 0]], np.uint8)
    parts = agreement(a, b, truth)
    assert parts["both right"].tolist() == [[True, False, False, False, False]]
    assert parts["only A right"].tolist() == [[False, False, True, False, False]]
    assert parts["only B right"].tolist() == [[False, True, False, False, False]]
    assert parts["both wrong"].tolist() == [[False, False, False, True, False]]  # the ignored pixel: in none
    panel = agreement_panel(a, b, truth, np.full((1, 5, 3), 90, np.uint8))
    assert tuple(panel[0, 2]) == AGREEMENT_COLORS["only A right"] and tuple(panel[0, 0]) == (30, 30, 30)


def test_epe_panel_shares_one_labelled_scale():
    error = np.array([[0.0, 1.0, 2.0, np.nan]] * 8, np.float32)
    panel = epe_panel(error, vmax=2.0)
    assert panel.shape[1] == 4 and panel.shape[0] > 8  # the map, then the colour bar and its labels
    assert tuple(panel[0, 3]) == (128, 128, 128)  # not estimated: grey
    same = epe_panel(error * 0.5, vmax=2.0)  # half the error on the same scale: darker, not re-stretched
    assert same[0, 2].sum() < panel[0, 2].sum()
    assert (epe_panel(error * 5, vmax=2.0)[0, 1] == panel[0, 2]).all()  # saturates at vmax


def test_panel_sheet_lays_out_captioned_panels():
    pictures = [(np.zeros((192, 320, 3), np.uint8), "input"), (np.zeros((96, 160), np.uint8), "gray"),
                (np.zeros((384, 640, 3), np.uint8), "regions"), (np.zeros((192, 320, 3), np.uint8), "flow")]
    sheet = panel_sheet(pictures, columns=3, width=240)
    assert sheet.shape == (2 * (144 + 24), 3 * 240, 3)  # two rows of three columns, 24 px of caption each
    assert (sheet[:24] < 128).any()  # caption text
