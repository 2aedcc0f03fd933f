"""Flow inspector: the flow from the selected frame to the previous one by each method, the run's own stored
flow (to each region's key frame), magnitude histograms, and EPE maps where the clip has ground truth."""

from __future__ import annotations

import numpy as np
import streamlit as st

from workbench.flow import create_flow, list_flows
from workbench.io import open_dataset
from workbench.metrics import epe_map, flow_errors
from workbench.runs import RunError
from workbench.viz.panels import epe_panel, flow_panel
from workbench.viz.timeline import flow_histogram

import common

st.title("Flow inspector")
meta, frames = common.require_run()
t = int(st.session_state.get("frame", 0))
if t < 1:
    st.info("Frame 0 has no previous frame: move the frame slider to 1 or later.")
    st.stop()


@st.cache_resource(show_spinner=False)
def estimator(name: str):
    return create_flow(name)


@st.cache_data(show_spinner="estimating flow…", max_entries=128)
def estimate(name: str, path: str, index: int) -> np.ndarray:
    """Flow from frame ``index`` to the one before; ``RunError`` when either frame file is missing or damaged, or
    the two differ in size."""
    current, previous = common.frame_arrays(path, index)["image"], common.frame_arrays(path, index - 1)["image"]
    if current.shape != previous.shape:
        raise RunError(f"{path}: frames {index - 1} and {index} differ in size ({previous.shape[1]}×"
                       f"{previous.shape[0]}, {current.shape[1]}×{current.shape[0]})")
    return estimator(name).estimate(current, previous)


@st.cache_data(show_spinner=False, max_entries=128)
def ground_truth(source: str | None, name: str, index: int) -> np.ndarray | None:
    """The clip's ground-truth flow t → t−1 when its source is a clip folder with flow files."""
    if not source:
        return None
    try:
        sequences = open_dataset(source)
        seq = next((s for s in sequences if s.name == name), sequences[0] if len(sequences) == 1 else None)
        return None if seq is None or not seq.has_flow else seq.flow_bwd(index)
    except (OSError, ValueError, IndexError):  # InputError is a ValueError; IndexError: the clip is shorter
        return None


data = common.frame_data()
if data is None:
    st.stop()
methods = [m for m in list_flows(pairs_only=True) if m != "zero"]
chosen = st.multiselect("methods (frame t → t−1)", methods, default=[m for m in ("dis", "pwc") if m in methods],
                        key="flow_methods")
arrows = st.checkbox("arrows", key="flow_arrows")
path = st.session_state["run"]
flows = {}
for method in chosen:
    try:
        flows[method] = estimate(method, path, t)
    except RunError as exc:
        st.error(str(exc))
        break
chosen = [m for m in chosen if m in flows]
gt = ground_truth(meta["source"].get("path"), meta["source"].get("name"), t)
if gt is not None and gt.shape != (2, *data["image"].shape[:2]):
    st.caption(f"The ground-truth flow of {meta['source'].get('path')} has shape {tuple(gt.shape)}, the run's "
               f"frames are {data['image'].shape[1]}×{data['image'].shape[0]}: not compared.")
    gt = None
if gt is not None:
    flows = {"ground truth": gt, **flows}
finite = [np.hypot(*f)[np.isfinite(np.hypot(*f))] for f in flows.values()]
peak = max([float(v.max()) for v in finite if v.size] + [1.0])
columns = st.columns(max(1, min(4, len(flows) + ("flow" in data))))
for i, (name, flow) in enumerate(flows.items()):
    columns[i % len(columns)].image(flow_panel(flow, arrows, max_flow=peak), caption=f"{name} (colour scale "
                                    f"{peak:.1f} px)", width="stretch")
if "flow" in data:
    columns[len(flows) % len(columns)].image(flow_panel(data["flow"], arrows), caption=f"stored by the run: "
                                             f"{meta['config'].get('flow')} to each region's key frame",
                                             width="stretch")
if flows:
    st.plotly_chart(flow_histogram(flows), width="stretch", key="flow_hist")
if gt is not None and chosen:
    st.subheader("Error against the ground truth")
    cols = st.columns(len(chosen))
    errors = {name: epe_map(flows[name], gt) for name in chosen}
    tops = [float(np.nanpercentile(e, 99)) for e in errors.values() if np.isfinite(e).any()]
    scale = max([1.0, *tops])  # one scale for every method: the largest 99th percentile
    rows = []
    for col, name in zip(cols, chosen, strict=True):
        col.image(epe_panel(errors[name], scale), caption=f"{name}: end-point error (px), the same scale for "
                  f"every method (0 to {scale:.1f} px)", width="stretch")
        rows.append({"method": name, **flow_errors(flows[name], gt)})
    st.dataframe(rows, hide_index=True, width="stretch")
elif gt is None:
    st.caption("No ground-truth flow for this run's source (a clip folder with flow_bwd/ gives EPE maps).")
