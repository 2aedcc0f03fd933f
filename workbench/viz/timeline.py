"""Interactive plotly figures of run records: timelines, trade-off curves, flow histograms.

Inputs are plain tables: ``frames`` is a run's ``frames.parquet`` (one row per frame and region, see
:mod:`workbench.pipeline.run`), ``table`` a sweep table (:mod:`workbench.experiments.sweep`). Every timeline's x axis is
the frame index, so a click on any point names a frame (the dashboard moves its slider there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from workbench.viz.sweep import curve_name

STAGE_COLORS = {"flow": "#1f77b4", "decision": "#9467bd", "seg": "#ff7f0e", "warp": "#2ca02c", "fast": "#17becf",
                "stitch": "#7f7f7f"}
FRAME_MARKER = "frame"  # the name of the shapes set_frame_marker draws
REGION_COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]


def set_frame_marker(fig, frame: int | None, rows: int = 1) -> None:
    """Draw (or move) the dotted vertical line at ``frame`` on each of the figure's ``rows`` stacked subplots.

    A figure built once can follow the frame slider cheaply: rebuilding a four-row figure costs ~400 ms,
    replacing its shapes ~40 ms (plotly validates each new shape), moving the marker's shapes in place ~3 ms
    — so a figure whose shapes are this marker's moves them."""
    marker = [shape for shape in fig.layout.shapes if shape.name == FRAME_MARKER]
    if frame is not None and len(marker) == rows == len(fig.layout.shapes):
        for shape in marker:
            shape.x0 = shape.x1 = frame
        return
    shapes = []
    if frame is not None:
        for row in range(1, rows + 1):
            suffix = "" if row == 1 else str(row)
            shapes.append({"type": "line", "name": FRAME_MARKER, "xref": f"x{suffix}", "yref": f"y{suffix} domain",
                           "x0": frame, "x1": frame, "y0": 0, "y1": 1,
                           "line": {"width": 1.5, "dash": "dot", "color": "black"}})
    fig.layout.shapes = shapes


