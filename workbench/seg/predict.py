"""``workbench predict``: segment a clip, an image folder or a video with a trained network.

For every frame, in order (the flow-guided networks need the previous frame): the mask (``masks/<name>.png``,
0/255 for binary, class ids otherwise; ``<name>`` is the input frame's file stem, or the 6-digit frame index
of a video), the person composited on a virtual background (``composite/``), and a side-by-side picture
(``viz/``: input | prediction | composite, plus the error map when ground truth is known). A video input
gives ``composite.mp4`` and ``viz.mp4`` instead of the two picture folders (``composite.mp4`` has the input's
frame count and size). With ground truth, per-frame Dice and IoU go to ``metrics.csv`` and the means to
``summary.json``. The whole output folder is built under a temporary name and renamed when complete.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import InputError
from workbench.io import VideoSequence, VideoWriter, atomic_dir, encode_image
from workbench.io.sequence import FileSequence, Sequence
from workbench.metrics import boundary_f, dice, foreground_iou, frame_iou, scoring_truth, temporal_flicker
from workbench.seg.checkpoint import SegNetwork
from workbench.seg.segmenter import Segmenter
from workbench.viz import colorize_labels, overlay_mask
from workbench.viz.composite import BackgroundSpec, error_map, make_background, replace_background, side_by_side


@dataclass
class PredictOptions:
    threshold: float | None = None  # None: the checkpoint's
    scale: float | None = None  # None: the checkpoint's
    flow: str | None = None  # None: the checkpoint's flow method
    background: BackgroundSpec | None = None
    save: bool = True  # masks + composite
    viz: bool = True
    evaluate: bool = True
    device: str = "cpu"


def frame_names(seq: Sequence) -> list[str]:
    """Output file stem of each frame: the input file's stem, or the zero-padded frame index."""
    if isinstance(seq, FileSequence):
        return [p.stem for p in seq.frame_files]
    return [f"{i:06d}" for i in range(len(seq))]


