"""Run records (DESIGN.md §4): write atomically, load with validation, list.

```
<root>/<run_id>/run.json          run_id, created, workbench_version, git_commit, method, config, source,
                                  summary {frames, mean_iou, fps, key_fraction, ...}, record_version, stored
<root>/<run_id>/frames.parquet    one row per (frame, region) — see workbench.pipeline.run
<root>/<run_id>/frames/NNNNNN.npz what the viewer shows of frame NNNNNN (when the run was stored):
    image    uint8 (H, W, 3)   the input frame
    seg      uint8 (H, W)      predicted labels
    prob     uint8 (H, W)      foreground probability × 255
    gt       uint8 (H, W)      ground truth (0/1 or class ids, 255 ignore), when known
    flow     float16 (2, H, W) each region's flow to its key frame, written into the region's box
                               (overlaps: the later region); NaN where no flow was estimated
    key_frame int16 (R,)       key frame index of each region
```

A record is built under a temporary name and renamed when complete, so an interrupted run (Ctrl-C) leaves
nothing under ``<root>``; an existing record is never overwritten. ``load_run`` checks the version, the
files and the columns, and raises :class:`RunError` (an ``InputError``) with a one-line reason.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench import __version__
from workbench.errors import InputError
from workbench.io.atomic import atomic_dir

RECORD_VERSION = 1
COLUMNS = ("frame", "region", "decision", "score_pred", "score_true", "target", "iou", "t_flow_ms",
           "t_decision_ms", "t_seg_ms", "t_warp_ms", "t_total_ms")
SUMMARY_KEYS = ("frames", "mean_iou", "fps", "key_fraction")
REQUIRED = ("run_id", "created", "workbench_version", "git_commit", "method", "config", "source", "summary")
FRAME_ARRAYS = ("image", "seg", "prob")


class RunError(InputError):
    """A run folder that is missing, partial, of another version or otherwise unreadable."""


def git_commit() -> str | None:
    """The workbench checkout's commit, or None outside a git checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def new_run_id(source: str, method: str, param: Any = None) -> str:
    """``20261121-142501-clip_000-adaptive90-3f2a``: sortable by time, readable, unique."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    tag = method + ("" if param is None else f"{param:g}" if isinstance(param, float) else str(param))
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in source)[:40] or "run"
    return f"{stamp}-{safe}-{tag}-{secrets.token_hex(2)}"


def frame_payload(image: np.ndarray, seg: np.ndarray, prob: np.ndarray, gt: np.ndarray | None,
                  flow: np.ndarray | None, key_frame: list[int]) -> bytes:
    arrays = {"image": image, "seg": seg.astype(np.uint8), "prob": np.round(prob * 255).astype(np.uint8),
              "key_frame": np.asarray(key_frame, np.int16)}
    if gt is not None:
        arrays["gt"] = gt.astype(np.uint8)
    if flow is not None:
        arrays["flow"] = flow.astype(np.float16)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


class RunWriter:
    """``with RunWriter(root, run_id) as w: w.add_frame(...); w.finish(meta, rows)`` — atomic as a whole."""

    def __init__(self, root: str | Path, run_id: str, store: bool = True):
        self.path = Path(root) / run_id
        self.run_id, self.store = run_id, store
        self._finished = False

    def __enter__(self) -> RunWriter:
        self._context = atomic_dir(self.path)
        self.tmp = self._context.__enter__()
        if self.store:
            (self.tmp / "frames").mkdir()
        return self

    def add_frame(self, index: int, payload: bytes) -> None:
        if self.store:
            (self.tmp / "frames" / f"{index:06d}.npz").write_bytes(payload)

    def finish(self, meta: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        import pandas as pd

        frame = pd.DataFrame(rows)
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"run rows lack columns {missing}")
        frame.to_parquet(self.tmp / "frames.parquet", index=False)
        record = {"run_id": self.run_id, "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                  "workbench_version": __version__, "git_commit": git_commit(), "record_version": RECORD_VERSION,
                  "stored": self.store, **meta}
        (self.tmp / "run.json").write_text(json.dumps(_json_ready(record), indent=2) + "\n")
        self._finished = True

    def __exit__(self, exc_type, exc, tb) -> bool | None:
        if exc_type is None and not self._finished:
            exc_type = RuntimeError
            exc = RuntimeError(f"{self.path}: run record closed without finish()")
            self._context.__exit__(exc_type, exc, None)
            raise exc
        return self._context.__exit__(exc_type, exc, tb)


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


@dataclass
class Run:
    """A loaded run record."""

    path: Path
    meta: dict[str, Any]
    frames: Any  # pandas.DataFrame, one row per (frame, region)
    _cache: dict[int, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)

    @property
    def run_id(self) -> str:
        return self.meta["run_id"]

    @property
    def summary(self) -> dict[str, Any]:
        return self.meta["summary"]

    @property
    def num_frames(self) -> int:
        return int(self.summary["frames"])

    @property
    def stored(self) -> bool:
        return bool(self.meta.get("stored")) and (self.path / "frames").is_dir()

    def frame_data(self, index: int) -> dict[str, np.ndarray]:
        """The stored arrays of one frame (see the module docstring)."""
        if not self.stored:
            raise RunError(f"{self.path}: this run stored no frames (re-run with --store)")
        path = self.path / "frames" / f"{index:06d}.npz"
        if not path.is_file():
            raise RunError(f"{path}: frame {index} is missing from the run record")
        try:
            with np.load(path) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError) as exc:
            raise RunError(f"{path}: unreadable frame file ({type(exc).__name__})") from None
        if any(k not in arrays for k in FRAME_ARRAYS):
            raise RunError(f"{path}: expected arrays {', '.join(FRAME_ARRAYS)}")
        return arrays

    def per_frame(self) -> Any:
        """One row per frame: iou, key regions, total ms, mean predicted score."""
        df = self.frames
        grouped = df.groupby("frame")
        out = grouped.agg(iou=("iou", "first"), t_total_ms=("t_total_ms", "sum"),
                          score_pred=("score_pred", "mean"), target=("target", "mean"))
        out["keys"] = grouped["decision"].apply(lambda d: int((d == "segment").sum()))
        return out.reset_index()


def load_run(path: str | Path) -> Run:
    """Load and validate a run record folder."""
    import pandas as pd

    path = Path(path)
    meta_path = path / "run.json"
    if not path.is_dir():
        raise RunError(f"{path}: no such run folder")
    if not meta_path.is_file():
        raise RunError(f"{path}: not a run record (no run.json; an interrupted run leaves none)")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as exc:
        raise RunError(f"{meta_path}: unreadable run.json ({type(exc).__name__})") from None
    if not isinstance(meta, dict):
        raise RunError(f"{meta_path}: expected a JSON object")
    version = meta.get("record_version")
    if version != RECORD_VERSION:
        raise RunError(f"{meta_path}: run record version {version!r}, this workbench reads version {RECORD_VERSION} "
                       "(re-run it with this version)")
    missing = [k for k in REQUIRED if k not in meta]
    missing += [f"summary.{k}" for k in SUMMARY_KEYS if k not in (meta.get("summary") or {})]
    if missing:
        raise RunError(f"{meta_path}: missing {', '.join(missing)}")
    table = path / "frames.parquet"
    if not table.is_file():
        raise RunError(f"{table}: missing (partial run record)")
    try:
        frames = pd.read_parquet(table)
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise RunError(f"{table}: unreadable ({type(exc).__name__})") from None
    lacking = [c for c in COLUMNS if c not in frames.columns]
    if lacking:
        raise RunError(f"{table}: missing columns {', '.join(lacking)}")
    return Run(path, meta, frames)


def list_runs(root: str | Path) -> list[Path]:
    """Run folders under ``root`` (those with a run.json), oldest first; partial (hidden) folders skipped."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / "run.json").is_file()]
    return sorted(found, key=lambda p: p.name)
