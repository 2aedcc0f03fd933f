"""Run records (docs/conventions.md): write atomically, load with validation, list.

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
files, the types of the run.json fields the workbench reads (:data:`FIELD_TYPES`), the columns and their types, and
``Run.frame_data`` the arrays' types and shapes: whatever a folder holds, a reader gets a :class:`RunError` (an
``InputError``) with a one-line reason naming the file, never another exception.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import secrets
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench import __version__
from workbench.errors import InputError
from workbench.io.atomic import atomic_dir, json_text

RECORD_VERSION = 1
COLUMNS = ("frame", "region", "decision", "score_pred", "score_true", "target", "iou", "t_flow_ms",
           "t_decision_ms", "t_seg_ms", "t_warp_ms", "t_total_ms")
SUMMARY_KEYS = ("frames", "mean_iou", "fps", "key_fraction")
REQUIRED = ("run_id", "created", "workbench_version", "git_commit", "method", "config", "source", "summary")
FRAME_ARRAYS = ("image", "seg", "prob")
DECISIONS = ("segment", "warp")
MAX_JSON_BYTES = 16 * 2**20  # a run.json is a few kB: a larger file is not one (and is not read into memory)
MAX_FRAME_BYTES = 2**30  # the arrays of one frame file, uncompressed (a 4K frame is about 80 MB)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _optional(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or test(value)


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _object(value: Any) -> bool:
    return isinstance(value, dict)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _boxes(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(b, list) and len(b) == 4 and all(isinstance(c, int) and not isinstance(c, bool) for c in b)
        and 0 <= b[0] < b[2] and 0 <= b[1] < b[3] for b in value)


def _stage_times(value: Any) -> bool:
    return isinstance(value, dict) and all(v is None or _number(v) for v in value.values())


#: The run.json fields readers use: dotted name → (test, what it must be). Those of REQUIRED and SUMMARY_KEYS
#: must be present; the others may be absent. Parents come before their fields.
FIELD_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "run_id": (_text, "a string"),
    "created": (_text, "a string"),
    "workbench_version": (_text, "a string"),
    "git_commit": (_optional(_text), "a string or null"),
    "method": (_text, "a string"),
    "config": (_object, "an object"),
    "source": (_object, "an object"),
    "summary": (_object, "an object"),
    "stored": (lambda v: isinstance(v, bool), "true or false"),
    "sweep": (_optional(_text), "a string or null"),
    "config.param": (_optional(_number), "a number or null"),
    "config.rule": (_optional(_text), "a string or null"),
    "config.flow": (_optional(_text), "a string or null"),
    "config.seg": (_optional(_object), "an object or null"),
    "config.correct": (_optional(_object), "an object or null"),
    "config.regions_px": (_optional(_boxes), "a list of [x0, y0, x1, y1] boxes (whole pixels, x0 < x1, y0 < y1)"),
    "source.name": (_optional(_text), "a string or null"),
    "source.path": (_optional(_text), "a string or null"),
    "summary.frames": (_count, "a whole number of frames, 1 or more"),
    "summary.mean_iou": (_optional(_number), "a number or null"),
    "summary.fps": (_optional(_number), "a number or null"),
    "summary.key_fraction": (_number, "a number"),
    "summary.stage_ms": (_optional(_stage_times), "an object of numbers"),
}


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

    def finish(self, meta: dict[str, Any], rows: Any) -> None:
        """Write ``frames.parquet`` from ``rows`` (a DataFrame, or a list of row dicts) and ``run.json``."""
        import pandas as pd

        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"run rows lack columns {missing}")
        frame.to_parquet(self.tmp / "frames.parquet", index=False)
        record = {"run_id": self.run_id, "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                  "workbench_version": __version__, "git_commit": git_commit(), "record_version": RECORD_VERSION,
                  "stored": self.store, **meta}
        (self.tmp / "run.json").write_text(json_text(record))
        self._finished = True

    def __exit__(self, exc_type, exc, tb) -> bool | None:
        if exc_type is None and not self._finished:
            exc_type = RuntimeError
            exc = RuntimeError(f"{self.path}: run record closed without finish()")
            self._context.__exit__(exc_type, exc, None)
            raise exc
        return self._context.__exit__(exc_type, exc, tb)


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
            with zipfile.ZipFile(path) as archive:  # the sizes the archive declares bound what np.load may unpack
                size = sum(info.file_size for info in archive.infolist())
            if size > MAX_FRAME_BYTES:
                raise RunError(f"{path}: {size / 2**20:.0f} MB of arrays, more than a frame file holds "
                               f"({MAX_FRAME_BYTES / 2**20:.0f} MB at most)")
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except RunError:
            raise
        except Exception as exc:  # a damaged file: zipfile, zlib and numpy raise many types
            raise RunError(f"{path}: unreadable frame file ({type(exc).__name__})") from None
        if any(k not in arrays for k in FRAME_ARRAYS):
            raise RunError(f"{path}: expected arrays {', '.join(FRAME_ARRAYS)}")
        _check_frame(arrays, path, self.meta["config"].get("regions_px") or [])
        return arrays

    def per_frame(self) -> Any:
        """One row per frame: iou, key regions, total ms, mean predicted score."""
        df = self.frames
        grouped = df.groupby("frame")
        out = grouped.agg(iou=("iou", "first"), t_total_ms=("t_total_ms", "sum"),
                          score_pred=("score_pred", "mean"), target=("target", "mean"))
        out["keys"] = grouped["decision"].apply(lambda d: int((d == "segment").sum()))
        return out.reset_index()


def _describe(array: np.ndarray) -> str:
    return f"{array.dtype} {tuple(array.shape)}"


def _check_frame(arrays: dict[str, np.ndarray], path: Path, boxes: list[list[int]]) -> None:
    """The arrays of one frame file have the types and shapes of the module docstring, and hold every region box;
    non-finite flow becomes NaN (no flow)."""
    image = arrays["image"]
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or 0 in image.shape:
        raise RunError(f"{path}: image is {_describe(image)}, expected uint8 (H, W, 3)")
    height, width = image.shape[:2]
    for name in ("seg", "prob", "gt"):
        if name in arrays and (arrays[name].shape != (height, width) or arrays[name].dtype.kind not in "ui"):
            raise RunError(f"{path}: {name} is {_describe(arrays[name])}, expected integers ({height}, {width}) "
                           "like the image")
    if "flow" in arrays:
        flow = arrays["flow"]
        if flow.shape != (2, height, width) or flow.dtype.kind != "f":
            raise RunError(f"{path}: flow is {_describe(flow)}, expected floats (2, {height}, {width})")
        if not np.isfinite(flow).all():
            arrays["flow"] = np.where(np.isfinite(flow), flow, np.nan).astype(flow.dtype)
    key_frame = arrays.get("key_frame")
    if key_frame is not None and (key_frame.ndim != 1 or key_frame.dtype.kind not in "ui"
                                  or (boxes and len(key_frame) != len(boxes))):
        raise RunError(f"{path}: key_frame is {_describe(key_frame)}, expected integers ({len(boxes)},), one per "
                       "region")
    outside = [b for b in boxes if b[2] > width or b[3] > height]
    if outside:
        raise RunError(f"{path}: region {outside[0]} of config.regions_px lies outside the {width}×{height} frame")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_fields(meta: dict[str, Any], meta_path: Path) -> None:
    """Presence (REQUIRED, SUMMARY_KEYS) and types (FIELD_TYPES) of the run.json fields readers use."""
    missing = [k for k in REQUIRED if k not in meta]
    if missing:
        raise RunError(f"{meta_path}: missing {', '.join(missing)}")
    for name, (test, what) in FIELD_TYPES.items():
        parent, _, key = name.rpartition(".")
        holder = meta[parent] if parent else meta
        if key in holder and not test(holder[key]):
            raise RunError(f"{meta_path}: {name} is {_show(holder[key])}, expected {what}")
        if name == "summary":
            missing = [f"summary.{k}" for k in SUMMARY_KEYS if k not in meta["summary"]]
            if missing:
                raise RunError(f"{meta_path}: missing {', '.join(missing)}")


def _check_table(frames: Any, table: Path, boxes: list[list[int]]) -> None:
    """Column types of frames.parquet, its decisions, and (with region boxes) one row per region and frame."""
    from pandas.api.types import is_bool_dtype, is_integer_dtype, is_numeric_dtype

    if frames.empty:
        raise RunError(f"{table}: no rows")
    timings = [str(c) for c in frames.columns if str(c).startswith("t_") and str(c).endswith("_ms")]
    numeric = [c for c in (*COLUMNS, "key_frame", "score_cum", *timings) if c != "decision" and c in frames]
    wrong = [c for c in dict.fromkeys(numeric) if not is_numeric_dtype(frames[c]) or is_bool_dtype(frames[c])]
    wrong += [c for c in ("frame", "region") if c not in wrong and not is_integer_dtype(frames[c])]
    if wrong:
        raise RunError(f"{table}: column {wrong[0]} holds {frames[wrong[0]].dtype}, expected "
                       f"{'integers' if wrong[0] in ('frame', 'region') else 'numbers'}")
    decisions = frames["decision"].map(lambda d: isinstance(d, str) and d in DECISIONS)
    if not decisions.all():
        raise RunError(f"{table}: decision {_show(frames['decision'][~decisions].iloc[0])}, expected one of "
                       f"{', '.join(DECISIONS)}")
    if boxes:
        per_frame = frames.groupby("frame")["region"]
        regions = frames["region"]
        bad = (per_frame.size() != len(boxes)) | (per_frame.nunique() != len(boxes))
        if bad.any() or regions.min() < 0 or regions.max() >= len(boxes):
            raise RunError(f"{table}: expected regions 0..{len(boxes) - 1} once in every frame (config.regions_px "
                           f"has {len(boxes)} boxes)"
                           + (f"; frame {bad.idxmax()} has {per_frame.size()[bad.idxmax()]} rows" if bad.any() else ""))


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
        if meta_path.stat().st_size > MAX_JSON_BYTES:
            raise RunError(f"{meta_path}: {meta_path.stat().st_size / 2**20:.0f} MB, too large for a run.json")
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise RunError(f"{meta_path}: unreadable run.json ({type(exc).__name__})") from None
    if not isinstance(meta, dict):
        raise RunError(f"{meta_path}: expected a JSON object")
    version = meta.get("record_version")
    if version != RECORD_VERSION:
        raise RunError(f"{meta_path}: run record version {version!r}, this workbench reads version {RECORD_VERSION} "
                       "(re-run it with this version)")
    _check_fields(meta, meta_path)
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
    _check_table(frames, table, meta["config"].get("regions_px") or [])
    return Run(path, meta, frames)


def list_runs(root: str | Path) -> list[Path]:
    """Run folders under ``root`` (those with a run.json), oldest first; partial (hidden) folders skipped."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / "run.json").is_file()]
    return sorted(found, key=lambda p: p.name)
