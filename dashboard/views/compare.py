"""Compare: two runs at the same frame side by side with their difference, their IoU curves, and the sweep's
trade-off curves with both runs highlighted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from workbench.errors import InputError
from workbench.viz.panels import AGREEMENT_COLORS, agreement, agreement_panel, difference_panel, prediction_panel
from workbench.viz.timeline import iou_curves, tradeoff

import common

st.title("Compare")
a, b = common.selected_meta("run"), common.selected_meta("run_b") if st.session_state.get("run_b") else None
if a is None or b is None:
    st.info("Pick two runs in the sidebar (run, and second run).")
    st.stop()
t = int(st.session_state.get("frame", 0))
names = {}
for key, (meta, _) in (("run", a), ("run_b", b)):
    param = meta["config"].get("param")
    names[key] = f"{common.method_name(meta)}{'' if param is None else f' {param:g}'} ({meta['source'].get('name')})"
if a[0]["source"].get("name") != b[0]["source"].get("name"):
    st.warning("The two runs are of different clips: the frames differ too.")
data_a, data_b = common.frame_data("run", t), common.frame_data("run_b", min(t, int(b[0]["summary"]["frames"]) - 1))
cols = st.columns(3)
if data_a is not None and data_b is not None:
    for col, data, key in ((cols[0], data_a, "run"), (cols[1], data_b, "run_b")):
        rows = (a if key == "run" else b)[1]
        iou = rows[rows["frame"] == t]["iou"]
        caption = f"{names[key]}: IoU {iou.iloc[0]:.3f}" if len(iou) and not np.isnan(iou.iloc[0]) else names[key]
        col.image(prediction_panel(data["image"], data["seg"]), caption=caption, width="stretch")
    truth = data_a.get("gt")
    if data_a["seg"].shape == data_b["seg"].shape and truth is not None and truth.shape == data_a["seg"].shape:
        shares = {k: 100 * float(v.mean()) for k, v in agreement(data_a["seg"], data_b["seg"], truth).items()}
        cols[2].image(agreement_panel(data_a["seg"], data_b["seg"], truth, data_a["image"]),
                      caption=f"against the ground truth: magenta only {names['run']} right "
                              f"({shares['only A right']:.2f} % of pixels), green only {names['run_b']} right "
                              f"({shares['only B right']:.2f} %), red both wrong ({shares['both wrong']:.2f} %)",
                      width="stretch")
    elif data_a["seg"].shape == data_b["seg"].shape:  # no ground truth: where they differ, not who is right
        disagree = float((data_a["seg"] != data_b["seg"]).mean())
        cols[2].image(difference_panel(data_a["seg"], data_b["seg"], data_a["image"]),
                      caption=f"difference (no ground truth): magenta only {names['run']} says person, green only "
                              f"{names['run_b']} ({100 * disagree:.2f} % of pixels)", width="stretch")
colors = ["#{:02x}{:02x}{:02x}".format(*AGREEMENT_COLORS[k]) for k in ("only A right", "only B right")]
st.plotly_chart(iou_curves({names["run"]: a[1], names["run_b"]: b[1]}, t, colors=colors), width="stretch",
                key="compare_iou", on_select=common.on_plot_select("compare_iou"), selection_mode="points")

summary = pd.DataFrame([{"run": names[k], "mean IoU": m["summary"]["mean_iou"], "fps": m["summary"]["fps"],
                         "key fraction": m["summary"]["key_fraction"], "frames": m["summary"]["frames"]}
                        for k, (m, _) in (("run", a), ("run_b", b))])
st.dataframe(summary, hide_index=True, width="stretch")

sweeps = common.find_sweeps()
sweep = st.selectbox("sweep", sweeps, format_func=str, key="sweep") if sweeps else None
try:  # its table, and the decision rule of its adaptive and oracle runs
    table, rule = common.read_sweep(sweep) if sweep is not None else (None, "threshold")
except InputError as exc:
    st.error(str(exc))
    table = None
if table is not None:
    scored = [(names[key], meta["summary"], color) for (key, (meta, _)), color in
              zip((("run", a), ("run_b", b)), colors, strict=True) if meta["summary"]["mean_iou"] is not None]
    left, right = st.columns(2)  # the two runs as open markers in their colours of the page
    left.plotly_chart(tradeoff(table, "fps", {name: (s["fps"], s["mean_iou"]) for name, s, _ in scored}, rule=rule,
                               colors=[c for _, _, c in scored]), width="stretch", key="tradeoff_fps")
    right.plotly_chart(tradeoff(table, "key_fraction", {name: (s["key_fraction"], s["mean_iou"])
                                                        for name, s, _ in scored}, rule=rule,
                                colors=[c for _, _, c in scored]), width="stretch", key="tradeoff_keys")
    try:
        report = (sweep / "sweep.md").read_text() if (sweep / "sweep.md").is_file() else None
    except (OSError, ValueError) as exc:
        report = None
        st.caption(f"{sweep / 'sweep.md'}: unreadable ({common.one_line(exc)})")
    if report is not None:
        with st.expander("sweep report"):
            st.markdown(report)
elif not sweeps:
    st.caption("No sweep found beside the runs (workbench dvs sweep --out DIR writes one); the trade-off curves "
               "appear when there is one.")
