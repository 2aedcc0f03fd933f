"""Atomic writes, and the one output guard: nothing half-written, nothing pre-existing lost, no input touched.

Files are written to a hidden temporary sibling and renamed into place (``os.replace`` is atomic on one
file system). Folders are built under a hidden ``.<name>.partial-<pid>`` sibling and renamed when complete;
on any exception the partial folder is removed. :func:`check_output` is the guard every command runs on its
outputs before any work (``workbench.cli.main`` declares each command's outputs and inputs in one table).
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import InputError


@contextlib.contextmanager
def atomic_file(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` if the block succeeds.

    ``suffix`` defaults to the final suffix so that writers which pick the format from the extension
    (OpenCV) still work on the temporary name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix if suffix is not None else path.suffix,
                               dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the mode open() would
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def json_ready(value: Any) -> Any:
    """``value`` as strict JSON: NumPy numbers → Python numbers, NaN and ±inf (no valid pixel, no data) →
    ``null``, tuples → lists, keys → strings; what every JSON reader accepts (``allow_nan=False`` holds)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def json_text(value: Any) -> str:
    """Indented strict JSON (:func:`json_ready`) with a final newline: the form of every JSON file written."""
    return json.dumps(json_ready(value), indent=2, allow_nan=False) + "\n"


def write_json_atomic(path: str | Path, value: Any) -> None:
    write_text_atomic(path, json_text(value))


def write_csv_atomic(path: str | Path, rows: list[dict[str, Any]]) -> None:
    """``rows`` (dicts with the same keys, in order) as a CSV file with a header, atomically."""
    with atomic_file(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


OUTPUT_KINDS = ("folder", "file", "parent")
"""``folder``: a folder the command creates whole (replaced only with ``overwrite``); ``file``: one file;
``parent``: a folder the command writes new entries into (it may exist; each entry is checked by its writer).
A training output is a folder or a file that is also ``resumable``: ``resume`` continues it."""


def _relation(out: Path, inp: Path) -> str | None:
    if out == inp:
        return "is"
    if out in inp.parents:
        return "contains"
    if inp.is_dir() and inp in out.parents:
        return "is inside"
    return None


def check_output(out: str | Path, inputs: Iterable[str | Path | None] = (), overwrite: bool = False,
                 kind: str = "folder", option: str = "--out", resume: bool = False, resumable: bool = False) -> Path:
    """Refuse an output that would destroy something: the one guard of every command's outputs.

    - an output that is, contains or lies inside one of ``inputs`` (existing files or folders the command
      reads) is refused even with ``overwrite`` — no command deletes, replaces or writes into its input;
    - an existing output is refused without ``overwrite`` (``parent`` folders may exist; ``resumable`` outputs
      may also be continued with ``resume``);
    - a file where a folder belongs (or the reverse) is refused even with ``overwrite``.
    """
    if kind not in OUTPUT_KINDS:
        raise ValueError(f"kind {kind!r}: expected one of {OUTPUT_KINDS}")
    path = Path(out)
    resolved = path.resolve()
    for inp in inputs:
        if inp is None or not Path(inp).exists():
            continue
        relation = _relation(resolved, Path(inp).resolve())
        if relation:
            raise InputError(f"{option} {path}: the output {relation} the input {inp}; choose another output "
                             "(no command writes over what it reads)")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise InputError(f"{option} {path}: {parent} is a file, not a folder")
    if not path.exists() and not path.is_symlink():
        return path
    wants_dir = kind in ("folder", "parent")
    if wants_dir and not path.is_dir():
        raise InputError(f"{option} {path}: a file is there; expected a folder (nothing was replaced)")
    if not wants_dir and path.is_dir():
        raise InputError(f"{option} {path}: a folder is there; expected a file (nothing was replaced)")
    if kind == "parent" or overwrite or (resumable and resume):
        return path
    if resumable:
        raise InputError(f"{option} {path} already exists; pass --overwrite to replace it, --resume to continue its "
                         "training, or choose another output")
    raise InputError(f"{option} {path} already exists; pass --overwrite or choose another output")


@contextlib.contextmanager
def atomic_dir(path: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Build a folder under a temporary name and move it to ``path`` when the block succeeds.

    An existing ``path`` is an error unless ``overwrite``; then it is replaced only after the new folder
    is complete, so a failure leaves the old one untouched.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise InputError(f"{path} already exists; pass --overwrite or choose another output folder")
    if path.exists() and not path.is_dir():
        raise InputError(f"{path}: a file is there; expected a folder (nothing was replaced)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
        if path.exists():
            trash = path.parent / f".{path.name}.old-{os.getpid()}"
            os.replace(path, trash)
            os.replace(tmp, path)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
