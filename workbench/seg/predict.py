"""``workbench predict``: segment a clip, an image folder or a video with a trained network.

For every frame, in order (the flow-guided networks need the previous frame): the mask (``masks/<name>.png``,
0/255 for binary, class ids otherwise; ``<name>`` is the input frame's file stem, or the 6-digit frame index
of a video), the person composited on a virtual background (``composite/``), and a side-by-side picture
(``viz/``: input | prediction | composite, plus the error map when ground truth is known). A video input
gives ``composite.webm`` and ``viz.webm`` (VP8, which browsers play; ``video_format="mp4"`` for MPEG-4 files
that VLC and most players read) instead of the two picture folders (the composite has the input's frame count
and size). With ground truth, per-frame Dice and IoU go to ``metrics.csv`` and the means to
``summary.json``. The whole output folder is built under a temporary name and renamed when complete.
"""

from __future__ import annotations

import contextlib
import csv
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import InputError
from workbench.io import VideoSequence, VideoWriter, atomic_dir, encode_image
from workbench.io.atomic import json_text
from workbench.io.sequence import FileSequence, Sequence
from workbench.metrics import scoring_truth
from workbench.metrics.stream import SegScores
from workbench.seg.checkpoint import SegNetwork
from workbench.seg.segmenter import Segmenter
from workbench.viz import colorize_labels, overlay_mask
from workbench.viz.composite import BackgroundSpec, error_map, make_background, replace_background, side_by_side


@dataclass
class PredictOptions:
    threshold: float | None = None  # None: the checkpoint's
    scale: float | None = None  # None: the checkpoint's, or back to its training width (SegNetwork.input_scale)
    flow: str | None = None  # None: the checkpoint's flow method
    background: BackgroundSpec | None = None
    save: bool = True  # masks + composite
    viz: bool = True
    evaluate: bool = True
    device: str = "cpu"
    video_format: str = "webm"  # a video input's composite and viz: webm (VP8) or mp4 (mp4v)
    max_frames: int | None = None  # only the first N frames (a live source: stop after N)


def frame_names(seq: Sequence) -> list[str]:
    """Output file stem of each frame: the input file's stem, or the zero-padded frame index."""
    return [frame_name(seq, index) for index in range(len(seq))]


def frame_name(seq: Sequence, index: int) -> str:
    """Output file stem of frame ``index`` (see :func:`frame_names`)."""
    if isinstance(seq, FileSequence):
        return seq.frame_files[index].stem
    return f"{index:06d}"


class _Outputs:
    """What ``predict`` writes for each frame under ``out`` (a folder being built): ``metrics.csv`` row by row,
    the mask, the composite on the virtual background and the side-by-side picture — as picture folders, or as
    the two videos of a video input or a live source."""

    def __init__(self, stack: contextlib.ExitStack, out: Path, seq: Sequence, options: PredictOptions,
                 num_classes: int, evaluate: bool):
        self.stack, self.out, self.options, self.num_classes = stack, out, options, num_classes
        self.spec = options.background or BackgroundSpec("blur")
        self.background: np.ndarray | None = None
        self.metrics: csv.DictWriter | None = None
        self.composite_video = self.viz_video = None
        W, H = seq.size
        if isinstance(seq, VideoSequence) or getattr(seq, "live", False):
            suffix = f".{options.video_format}"
            if options.save:
                self.composite_video = stack.enter_context(VideoWriter(out / f"composite{suffix}", seq.fps, (W, H)))
            if options.viz:
                panels = 4 if evaluate else 3
                self.viz_video = stack.enter_context(VideoWriter(out / f"viz{suffix}", seq.fps, (W * panels, H)))
        self.evaluate = evaluate

    def _picture(self, folder: str, name: str, picture: np.ndarray) -> None:
        (self.out / folder).mkdir(exist_ok=True)
        (self.out / folder / f"{name}.png").write_bytes(encode_image(picture, ".png"))

    def write(self, name: str, frame: np.ndarray, probs: np.ndarray, labels: np.ndarray, gt: np.ndarray | None,
              row: dict[str, Any]) -> None:
        options, binary = self.options, self.num_classes == 1
        if self.evaluate or options.save or options.viz:
            if self.metrics is None:
                handle = self.stack.enter_context(open(self.out / "metrics.csv", "w", newline=""))
                self.metrics = csv.DictWriter(handle, fieldnames=list(row))
                self.metrics.writeheader()
            self.metrics.writerow(row)
        composite = None
        if options.save or options.viz:
            if self.background is None or self.spec.kind == "blur":  # colours and images: rendered once
                self.background = make_background(self.spec, frame)
            composite = replace_background(frame, probs[0] if binary else 1.0 - probs[0], self.background)
        if options.save:
            self._picture("masks", name, labels * 255 if binary else labels)
            if self.composite_video is not None:
                self.composite_video.write(composite)
            else:
                self._picture("composite", name, composite)
        if options.viz:
            shown = overlay_mask(frame, labels) if binary else colorize_labels(labels)
            panels = [("input", frame), ("prediction", shown), ("composite", composite)]
            if gt is not None:
                panels.append(("errors: FP red, FN blue", error_map(labels, gt, frame)))
            picture = side_by_side(panels)
            if self.viz_video is not None:
                self.viz_video.write(picture)
            else:
                self._picture("viz", name, picture)


