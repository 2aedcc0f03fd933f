"""``workbench bench realtime``: a video call end to end — read → flow → decision → segment or warp → composite →
write — with the reading and the writing in their own threads, for several set-ups in one run.

A set-up is ``SEG[@BACKEND][/POLICY[:PARAM]][/ROWSxCOLS]``: the segmentation network (a shipped name, a
checkpoint, ``mediapipe``, an ONNX model), where it runs (``torch`` or ``onnx``), the key-frame policy
(``per-frame``, ``fixed:K``, ``adaptive:TARGET``), the region grid and optionally the warp path's flow scale
(``fs:0.25``) and the scale the key's logits are warped at (``ws:0.5``), e.g. ``unet/per-frame/1x1`` (the accuracy
reference), ``funet/per-frame/1x1`` (the seed's FUNet), ``fastseg@onnx/per-frame/1x1``. Each set-up runs over the
same videos: generated held-out clips written as videos (ground truth known exactly), or ``--data`` (clip folders
or videos with masks — for real video, masks a teacher made with ``workbench data label``).

Reported per set-up: fps end to end (frames / wall time from the first read to the last written frame) and
without I/O (frames / the pipeline's own time), the median time of every stage per frame (reading, flow,
decision, segmentation, warp, fast network, stitching, compositing, writing), IoU over all frames and its
difference to the first set-up's (the reference) in points, and the key fraction.
"""

from __future__ import annotations

import queue
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import InputError

if TYPE_CHECKING:
    import numpy as np

    from workbench.io.sequence import Sequence

DEFAULT_SETUPS = ("unet/per-frame/1x1", "funet/per-frame/1x1", "fastseg/per-frame/1x1", "fastseg@onnx/per-frame/1x1",
                  "unet@onnx/fixed:8/2x2")
STAGES = ("read", "flow", "decision", "seg", "warp", "fast", "stitch", "composite", "write")
_END = object()


@dataclass(frozen=True)
class Setup:
    """One way of running a call (module docstring)."""

    text: str
    seg: str
    backend: str = "torch"
    policy: str = "per-frame"
    param: float | None = None
    regions: tuple[int, int] = (1, 1)
    flow_scale: float | None = None  # the warp path's flow scale (None: the pipeline's default)
    warp_scale: float | None = None  # the scale the key's logits are warped at (None: the pipeline's default)

    @classmethod
    def parse(cls, text: str) -> Setup:
        parts = text.split("/")
        seg, _, backend = parts[0].partition("@")
        policy, param, regions, scales = "per-frame", None, (1, 1), {"fs": None, "ws": None}
        for part in parts[1:]:
            if part[:3] in ("fs:", "ws:"):
                try:
                    scales[part[:2]] = float(part[3:])
                except ValueError:
                    raise InputError(f"--setups {text}: {part!r}: expected {part[:2]}:SCALE, e.g. "
                                     f"{part[:2]}:0.25") from None
            elif "x" in part and part.replace("x", "").isdigit():
                rows, cols = (int(v) for v in part.split("x"))
                regions = (rows, cols)
            else:
                policy, _, value = part.partition(":")
                try:
                    param = float(value) if value else None
                except ValueError:
                    raise InputError(f"--setups {text}: {value!r} is not a number") from None
        if not seg or backend not in ("", "torch", "onnx") or policy not in ("per-frame", "fixed", "adaptive") \
                or (policy != "per-frame" and param is None) or min(regions) < 1:
            raise InputError(f"--setups {text}: expected SEG[@torch|onnx][/per-frame|fixed:K|adaptive:TARGET]"
                             "[/ROWSxCOLS][/fs:FLOW_SCALE][/ws:WARP_SCALE], e.g. fastseg@onnx/per-frame/1x1")
        return cls(text, seg, backend or "torch", policy, param, regions, scales["fs"], scales["ws"])

    def spec(self) -> Any:
        from workbench.pipeline import PipelineConfig
        from workbench.pipeline.build import SegmenterSpec

        values: dict[str, Any] = {"policy": self.policy, "regions": self.regions}
        if self.policy == "fixed":
            values["interval"] = int(self.param or 1)
        elif self.policy == "adaptive":
            values["target"] = float(self.param or 0)
        if self.flow_scale is not None:
            values["flow_scale"] = self.flow_scale
        if self.warp_scale is not None:
            values["warp_scale"] = self.warp_scale
        return SegmenterSpec(pipeline=PipelineConfig(**values), seg=self.seg, backend=self.backend)


