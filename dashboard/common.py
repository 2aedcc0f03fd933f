"""Shared state of the dashboard: the runs folder, cached loading, the sidebar (run and frame pickers).

Everything is computed by ``workbench``; this module only loads (``st.cache_data``) and arranges. Problems with
a run folder become a readable message in the page, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from workbench.pipeline import PipelineConfig
from workbench.runs import RunError, list_runs, load_run

DEFAULT_RUNS = "data/runs"


def runs_root() -> Path:
    """``--runs DIR`` after ``--`` on the streamlit command line, else ``$WORKBENCH_RUNS``, else data/runs."""
    if "runs_root" not in st.session_state:
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("--runs", default=os.environ.get("WORKBENCH_RUNS", DEFAULT_RUNS))
        args, _ = parser.parse_known_args(sys.argv[1:])
        st.session_state["runs_root"] = args.runs
    return Path(st.session_state["runs_root"])


def _stamp(root: Path) -> tuple:
    """Changes when runs are added or removed, so cached listings refresh."""
    if not root.is_dir():
        return ()
    return tuple(sorted((p.name, p.stat().st_mtime) for p in root.iterdir() if not p.name.startswith(".")))


@st.cache_data(show_spinner=False)
def run_table(root: str, stamp: tuple) -> pd.DataFrame:
    """One row per run folder under ``root`` (and under each sweep's ``runs/``): what the pickers show."""
    rows = []
    folders = list_runs(root)
    for sweep_runs in sorted(Path(root).glob("*/runs")):
        folders += list_runs(sweep_runs)
    for folder in Path(root).iterdir() if Path(root).is_dir() else []:
        if folder.is_dir() and not folder.name.startswith(".") and not (folder / "run.json").exists() \
                and not (folder / "runs").is_dir() and not (folder / "sweep.csv").exists():
            rows.append({"path": str(folder), "run_id": folder.name, "error": f"{folder.name}: not a run record "
                         "(no run.json; an interrupted run leaves none)"})
    for folder in folders:
        try:
            run = load_run(folder)
        except RunError as exc:
            rows.append({"path": str(folder), "run_id": folder.name, "error": str(exc)})
            continue
        s, cfg = run.summary, run.meta["config"]
        rows.append({"path": str(folder), "run_id": run.run_id, "clip": run.meta["source"].get("name"),
                     "method": method_name(run.meta), "param": cfg.get("param"),
                     "seg": (cfg.get("seg") or {}).get("arch"),
                     "flow": cfg.get("flow"), "frames": s["frames"], "mean_iou": s["mean_iou"], "fps": s["fps"],
                     "key_fraction": s["key_fraction"], "stored": run.stored, "created": run.meta["created"],
                     "sweep": run.meta.get("sweep"), "error": ""})
    return pd.DataFrame(rows, columns=["path", "run_id", "clip", "method", "param", "seg", "flow", "frames",
                                       "mean_iou", "fps", "key_fraction", "stored", "created", "sweep", "error"])


def runs() -> pd.DataFrame:
    root = runs_root()
    return run_table(str(root), _stamp(root))


@st.cache_data(show_spinner=False, max_entries=64)
def load(path: str) -> tuple[dict[str, Any], pd.DataFrame]:
    run = load_run(path)
    return run.meta, run.frames


@st.cache_data(show_spinner=False, max_entries=512)
def frame_arrays(path: str, index: int) -> dict[str, np.ndarray]:
    return load_run(path).frame_data(index)


def method_name(meta: dict[str, Any]) -> str:
    """A run's policy as the run id names it: ``adaptive-cumulative`` under the cumulative rule, ``+fastseg``
    with a corrector (records written before either existed are plain ``meta["method"]``)."""
    cfg = meta.get("config") or {}
    name = PipelineConfig(policy=meta["method"], rule=cfg.get("rule") or "threshold").method
    correct = cfg.get("correct")
    return f"{name}+{correct.get('arch')}" if isinstance(correct, dict) and correct.get("arch") else name


def label(row: pd.Series) -> str:
    if row["error"]:
        return f"⚠ {row['run_id']}"
    param = "" if row["param"] is None or (isinstance(row["param"], float) and np.isnan(row["param"])) \
        else f" {row['param']:g}"
    iou = "" if row["mean_iou"] is None or np.isnan(row["mean_iou"]) else f" · IoU {row['mean_iou']:.3f}"
    return f"{row['clip']} · {row['method']}{param} · {row['seg']}{iou} · {row['fps']:.1f} fps"


def sidebar() -> None:
    """Runs folder, the selected run (and a second one for comparisons), the frame."""
    with st.sidebar:
        st.markdown("### Runs")
        root = st.text_input("runs folder", value=str(runs_root()), key="runs_root_input",
                             help="folder of run records (workbench dvs run --out)")
        if root != str(runs_root()):
            st.session_state["runs_root"] = root
        table = runs()
        if table.empty:
            st.info(f"No runs in `{root}` yet. Make some with `make demo`, `workbench dvs run --data CLIP "
                    f"--out {root}`, or the **New run** page.")
            return
        labels = {row["path"]: label(row) for _, row in table.iterrows()}
        paths = list(labels)
        if st.session_state.get("pending_run") in paths:  # a run just made by the New run page
            st.session_state["run"] = st.session_state.pop("pending_run")
        if st.session_state.get("run") not in paths:
            good = table[table["error"].eq("")]
            st.session_state["run"] = (good["path"].iloc[0] if len(good) else paths[0])
        st.selectbox("run", paths, format_func=labels.get, key="run")
        others = [p for p in paths if p != st.session_state["run"]]
        if others:
            if st.session_state.get("run_b") not in others:
                st.session_state["run_b"] = others[0]
            st.selectbox("second run (compare)", others, format_func=labels.get, key="run_b")
        meta = selected_meta(quiet=True)
        if meta is not None:
            frames = int(meta[0]["summary"]["frames"])
            st.session_state["frame"] = min(int(st.session_state.get("frame", 0)), frames - 1)
            st.slider("frame", 0, max(frames - 1, 1), key="frame", disabled=frames < 2)
        st.caption(f"{len(table)} runs in `{root}`")


def selected_meta(key: str = "run", quiet: bool = False) -> tuple[dict[str, Any], pd.DataFrame] | None:
    """The run picked in the sidebar, or None with a message shown in the page (unless ``quiet``)."""
    path = st.session_state.get(key)
    if not path:
        return None
    table = runs()
    row = table[table["path"] == path]
    if len(row) and row["error"].iloc[0]:
        if not quiet:
            st.error(row["error"].iloc[0])
        return None
    try:
        return load(path)
    except RunError as exc:
        if not quiet:
            st.error(str(exc))
        return None


def frame_data(key: str = "run", index: int | None = None) -> dict[str, np.ndarray] | None:
    path = st.session_state.get(key)
    index = st.session_state.get("frame", 0) if index is None else index
    try:
        return frame_arrays(path, int(index))
    except RunError as exc:
        st.info(str(exc))
        return None


def set_frame(value: int) -> None:
    st.session_state["frame"] = int(value)


def on_plot_select(key: str):
    """A plotly ``on_select`` callback that moves the frame slider to the clicked point's x (a frame)."""
    def callback() -> None:
        event = st.session_state.get(key)
        points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else \
            getattr(getattr(event, "selection", None), "points", [])
        if points:
            x = points[0].get("x")
            if x is not None:
                st.session_state["frame"] = int(round(float(x)))
    return callback


def find_sweeps() -> list[Path]:
    """Sweep folders (with sweep.csv) in the runs folder, beside it, or named by the runs' records."""
    root = runs_root()
    found = set(root.glob("*/sweep.csv")) | set(root.parent.glob("*/sweep.csv"))
    if (root / "sweep.csv").exists():
        found.add(root / "sweep.csv")
    for sweep in runs()["sweep"].dropna().unique():
        if (Path(sweep) / "sweep.csv").exists():
            found.add(Path(sweep) / "sweep.csv")
    return sorted(p.parent for p in found)


def figure(key: tuple, build):
    """A plotly figure built once per session and key (``build()``); pages then only move its frame marker
    (:func:`workbench.viz.timeline.set_frame_marker`), which keeps a frame change fast. Per session, so that
    two browser tabs never move each other's marker."""
    cache = st.session_state.setdefault("figures", {})
    if key not in cache:
        if len(cache) > 16:
            cache.pop(next(iter(cache)))
        cache[key] = build()
    return cache[key]


def require_run() -> tuple[dict[str, Any], pd.DataFrame]:
    """The selected run's metadata and frames table; otherwise a message and the page stops here."""
    selected = selected_meta()
    if selected is None:
        st.info("Pick a run in the sidebar.")
        st.stop()
    return selected
