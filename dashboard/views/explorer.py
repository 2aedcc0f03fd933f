"""Run explorer: the selected frame's panels side by side, and the run's timelines beneath, linked to the slider."""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from workbench.io import encode_image
from workbench.viz.panels import (
    compared_score,
    error_panel,
    flow_panel,
    key_frame_panel,
    panel_sheet,
    prediction_panel,
    region_output_panel,
    regions_panel,
    truth_panel,
)
from workbench.viz.timeline import run_timelines, set_frame_marker

import common

PANELS = ["input", "ground truth", "prediction", "error map", "regions", "flow", "key frame",
          "warped key segmentation"]
DEFAULT = ["input", "prediction", "error map", "regions", "flow", "key frame"]

st.title("Run explorer")
meta, frames = common.require_run()
num_frames = int(meta["summary"]["frames"])


def step(delta: int) -> None:
    common.set_frame((int(st.session_state.get("frame", 0)) + delta) % num_frames)


SPEEDS = [0.5, 1.0, 2.0, 4.0, 8.0]  # frames per second while playing (at most: a frame change costs its redraw)
KEPT = {"panels": DEFAULT, "arrows": False, "region": 0, "speed": 2.0}  # settings that survive play and pages


def keep(name: str) -> None:
    """Copy a widget's value to a plain session key: widget keys are dropped when their page is left or a
    rerun skips them; plain keys are not, and give the widget its value back."""
    st.session_state[f"keep_{name}"] = st.session_state[name]


for name, value in KEPT.items():
    if name not in st.session_state:
        st.session_state[name] = st.session_state.get(f"keep_{name}", value)

# Settings (a change redraws the page); the frame and everything drawn from it live in `frame_view` below.
options = st.columns([1, 1.4, 5, 1, 1.2], vertical_alignment="bottom")
playing = options[0].toggle("play", key="playing")
speed = options[1].selectbox("frames/s", SPEEDS, key="speed", on_change=keep, args=("speed",),
                             label_visibility="collapsed", format_func=lambda v: f"{v:g} frames/s",
                             help="play speed (at most; each frame change redraws the frame's panels)")
chosen = options[2].multiselect("panels", PANELS, key="panels", on_change=keep, args=("panels",))
boxes = meta["config"].get("regions_px") or []
if st.session_state.get("region") not in range(len(boxes)):  # a run with fewer regions than the last one
    st.session_state["region"] = 0 if boxes else None
region = options[3].selectbox("region", list(range(len(boxes))), key="region", on_change=keep, args=("region",),
                              help="the region whose key frame and warped segmentation are shown")
arrows = options[4].checkbox("flow arrows", key="arrows", on_change=keep, args=("arrows",))
param = meta["config"].get("param")
method = common.method_name(meta)


@st.fragment(run_every=1.0 / speed if playing else None)
def frame_view() -> None:
    """The frame slider and what depends on the frame: caption, panels, downloads, the timeline's marker. A
    fragment: moving the frame (slider, step buttons, play, a click on the timeline) redraws only this part of the
    page, not the settings above or the sidebar. While playing it runs every 1 / speed seconds and advances."""
    now = time.monotonic()
    if playing and num_frames > 1 and now - st.session_state.get("last_step", 0.0) >= 0.9 / speed:
        st.session_state["last_step"] = now
        step(1)
    controls = st.columns([1, 1, 6])
    controls[0].button("◀ step", on_click=step, args=(-1,), width="stretch")
    controls[1].button("step ▶", on_click=step, args=(1,), width="stretch")
    common.frame_slider(controls[2], num_frames, label_visibility="collapsed")
    t = int(st.session_state["frame"])
    draw_frame(t)


