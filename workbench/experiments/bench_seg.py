"""``workbench bench seg``: segmentation networks on held-out synthetic clips, accuracy and speed.

Clips are generated in memory from seeds at or above ``HELD_OUT_SEED`` (training never sees them),
``difficulty`` mixed by default. Each network runs over each clip frame by frame exactly as ``workbench
predict`` does (:class:`workbench.seg.Segmenter`: its own flow method estimated on the fly, its own previous
prediction), and is scored per frame against the exact masks:

- **IoU** and **Dice** of the foreground, and **boundary F** (DAVIS-style, tolerance 0.8 % of the diagonal),
  averaged over frames, and the **IoU of each clip** (its frames' mean; the table shows the worst clip — a
  mean over clips hides a background the network fails on);
- **flicker**: the share of pixels whose label changes between consecutive frames while the ground truth
  does not (:func:`workbench.metrics.temporal_flicker`), averaged over clips — lower is steadier;
- the **fast-motion subset**: frames where the person moves fast — the 90th percentile of the true motion
  ``|flow_bwd|`` over the person's pixels is at least ``FAST_PX`` pixels (at 320×192) — IoU there;
- **ms/frame** at each timing size (flow + network, no I/O; median of ``repeat`` passes over a short clip
  of that size after one untimed pass), with ``threads`` torch/OpenCV threads.

**Real material** (``real``: clip folders of real video labelled by a teacher, ``workbench data label``):
the same IoU (overall and per clip), boundary F, flicker and worst frame against the teacher's masks, and —
when the teacher is a network that runs here (``mediapipe``) and is among the benchmarked ones — its row is
marked, so that every network's speed reads as a ratio to the teacher's, measured in the same run. Real clips
may be any layout :func:`workbench.io.open_dataset` reads, with masks (255 = ignore).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from workbench.data.synthetic import HELD_OUT_SEED, SynthConfig, TalkingHeadClip
from workbench.errors import InputError
from workbench.experiments.farm import farm
from workbench.experiments.measure import PinnedThreads, fmt_num, machine_info, write_bench
from workbench.metrics.segmentation import RunningMean
from workbench.metrics.stream import SegScores, pooled_mean, pooled_min
from workbench.seg.checkpoint import SegNetwork, load_seg_checkpoint
from workbench.seg.segmenter import Segmenter

FAST_PX = 4.0  # a frame is "fast" when the 90th percentile of the person's true motion is at least this (px)
TIMING_SIZES = ((160, 120), (320, 192), (640, 360))


def fast_motion(mask: np.ndarray, flow_bwd: np.ndarray | None, size: tuple[int, int]) -> bool:
    """Whether the person moves fast in this frame (module docstring); ``FAST_PX`` is scaled to the width."""
    if flow_bwd is None:
        return False
    person = (mask > 0) & (mask != 255)
    if not person.any():
        return False
    speed = np.sqrt(np.nan_to_num(flow_bwd[0]) ** 2 + np.nan_to_num(flow_bwd[1]) ** 2)[person]
    return float(np.percentile(speed, 90)) >= FAST_PX * size[0] / 320


def held_out_clips(clips: int, frames: int, size: tuple[int, int], seed: int, difficulty: str = "mixed"
                   ) -> list[dict[str, Any]]:
    """Frames, binary masks and fast-motion flags of held-out clips, in memory."""
    if seed < HELD_OUT_SEED:
        raise InputError(f"--seed {seed}: benchmark clips must come from the held-out seeds >= {HELD_OUT_SEED}")
    config = SynthConfig(clips=clips, frames=frames, size=size, seed=seed, difficulty=difficulty)
    config.validate()
    out = []
    for index in range(clips):
        items = list(TalkingHeadClip(config, index))
        out.append({"name": f"clip_{index:04d}", "frames": [d.frame for d in items],
                    "masks": [(d.mask > 0).astype(np.uint8) for d in items],
                    "fast": [fast_motion(d.mask, d.flow_bwd, size) for d in items]})
    return out


def real_clips(paths: list[str | Path]) -> tuple[list[dict[str, Any]], list[str]]:
    """Frames and masks of labelled real clips (every sequence under each path), and the teachers named in
    their ``meta.json`` (``workbench data label`` records it)."""
    from workbench.io import open_dataset

    clips, teachers = [], []
    for path in paths:
        for seq in open_dataset(path):
            if not seq.has_masks:
                raise InputError(f"{path}: {seq.name} has no masks; label it first (workbench data label)")
            frames = list(seq.frames())
            masks = [seq.mask(t) for t in range(len(seq))]
            if len(frames) < 2:
                raise InputError(f"{path}: {seq.name} has {len(frames)} frame(s); expected at least 2")
            teacher = (getattr(seq, "meta", None) or {}).get("teacher") or {}
            if isinstance(teacher, dict) and teacher.get("name"):
                teachers.append(str(teacher["name"]))
            clips.append({"name": seq.name, "frames": frames, "masks": masks, "fast": [False] * len(frames)})
    return clips, sorted(set(teachers))


def score_network(net: SegNetwork, clips: list[dict[str, Any]], flow: str | None = None) -> dict[str, Any]:
    """Accuracy of ``net`` on ``clips`` (module docstring); ``flow`` replaces the flow method of a network that
    reads flow (default: the one it was trained with)."""
    segmenter = Segmenter(net, flow=flow)
    parts, fast = [], RunningMean()  # one evaluator per clip; the IoU of the fast-motion frames of all clips
    for clip in clips:
        segmenter.reset()
        scores = SegScores(len(net.classes))
        for frame, gt, is_fast in zip(clip["frames"], clip["masks"], clip["fast"], strict=True):
            row = scores.update(segmenter.labels(segmenter.step(frame)), gt)
            if is_fast:
                fast.update(row["iou"])
        parts.append(scores)
    flickers = [f for f in (p.flicker_result() for p in parts) if f is not None]
    return {"iou": pooled_mean(parts, "iou"), "dice": pooled_mean(parts, "dice"),
            "boundary_f": pooled_mean(parts, "boundary_f"),
            "flicker": float(np.nanmean(flickers)) if flickers else float("nan"),
            "iou_fast": fast.result(), "fast_frames": fast.count, "frames": sum(p.frames for p in parts),
            "iou_min": pooled_min(parts), "clip_iou": [p.mean("iou") for p in parts]}


def time_network(net: SegNetwork, frames: list[np.ndarray], repeat: int, flow: str | None = None) -> float:
    """Median over ``repeat`` passes of the mean ms/frame (flow + network) over ``frames``, no I/O — the network
    at the checkpoint's own scale, so that each size measures the network at that size."""
    segmenter = Segmenter(net, flow=flow, scale=net.scale)
    for frame in frames[:2]:  # untimed: allocations, lazy set-up
        segmenter.step(frame)
    passes = []
    for _ in range(repeat):
        segmenter.reset()
        total = 0.0
        for frame in frames:
            segmenter.step(frame)
            total += segmenter.last_times["flow_ms"] + segmenter.last_times["seg_ms"]
        passes.append(total / len(frames))
    return float(statistics.median(passes))


