"""Shared state of the dashboard: the runs folder, cached loading, the sidebar (run and frame pickers), and the
confinement root.

Everything is computed by ``workbench``; this module only loads (``st.cache_data``) and arranges. Problems with
a run folder become a readable message in the page, never a traceback: ``workbench.runs`` validates what it loads
and raises ``RunError``; a run that cannot be read is a row of :func:`run_table` with its reason in ``error``.

The dashboard reads runs and writes (new runs, uploads) only inside its root, ``--root DIR`` (default: the
``--runs`` folder): a runs folder typed in the sidebar must resolve inside it (``..`` and symbolic links
followed), and so must each run folder listed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from workbench.cli import MAX_UPLOAD_MB as DASHBOARD_MAX_UPLOAD_MB
from workbench.errors import InputError
from workbench.experiments.sweep import sweep_rule
from workbench.pipeline import PipelineConfig
from workbench.runs import RunError, list_runs, load_run

DEFAULT_RUNS = "data/runs"
# The New run page refuses larger videos; `workbench dashboard` gives Streamlit the same server.maxUploadSize.
MAX_UPLOAD_MB = DASHBOARD_MAX_UPLOAD_MB
UPLOAD_TYPES = ("mp4", "avi", "mov", "mkv")
UPLOADS = ".uploads"  # under the root; hidden, so never listed as a run folder
COLUMNS = ["path", "run_id", "clip", "method", "param", "seg", "flow", "frames", "mean_iou", "fps", "key_fraction",
           "stored", "created", "sweep", "error"]
LOG = logging.getLogger("workbench.dashboard")


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type, and its message's first line."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def guarded(part, name: str) -> None:
    """Run one part of the app (the sidebar, a page). The pages catch what a run folder can do wrong; this is the
    last guard: anything else becomes one line in the page, its traceback goes to the server's log."""
    try:
        part()
    except Exception as exc:  # streamlit's st.stop/st.rerun/st.switch_page are BaseExceptions and pass through
        LOG.exception("dashboard: %s failed", name)
        st.error(f"{name} could not be shown ({one_line(exc)}); the details are in the dashboard's log.")


def _arguments() -> argparse.Namespace:
    """``--runs DIR`` and ``--root DIR`` after ``--`` on the streamlit command line."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--runs", default=os.environ.get("WORKBENCH_RUNS", DEFAULT_RUNS))
    parser.add_argument("--root", default=None)
    args, _ = parser.parse_known_args(sys.argv[1:])
    return args


def confinement_root() -> Path:
    """``--root DIR``, resolved: the dashboard reads runs and writes only under it (default: the ``--runs``
    folder)."""
    if "confinement_root" not in st.session_state:
        args = _arguments()
        st.session_state["confinement_root"] = str(Path(args.root or args.runs).resolve())
    return Path(st.session_state["confinement_root"])


def inside_root(path: str | Path) -> bool:
    """Whether ``path`` resolves (``..`` and symbolic links followed) to the confinement root or below it."""
    try:
        return Path(path).resolve().is_relative_to(confinement_root())
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL character
        return False


def runs_root() -> Path:
    """The runs folder: ``--runs DIR`` after ``--`` on the streamlit command line, else ``$WORKBENCH_RUNS``, else
    data/runs, until another is chosen in the sidebar; always inside the confinement root (a ``--runs`` outside
    ``--root`` is refused: the root itself is shown)."""
    if "runs_root" not in st.session_state:
        runs = _arguments().runs
        if not inside_root(runs):
            st.session_state["runs_refused"] = (f"--runs {runs} is outside the dashboard's root "
                                                f"{confinement_root()} (--root): showing the root instead")
            runs = str(confinement_root())
        st.session_state["runs_root"] = runs
    return Path(st.session_state["runs_root"])


def _change_runs_folder() -> None:
    """The sidebar's runs folder field: taken when it resolves inside the root, else refused (it shows the folder
    in use again, and a message says why)."""
    typed = st.session_state["runs_root_input"].strip()
    if typed and inside_root(typed):
        st.session_state["runs_root"] = typed
        st.session_state.pop("runs_refused", None)
    else:
        st.session_state["runs_refused"] = (f"{typed or '(empty)'}: outside the dashboard's root "
                                            f"{confinement_root()}; still showing {runs_root()}")
        st.session_state["runs_root_input"] = str(runs_root())


def _stamp(root: Path) -> tuple:
    """Changes when runs are added or removed, so cached listings refresh."""
    try:
        return tuple(sorted((p.name, p.lstat().st_mtime) for p in root.iterdir() if not p.name.startswith(".")))
    except OSError:
        return ()


def _error_row(folder: Path, error: str) -> dict[str, Any]:
    return {"path": str(folder), "run_id": folder.name, "error": error}


def _run_row(folder: Path) -> dict[str, Any]:
    """A readable run's row; ``RunError`` when it is not (``load_run`` validates the record)."""
    run = load_run(folder)
    s, cfg = run.summary, run.meta["config"]
    return {"path": str(folder), "run_id": run.run_id, "clip": run.meta["source"].get("name"),
            "method": method_name(run.meta), "param": cfg.get("param"), "seg": (cfg.get("seg") or {}).get("arch"),
            "flow": cfg.get("flow"), "frames": s["frames"], "mean_iou": s["mean_iou"], "fps": s["fps"],
            "key_fraction": s["key_fraction"], "stored": run.stored, "created": run.meta["created"],
            "sweep": run.meta.get("sweep"), "error": ""}


