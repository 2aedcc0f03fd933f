"""Run explorer: the selected frame's panels side by side in the frame player (the frame changes in the browser,
see ``player.py``), and the run's timelines beneath, their marker following the player."""

from __future__ import annotations

import numpy as np
import streamlit as st

from workbench.io import encode_image
from workbench.runs import RunError
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
import player

PANELS = ["input", "ground truth", "prediction", "error map", "regions", "flow", "key frame",
          "warped key segmentation"]
DEFAULT = ["input", "prediction", "error map", "regions", "flow", "key frame"]

st.title("Run explorer")
meta, frames = common.require_run()
num_frames = int(meta["summary"]["frames"])


SPEEDS = [0.5, 1.0, 2.0, 4.0, 8.0, 15.0]  # frames per second while playing (the player's play button)
KEPT = {"panels": DEFAULT, "arrows": False, "region": 0, "speed": 2.0}  # settings that survive pages


def keep(name: str) -> None:
    """Copy a widget's value to a plain session key: widget keys are dropped when their page is left or a
    rerun skips them; plain keys are not, and give the widget its value back."""
    st.session_state[f"keep_{name}"] = st.session_state[name]


for name, value in KEPT.items():
    if name not in st.session_state:
        st.session_state[name] = st.session_state.get(f"keep_{name}", value)

# Settings (a change redraws the page); the frame and everything drawn from it live in `frame_view` below.
options = st.columns([1.4, 5, 1, 1.2], vertical_alignment="bottom")
speed = options[0].selectbox("play speed", SPEEDS, key="speed", on_change=keep, args=("speed",),
                             format_func=lambda v: f"{v:g} frames/s",
                             help="the speed of the player's ▶ play (it plays in the browser)")
chosen = options[1].multiselect("panels", PANELS, key="panels", on_change=keep, args=("panels",))
boxes = meta["config"].get("regions_px") or []
if st.session_state.get("region") not in range(len(boxes)):  # a run with fewer regions than the last one
    st.session_state["region"] = 0 if boxes else None
region = options[2].selectbox("region", list(range(len(boxes))), key="region", on_change=keep, args=("region",),
                              help="the region whose key frame and warped segmentation are shown")
arrows = options[3].checkbox("flow arrows", key="arrows", on_change=keep, args=("arrows",))
param = meta["config"].get("param")
method = common.method_name(meta)
path = st.session_state["run"]


@st.fragment
def frame_view() -> None:
    """The player (slider, step, play, caption, panels; it changes the frame in the browser, moves the timeline's
    marker there, and reports the frame) and the downloads, which depend on the frame. A fragment: the player's
    report reruns only this part of the page; the timeline below is drawn by the page's run (its marker at the
    frame of that run; a click on it moves the frame)."""
    try:
        height, width = common.frame_arrays(path, 0)["image"].shape[:2]
    except RunError:  # no stored frames: every frame is a note, small
        height, width = 1, 1
    block = player.block_size(height, width, len(chosen))
    view = player.frame_player("player", num_frames, speed, draw, cache=(path, tuple(chosen), region, arrows),
                               block=block, mounted=not st.session_state.pop("explorer_page_run", False))
    t = int(st.session_state["frame"])
    common.frame_data()  # a frame that cannot be read: its reason in the page too (an error; a note if not stored)
    downloads = st.columns(3)
    run_id = meta.get("run_id", "run")
    stored = meta.get("stored", True)
    downloads[0].download_button(
        "panels (PNG)", lambda: encode_image(panel_sheet([p for p in pictures(t) if p[0] is not None])),
        file_name=f"{run_id}_frame{t:04d}.png", mime="image/png",
        disabled=not any(panel["src"] for panel in view["panels"]), on_click="ignore",
        help="the panels of the frame shown above as one picture, with captions")  # built on click
    downloads[1].download_button("run table (CSV)", lambda: frames.to_csv(index=False), on_click="ignore",
                                 file_name=f"{run_id}_frames.csv", mime="text/csv",
                                 help="frames.parquet as CSV: one row per frame and region")
    downloads[2].download_button("video (WebM)", lambda: common.run_video_bytes(path),
                                 file_name=f"{run_id}.webm", mime="video/webm", on_click="ignore",
                                 disabled=not stored,
                                 help="input | prediction | errors for every stored frame; plays in a browser")