def run_timelines(frames, frame: int | None = None, others: Mapping[str, object] | None = None,
                  label: str = "this run", height: int = 620):
    """Four linked rows: per-region predicted score (and, under the cumulative rule, the compound score that
    was compared; at key frames the true score, known there for free) with the target (as it moved), key-frame
    decisions (raster: a mark where a region was re-segmented), IoU over time (this run and ``others``: label →
    frames table), stage times stacked per frame.

    The score axis fits the data (from 3 points below its lowest value to 100); the time axis fits the frames
    whose total is within 5× the median, so that a slow frame (a first call's set-up) does not flatten the
    others — its bar is cut, its hover text keeps the value.

    Long because it builds one figure row after another; each row is a few traces with their axes.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.04, row_heights=[0.32, 0.16, 0.26, 0.26],
                        subplot_titles=("score per region (line: predicted, dotted: compound, x: true) vs the target "
                                        "(dashed)",
                                        "key frames: a mark where a region was re-segmented",
                                        "IoU of the frame (ground truth or teacher)",
                                        "time per frame by stage (ms, no I/O)"))
    regions = sorted(frames["region"].unique())
    for r in regions:
        rows = frames[frames["region"] == r].sort_values("frame")
        color = REGION_COLORS[r % len(REGION_COLORS)]
        if rows["score_pred"].notna().any():
            fig.add_trace(go.Scatter(x=rows["frame"], y=rows["score_pred"], mode="lines+markers", name=f"region {r}",
                                     line={"color": color, "width": 1.5}, marker={"size": 4},
                                     legendgroup=f"r{r}"), row=1, col=1)
        elif rows["score_true"].notna().any():
            fig.add_trace(go.Scatter(x=rows["frame"], y=rows["score_true"], mode="markers",
                                     name=f"region {r} (true)", marker={"color": color, "size": 5, "symbol": "x"},
                                     legendgroup=f"r{r}"), row=1, col=1)
        if "score_cum" in rows and rows["score_cum"].notna().any():  # cumulative rule: what met the target
            fig.add_trace(go.Scatter(x=rows["frame"], y=rows["score_cum"], mode="lines", name=f"region {r} compound",
                                     line={"color": color, "width": 1, "dash": "dot"}, legendgroup=f"r{r}",
                                     showlegend=False), row=1, col=1)
        keys = rows[rows["decision"] == "segment"]
        known = keys[keys["score_true"].notna()] if rows["score_pred"].notna().any() else keys.iloc[:0]
        if len(known):  # a re-segmented region's true score costs nothing: both paths were computed
            fig.add_trace(go.Scatter(x=known["frame"], y=known["score_true"], mode="markers",
                                     name=f"region {r} true at keys", showlegend=False, legendgroup=f"r{r}",
                                     marker={"color": color, "size": 7, "symbol": "x"}), row=1, col=1)
        fig.add_trace(go.Scatter(x=keys["frame"], y=[r] * len(keys), mode="markers", name=f"region {r} keys",
                                 marker={"color": color, "symbol": "line-ns-open", "size": 12,
                                         "line": {"width": 2, "color": color}},
                                 showlegend=False, legendgroup=f"r{r}"), row=2, col=1)
    targets = frames[frames["region"] == regions[0]].sort_values("frame")
    if targets["target"].notna().any():
        fig.add_trace(go.Scatter(x=targets["frame"], y=targets["target"], mode="lines", name="target",
                                 line={"color": "black", "dash": "dash", "shape": "hv"}), row=1, col=1)
    per_frame = frames.groupby("frame").agg(iou=("iou", "first")).reset_index()
    fig.add_trace(go.Scatter(x=per_frame["frame"], y=per_frame["iou"], mode="lines+markers", name=f"IoU {label}",
                             line={"color": "black", "width": 2}, marker={"size": 4}), row=3, col=1)
    for i, (name, other) in enumerate((others or {}).items()):
        other_frame = other.groupby("frame").agg(iou=("iou", "first")).reset_index()
        fig.add_trace(go.Scatter(x=other_frame["frame"], y=other_frame["iou"], mode="lines", name=f"IoU {name}",
                                 line={"color": REGION_COLORS[(i + 3) % len(REGION_COLORS)], "width": 1.5}),
                      row=3, col=1)
    present = {s: c for s, c in STAGE_COLORS.items() if f"t_{s}_ms" in frames}  # older runs lack "fast"
    stages = frames.groupby("frame")[[f"t_{s}_ms" for s in present]].sum().reset_index()
    for stage, color in present.items():
        fig.add_trace(go.Bar(x=stages["frame"], y=stages[f"t_{stage}_ms"], name=stage, marker_color=color),
                      row=4, col=1)
    fig.update_layout(barmode="stack", height=height, margin={"l": 40, "r": 10, "t": 30, "b": 30},
                      legend={"orientation": "h", "y": -0.08}, clickmode="event+select", hovermode="closest")
    scores = frames[[c for c in ("score_pred", "score_true", "score_cum", "target") if c in frames]].to_numpy(float)
    low = float(np.nanmin(scores)) if np.isfinite(scores).any() else 0.0
    fig.update_yaxes(range=[max(0.0, np.floor(low) - 3), 100.5], row=1, col=1)
    totals = stages[[f"t_{s}_ms" for s in present]].sum(axis=1).to_numpy(float)
    if len(totals) and np.isfinite(totals).any():
        typical = totals[totals <= 5 * np.nanmedian(totals)]  # without the outliers (set-up, a stalled frame)
        fig.update_yaxes(range=[0, 1.15 * float(np.nanmax(typical)) + 1e-3], row=4, col=1)
    fig.update_yaxes(tickvals=regions, range=[-0.5, max(regions) + 0.5], row=2, col=1)
    fig.update_xaxes(title_text="frame", row=4, col=1)
    set_frame_marker(fig, frame, 4)
    return fig


def iou_curves(runs: Mapping[str, object], frame: int | None = None, height: int = 320,
               colors: Sequence[str] | None = None):
    """IoU over time of several runs (label → frames table), overlaid; ``colors`` per run (the Compare page
    gives each run the colour its pixels have in the agreement panel)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (name, frames) in enumerate(runs.items()):
        per_frame = frames.groupby("frame").agg(iou=("iou", "first")).reset_index()
        fig.add_trace(go.Scatter(x=per_frame["frame"], y=per_frame["iou"], mode="lines+markers", name=name,
                                 line={"color": (colors or REGION_COLORS)[i % len(colors or REGION_COLORS)]},
                                 marker={"size": 4}))
    fig.update_layout(height=height, margin={"l": 40, "r": 10, "t": 10, "b": 30}, xaxis_title="frame",
                      yaxis_title="IoU", clickmode="event+select", legend={"orientation": "h", "y": -0.25})
    set_frame_marker(fig, frame)
    return fig


