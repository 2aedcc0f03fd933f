"""Worst frames: the frames with the lowest IoU across a run or every run — filtered by method, clip, IoU and
whether the frame warped or re-segmented — as a table and a gallery of error thumbnails; one click opens one."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.runs import RunError
from workbench.viz.panels import error_panel

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
found = pd.DataFrame(rows, columns=columns).dropna(subset=["IoU"])
if found.empty:
    st.info("These runs have no IoU (no ground truth).")
    st.stop()
with st.expander("filters", expanded=False):
    cols = st.columns([2, 2, 1, 2])
    methods = cols[0].multiselect("methods", sorted(found["method"].unique()), key="worst_methods",
                                  placeholder="every method")
    clips = cols[1].multiselect("clips", sorted(found["clip"].astype(str).unique()), key="worst_clips",
                                placeholder="every clip")
    ceiling = cols[2].slider("IoU at most", 0.0, 1.0, 1.0, 0.01, key="worst_ceiling")
    kind = cols[3].radio("frames", ["all", "warped only", "with a key frame"], horizontal=True, key="worst_kind",
                         help="warped only: no region was re-segmented at that frame (the warp's errors); "
                              "with a key frame: at least one was (errors the segmentation network makes)")
keep = found["IoU"] <= ceiling
if methods:
    keep &= found["method"].isin(methods)
if clips:
    keep &= found["clip"].astype(str).isin(clips)
if kind != "all":
    keep &= (found["regions re-segmented"] == 0) if kind == "warped only" else (found["regions re-segmented"] > 0)
worst = found[keep].sort_values("IoU").head(int(st.number_input("show", 5, 200, 20, key="worst_count")))
if worst.empty:
    st.info("No frame passes these filters.")
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

GALLERY = 8  # thumbnails of the worst frames shown (their stored frames; runs that stored none show none)
st.subheader("Gallery")
st.caption("Errors of the worst frames: red = marked person but background, blue = missed person.")
columns = st.columns(4)
for slot, (_, row) in enumerate(worst.head(GALLERY).iterrows()):
    with columns[slot % 4]:
        try:
            data = common.frame_arrays(row["path"], int(row["frame"]))
        except RunError:
            st.caption(f"{row['method']} · frame {row['frame']} · IoU {row['IoU']:.3f} — no stored frame")
            continue
        picture = error_panel(data["seg"], data["gt"], data["image"]) if "gt" in data else data["image"]
        st.image(picture, caption=f"{row['clip']} · {row['method']} · frame {row['frame']} · IoU {row['IoU']:.3f}",
                 width="stretch")

        def open_this(path: str = row["path"], frame: int = int(row["frame"])) -> None:
            st.session_state["run"] = path
            st.session_state["frame"] = frame

        if st.button("open", key=f"worst_open_{slot}", on_click=open_this):
            st.switch_page("views/explorer.py")