def predict_sequence(net: SegNetwork, seq: Sequence, out: Path | None, options: PredictOptions,
                     report: Callable[[str], None] = print, progress: bool = True) -> dict[str, Any]:
    """Segment ``seq`` frame by frame; write outputs under ``out`` (a folder being built) unless it is None.

    Streams: one frame in memory at a time, ``metrics.csv`` written row by row, and the summary's means and
    flicker accumulated as the frames go (:class:`workbench.metrics.stream.SegScores`), so memory does not
    depend on the number of frames (only the per-frame times are kept, 16 bytes a frame, for the medians).

    Long by a few lines: the frame loop and the summary, the writing is in `_Outputs`.
    """
    from tqdm import tqdm

    segmenter = Segmenter(net, flow=options.flow, scale=options.scale, device=options.device)
    threshold = net.threshold if options.threshold is None else options.threshold
    if not 0 < threshold < 1:
        raise InputError(f"--mask-threshold {threshold}: expected a probability in (0, 1)")
    total = len(seq) if options.max_frames is None else min(len(seq), options.max_frames)
    evaluate = options.evaluate and seq.has_masks
    binary = net.num_classes == 1
    scores = SegScores(len(net.classes), metrics=("dice", "iou", "boundary_f"))
    flow_ms, seg_ms = array("d"), array("d")
    frames = 0
    with contextlib.ExitStack() as stack:
        outputs = _Outputs(stack, out, seq, options, net.num_classes, evaluate) if out is not None else None
        frame_iter = stack.enter_context(contextlib.closing(seq.frames()))  # its capture closes with the block
        bar = tqdm(frame_iter, total=total, desc=f"predict {seq.name}", unit="frame", disable=not progress,
                   leave=False)
        for index, frame in enumerate(bar):
            if index >= total:
                break
            name = frame_name(seq, index)
            probs = segmenter.step(frame)
            labels = segmenter.labels(probs, threshold)
            times = segmenter.last_times
            flow_ms.append(times["flow_ms"])
            seg_ms.append(times["seg_ms"])
            row: dict[str, Any] = {"frame": index, "name": name, **{k: round(v, 3) for k, v in times.items()}}
            gt = None
            if evaluate:
                gt = scoring_truth(seq.mask(index)) if binary else seq.mask(index)
                row.update(scores.update(labels, gt))
                report(f"{seq.name} {name}: " + ", ".join(f"{k} {row[k]:.4f}" for k in ("dice", "iou") if k in row))
            frames += 1
            if outputs is not None:
                outputs.write(name, frame, probs, labels, gt, row)
        live = getattr(seq, "live", False)  # a live source ends when it ends (workbench.io.live)
        if frames != total and not live:  # the video ended early (changed or truncated since it was opened)
            raise InputError(f"{getattr(seq, 'path', seq.name)}: decoded {frames} frames, expected {total}")
    seconds = (sum(flow_ms) + sum(seg_ms)) / 1000
    W, H = seq.size
    summary: dict[str, Any] = {
        "sequence": seq.name, "frames": frames, "size": [W, H], "model": net.arch,
        "checkpoint": str(net.path) if net.path else None, "flow": segmenter.flow.name if segmenter.flow else None,
        "scale": segmenter.scale, "threshold": threshold,
        "fps": frames / seconds if seconds > 0 else float("inf"),
        "ms_per_frame": {"flow": float(np.median(flow_ms)), "seg": float(np.median(seg_ms))},
    }
    if live:
        summary.update(live=seq.meta.get("live"), source_frames=seq.received, dropped=seq.dropped)
        report(seq.report())
    if evaluate:
        for key in scores.metrics:
            summary[f"mean_{key}"] = scores.mean(key)
        summary["flicker"] = scores.flicker.result()
    if out is not None:
        (out / "summary.json").write_text(json_text(summary))
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
            (tmp / "summary.json").write_text(json_text(summaries))
    return summaries