def tradeoff(table, x: str = "fps", highlight: Mapping[str, tuple[float, float]] | None = None, height: int = 380,
             rule: str = "threshold", colors: Sequence[str] | None = None):
    """A sweep's aggregate curves (mean IoU vs ``fps`` or ``key_fraction``), one per policy; ``highlight``:
    label → (x, mean IoU) points drawn as large open markers (the runs being compared; named in the legend, in
    ``colors`` in order — default orange); ``rule``: the sweep's decision rule, named on the adaptive and oracle
    curves when it is not DVSNet's threshold."""
    import plotly.graph_objects as go

    agg = table[table["clip"] == "all"]
    fig = go.Figure()
    for i, ((method, seg), group) in enumerate(agg.groupby(["method", "seg"], sort=False)):
        group = group.sort_values(x)
        params = ["" if p is None or (isinstance(p, float) and np.isnan(p)) else f"{p:g}" for p in group["param"]]
        fig.add_trace(go.Scatter(x=group[x], y=100 * group["mean_iou"], mode="lines+markers" if len(group) > 1
                                 else "markers", text=params,
                                 name=f"{curve_name(method, rule)} ({seg})",
                                 hovertemplate="%{text}<br>%{x:.3g}, IoU %{y:.2f}%<extra>" + method + "</extra>",
                                 marker={"size": 8, "color": REGION_COLORS[i % len(REGION_COLORS)]}))
    for i, (label, (hx, hy)) in enumerate((highlight or {}).items()):
        fig.add_trace(go.Scatter(x=[hx], y=[100 * hy], mode="markers", name=label, hovertemplate=label + (
            "<br>%{x:.3g}, IoU %{y:.2f}%<extra></extra>"), marker={
                "size": 18, "symbol": ["circle-open", "diamond-open"][i % 2], "line": {"width": 3},
                "color": colors[i % len(colors)] if colors else "orange"}))
    fig.update_layout(height=height, margin={"l": 40, "r": 10, "t": 10, "b": 30},
                      xaxis_title={"fps": "frames per second (no I/O)", "key_fraction": "key fraction"}[x],
                      yaxis_title="mean IoU (%)", legend={"orientation": "h", "y": -0.3})
    if x == "fps":
        fig.update_xaxes(type="log")
    return fig


def flow_histogram(flows: Mapping[str, np.ndarray], height: int = 260):
    """Histogram of flow magnitudes (px) per method (name → ``(2, H, W)`` flow; NaN ignored)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, flow in flows.items():
        magnitude = np.hypot(flow[0], flow[1]).ravel()
        fig.add_trace(go.Histogram(x=magnitude[np.isfinite(magnitude)], name=name, opacity=0.6, nbinsx=40))
    fig.update_layout(barmode="overlay", height=height, margin={"l": 40, "r": 10, "t": 10, "b": 30},
                      xaxis_title="|flow| (px)", yaxis_title="pixels", legend={"orientation": "h", "y": -0.35})
    return fig
