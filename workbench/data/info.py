"""A summary of any supported dataset, behind ``workbench data info PATH [--json]``.

:func:`dataset_info` returns a JSON-ready dict; :func:`format_info` renders it as text. Class pixel
fractions come from up to :data:`MASK_SAMPLES` evenly spaced masks per sequence; flow statistics from every
ground-truth forward flow file (they are small), ignoring unknown (NaN) vectors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from workbench.io.detect import describe_layout, open_dataset
from workbench.io.sequence import Sequence

MASK_SAMPLES = 20
IGNORE = 255
_LABEL_WIDTH = len("Class pixels")  # the longest label of format_info's header block


def _sample_indices(num_frames: int, num_samples: int = MASK_SAMPLES) -> list[int]:
    """Up to ``num_samples`` evenly spaced frame indices, first and last included."""
    if num_frames <= num_samples:
        return list(range(num_frames))
    return sorted({int(i) for i in np.linspace(0, num_frames - 1, num_samples).round()})


def _class_fractions(sequences: list[Sequence], classes: list[str] | None) -> tuple[dict[str, float], int]:
    """Share of pixels per class over sampled masks, keyed by class name, and the number of masks read."""
    counts = np.zeros(256, np.int64)
    num_masks = 0
    for seq in sequences:
        if not seq.has_masks:
            continue
        for index in _sample_indices(len(seq)):
            counts += np.bincount(seq.mask(index).ravel(), minlength=256)
            num_masks += 1
    total = int(counts.sum())
    fractions: dict[str, float] = {}
    for value in np.flatnonzero(counts):
        if value == IGNORE:
            name = "ignore"
        elif classes is not None and value < len(classes):
            name = classes[value]
        else:
            name = f"class {value}"
        fractions[name] = float(counts[value] / total)
    return fractions, num_masks


def _flow_range(sequences: list[Sequence]) -> dict[str, Any] | None:
    """Min/max of u and v and the magnitude's max and mean over every forward flow file (NaN-aware)."""
    num_files = 0
    num_known = num_unknown = 0
    u_min = v_min = np.inf
    u_max = v_max = mag_max = -np.inf
    mag_sum = 0.0
    for seq in sequences:
        if not seq.has_flow:
            continue
        for index in range(len(seq)):
            flow = seq.flow_fwd(index)
            if flow is None:
                continue
            num_files += 1
            known = np.isfinite(flow).all(axis=0)
            num_unknown += int((~known).sum())
            if not known.any():
                continue
            u, v = flow[0][known].astype(np.float64), flow[1][known].astype(np.float64)
            magnitude = np.hypot(u, v)
            num_known += u.size
            u_min, u_max = min(u_min, u.min()), max(u_max, u.max())
            v_min, v_max = min(v_min, v.min()), max(v_max, v.max())
            mag_max = max(mag_max, magnitude.max())
            mag_sum += float(magnitude.sum())
    if num_files == 0:
        return None
    if num_known == 0:  # every vector unknown
        stats = dict.fromkeys(("u_min", "u_max", "v_min", "v_max", "max_magnitude", "mean_magnitude"))
    else:
        stats = {"u_min": float(u_min), "u_max": float(u_max), "v_min": float(v_min), "v_max": float(v_max),
                 "max_magnitude": float(mag_max), "mean_magnitude": mag_sum / num_known}
    stats["files"] = num_files
    stats["unknown_fraction"] = num_unknown / (num_known + num_unknown)
    return stats


