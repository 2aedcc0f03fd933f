"""Timelines: per-region predicted score with the target, key-frame decisions, IoU of one or more runs, stage
times — click any point to move the frame."""

from __future__ import annotations

import streamlit as st

from workbench.runs import RunError
from workbench.viz.timeline import run_timelines, set_frame_marker

import common

st.title("Timelines")
meta, frames = common.require_run()
table = common.runs()
good = table[table["error"].eq("") & (table["path"] != st.session_state["run"])]
same_clip = good[good["clip"] == meta["source"].get("name")]
choices = list(same_clip["path"]) + [p for p in good["path"] if p not in set(same_clip["path"])]
labels = {row["path"]: common.label(row) for _, row in good.iterrows()}
others = st.multiselect("overlay the IoU of other runs", choices, format_func=labels.get, key="overlay",
                        help="runs of the same clip are listed first")
overlays = {}
for path in others:
    try:
        overlays[labels[path]] = common.load(path)[1]
    except RunError as exc:  # changed on disk since it was listed
        st.error(str(exc))
t = int(st.session_state.get("frame", 0))
figure = common.figure(("timelines-page", st.session_state["run"], tuple(others)),
                       lambda: run_timelines(frames, others=overlays, label=common.method_name(meta), height=760))
set_frame_marker(figure, t, 4)
st.plotly_chart(figure, width="stretch", key="timelines_plot", on_select=common.on_plot_select("timelines_plot"),
                selection_mode="points")
stage = meta["summary"].get("stage_ms") or {}
cols = st.columns(len(stage) + 2)
cols[0].metric("fps (no I/O)", common.number(meta["summary"]["fps"]))
cols[1].metric("key fraction", f"{meta['summary']['key_fraction']:.3f}")
for col, (name, ms) in zip(cols[2:], stage.items(), strict=True):
    col.metric(f"{name} ms/frame", common.number(ms))
if meta["config"].get("dynamic"):
    st.caption("Dynamic target: the dashed line shows the target each decision was taken against.")