@st.cache_data(show_spinner=False)
def run_table(root: str, stamp: tuple, confine: str) -> pd.DataFrame:
    """One row per run folder under ``root`` (and under each sweep's ``runs/``): what the pickers show. A folder
    that cannot be read is a row too, with its one-line reason in ``error`` (empty for a readable run); so is a
    folder that resolves outside ``confine`` (a symbolic link out of the root), which is not read."""
    rows = []
    try:
        folders = list_runs(root)
        for sweep_runs in sorted(Path(root).glob("*/runs")):
            folders += list_runs(sweep_runs)
        for folder in sorted(Path(root).iterdir()) if Path(root).is_dir() else []:
            if folder.is_dir() and not folder.name.startswith(".") and not (folder / "run.json").exists() \
                    and not (folder / "runs").is_dir() and not (folder / "sweep.csv").exists():
                rows.append(_error_row(folder, f"{folder.name}: not a run record (no run.json; an interrupted run "
                                               "leaves none)"))
    except OSError as exc:
        return pd.DataFrame([_error_row(Path(root), f"{root}: unreadable ({one_line(exc)})")], columns=COLUMNS)
    for folder in folders:
        try:
            if not folder.resolve().is_relative_to(confine):
                rows.append(_error_row(folder, f"{folder}: leads outside the dashboard's root {confine}; not read"))
                continue
            rows.append(_run_row(folder))
        except (RunError, OSError, RuntimeError) as exc:  # OSError: unreadable; RuntimeError: a symlink loop
            rows.append(_error_row(folder, str(exc) if isinstance(exc, RunError) else f"{folder}: {one_line(exc)}"))
    return pd.DataFrame(rows, columns=COLUMNS)


def runs() -> pd.DataFrame:
    root = runs_root()
    return run_table(str(root), _stamp(root), str(confinement_root()))


