"""Sweep trade-off figures name each curve as the run ids name the policy (the decision rule included)."""

from __future__ import annotations

import pandas as pd

from workbench.viz.sweep import curve_name, tradeoff_figure
from workbench.viz.timeline import tradeoff

TABLE = pd.DataFrame([
    {"method": m, "param": p, "mean_iou": iou, "fps": fps, "key_fraction": k, "seg": "unet", "clip": "all"}
    for m, p, iou, fps, k in [("per-frame", None, 0.95, 6.0, 1.0), ("fixed", 5, 0.94, 30.0, 0.2),
                              ("fixed", 2, 0.95, 12.0, 0.5), ("adaptive", 60, 0.945, 29.0, 0.12),
                              ("adaptive", 90, 0.95, 15.0, 0.37), ("oracle", 60, 0.944, 40.0, 0.11)]])


def test_curve_names_follow_the_rule():
    assert curve_name("adaptive") == "adaptive" and curve_name("fixed", "cumulative") == "fixed"
    assert curve_name("oracle", "cumulative") == "oracle-cumulative"
    plotly_names = {t.name for t in tradeoff(TABLE, "key_fraction", rule="cumulative").data}
    assert {"adaptive-cumulative (unet)", "oracle-cumulative (unet)", "fixed (unet)"} <= plotly_names
    figure = tradeoff_figure(TABLE, "key_fraction", reference="unet", rule="cumulative")
    labels = {line.get_label() for line in figure.axes[0].get_lines()}
    assert {"adaptive-cumulative", "oracle-cumulative", "fixed"} <= labels
    plain = tradeoff_figure(TABLE, "fps", reference="unet")
    assert "adaptive" in {line.get_label() for line in plain.axes[0].get_lines()}