def draw_frame(t: int) -> None:
    """Long because each panel is one branch: the caption line, the chosen panels in rows of three, the downloads
    and the timeline for frame ``t``."""
    s = meta["summary"]
    rows = frames[frames["frame"] == t].sort_values("region")
    iou = rows["iou"].iloc[0] if len(rows) else float("nan")
    iou_text = "–" if np.isnan(iou) else f"{iou:.3f}"
    mean_text = common.number(s["mean_iou"], ".3f")
    st.markdown(f"**{meta['source'].get('name')}** · {method} {'' if param is None else param} · "
                f"frame **{t}** of {num_frames} · IoU **{iou_text}** · "
                f"{int((rows['decision'] == 'segment').sum())}/{len(rows)} regions re-segmented · "
                f"{rows['t_total_ms'].sum():.1f} ms · run: mean IoU {mean_text}, {common.number(s['fps'])} fps, "
                f"key fraction {s['key_fraction']:.3f}")
    data = common.frame_data()
    if data is not None:
        image, seg, prob = data["image"], data["seg"], data["prob"]
        gt = data.get("gt")
        pictures = []
        for name in chosen:
            if name == "input":
                pictures.append((image, f"input, frame {t}"))
            elif name == "ground truth":
                pictures.append((truth_panel(image, gt), "ground truth") if gt is not None else (None, name))
            elif name == "prediction":
                pictures.append((prediction_panel(image, seg), "prediction"))
            elif name == "error map":
                pictures.append((error_panel(seg, gt, image), "errors: red false positive, blue false negative")
                                if gt is not None else (None, name))
            elif name == "regions" and len(rows):
                if len(boxes) == len(rows):
                    key_frames = list(rows["key_frame"]) if "key_frame" in rows else None  # older records lack it
                    nan = [float("nan")] * len(rows)
                    compared = [compared_score(p, q, c) for p, q, c in zip(
                        rows["score_pred"], rows["score_true"], rows["score_cum"] if "score_cum" in rows else nan,
                        strict=True)]
                    pictures.append((regions_panel(image, boxes, list(rows["decision"]), [v for v, _ in compared],
                                                   list(rows["target"]), key_frames, region,
                                                   names=[n for _, n in compared]),
                                     "regions: orange re-segmented, blue warped; the score each decision compared "
                                     "with the target"))
                else:
                    pictures.append((None, "regions (the record has no region boxes)"))
            elif name == "flow":
                if "flow" in data:
                    finite = np.isfinite(data["flow"]).all(axis=0)
                    peak = float(np.abs(data["flow"][:, finite]).max()) if finite.any() else 0.0
                    pictures.append((flow_panel(data["flow"], arrows), f"flow to the key frame (max {peak:.1f} px; "
                                     "black: no flow estimated — a region segmented without a decision, as "
                                     "per-frame and fixed key frames are; adaptive regions always have one)"))
                else:
                    pictures.append((None, "flow (none this frame: every region was segmented)"))
            elif name in ("key frame", "warped key segmentation") and len(boxes):
                key_index = int(data["key_frame"][region])
                if name == "key frame":
                    key = common.frame_data(index=key_index)
                    if key is not None:
                        pictures.append((key_frame_panel(key["image"], boxes[region], key_index),
                                         f"region {region}: key frame {key_index}"))
                else:
                    decision = rows["decision"].iloc[region] if len(rows) > region else "segment"
                    what = "warped key segmentation" if decision == "warp" else "new key"
                    pictures.append((region_output_panel(image, prob, boxes[region], decision, key_index),
                                     f"region {region}: {what}"))
        for start in range(0, len(pictures), 3):
            columns = st.columns(3)
            for column, (picture, caption) in zip(columns, pictures[start:start + 3], strict=False):
                if picture is None:
                    column.info(f"{caption}: not available for this run")
                else:
                    column.image(picture, caption=caption, width="stretch")
        shown = [(picture, caption) for picture, caption in pictures if picture is not None]
        downloads = st.columns(3)
        run_id = meta.get("run_id", "run")
        downloads[0].download_button("panels (PNG)", lambda: encode_image(panel_sheet(shown)),  # built on click
                                     file_name=f"{run_id}_frame{t:04d}.png", mime="image/png", disabled=not shown,
                                     on_click="ignore", help="the panels shown above as one picture, with captions")
        downloads[1].download_button("run table (CSV)", lambda: frames.to_csv(index=False), on_click="ignore",
                                     file_name=f"{run_id}_frames.csv", mime="text/csv",
                                     help="frames.parquet as CSV: one row per frame and region")
        downloads[2].download_button("video (WebM)", lambda: common.run_video_bytes(st.session_state["run"]),
                                     file_name=f"{run_id}.webm", mime="video/webm", on_click="ignore",
                                     disabled=not meta.get("stored", True),
                                     help="input | prediction | errors for every stored frame; plays in a browser")

    timeline = common.figure(("timelines", st.session_state["run"]), lambda: run_timelines(frames, label=method))
    set_frame_marker(timeline, t, 4)
    st.plotly_chart(timeline, width="stretch", key="explorer_timeline",
                    on_select=common.on_plot_select("explorer_timeline"), selection_mode="points")


frame_view()
