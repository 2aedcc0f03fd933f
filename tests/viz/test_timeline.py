"""Run timelines: axes fit the data, the true score shows at key frames, one slow frame does not flatten the
time bars."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.viz.timeline import run_timelines, set_frame_marker

STAGES = ("flow", "decision", "seg", "warp", "fast", "stitch")


def frames_table(frames: int = 12, regions: int = 2) -> pd.DataFrame:
    rows = []
    for t in range(frames):
        for r in range(regions):
            segment = t == 0 or t % 4 == r
            rows.append({"frame": t, "region": r, "decision": "segment" if segment else "warp",
                         "score_pred": np.nan if t == 0 else 60.0 + 3 * t + r,
                         "score_true": 70.0 + t if segment and t else np.nan,
                         "score_cum": np.nan if t == 0 else 55.0 + 2 * t, "target": 60.0, "iou": 0.9,
                         **{f"t_{s}_ms": 1.0 for s in STAGES}})
    table = pd.DataFrame(rows)
    table.loc[0, "t_seg_ms"] = 1000.0  # a first call's set-up
    return table


def test_timelines_fit_the_data_and_show_true_scores_at_keys():
    fig = run_timelines(frames_table(), frame=3)
    low, high = fig.layout.yaxis.range
    assert 50 <= low <= 55 and high == 100.5  # scores span 55..96: not 0..101
    true = [t for t in fig.data if t.name and "true at keys" in t.name]
    assert true and all(np.isfinite(t.y).all() for t in true)
    assert sum(len(t.x) for t in true) == 5  # the segment decisions after frame 0 (both regions)
    top = fig.layout.yaxis4.range[1]
    assert 12 <= top < 20  # totals are 12 ms except one 1 s frame: the axis follows the others
    shown = [t.name for t in fig.data if t.showlegend is not False]
    assert len(shown) <= 2 + 1 + 1 + len(STAGES)  # one entry per region, target, IoU, stages


def test_frame_marker_moves_in_place_and_follows_the_frame():
    fig = run_timelines(frames_table())
    set_frame_marker(fig, 3, 4)
    first = fig.layout.shapes
    assert [(s.x0, s.x1, s.xref, s.yref) for s in first] == [(3, 3, "x", "y domain")] + [
        (3, 3, f"x{r}", f"y{r} domain") for r in range(2, 5)]
    set_frame_marker(fig, 7, 4)  # moved: the same four lines, now at frame 7
    assert [(s.x0, s.x1) for s in fig.layout.shapes] == [(7, 7)] * 4
    assert [s.yref for s in fig.layout.shapes] == [s.yref for s in first]
    set_frame_marker(fig, 2, 1)  # another row count redraws
    assert [(s.x0, s.xref) for s in fig.layout.shapes] == [(2, "x")]
    set_frame_marker(fig, None, 4)
    assert fig.layout.shapes == ()
    fig.add_vline(x=5)  # a figure with shapes of its own is redrawn, never edited in place
    set_frame_marker(fig, 1, 1)
    assert [(s.x0, s.name) for s in fig.layout.shapes] == [(1, "frame")]
