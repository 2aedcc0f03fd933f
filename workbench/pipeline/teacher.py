"""Labelling your own video with a teacher (``workbench data label``): real frames → a clip folder with masks.

A **teacher** is anything that says, frame by frame, where the person is:

- ``mediapipe`` / ``mediapipe_landscape`` — MediaPipe Selfie Segmentation (:mod:`workbench.seg.teacher`), the
  network a video-call user would pick;
- ``chroma`` — green-screen (or blue-screen) keying (:mod:`workbench.data.chroma`), the FUNet seed's own way
  of making its data set: key colour from the frame border (or ``--key-color``), soft matte, spill suppression,
  morphological clean-up, largest components;
- a segmentation checkpoint (a path or a shipped name such as ``funet_flow``), run frame by frame as
  ``workbench predict`` runs it.

The input is a video file or a folder of images (any layout :func:`workbench.io.open_dataset` reads); the
output is a clip folder (``frames/``, 0/1 ``masks/``, ``meta.json`` naming the teacher and its settings, and
with ``flow`` the ``flow_fwd/``/``flow_bwd/`` files of that flow method) — the native layout every command
reads, so a labelled call can be benchmarked (``bench seg --real``), fine-tuned on (``train seg --data``) or
run through the adaptive pipeline (``dvs run``). Frames stream: one frame (two with ``flow``) is in memory at
a time. The folder is built under a temporary name and appears only when complete; on any error (an
unreadable frame, a frame of another size) nothing is left behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from workbench import __version__
from workbench.config import Config
from workbench.errors import InputError
from workbench.flow import flow_capability

CHROMA = "chroma"


@dataclass
class LabelConfig(Config):
    """Options of ``workbench data label``."""

    teacher: str = "mediapipe"  # mediapipe | mediapipe_landscape | chroma | a segmentation checkpoint
    threshold: float = 0.5  # person where the teacher's probability is at least this (network teachers)
    size: tuple[int, int] | None = None  # (W, H) to resize frames to before labelling; None: as they are
    start: int = 0  # skip the source's first frames (e.g. the part of a call used for fine-tuning)
    max_frames: int | None = None  # label at most this many frames (after start)
    step: int = 1  # keep every step-th frame
    chunk: int | None = None  # cut each sequence into clip folders of this many frames (<name>_000, ...)
    flow: str | None = None  # also write flow_fwd/flow_bwd computed by this method
    key_color: tuple[int, int, int] | None = None  # chroma: RGB key colour (None: from the frame border)

    def validate(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise InputError(f"--threshold {self.threshold}: expected a probability in (0, 1)")
        if self.max_frames is not None and self.max_frames < 1:
            raise InputError(f"--max-frames {self.max_frames}: expected at least 1")
        if self.step < 1:
            raise InputError(f"--step {self.step}: expected at least 1")
        if self.start < 0:
            raise InputError(f"--start {self.start}: expected a frame index >= 0")
        if self.chunk is not None and self.chunk < 2:
            raise InputError(f"--chunk {self.chunk}: expected at least 2 frames per clip")
        if self.size is not None and not (16 <= self.size[0] <= 8192 and 16 <= self.size[1] <= 8192):
            raise InputError(f"--size {self.size[0]}x{self.size[1]}: expected width and height between 16 and 8192")
        if self.key_color is not None and (len(self.key_color) != 3 or not all(0 <= c <= 255 for c in self.key_color)):
            raise InputError(f"--key-color {self.key_color}: expected R,G,B values in 0..255")
        if self.flow is not None and flow_capability(self.flow, "needs_sequence"):
            raise InputError(f"--flow {self.flow}: real video has no ground-truth flow; choose an estimator such as "
                             "dis")
        if self.key_color is not None and self.teacher != CHROMA:
            raise InputError("--key-color applies to --teacher chroma only")


def make_teacher(config: LabelConfig) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[], dict[str, Any]]]:
    """``(label(frame) -> uint8 (H, W) 0/1, settings() -> dict)`` for the configured teacher.

    A checkpoint of the wrong kind (a flow or decision network, a foreign file) is an InputError here,
    before any frame is read.
    """
    if config.teacher == CHROMA:
        from workbench.data.chroma import ChromaConfig, ChromaKeyer

        keyer = ChromaKeyer(ChromaConfig(key_color=config.key_color))
        return (lambda frame: keyer(frame).mask), lambda: {"kind": "chroma", **keyer.settings()}
    from workbench.seg.checkpoint import load_seg_checkpoint
    from workbench.seg.segmenter import Segmenter

    net = load_seg_checkpoint(config.teacher)
    if len(net.classes) != 2:
        raise InputError(f"{config.teacher}: a teacher must segment person vs background; this network has classes "
                         f"{', '.join(net.classes)}")
    segmenter = Segmenter(net)

    def label(frame: np.ndarray) -> np.ndarray:
        return segmenter.labels(segmenter.step(frame), config.threshold)

    def settings() -> dict[str, Any]:
        return {"kind": "network", "name": net.arch, "checkpoint": str(net.path) if net.path else None,
                "input": net.input, "flow": net.flow, "threshold": config.threshold}

    return label, settings


def _frames(sequence, config: LabelConfig) -> Iterator[tuple[int, np.ndarray]]:
    """(source index, frame) pairs after --step, --max-frames and --size."""
    kept = 0
    for index, frame in enumerate(sequence.frames()):
        if index < config.start or (index - config.start) % config.step:
            continue
        if config.max_frames is not None and kept >= config.max_frames:
            return
        if config.size is not None and (frame.shape[1], frame.shape[0]) != tuple(config.size):
            frame = cv2.resize(frame, tuple(config.size), interpolation=cv2.INTER_AREA
                               if config.size[0] < frame.shape[1] else cv2.INTER_LINEAR)
        kept += 1
        yield index, frame


def _chunks(frames: Iterator[tuple[int, np.ndarray]], size: int) -> Iterator[Iterator[tuple[int, np.ndarray]]]:
    """Consecutive runs of ``size`` frames (the last may be shorter, but keeps at least 2: a lone last frame
    joins no clip), streaming: each run is consumed before the next one is read."""
    import itertools

    pending = list(itertools.islice(frames, size))
    while len(pending) >= 2:
        yield iter(pending)
        pending = list(itertools.islice(frames, size))


def label_sequence(sequence, folder: Path, config: LabelConfig, teacher: Callable[[np.ndarray], np.ndarray],
                   bar: tqdm | None = None, frames: Iterator[tuple[int, np.ndarray]] | None = None) -> dict[str, Any]:
    """Write one labelled clip into ``folder`` (a fresh temporary folder); returns counts and timings.

    ``frames`` (``(source index, frame)`` pairs) replaces the sequence's own frames (a chunk of them).
    """
    from workbench.io.clips import ClipWriter

    writer = ClipWriter(folder)
    estimator = None
    if config.flow is not None:
        from workbench.flow import create_flow

        estimator = create_flow(config.flow)
    prev: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None  # (frame, mask, flow_bwd) not yet written
    count, teacher_s, sources = 0, 0.0, []
    size = None
    for out_index, (source_index, frame) in enumerate(frames if frames is not None else _frames(sequence, config)):
        if size is None:
            size = (frame.shape[1], frame.shape[0])
        elif (frame.shape[1], frame.shape[0]) != size:
            raise InputError(f"{sequence.name}: frame {source_index} is {frame.shape[1]}x{frame.shape[0]}, expected "
                             f"{size[0]}x{size[1]} like the first frame (pass --size to resize every frame)")
        start = time.perf_counter()
        try:
            mask = teacher(frame)
        except InputError as exc:  # e.g. no screen colour in this frame's border: say which frame
            raise InputError(f"{sequence.name}: frame {source_index}: {exc}") from None
        teacher_s += time.perf_counter() - start
        flow_bwd = None
        if prev is not None:
            flow_fwd = estimator.estimate(prev[0], frame) if estimator is not None else None
            if estimator is not None:
                flow_bwd = estimator.estimate(frame, prev[0])
            writer.write(out_index - 1, prev[0], prev[1], flow_fwd, prev[2])
        prev = (frame, mask, flow_bwd)
        count += 1
        sources.append(source_index)
        if bar is not None:
            bar.update(1)
    if prev is None:
        raise InputError(f"{sequence.name}: no frames to label")
    writer.write(count - 1, prev[0], prev[1], None, prev[2])
    return {"frames": count, "size": list(size), "teacher_ms_per_frame": 1000 * teacher_s / count,
            "source_frames": sources}


def label_video(input_path: str | Path, out: str | Path, config: LabelConfig, overwrite: bool = False,
                progress: bool = True) -> dict[str, Any]:
    """Label every sequence of ``input_path`` with the teacher: one sequence → the clip folder ``out``; several
    (a folder of clips, a FUNet/DAVIS root) → ``out/<sequence name>``. Returns a JSON-ready summary."""
    from workbench.io import open_dataset
    from workbench.io.atomic import atomic_dir, check_output
    from workbench.io.clips import ClipWriter

    config.validate()
    out = Path(out)
    input_path = Path(input_path)
    check_output(out, [input_path], overwrite=True)  # never the input, inside it or around it
    if out.exists() and not overwrite:
        raise InputError(f"{out} already exists; pass --overwrite or choose another --out")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    teacher, settings = make_teacher(config)  # a wrong checkpoint fails before any frame is read
    sequences = open_dataset(input_path)
    total = sum(len(s) for s in sequences)
    if total == 0:
        raise InputError(f"{input_path}: no frames to label")
    started = time.perf_counter()
    clips = []
    with atomic_dir(out, overwrite=overwrite) as tmp, \
            tqdm(total=total, unit="frame", desc=f"label ({config.teacher})", disable=not progress,
                 leave=False) as bar:
        for seq in sequences:
            base = seq.name.replace("/", "_")
            parts = _chunks(_frames(seq, config), config.chunk) if config.chunk else [None]
            for k, part in enumerate(parts):
                name = f"{base}_{k:03d}" if config.chunk else base
                folder = tmp if len(sequences) == 1 and not config.chunk else tmp / name
                stats = label_sequence(seq, folder, config, teacher, bar, part)
                fps = float(getattr(seq, "fps", 30.0) or 30.0) / config.step
                meta = {"size": stats["size"], "num_frames": stats["frames"], "fps": fps,
                        "classes": ["background", "person"], "generator": "workbench.pipeline.teacher",
                        "workbench_version": __version__, "source": {"path": str(input_path), "sequence": seq.name},
                        "teacher": settings(), "label_config": config.to_dict(),
                        "teacher_ms_per_frame": round(stats["teacher_ms_per_frame"], 3),
                        "source_frames": stats["source_frames"]}
                ClipWriter(folder).write_meta(meta)
                clips.append({"name": name, "frames": stats["frames"],
                              "teacher_ms_per_frame": stats["teacher_ms_per_frame"]})
        if not clips:
            raise InputError(f"{input_path}: no frames to label after --start {config.start}")
    seconds = time.perf_counter() - started
    return {"out": str(out), "clips": clips, "frames": sum(c["frames"] for c in clips), "seconds": seconds}


__all__ = ["LabelConfig", "label_sequence", "label_video", "make_teacher"]