def _score_one(shared: tuple, label: str) -> dict[str, Any]:
    """One network's scores (a farm job): on the synthetic held-out clips and on each real set."""
    nets, data, real_sets, flow = shared
    net, scores = nets[label], {}
    if data:
        scores.update(score_network(net, data, flow))
    if real_sets:
        scores["real"] = [{k: v for k, v in score_network(net, clips, flow).items()
                           if k not in ("iou_fast", "fast_frames")} for _, clips, _ in real_sets]
    return scores


def bench_seg(checkpoints: dict[str, str | Path], clips: int = 8, frames: int = 40, size: tuple[int, int] = (320, 192),
              seed: int = HELD_OUT_SEED, difficulty: str = "mixed", threads: int = 2, repeat: int = 3,
              timing_sizes: tuple[tuple[int, int], ...] = TIMING_SIZES, timing_frames: int = 8,
              real: list[str | Path] | None = None, progress: Callable[[str], None] | None = None,
              flow: str | None = None, workers: int = 0, scheduler: str | None = None,
              backends: tuple[str, ...] = ("torch",)) -> dict[str, Any]:
    """Score and time each ``label → checkpoint`` (module docstring) → a JSON-ready dict.

    ``clips`` = 0 skips the synthetic held-out scoring (with ``real`` material only). ``flow`` replaces the flow
    method of every network that reads flow (an ablation: e.g. ``funet_flow`` trained with DIS, run with a
    learned flow); the others ignore it. ``workers`` / ``scheduler`` score the networks on a Dask cluster
    (:func:`workbench.experiments.farm.farm`; the same scores); timing always runs here, one network after
    another, so that no two timed networks share the cores. ``backends`` ``("torch", "onnx")`` runs each network
    on both (rows ``unet`` and ``unet · onnx``), so that the two are timed in the same run.

    Long because it assembles the report in reading order: set-up, material, scores (farmed), timings.
    """
    if clips < 0 or frames < 2 or (clips == 0 and not real):
        raise InputError(f"need at least 1 clip (or --real material) and 2 frames, got --clips {clips} "
                         f"--frames {frames}")
    if seed < HELD_OUT_SEED:
        raise InputError(f"--seed {seed}: benchmark clips must come from the held-out seeds >= {HELD_OUT_SEED}")
    started = time.perf_counter()
    from workbench.export import on_backend

    loaded = {label: load_seg_checkpoint(path) for label, path in checkpoints.items()}
    nets = {(label if backend == "torch" else f"{label} · {backend}"): on_backend(net, backend)
            for label, net in loaded.items() for backend in backends}
    real_sets = [(str(path), *real_clips([path])) for path in real or []]  # (path, clips, teachers) per set
    teachers = sorted({t for _, _, names in real_sets for t in names})
    result: dict[str, Any] = {
        "benchmark": "seg", "machine": machine_info(threads),
        "config": {"clips": clips, "frames": frames, "size": list(size), "seed": seed, "difficulty": difficulty,
                   "threads": threads, "repeat": repeat, "timing_sizes": [list(s) for s in timing_sizes],
                   "fast_px": FAST_PX, "real": [str(p) for p in real or []], "flow": flow,
                   "workers": workers, "scheduler": scheduler, "backends": list(backends)},
        "rows": []}
    if real_sets:
        result["real"] = [{"path": path, "clips": [c["name"] for c in data], "teachers": names,
                           "frames": sum(len(c["frames"]) for c in data)} for path, data, names in real_sets]
    with PinnedThreads(threads):
        if progress:
            progress(f"generating {clips} held-out clips")
        data = held_out_clips(clips, frames, size, seed, difficulty) if clips else []
        result["fast_fraction"] = float(np.mean([f for c in data for f in c["fast"]])) if data else float("nan")
        timing_clips = {s: held_out_clips(1, timing_frames, s, seed, difficulty)[0]["frames"] for s in timing_sizes}
        if progress:
            progress(f"scoring {len(nets)} networks" + (f" on {workers} workers" if workers else
                                                        f" on {scheduler}" if scheduler else ""))
        scored = farm(_score_one, list(nets), (nets, data, real_sets, flow), workers=workers, scheduler=scheduler,
                      threads=threads, progress=False)
        for (label, net), scores in zip(nets.items(), scored, strict=True):
            row = {"model": label, "arch": net.arch, "checkpoint": str(net.path) if net.path else net.arch,
                   "parameters": net.parameters(), "input": net.input,
                   "flow": (flow or net.flow) if net.needs_flow else net.flow, "scale": net.scale,
                   "teacher": net.arch in teachers, **scores}
            for s, timing in timing_clips.items():
                if progress:
                    progress(f"{label}: timing at {s[0]}x{s[1]}")
                row[f"ms_{s[0]}x{s[1]}"] = time_network(net, timing, repeat, flow)
            result["rows"].append(row)
    result["seconds"] = time.perf_counter() - started
    return result