def predict_sequence(net: SegNetwork, seq: Sequence, out: Path | None, options: PredictOptions,
                     report: Callable[[str], None] = print, progress: bool = True) -> dict[str, Any]:
    """Segment ``seq`` frame by frame; write outputs under ``out`` (a folder being built) unless it is None."""
    from tqdm import tqdm

    segmenter = Segmenter(net, flow=options.flow, scale=options.scale, device=options.device)
    threshold = net.threshold if options.threshold is None else options.threshold
    if not 0 < threshold < 1:
        raise InputError(f"--mask-threshold {threshold}: expected a probability in (0, 1)")
    names = frame_names(seq)
    evaluate = options.evaluate and seq.has_masks
    is_video = isinstance(seq, VideoSequence)
    W, H = seq.size
    rows: list[dict[str, Any]] = []
    preds, gts = [], []
    spec = options.background or BackgroundSpec("blur")
    background: np.ndarray | None = None
    times = []
    with contextlib.ExitStack() as stack:
        composite_video = viz_video = None
        if out is not None and is_video:
            if options.save:
                composite_video = stack.enter_context(VideoWriter(out / "composite.mp4", seq.fps, (W, H)))
            if options.viz:
                panels = 4 if evaluate else 3
                viz_video = stack.enter_context(VideoWriter(out / "viz.mp4", seq.fps, (W * panels, H)))
        bar = tqdm(zip(names, seq.frames(), strict=False), total=len(names), desc=f"predict {seq.name}",
                   unit="frame", disable=not progress, leave=False)
        for index, (name, frame) in enumerate(bar):
            probs = segmenter.step(frame)
            labels = segmenter.labels(probs, threshold)
            times.append(segmenter.last_times)
            row: dict[str, Any] = {"frame": index, "name": name, **{k: round(v, 3)
                                                                     for k, v in segmenter.last_times.items()}}
            gt = None
            if evaluate:
                gt = seq.mask(index)
                if net.num_classes == 1:
                    gt = scoring_truth(gt)
                    row.update(dice=dice(labels, gt), iou=foreground_iou(labels, gt),
                               boundary_f=boundary_f(labels, gt)[0])
                else:
                    row.update(iou=frame_iou(labels, gt, num_classes=net.num_classes))
                report(f"{seq.name} {name}: " + ", ".join(f"{k} {row[k]:.4f}" for k in ("dice", "iou") if k in row))
                preds.append(labels)
                gts.append(gt)
            rows.append(row)
            if out is None:
                continue
            alpha = probs[0] if net.num_classes == 1 else 1.0 - probs[0]
            composite = None
            if options.save or options.viz:
                if background is None or spec.kind == "blur":  # colours and images: rendered once per sequence
                    background = make_background(spec, frame)
                composite = replace_background(frame, alpha, background)
            if options.save:
                stored = labels * 255 if net.num_classes == 1 else labels
                (out / "masks").mkdir(exist_ok=True)
                (out / "masks" / f"{name}.png").write_bytes(encode_image(stored, ".png"))
                if composite_video is not None:
                    composite_video.write(composite)
                else:
                    (out / "composite").mkdir(exist_ok=True)
                    (out / "composite" / f"{name}.png").write_bytes(encode_image(composite, ".png"))
            if options.viz:
                shown = overlay_mask(frame, labels) if net.num_classes == 1 else colorize_labels(labels)
                panels = [("input", frame), ("prediction", shown), ("composite", composite)]
                if gt is not None:
                    panels.append(("errors: FP red, FN blue", error_map(labels, gt, frame)))
                picture = side_by_side(panels)
                if viz_video is not None:
                    viz_video.write(picture)
                else:
                    (out / "viz").mkdir(exist_ok=True)
                    (out / "viz" / f"{name}.png").write_bytes(encode_image(picture, ".png"))
        if len(rows) != len(names):  # the video ended early (changed or truncated since it was opened)
            raise InputError(f"{getattr(seq, 'path', seq.name)}: decoded {len(rows)} frames, expected {len(names)}")
    seconds = sum(t["flow_ms"] + t["seg_ms"] for t in times) / 1000
    summary: dict[str, Any] = {
        "sequence": seq.name, "frames": len(rows), "size": [W, H], "model": net.arch,
        "checkpoint": str(net.path) if net.path else None, "flow": segmenter.flow.name if segmenter.flow else None,
        "scale": segmenter.scale, "threshold": threshold,
        "fps": len(rows) / seconds if seconds > 0 else float("inf"),
        "ms_per_frame": {"flow": float(np.median([t["flow_ms"] for t in times])),
                         "seg": float(np.median([t["seg_ms"] for t in times]))},
    }
    if evaluate:
        for key in ("dice", "iou", "boundary_f"):
            values = [r[key] for r in rows if key in r]
            if values:
                summary[f"mean_{key}"] = float(np.nanmean(values))
        summary["flicker"] = temporal_flicker(preds, gts)
    if out is not None:
        if rows and (evaluate or options.save or options.viz):
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
            writer.writeheader()
            writer.writerows(rows)
            (out / "metrics.csv").write_text(buffer.getvalue())
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def predict(net: SegNetwork, sequences: list[Sequence], out: str | Path | None, options: PredictOptions,
            overwrite: bool = False, report: Callable[[str], None] = print, progress: bool = True
            ) -> list[dict[str, Any]]:
    """Every sequence into ``out`` (one sub-folder per sequence when there are several), atomically."""
    if not sequences:
        raise InputError("nothing to segment: no sequences")
    if out is None or not (options.save or options.viz or options.evaluate):
        return [predict_sequence(net, seq, None, options, report, progress) for seq in sequences]
    summaries = []
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for seq in sequences:
            folder = tmp / seq.name if len(sequences) > 1 else tmp
            folder.mkdir(parents=True, exist_ok=True)
            summaries.append(predict_sequence(net, seq, folder, options, report, progress))
        if len(sequences) > 1:
            (tmp / "summary.json").write_text(json.dumps(summaries, indent=2) + "\n")
    return summaries
