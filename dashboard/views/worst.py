"""Worst frames: the frames with the lowest IoU across a run, the runs of a clip, or every run; one click opens one."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.runs import RunError

import common

st.title("Worst frames")
table = common.runs()
good = table[table["error"].eq("")]
if good.empty:
    st.info("No readable runs yet.")
    st.stop()
scope = st.radio("across", ["the selected run", "every run"], horizontal=True, key="worst_scope")
paths = [st.session_state.get("run")] if scope == "the selected run" else list(good["path"])
if paths[0] not in set(good["path"]):
    st.info("The selected run cannot be read (its reason is in the sidebar): pick another, or look across every run.")
    st.stop()
rows = []
for path in paths:
    if path not in set(good["path"]):
        continue
    try:
        meta, frames = common.load(path)
    except RunError as exc:  # changed on disk since it was listed
        st.error(str(exc))
        continue
    per_frame = frames.groupby("frame").agg(iou=("iou", "first"), keys=("decision", lambda d: int((d == "segment")
                                                                                                 .sum())))
    for frame, row in per_frame.iterrows():
        rows.append({"path": path, "clip": meta["source"].get("name"), "method": common.method_name(meta),
                     "param": meta["config"].get("param"), "frame": int(frame), "IoU": row["iou"],
                     "regions re-segmented": row["keys"]})
columns = ["path", "clip", "method", "param", "frame", "IoU", "regions re-segmented"]
worst = pd.DataFrame(rows, columns=columns).dropna(subset=["IoU"]).sort_values("IoU").head(int(st.number_input(
    "show", 5, 200, 20, key="worst_count")))
if worst.empty:
    st.info("These runs have no IoU (no ground truth).")
    st.stop()
event = st.dataframe(worst.drop(columns="path"), hide_index=True, width="stretch", on_select="rerun",
                     selection_mode="single-row", key="worst_table")
picked = event.selection.rows if event is not None else []
index = picked[0] if picked else 0
choice = worst.iloc[index]
st.write(f"Selected: frame **{choice['frame']}** of {choice['clip']} ({choice['method']}), IoU {choice['IoU']:.3f}")


def open_frame() -> None:
    st.session_state["run"] = choice["path"]
    st.session_state["frame"] = int(choice["frame"])


if st.button("open in the run explorer", on_click=open_frame, type="primary"):
    st.switch_page("views/explorer.py")
