"""The run explorer's frame player: a frame change that stays in the browser.

A Streamlit rerun costs ~150 ms on a 2-core machine before our script does anything, and redrawing a row of
pictures and a plotly figure costs as much again; so the explorer does not rerun to change the frame. It draws
each frame once (its caption line and panels, as data URLs), sends a window of frames to this component
(``player.js``, ``player.css``; Streamlit's components v2, in the page, no iframe), and the component's slider,
step buttons and play swap pictures in the browser at once, and move the page's timeline marker (the lines
``set_frame_marker`` draws) on screen. The component then reports the frame (session key
``frame``, shared by every page), and the explorer's fragment reruns for what depends on it server-side — the
timeline's marker, the downloads, and a new window when the frame nears the window's edge.

Windows are built from blocks of frames (drawn once per run and settings, kept in the session) so that the data
sent changes only when the frame enters another block: the window is the frame's block and one on each side.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import streamlit as st

from workbench.io import encode_image
from workbench.viz.timeline import FRAME_MARKER

import common

HERE = Path(__file__).resolve().parent
WINDOW_BYTES = 4_000_000  # about what a window of pictures may weigh (the browser holds it; a block shift resends it)
MAX_WIDTH = 480  # pictures wider than this are sent downscaled (three to a row, the page shows them ~300-400 px wide)
JPEG_QUALITY = 80
BYTES_PER_PIXEL = 0.25  # a panel of a synthetic clip as JPEG at quality 80: 0.11-0.19 measured, more with overlays

_component = st.components.v2.component(
    "workbench_frame_player",
    js=(HERE / "player.js").read_text(encoding="utf-8"),
    css=(HERE / "player.css").read_text(encoding="utf-8"),
)


def data_url(picture: np.ndarray) -> str:
    """A uint8 RGB picture as a JPEG data URL, at most ``MAX_WIDTH`` wide."""
    if picture.shape[1] > MAX_WIDTH:
        height = round(picture.shape[0] * MAX_WIDTH / picture.shape[1])
        picture = cv2.resize(picture, (MAX_WIDTH, height), interpolation=cv2.INTER_AREA)
    encoded = base64.b64encode(encode_image(picture, ".jpg", quality=JPEG_QUALITY)).decode("ascii")
    return f"data:image/jpeg;base64,{encoded}"


def caption_html(markdown: str) -> str:
    """A caption line written with ``**bold**`` (the only markup the explorer uses) as escaped HTML."""
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(markdown))


def frame_view(caption: str, pictures: Sequence[tuple[np.ndarray | None, str]]) -> dict[str, Any]:
    """What the player shows for one frame: the caption line and the panels, a picture with its caption or, for
    a panel this frame cannot show, the note saying why."""
    return {"caption": caption_html(caption),
            "panels": [{"src": None if picture is None else data_url(picture), "caption": text}
                       for picture, text in pictures]}


def block_size(height: int, width: int, panels: int) -> int:
    """Frames per block (4 to 32), so that a window of three blocks stays near ``WINDOW_BYTES``: 10 for six
    320×192 panels, 5 for six at 640×360 (sent at 480×270)."""
    scale = min(1.0, MAX_WIDTH / max(width, 1))
    per_frame = max(panels, 1) * height * width * scale * scale * BYTES_PER_PIXEL * 4 / 3  # base64
    return int(np.clip(WINDOW_BYTES // (3 * per_frame), 4, 32))


def window(frame: int, frames: int, block: int) -> range:
    """The frames sent with ``frame``: its block and the blocks before and after it."""
    current = frame // block
    return range(max(current - 1, 0) * block, min((current + 2) * block, frames))


def on_change(key: str) -> Callable[[], None]:
    """The component's ``on_frame_change``: the frame it shows becomes the session's frame."""
    def callback() -> None:
        value = (st.session_state.get(key) or {}).get("frame")
        if isinstance(value, dict) and isinstance(value.get("frame"), int):
            st.session_state["frame"] = value["frame"]
            st.session_state[f"{key}_seq"] = int(value.get("seq", 0))
            st.session_state[f"{key}_reported"] = value["frame"]
    return callback


def frame_player(key: str, frames: int, speed: float, draw: Callable[[int], dict[str, Any]], cache: tuple,
                 block: int, mounted: bool = True) -> dict[str, Any]:
    """Mount the player for frames ``0 .. frames - 1`` at the session's frame and return that frame's view.
    ``draw(t)`` returns :func:`frame_view` for frame ``t``; ``cache`` names the run and settings the views were
    drawn with (views are kept per block of ``block`` frames in the session, see ``common.figure``); ``mounted``:
    whether the player in the browser is the one of the previous run (False on a page's full run, which may mount
    a new one)."""
    frame = st.session_state["frame"] = min(max(int(st.session_state.get("frame", 0)), 0), frames - 1)
    shown = window(frame, frames, block)
    views: dict[str, Any] = {}
    for start in range(shown.start, shown.stop, block):
        views.update(common.figure((*cache, "views", block, start), lambda start=start: {
            str(t): draw(t) for t in range(start, min(start + block, frames))}))
    # After the player's own report, send what was sent before (its frame and seq are older than the player's,
    # which ignores them): unless the window moved, the data is then the same, and Streamlit sends a reference to
    # the message the browser already has instead of the pictures again.
    sent = frame_sent(st.session_state, key, frame, mounted)
    _component(key=key, data={"frames": frames, **sent, "speed": float(speed), "marker": FRAME_MARKER,
                              "views": views}, on_frame_change=on_change(key))
    return views[str(frame)]


def frame_sent(state: MutableMapping[str, Any], key: str, frame: int, mounted: bool) -> dict[str, int]:
    """The frame and ``seq`` to send the player (``state``: the session). Normally the session's frame and the
    newest ``seq`` reported. Right after the player's own report, what was sent before: its frame and seq are older
    than the player's, which ignores them, so unless the window moved the data is the same and Streamlit sends a
    reference to the message the browser has instead of the pictures again. Only to the player that reported
    (``mounted``) and only when nothing else moved the frame since (a click on the timeline in the same run)."""
    sent = state.get(f"{key}_sent")
    reported = state.pop(f"{key}_reported", None)
    if not (mounted and sent and reported == frame):
        sent = state[f"{key}_sent"] = {"frame": frame, "seq": int(state.get(f"{key}_seq", 0))}
    return sent