def save_upload(upload: Any) -> Path:
    """Write an uploaded video (``st.file_uploader``'s file: ``name``, ``size``, ``getbuffer()``) to
    ``ROOT/.uploads/<random>/<its name, sanitised>``, so that the run is named after the video; ``InputError``
    when it is larger than ``MAX_UPLOAD_MB`` or not a video type the page accepts."""
    name = Path(str(upload.name).replace("\\", "/")).name
    stem, suffix = Path(name).stem, Path(name).suffix.lower()
    if suffix.lstrip(".") not in UPLOAD_TYPES:
        raise InputError(f"{name}: expected a video ({', '.join(UPLOAD_TYPES)})")
    if upload.size > MAX_UPLOAD_MB * 2**20:
        raise InputError(f"{name}: {upload.size / 2**20:.3g} MB is more than the dashboard takes "
                         f"({MAX_UPLOAD_MB} MB); run it with workbench dvs run --data instead")
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in stem).lstrip(".")[:60]
    folder = confinement_root() / UPLOADS / secrets.token_hex(4)
    folder.mkdir(parents=True)
    path = folder / f"{safe or 'upload'}{suffix}"
    if not inside_root(path):
        shutil.rmtree(folder)
        raise InputError(f"{path}: outside the dashboard's root {confinement_root()}")
    path.write_bytes(upload.getbuffer())
    return path


def remove_upload(path: Path) -> None:
    """Remove an upload :func:`save_upload` made (the run over it failed), with its folder."""
    folder = Path(path).parent
    if folder.parent == confinement_root() / UPLOADS:
        shutil.rmtree(folder, ignore_errors=True)


@st.cache_data(show_spinner=False, max_entries=64)
def load(path: str) -> tuple[dict[str, Any], pd.DataFrame]:
    run = load_run(path)
    return run.meta, run.frames


@st.cache_data(show_spinner=False, max_entries=512)
def frame_arrays(path: str, index: int) -> dict[str, np.ndarray]:
    return load_run(path).frame_data(index)


@st.cache_data(show_spinner=False, max_entries=4)
def run_video_bytes(path: str) -> bytes:
    """A run's stored frames as a WebM video (input | prediction | errors), for the download button."""
    import tempfile

    from workbench.runs import write_run_video

    with tempfile.TemporaryDirectory() as folder:
        return write_run_video(path, Path(folder) / "run.webm").read_bytes()


def number(value: Any, spec: str = ".1f") -> str:
    """``value`` formatted, or "–" when it is missing (None, NaN)."""
    try:
        return "–" if value is None or np.isnan(value) else format(value, spec)
    except (TypeError, ValueError):
        return "–"


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
    param = "" if number(row["param"], "g") == "–" else f" {number(row['param'], 'g')}"
    iou = "" if number(row["mean_iou"]) == "–" else f" · IoU {number(row['mean_iou'], '.3f')}"
    return f"{row['clip']} · {row['method']}{param} · {row['seg']}{iou} · {number(row['fps'])} fps"


def sidebar(with_frame: bool = True) -> None:
    """Runs folder, the selected run (and a second one for comparisons), the frame (unless ``with_frame`` is
    false: a page that draws its own, :func:`frame_slider`)."""
    with st.sidebar:
        st.markdown("### Runs")
        st.session_state.setdefault("runs_root_input", str(runs_root()))
        st.text_input("runs folder", key="runs_root_input", on_change=_change_runs_folder,
                      help=f"folder of run records (workbench dvs run --out), inside {confinement_root()}")
        if st.session_state.get("runs_refused"):
            st.error(st.session_state["runs_refused"])
        root = str(runs_root())
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
        clip = table.loc[table["path"] == st.session_state["run"], "clip"].iloc[0]
        others = [p for p, c in zip(table["path"], table["clip"], strict=True)
                  if p != st.session_state["run"] and c == clip]  # Compare: the same clip's frames only
        if others:
            if st.session_state.get("run_b") not in others:
                st.session_state["run_b"] = others[0]
            st.selectbox("second run (compare)", others, format_func=labels.get, key="run_b",
                         help=f"another run of the same clip ({clip})")
        else:
            st.session_state.pop("run_b", None)
            st.caption(f"No other run of `{clip}` to compare with.")
        meta = selected_meta(quiet=True)
        if meta is not None and with_frame:
            frame_slider(st, int(meta[0]["summary"]["frames"]))
        elif meta is not None:
            st.caption("frame: the player's slider above the panels")
        st.caption(f"{len(table)} runs in `{root}`")
        broken = table[table["error"].ne("")]
        if len(broken):
            with st.expander(f"⚠ {len(broken)} run folder{'s' if len(broken) > 1 else ''} cannot be read"):
                for error in broken["error"]:
                    st.text(error)


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
    """The stored arrays of a frame of the run picked as ``key``, or None with a message in the page: a note for a
    run that stored no frames, an error for a missing or damaged frame file."""
    path = st.session_state.get(key)
    index = st.session_state.get("frame", 0) if index is None else index
    try:
        return frame_arrays(path, int(index))
    except RunError as exc:
        table = runs()
        row = table[table["path"] == path]
        (st.info if len(row) and not row["stored"].iloc[0] else st.error)(str(exc))
        return None


