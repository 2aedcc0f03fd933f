"""``record_run``: run the pipeline over one sequence and write its run record (docs/conventions.md)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from workbench.io.sequence import FileSequence, Sequence
from workbench.pipeline import VideoSegmenter, run_video
from workbench.pipeline.streaming import StepResult
from workbench.runs.records import Run, RunError, RunWriter, frame_payload, load_run, new_run_id


def source_info(seq: Sequence) -> dict[str, Any]:
    """Where the frames came from: name, kind, path, size, frames, fps."""
    path = getattr(seq, "root", None) or getattr(seq, "path", None)
    if path is None and isinstance(seq, FileSequence) and seq.frame_files:
        path = seq.frame_files[0].parent
    return {"name": seq.name, "kind": type(seq).__name__, "path": str(path) if path is not None else None,
            "size": list(seq.size), "num_frames": len(seq), "fps": seq.fps, "has_masks": seq.has_masks}


def stitched_flow(result: StepResult, segmenter: VideoSegmenter, width: int, height: int) -> np.ndarray | None:
    """Each region's flow to its key frame in the region's box; NaN where none was estimated."""
    if all(step.flow is None for step in result.regions):
        return None
    flow = np.full((2, height, width), np.nan, np.float32)
    for step, region in zip(result.regions, segmenter.regions(width, height), strict=True):
        if step.flow is not None:
            ys, xs = region.box
            flow[:, ys, xs] = step.flow
    return flow


def record_run(segmenter: VideoSegmenter, seq: Sequence, root: str | Path, store: bool = True,
               evaluate: bool = True, meta: dict[str, Any] | None = None, max_frames: int | None = None,
               progress: bool = True, run_id: str | None = None,
               on_frame: Callable[[int, int], None] | None = None) -> Run:
    """Run ``segmenter`` over ``seq`` and write ``<root>/<run_id>/``; returns the loaded record."""
    cfg = segmenter.config
    method = cfg.method if segmenter.corrector is None else f"{cfg.method}+{segmenter.corrector.arch}"
    run_id = run_id or new_run_id(seq.name, method, cfg.param)
    W, H = seq.size

    with RunWriter(root, run_id, store=store) as writer:
        def sink(index: int, frame: np.ndarray, result: StepResult, gt: np.ndarray | None) -> None:
            if store:
                probs = result.probs
                prob = probs[0] if probs.shape[0] == 1 else 1.0 - probs[0]
                writer.add_frame(index, frame_payload(frame, result.seg, prob, gt, stitched_flow(result, segmenter,
                                 W, H), [step.key_frame for step in result.regions]))

        output = run_video(segmenter, seq, evaluate=evaluate, sink=sink, max_frames=max_frames, progress=progress,
                           on_frame=on_frame)
        net = segmenter.net
        decider = segmenter.decider
        record = {
            "method": cfg.policy,
            "config": {**cfg.to_dict(), "param": cfg.param,
                       "seg": {"arch": net.arch, "path": str(net.path) if net.path else None,
                               "options": net.options, "classes": net.classes, "threshold": net.threshold},
                       "correct": None if segmenter.corrector is None else {
                           "arch": segmenter.corrector.arch,
                           "path": str(segmenter.corrector.path) if segmenter.corrector.path else None},
                       "decision": None if decider is None else {"path": str(decider.path) if decider.path else None,
                                                                 "features": decider.features, "flow": decider.flow,
                                                                 "score": decider.score, "label": decider.label,
                                                                 "fast": decider.meta.get("fast")},
                       "regions_px": [[r.x0, r.y0, r.x1, r.y1] for r in segmenter.regions(W, H)]},
            "source": source_info(seq),
            "summary": output.summary,
            **(meta or {}),
        }
        writer.finish(record, output.rows.to_frame())
    return load_run(writer.path)


def write_run_video(run: Run | str | Path, path: str | Path, fps: float | None = None) -> Path:
    """The stored frames of a run as a video (WebM for a ``.webm`` path: browsers play it): each frame's input
    beside its prediction overlaid, and the error map when the run had ground truth. ``fps`` defaults to the
    source's rate (10 when unknown). Written atomically; ``RunError`` for a run that stored no frames."""
    from workbench.io import VideoWriter
    from workbench.viz.panels import error_panel, prediction_panel

    run = run if isinstance(run, Run) else load_run(run)
    if not run.stored:
        raise RunError(f"{run.path}: the run stored no frames (dvs run --no-store): nothing to make a video of")
    rate = float(fps or run.meta.get("source", {}).get("fps") or 10.0)
    writer = None
    with contextlib.ExitStack() as stack:
        for index in range(run.num_frames):
            data = run.frame_data(index)
            image, gt = data["image"], data.get("gt")
            panels = [image, prediction_panel(image, data["seg"])]
            if gt is not None:
                panels.append(error_panel(data["seg"], gt, image))
            picture = np.hstack(panels)
            if writer is None:
                writer = stack.enter_context(VideoWriter(path, rate, (picture.shape[1], picture.shape[0])))
            writer.write(picture)
    return Path(path)