def _reader(path: Path, frames: queue.Queue, times: list[float]) -> None:
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        while True:
            start = time.perf_counter()
            ok, bgr = capture.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            times.append(1000 * (time.perf_counter() - start))
            frames.put(rgb)
    finally:
        capture.release()
        frames.put(_END)


def _writer(path: Path, fps: float, size: tuple[int, int], results: queue.Queue, background: np.ndarray,
            times: dict[str, list[float]], errors: list[BaseException]) -> None:
    from workbench.io import VideoWriter
    from workbench.viz.composite import replace_background

    try:
        with VideoWriter(path, fps, size) as video:
            while (item := results.get()) is not _END:
                frame, probs = item
                start = time.perf_counter()
                picture = replace_background(frame, probs, background)
                middle = time.perf_counter()
                video.write(picture)
                times["composite"].append(1000 * (middle - start))
                times["write"].append(1000 * (time.perf_counter() - middle))
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)
        while results.get() is not _END:  # keep the pipeline from blocking on a full queue
            pass


def run_call(segmenter: Any, video: Path, out: Path, fps: float, background: np.ndarray) -> dict[str, Any]:
    """One set-up over one video with threaded reading and writing: masks, per-stage times, wall time."""
    import cv2
    import numpy as np

    frames: queue.Queue = queue.Queue(maxsize=8)
    results: queue.Queue = queue.Queue(maxsize=8)
    io_times: dict[str, list[float]] = {"read": [], "composite": [], "write": []}
    errors: list[BaseException] = []
    first = cv2.VideoCapture(str(video))
    size = (int(first.get(cv2.CAP_PROP_FRAME_WIDTH)), int(first.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    first.release()
    start = time.perf_counter()
    reader = threading.Thread(target=_reader, args=(video, frames, io_times["read"]), daemon=True)
    writer = threading.Thread(target=_writer, args=(out, fps, size, results, background, io_times, errors),
                              daemon=True)
    reader.start()
    writer.start()
    from workbench.pipeline.streaming import STAGES as PIPELINE_STAGES

    state, masks, stage_ms, keys, compute = None, [], {s: [] for s in (*PIPELINE_STAGES, "stitch")}, [], 0.0
    try:
        while (frame := frames.get()) is not _END:
            t0 = time.perf_counter()
            result, state = segmenter.step(frame, state)
            probs = result.probs[0] if result.probs.shape[0] == 1 else 1 - result.probs[0]
            compute += time.perf_counter() - t0
            results.put((frame, probs))
            masks.append(result.seg)
            for stage in stage_ms:
                stage_ms[stage].append(sum(r.times.get(stage, 0.0) for r in result.regions)
                                       if stage != "stitch" else result.stitch_ms)
            keys.append(np.mean([r.is_key for r in result.regions]))
    finally:
        results.put(_END)
        writer.join()
        reader.join()
    if errors:
        raise errors[0]
    wall = time.perf_counter() - start
    return {"masks": masks, "frames": len(masks), "wall_s": wall, "compute_s": compute, "key_fraction":
            float(np.mean(keys)) if keys else float("nan"), "stage_ms": {**stage_ms, **io_times}}


def _videos(sequences: list[Sequence], folder: Path, fps: float) -> list[tuple[Path, list[np.ndarray]]]:
    """Each clip as a video file (what a call's frames arrive as) and its ground-truth masks."""
    import numpy as np

    from workbench.io import VideoWriter

    out = []
    for seq in sequences:
        if not seq.has_masks:
            raise InputError(f"{seq.name}: no masks; bench realtime scores IoU against ground truth or a teacher's "
                             "masks (workbench data label)")
        first = seq.frame(0)
        path = folder / f"{seq.name}.avi"
        with VideoWriter(path, fps, (first.shape[1], first.shape[0])) as video:
            for t in range(len(seq)):
                video.write(seq.frame(t))
        out.append((path, [(seq.mask(t) > 0).astype(np.uint8) for t in range(len(seq))]))
    return out


def bench_realtime(setups: list[str], sequences: list[Sequence], threads: int = 2, fps: float = 30.0,
                   progress: Any = None) -> dict[str, Any]:
    """Run every set-up over every clip (module docstring) → a JSON-ready dict. The first set-up is the reference
    of the IoU differences."""
    import numpy as np

    from workbench.experiments.measure import PinnedThreads, machine_info
    from workbench.metrics.stream import SegScores
    from workbench.pipeline.build import build

    parsed = [Setup.parse(text) for text in setups]
    if not parsed or not sequences:
        raise InputError("bench realtime needs at least one set-up and one clip")
    started = time.perf_counter()
    size = sequences[0].frame(0).shape[:2]
    result: dict[str, Any] = {"benchmark": "realtime", "machine": machine_info(threads),
                              "config": {"setups": list(setups), "threads": threads, "fps": fps,
                                         "clips": [s.name for s in sequences], "size": [int(size[1]), int(size[0])]},
                              "rows": []}
    with PinnedThreads(threads), tempfile.TemporaryDirectory(prefix="workbench-realtime-") as tmp:
        videos = _videos(sequences, Path(tmp), fps)
        background = np.zeros((*size, 3), np.uint8)
        background[:] = (40, 160, 90)
        for setup in parsed:
            if progress:
                progress(f"{setup.text}")
            built = build(setup.spec())
            scores = SegScores(2, metrics=("iou",), flicker=False)
            totals = {"frames": 0, "wall_s": 0.0, "compute_s": 0.0}
            stage_ms: dict[str, list[float]] = {s: [] for s in STAGES}
            keys = []
            for (video, masks), seq in zip(videos, sequences, strict=True):
                segmenter = built.segmenter(None)
                segmenter.step(seq.frame(0))  # untimed: one-off set-up (an ONNX export, allocations)
                run = run_call(built.segmenter(None), video, Path(tmp) / f"out_{seq.name}.avi", fps, background)
                for pred, gt in zip(run["masks"], masks, strict=False):
                    scores.update(pred, gt)
                for key in totals:
                    totals[key] += run[key]
                for stage in STAGES:
                    stage_ms[stage] += run["stage_ms"][stage]
                keys.append(run["key_fraction"])
            result["rows"].append({
                "setup": setup.text, "seg": setup.seg, "backend": setup.backend, "policy": setup.policy,
                "param": setup.param, "regions": list(setup.regions), "frames": totals["frames"],
                "fps_end_to_end": totals["frames"] / totals["wall_s"],
                "fps_no_io": totals["frames"] / totals["compute_s"],
                "iou": scores.mean("iou"), "key_fraction": float(np.mean(keys)),
                "stage_ms": {s: float(np.median(v)) if v else 0.0 for s, v in stage_ms.items()}})
    reference = result["rows"][0]["iou"]
    for row in result["rows"]:
        row["iou_vs_reference_points"] = 100 * (row["iou"] - reference)
    result["seconds"] = time.perf_counter() - started
    return result


def format_bench_realtime(result: dict[str, Any]) -> str:
    from workbench.experiments.measure import fmt_num

    config, machine, rows = result["config"], result["machine"], result["rows"]
    W, H = config["size"]
    lines = ["# workbench bench realtime", "",
             f"workbench {machine['workbench']} · torch {machine['torch']} · {machine['cpu_count']} CPUs "
             f"({machine['cpus_usable']} usable), **{config['threads']} threads** · {machine['processor']}", "",
             f"{len(config['clips'])} clips at {W}x{H} read from video files and written to video files (reading and "
             "writing in their own threads; the composite replaces the background). fps end to end: frames / wall "
             "time; without I/O: frames / the pipeline's time. Stages: median ms per frame. ΔIoU: points against "
             f"the first set-up ({rows[0]['setup']}).", "",
             "| set-up | fps end to end | fps without I/O | IoU | ΔIoU (points) | key fraction | "
             + " | ".join(STAGES) + " |",
             "|---|---:|---:|---:|---:|---:|" + "---:|" * len(STAGES)]
    for r in rows:
        lines.append(f"| {r['setup']} | {r['fps_end_to_end']:.1f} | {r['fps_no_io']:.1f} | "
                     f"{fmt_num(r['iou'], '.4f')} | {fmt_num(r['iou_vs_reference_points'], '+.2f')} | "
                     f"{r['key_fraction']:.3f} | "
                     + " | ".join(f"{r['stage_ms'][s]:.1f}" for s in STAGES) + " |")
    return "\n".join(lines) + "\n"


def write_bench_realtime(result: dict[str, Any], out: str | Path) -> tuple[Path, Path]:
    from workbench.experiments.measure import write_bench

    return write_bench(result, out, format_bench_realtime(result))


__all__ = ["DEFAULT_SETUPS", "Setup", "bench_realtime", "format_bench_realtime", "run_call", "write_bench_realtime"]