def frame_slider(container: Any, frames: int, **options: Any) -> None:
    """The frame slider (session key ``frame``, shared by every page) in ``container``, the sidebar of every page
    but the explorer (whose frame player sets the same key). The kept frame is clamped to the run's length first."""
    st.session_state["frame"] = min(int(st.session_state.get("frame", 0)), frames - 1)
    container.slider("frame", 0, max(frames - 1, 1), key="frame", disabled=frames < 2, **options)


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
    """Sweep folders (with sweep.csv) in the runs folder, beside it, or named by the runs' records; only those
    inside the confinement root."""
    root = runs_root()
    try:
        beside = root.parent.glob("*/sweep.csv") if inside_root(root.parent) else []
        found = {*root.glob("*/sweep.csv"), *beside, root / "sweep.csv",
                 *(Path(sweep) / "sweep.csv" for sweep in runs()["sweep"].dropna().unique())}
        return sorted(p.parent for p in found if inside_root(p) and p.is_file())
    except (OSError, ValueError):  # an unreadable folder; a recorded path no file system takes
        return []


SWEEP_COLUMNS = ("clip", "method", "seg", "param", "mean_iou", "fps", "key_fraction")


def read_sweep(folder: Path) -> tuple[pd.DataFrame, str]:
    """A sweep's table and its decision rule (sweeps before the rule existed: threshold); ``InputError`` with one
    line when sweep.csv cannot be read or lacks what the trade-off curves need."""
    path = folder / "sweep.csv"
    try:
        table = pd.read_csv(path)
    except Exception as exc:  # pandas raises several types for damaged files
        raise InputError(f"{path}: unreadable ({one_line(exc)})") from None
    lacking = [c for c in SWEEP_COLUMNS if c not in table.columns]
    if lacking:
        raise InputError(f"{path}: missing columns {', '.join(lacking)}")
    wrong = [c for c in ("param", "mean_iou", "fps", "key_fraction") if not pd.api.types.is_numeric_dtype(table[c])]
    if wrong:
        raise InputError(f"{path}: column {wrong[0]} holds {table[wrong[0]].dtype}, expected numbers")
    for column in ("clip", "method", "seg"):
        table[column] = table[column].astype(str)
    try:
        rule = sweep_rule(json.loads((folder / "sweep.json").read_text()))
    except (OSError, ValueError, RecursionError):
        rule = sweep_rule({})
    return table, rule


def figure(key: tuple, build):
    """A plotly figure (or the frame player's drawn frames) built once per session and key (``build()``); pages
    then only move its frame marker (:func:`workbench.viz.timeline.set_frame_marker`), which keeps a frame change
    fast. Per session, so that two browser tabs never move each other's marker. The 16 most recently used are
    kept."""
    cache = st.session_state.setdefault("figures", {})
    if key in cache:
        cache[key] = cache.pop(key)  # now the most recently used
    else:
        if len(cache) >= 16:
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