def timeline() -> None:
    """The run's timelines; the frame marker at the session's frame (the player moves it in the browser)."""
    figure = common.figure(("timelines", path), lambda: run_timelines(frames, label=method))
    set_frame_marker(figure, int(st.session_state.get("frame", 0)), 4)
    st.plotly_chart(figure, width="stretch", key="explorer_timeline",
                    on_select=common.on_plot_select("explorer_timeline"), selection_mode="points")


def caption_line(t: int) -> str:
    """The line above the panels: the run, the frame, its IoU, decisions and time, and the run's summary."""
    s = meta["summary"]
    rows = frames[frames["frame"] == t]
    iou = rows["iou"].iloc[0] if len(rows) else float("nan")
    iou_text = "–" if np.isnan(iou) else f"{iou:.3f}"
    return (f"**{meta['source'].get('name')}** · {method}{'' if param is None else f' {param}'} · "
            f"frame **{t}** of {num_frames} · IoU **{iou_text}** · "
            f"{int((rows['decision'] == 'segment').sum())}/{len(rows)} regions re-segmented · "
            f"{rows['t_total_ms'].sum():.1f} ms · run: mean IoU {common.number(s['mean_iou'], '.3f')}, "
            f"{common.number(s['fps'])} fps, key fraction {s['key_fraction']:.3f}")


def draw(t: int) -> dict:
    """Frame ``t`` as the player shows it; a frame that cannot be read is its caption and the reason."""
    try:
        return player.frame_view(caption_line(t), pictures(t))
    except RunError as exc:
        return player.frame_view(caption_line(t), [(None, str(exc))])


def pictures(t: int) -> list[tuple[np.ndarray | None, str]]:
    """The chosen panels of frame ``t``: a picture and its caption, or None and the reason the panel is missing.
    Raises RunError when the frame's arrays cannot be read. Long because each panel is one branch."""
    rows = frames[frames["frame"] == t].sort_values("region")
    data = common.frame_arrays(path, t)
    image, seg, prob = data["image"], data["seg"], data["prob"]
    gt = data.get("gt")
    pictures = []
    for name in chosen:
        if name == "input":
            pictures.append((image, f"input, frame {t}"))
        elif name == "ground truth":
            pictures.append((truth_panel(image, gt), "ground truth") if gt is not None
                            else (None, f"{name}: not available for this run"))
        elif name == "prediction":
            pictures.append((prediction_panel(image, seg), "prediction"))
        elif name == "error map":
            pictures.append((error_panel(seg, gt, image), "errors: red false positive, blue false negative")
                            if gt is not None else (None, f"{name}: not available for this run"))
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
                pictures.append((None, "regions: the record has no region boxes"))
        elif name == "flow":
            if "flow" in data:
                finite = np.isfinite(data["flow"]).all(axis=0)
                peak = float(np.abs(data["flow"][:, finite]).max()) if finite.any() else 0.0
                pictures.append((flow_panel(data["flow"], arrows), f"flow to the key frame (max {peak:.1f} px; "
                                 "black: no flow estimated — a region segmented without a decision, as "
                                 "per-frame and fixed key frames are; adaptive regions always have one)"))
            else:
                pictures.append((None, "flow: none this frame — every region was segmented"))
        elif name in ("key frame", "warped key segmentation") and len(boxes):
            key_index = int(data["key_frame"][region])
            if name == "key frame":
                try:
                    key = common.frame_arrays(path, key_index)
                    pictures.append((key_frame_panel(key["image"], boxes[region], key_index),
                                     f"region {region}: key frame {key_index}"))
                except RunError as exc:  # that frame's file only: the other panels stay
                    pictures.append((None, f"region {region}: key frame {key_index} cannot be read ({exc})"))
            else:
                decision = rows["decision"].iloc[region] if len(rows) > region else "segment"
                what = "warped key segmentation" if decision == "warp" else "new key"
                pictures.append((region_output_panel(image, prob, boxes[region], decision, key_index),
                                 f"region {region}: {what}"))
    return pictures


st.session_state["explorer_page_run"] = True  # the page's own run (not the fragment's): the player may be new
frame_view()
timeline()