def dataset_info(path: str | Path, flow_stats: bool = True, masks: str | Path | None = None) -> dict[str, Any]:
    """Summarise the dataset at ``path`` (any layout :func:`~workbench.io.detect.open_dataset` reads).

    ``masks`` is passed to :func:`~workbench.io.detect.open_dataset` (a mask video or folder for a video
    or an image folder).

    Keys: ``layout``, ``root``, ``num_sequences``, ``num_frames``, ``sizes`` (distinct ``[W, H]``),
    ``classes`` (the longest class list among the sequences), ``has_masks`` / ``has_flow`` (true when
    every sequence has them) with ``sequences_with_masks`` / ``sequences_with_flow``, ``class_fractions``
    (``{class name: share of pixels}``, ``None`` without masks) and ``masks_sampled``, ``flow``
    (``u_min, u_max, v_min, v_max, max_magnitude, mean_magnitude, files, unknown_fraction``, in pixels;
    ``None`` without flow files or when ``flow_stats`` is false), and ``sequences``: one
    ``{name, frames, size, fps, masks, flow, difficulty}`` per sequence (``difficulty`` from the clip's
    meta, ``None`` when absent).
    """
    path = Path(path)
    layout = describe_layout(path)
    sequences = open_dataset(path, masks=masks)
    class_lists = [seq.classes for seq in sequences if seq.classes]
    classes = max(class_lists, key=len) if class_lists else None
    with_masks = sum(seq.has_masks for seq in sequences)
    with_flow = sum(seq.has_flow for seq in sequences)
    fractions, masks_sampled = _class_fractions(sequences, classes) if with_masks else (None, 0)
    return {
        "layout": layout,
        "root": str(path.resolve()),
        "num_sequences": len(sequences),
        "num_frames": sum(len(seq) for seq in sequences),
        "sizes": [list(size) for size in sorted({seq.size for seq in sequences})],
        "classes": list(classes) if classes else None,
        "has_masks": bool(sequences) and with_masks == len(sequences),
        "has_flow": bool(sequences) and with_flow == len(sequences),
        "sequences_with_masks": with_masks,
        "sequences_with_flow": with_flow,
        "class_fractions": fractions,
        "masks_sampled": masks_sampled,
        "flow": _flow_range(sequences) if flow_stats and with_flow else None,
        "sequences": [{"name": seq.name, "frames": len(seq), "size": list(seq.size), "fps": float(seq.fps),
                       "masks": seq.has_masks, "flow": seq.has_flow,
                       "difficulty": seq.meta.get("difficulty")} for seq in sequences],
    }


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    """Columns padded to their widest cell; columns in ``right`` are right-aligned (numbers)."""
    widths = [max(len(row[c]) for row in [header, *rows]) for c in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [cell.rjust(width) if c in right else cell.ljust(width)
                 for c, (cell, width) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    return lines


def format_info(info: dict[str, Any]) -> str:
    """A readable multi-line report of :func:`dataset_info`'s dict: a header block, then a sequence table."""
    n = info["num_sequences"]
    fields = [
        ("Dataset", info["root"]),
        ("Layout", info["layout"]),
        ("Sequences", f"{n}, {info['num_frames']} frames in all"),
        ("Frame sizes", ", ".join(f"{w}x{h}" for w, h in info["sizes"]) or "-"),
        ("Classes", ", ".join(info["classes"]) if info["classes"] else "-"),
        ("Masks", f"{info['sequences_with_masks']} of {n} sequences"),
        ("Flow", f"{info['sequences_with_flow']} of {n} sequences"),
    ]
    if info["class_fractions"]:
        shares = ", ".join(f"{name} {100 * share:.1f} %" for name, share in info["class_fractions"].items())
        fields.append(("Class pixels", f"{shares} ({info['masks_sampled']} masks sampled)"))
    flow = info["flow"]
    if flow:
        if flow["u_min"] is None:
            text = "every vector unknown"
        else:
            text = (f"u {flow['u_min']:.2f}..{flow['u_max']:.2f} px, v {flow['v_min']:.2f}..{flow['v_max']:.2f} "
                    f"px; magnitude max {flow['max_magnitude']:.2f} px, mean {flow['mean_magnitude']:.2f} px")
        if flow["unknown_fraction"]:
            text += f"; {100 * flow['unknown_fraction']:.1f} % unknown"
        fields.append(("Flow range", f"{text} ({flow['files']} files)"))
    lines = [f"{label.ljust(_LABEL_WIDTH)}  {value}" for label, value in fields]

    rows = [[s["name"], str(s["frames"]), f"{s['size'][0]}x{s['size'][1]}", f"{s['fps']:.1f}",
             _cell(s["masks"]), _cell(s["flow"]), _cell(s["difficulty"])] for s in info["sequences"]]
    if rows:
        lines.append("")
        lines += _table(["name", "frames", "size", "fps", "masks", "flow", "difficulty"], rows, right={1, 3})
    return "\n".join(lines)