def format_bench_seg(result: dict[str, Any]) -> str:
    config, machine = result["config"], result["machine"]
    W, H = config["size"]
    sizes = [f"{w}x{h}" for w, h in config["timing_sizes"]]
    rows = result["rows"]
    lines = [
        "# workbench bench seg", "",
        f"workbench {machine['workbench']} · torch {machine['torch']} · {machine['cpu_count']} CPUs "
        f"({machine['cpus_usable']} usable), **{config['threads']} threads** · {machine['processor']}", ""]
    if rows and "iou" in rows[0]:
        lines += [
            f"{config['clips']} held-out clips × {config['frames']} frames, {W}x{H}, difficulty "
            f"{config['difficulty']}, seed {config['seed']} (never trained on); fast-motion frames (90th percentile "
            f"of the person's true motion ≥ {config['fast_px']:g} px): {100 * result['fast_fraction']:.1f} %. Frame "
            "by frame as `workbench predict` runs; ms/frame = flow + network, no I/O, median of "
            f"{config['repeat']} passes.", "",
            "| model | input | flow | params | IoU | Dice | boundary F | flicker (%) | IoU fast | worst-clip IoU | "
            "worst-frame IoU | " + " | ".join(f"ms/frame {s}" for s in sizes) + " |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(sizes),
        ]
        for r in rows:
            lines.append(
                f"| {r['model']} | {r['input']} | {r['flow'] or '—'} | {r['parameters'] / 1e6:.3f} M | "
                f"{fmt_num(r['iou'], '.4f')} | "
                f"{fmt_num(r['dice'], '.4f')} | {fmt_num(r['boundary_f'], '.4f')} | "
                f"{fmt_num(100 * r['flicker'], '.3f')} | {fmt_num(r['iou_fast'], '.4f')} | "
                f"{fmt_num(min(r['clip_iou']), '.4f')} | {fmt_num(r['iou_min'], '.4f')} | "
                + " | ".join(fmt_num(r[f"ms_{s}"], ".1f") for s in sizes) + " |")
    teacher = next((r for r in rows if r.get("teacher")), None)
    for k, real in enumerate(result.get("real", [])):
        lines += [
            "", f"## Real material: `{real['path']}`", "",
            f"{len(real['clips'])} labelled clip(s), {real['frames']} frames; masks by the teacher "
            f"{', '.join(real['teachers']) or '(not recorded)'} — agreement with a teacher, not ground truth."
            + (f" Speed as a ratio to the teacher `{teacher['model']}` in the same run (> 1: faster)."
               if teacher else ""), "",
            "| model | IoU | IoU per clip | Dice | boundary F | flicker (%) | worst-frame IoU | "
            + " | ".join(f"ms/frame {s}" for s in sizes)
            + ("".join(f" | × teacher {s}" for s in sizes) if teacher else "") + " |",
            "|---|---:|---|---:|---:|---:|---:|" + "---:|" * len(sizes) * (2 if teacher else 1),
        ]
        for r in rows:
            m = r["real"][k]
            name = f"{r['model']} (teacher)" if r.get("teacher") else r["model"]
            ratios = ("".join(f" | {fmt_num(teacher[f'ms_{s}'] / r[f'ms_{s}'], '.2f')}" for s in sizes)
                      if teacher else "")
            lines.append(
                f"| {name} | {fmt_num(m['iou'], '.4f')} | {' / '.join(fmt_num(v, '.3f') for v in m['clip_iou'])} | "
                f"{fmt_num(m['dice'], '.4f')} | {fmt_num(m['boundary_f'], '.4f')} | "
                f"{fmt_num(100 * m['flicker'], '.3f')} | {fmt_num(m['iou_min'], '.4f')} | "
                + " | ".join(fmt_num(r[f"ms_{s}"], ".1f") for s in sizes) + ratios + " |")
    return "\n".join(lines) + "\n"


def write_bench_seg(result: dict[str, Any], out: str | Path) -> tuple[Path, Path]:
    """Write ``bench_seg.md`` and ``bench_seg.json`` under ``out`` (each atomically) → their paths."""
    return write_bench(result, out, format_bench_seg(result))


__all__ = ["FAST_PX", "bench_seg", "fast_motion", "format_bench_seg", "held_out_clips", "real_clips", "score_network",
           "write_bench_seg"]
