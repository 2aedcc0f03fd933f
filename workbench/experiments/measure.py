"""What every benchmark shares: the machine it ran on, pinned thread counts, clip-bootstrap intervals, table
numbers and the ``bench_<name>.md`` / ``.json`` pair it writes (docs/conventions.md, *How things are measured*)."""

from __future__ import annotations

import math
import os
import platform
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from workbench import __version__
from workbench.errors import InputError
from workbench.io.atomic import write_json_atomic, write_text_atomic


def machine_info(threads: int) -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "threads": threads,
        "processor": platform.processor() or platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cv2": cv2.__version__,
        "numpy": np.__version__,
        "workbench": __version__,
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    return info


class PinnedThreads:
    """Pin torch and OpenCV to ``n`` threads inside the block; restore the previous counts afterwards."""

    def __init__(self, n: int):
        self.n = n

    def __enter__(self) -> PinnedThreads:
        self.saved = (torch.get_num_threads(), cv2.getNumThreads())
        torch.set_num_threads(self.n)
        cv2.setNumThreads(self.n)
        return self

    def __exit__(self, *exc: object) -> None:
        torch.set_num_threads(self.saved[0])
        cv2.setNumThreads(self.saved[1])


CI_RESAMPLES = 2000  # bootstrap resamples of the clips for a 95 % interval


def clip_interval(per_clip: list[float], resamples: int = CI_RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """95 % bootstrap interval of the mean of one value per clip (whole clips are resampled: the pairs of one
    clip are not independent). Deterministic (``seed``); ``(nan, nan)`` with fewer than 2 clips."""
    values = np.asarray(per_clip, np.float64)
    if len(values) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (resamples, len(values)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def fmt_num(value: Any, fmt: str) -> str:
    """``value`` formatted, or an em dash where there is none (``None``, NaN): how every table shows a gap."""
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def write_bench(result: dict[str, Any], out: str | Path, markdown: str) -> tuple[Path, Path]:
    """Write ``bench_<name>.md`` (``markdown``) and ``bench_<name>.json`` under ``out``, each atomically."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    md, js = out / f"bench_{result['benchmark']}.md", out / f"bench_{result['benchmark']}.json"
    write_text_atomic(md, markdown)
    write_json_atomic(js, result)
    return md, js
