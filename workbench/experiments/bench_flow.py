"""Benchmarks behind ``workbench bench``: accuracy and speed measured the same way every time.

``bench_flow`` (``workbench bench flow``) measures every registered flow method except ``gt``:

(a) **held-out synthetic clips**, generated in memory with ``TalkingHeadClip`` from seeds at or above
    ``HELD_OUT_SEED`` (10 000; training draws from seeds below it, so no benchmark clip was ever trained
    on). Every consecutive pair ``(t, t+1)`` is scored against the exact ``flow_fwd[t]``: EPE and Fl-all
    over all pixels, and again over the *moving* pixels (``|gt| > 0.5 px``), because most of a video call
    is static background where even zero flow is right. Scores pool pixels over all pairs.
(a') **held-out generic layered scenes** (``workbench.data.flying``, FlyingChairs-like) from the same held-out
    seeds and the *held-out* photographs, which no training scene shows: flow that is not a video call's.
(b) the **motorcycle** stereo pair (``workbench.data.realflow``, real images, 741×500, displacements up to
    60 px): EPE and Fl-all over pixels with known ground truth.
(b') any **reference pairs** given (``--pair A B FLOW``): two real frames and a flow to score against —
    ground truth, or a reference method's output such as the original PWC-Net's on the Sintel pair, in which
    case the score is the distance to that method, not an error.
(c) **correlation throughput** (``workbench.ops.correlation``) per available backend, at PWC-Net's level-2
    feature size (N=1, C=32, H/4 × W/4, max displacement 4) for 320×192 and 640×384 inputs: median ms,
    GB/s and GFLOP/s from ``correlation_flops_bytes`` (minimal traffic, so GB/s is a lower bound).

Scores come from one untimed pass of each method over every set of pairs; these passes are independent and can
run on a Dask cluster (``workers`` / ``scheduler``, ``--workers`` / ``--scheduler``: the same scores). Timing
(docs/conventions.md) always runs in this process: torch and OpenCV are pinned to ``threads`` threads (restored
afterwards) and the count is reported; each method first runs once untimed (allocations, lazy set-up);
``ms/frame`` is the median over ``repeat`` passes of the wall time of ``estimate`` alone, divided by the number of
pairs — frames are generated beforehand, so no rendering or file I/O is timed. Compare methods as ratios within
one run.

A method whose estimator cannot be built (e.g. ``pwc`` before its checkpoint exists) is listed as skipped,
with the reason, instead of failing the benchmark.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.config import Config
from workbench.data.synthetic import HELD_OUT_SEED, SynthConfig, TalkingHeadClip
from workbench.errors import InputError
from workbench.experiments.measure import CI_RESAMPLES, PinnedThreads, clip_interval, fmt_num, machine_info, write_bench
from workbench.flow import FlowEstimator, create_flow, list_flows
from workbench.flow.classical import DIS_PRESETS
from workbench.metrics.flow import flow_errors

MOVING_PX = 0.5  # a pixel "moves" when its true flow is longer than this
CORR_INPUTS = ((320, 192), (640, 384))  # (W, H) network inputs whose level-2 features are timed
CORR_CHANNELS = 32  # PWC-Net's level-2 pyramid width
CORR_STRIDE = 4  # level 2 is 1/4 of the input
CORR_DISPLACEMENT = 4  # PWC-Net's search range, 81 channels
CORR_MIN_SECONDS = 0.02  # each timed correlation sample loops until it lasts at least this long
PAIRED_REFERENCE = "dis (medium)"  # methods are compared with it clip by clip (a paired interval)


@dataclass
class BenchFlowConfig(Config):
    """Arguments of ``workbench bench flow`` (saved in ``bench_flow.json``)."""

    clips: int = 4
    frames: int = 16  # per clip: frames − 1 consecutive pairs
    size: tuple[int, int] = (320, 192)  # (W, H)
    seed: int = HELD_OUT_SEED
    difficulty: str = "mixed"
    threads: int = 2
    repeat: int = 3
    layers: int = 8  # held-out layered scenes (0: none)
    layer_frames: int = 3  # per layered scene
    motorcycle: bool = True
    pairs: list[tuple[str, str, str]] = field(default_factory=list)  # (frame A, frame B, reference .flo)
    correlation: bool = True
    pwc_checkpoint: str | None = None  # default: the shipped models/pwc_small/checkpoint.pt
    timing_sizes: list[tuple[int, int]] = field(default_factory=lambda: [(320, 192), (640, 360)])  # (W, H)
    timing_pairs: int = 4  # consecutive pairs of one held-out clip per timing size

    def validate(self) -> None:
        if self.clips < 1 or self.frames < 2:
            raise InputError(f"need at least 1 clip and 2 frames, got --clips {self.clips} --frames {self.frames}")
        if self.seed < HELD_OUT_SEED:
            raise InputError(f"--seed {self.seed}: benchmark clips must come from the held-out seeds "
                             f">= {HELD_OUT_SEED} (training uses the seeds below)")
        if self.threads < 1 or self.repeat < 1:
            raise InputError(f"--threads and --repeat must be >= 1, got {self.threads} and {self.repeat}")
        SynthConfig(clips=self.clips, frames=self.frames, size=self.size, seed=self.seed,
                    difficulty=self.difficulty).validate()


# ------------------------------------------------------------------------------------------------- helpers


def method_specs(pwc_checkpoint: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """``(label, registry name, options)`` of every method to benchmark: each DIS preset, then the others; with
    ``pwc_checkpoint`` (a candidate being carded), one learned-flow row, "pwc", with that checkpoint."""
    specs: list[tuple[str, str, dict[str, Any]]] = []
    for name in list_flows(pairs_only=True):  # not the ground truth: it estimates no new pairs
        if name == "dis":
            specs += [(f"dis ({preset})", "dis", {"preset": preset}) for preset in DIS_PRESETS]
        elif name == "pwc" and pwc_checkpoint:
            specs.append((name, name, {"checkpoint": pwc_checkpoint}))
        else:
            specs.append((name, name, {}))
    return specs


def _synthetic_pairs(config: BenchFlowConfig) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(frame_t, frame_t+1, flow_fwd[t])`` of every consecutive pair of the held-out clips."""
    synth = SynthConfig(clips=config.clips, frames=config.frames, size=config.size, seed=config.seed,
                        difficulty=config.difficulty)
    return _pairs_of(TalkingHeadClip(synth, index) for index in range(config.clips))


def _pairs_of(clips: Iterable[Iterable[Any]]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    pairs = []
    for clip in clips:
        frames = list(clip)
        pairs += [(a.frame, b.frame, a.flow_fwd) for a, b in zip(frames[:-1], frames[1:], strict=True)]
    return pairs


def _layered_pairs(config: BenchFlowConfig) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(frame_t, frame_t+1, flow_fwd[t])`` of the held-out layered scenes (held-out photographs)."""
    from workbench.data.flying import FlyingClip, FlyingConfig

    flying = FlyingConfig(clips=config.layers, frames=config.layer_frames, size=config.size, seed=config.seed,
                          photo_split="heldout")
    flying.validate()
    return _pairs_of(FlyingClip(flying, index) for index in range(config.layers))


def _time_flows(estimator: FlowEstimator, pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                repeat: int) -> float:
    """The median ms per pair over ``repeat`` passes (after one warm-up)."""
    estimator.estimate(pairs[0][0], pairs[0][1])
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for a, b, _ in pairs:
            estimator.estimate(a, b)
        seconds.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(seconds) / len(pairs)


def _pooled(flows: list[np.ndarray], pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
            moving_only: bool) -> dict[str, Any]:
    """EPE and Fl-all pooled over the pixels of all pairs (pairs weighted by their valid pixels), and each
    pair's own EPE (``per_pair``; NaN for a pair without valid pixels)."""
    total = epe_sum = fl_sum = 0.0
    per_pair = []
    for flow, (_, _, gt) in zip(flows, pairs, strict=True):
        valid = None
        if moving_only:
            with np.errstate(invalid="ignore"):
                valid = np.sqrt((gt**2).sum(axis=0)) > MOVING_PX
        errors = flow_errors(flow, gt, valid)
        n = errors["num_valid"]
        per_pair.append(errors["epe"] if n else float("nan"))
        if n:
            total += n
            epe_sum += errors["epe"] * n
            fl_sum += errors["fl_all"] * n
    if not total:
        return {"epe": float("nan"), "fl_all": float("nan"), "num_valid": 0, "per_pair": per_pair}
    return {"epe": epe_sum / total, "fl_all": fl_sum / total, "num_valid": int(total), "per_pair": per_pair}


def _prefixed(progress: Callable[[str], None] | None, part: str) -> Callable[[str], None] | None:
    """Progress callback that names the part of the benchmark: ``synthetic: dis (medium)``."""
    if progress is None:
        return None
    return lambda step: progress(f"{part}: {step}")


def _build(name: str, options: dict[str, Any]) -> tuple[FlowEstimator | None, str | None]:
    """The estimator, or ``None`` and the reason it could not be built (a missing checkpoint, ...)."""
    try:
        return create_flow(name, **options), None
    except (InputError, OSError) as exc:
        return None, str(exc)


# ------------------------------------------------------------------------------------------------- parts


def _accuracy(flows: list[np.ndarray], pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]], moving: bool,
              pairs_per_clip: int | None = None) -> dict[str, Any]:
    """A method's scores on one set of pairs: EPE and Fl-all pooled over all pixels and, with ``moving``, over the
    moving ones; with ``pairs_per_clip``, each clip's EPE and their bootstrap 95 % interval."""
    overall = _pooled(flows, pairs, moving_only=False)
    row: dict[str, Any] = {"epe": overall["epe"], "fl_all": overall["fl_all"], "num_valid": overall["num_valid"]}
    if pairs_per_clip:  # every pair has all its pixels valid: the pooled EPE is the mean of the pairs'
        row["epe_clips"] = np.reshape(overall["per_pair"], (-1, pairs_per_clip)).mean(axis=1).tolist()
        row["epe_ci"] = list(clip_interval(row["epe_clips"]))
    if moving:
        moved = _pooled(flows, pairs, moving_only=True)
        row.update(epe_moving=moved["epe"], fl_all_moving=moved["fl_all"], num_moving=moved["num_valid"])
    return row


def _score_method(shared: tuple[dict[str, tuple[str, dict[str, Any]]], dict[str, dict[str, Any]]],
                  label: str) -> dict[str, dict[str, Any]]:
    """One method's scores on every set of pairs (a farm job, here or on a Dask worker): its estimator is built
    where the job runs, and one untimed pass gives the flows. ``shared``: the methods' ``(name, options)`` and the
    sets (``pairs``, ``moving``, ``pairs_per_clip``)."""
    specs, sets = shared
    estimator, reason = _build(*specs[label])
    if estimator is None:  # built here, but not where the job ran (a worker without its checkpoint or package)
        return {"unscored": f"could not be built on the worker that scored it: {reason}"}
    return {name: _accuracy([estimator.estimate(a, b) for a, b, _ in part["pairs"]], part["pairs"], part["moving"],
                            part["pairs_per_clip"]) for name, part in sets.items()}


def _bench_methods(config: BenchFlowConfig, estimators: dict[str, tuple[FlowEstimator | None, str | None]],
                   pairs: list, scores: dict[str, dict[str, Any]], progress: Callable[[str], None] | None
                   ) -> list[dict[str, Any]]:
    """A row per method: its ms/frame timed here on ``pairs`` and its ``scores`` on them (:func:`_score_method`);
    where each clip's EPE is known, the paired difference to DIS medium and its interval."""
    rows = []
    for label, (estimator, reason) in estimators.items():
        if estimator is None or "unscored" in scores[label]:
            rows.append({"method": label, "status": "skipped", "reason": reason or scores[label]["unscored"]})
            continue
        if progress:
            progress(label)
        rows.append({"method": label, "status": "ok", "ms_per_frame": _time_flows(estimator, pairs, config.repeat),
                     **scores[label]})
    reference = next((r for r in rows if r["method"] == PAIRED_REFERENCE and "epe_clips" in r), None)
    for row in rows:  # the ranking question: is this method better than DIS medium on the same clips?
        if reference is not None and "epe_clips" in row and row is not reference:
            diff = np.subtract(row["epe_clips"], reference["epe_clips"]).tolist()
            row["epe_diff_dis_medium"] = float(np.mean(diff))
            row["epe_diff_dis_medium_ci"] = list(clip_interval(diff))
    return rows


def _bench_correlation(repeat: int) -> dict[str, Any]:
    try:
        from workbench.ops import available_backends, correlation, correlation_flops_bytes, use_backend
    except ImportError as exc:  # the op is optional for this benchmark
        return {"status": "not available", "reason": f"workbench.ops.correlation: {exc}", "rows": []}
    targets = []
    for backend in available_backends():
        if backend == "torch":
            targets.append((backend, "cpu"))
            if torch.cuda.is_available():
                targets.append((backend, "cuda"))
        else:  # the accelerated backends (cupy) run on CUDA tensors
            targets.append((backend, "cuda"))
    rows = []
    generator = torch.Generator().manual_seed(0)
    for backend, device in targets:
        for W, H in CORR_INPUTS:
            shape = (1, CORR_CHANNELS, H // CORR_STRIDE, W // CORR_STRIDE)
            f1 = torch.randn(shape, generator=generator).to(device)
            f2 = torch.randn(shape, generator=generator).to(device)
            sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

            def run(times: int, f1: torch.Tensor = f1, f2: torch.Tensor = f2, sync: Callable = sync) -> float:
                sync()
                start = time.perf_counter()
                for _ in range(times):
                    correlation(f1, f2, CORR_DISPLACEMENT)
                sync()
                return time.perf_counter() - start

            row: dict[str, Any] = {"backend": backend, "device": device, "input": f"{W}x{H}", "shape": list(shape),
                                   "max_displacement": CORR_DISPLACEMENT}
            try:
                with use_backend(backend), torch.no_grad():
                    run(1)  # warm-up: kernel compile, allocations
                    once = run(1)  # sizes the inner loop so that one sample lasts >= CORR_MIN_SECONDS
                    inner = int(min(1000, max(1, math.ceil(CORR_MIN_SECONDS / max(once, 1e-6)))))
                    ms = 1000.0 * statistics.median(run(inner) / inner for _ in range(max(repeat, 3)))
            except RuntimeError as exc:
                rows.append({**row, "status": "failed", "reason": str(exc)})
                continue
            flops, nbytes = correlation_flops_bytes(*shape, CORR_DISPLACEMENT)
            rows.append({**row, "status": "ok", "ms": ms, "gb_per_s": nbytes / (ms / 1000.0) / 1e9,
                         "gflop_per_s": flops / (ms / 1000.0) / 1e9, "inner_loops": inner})
    return {"status": "ok", "rows": rows}


def _motorcycle(config: BenchFlowConfig) -> dict[str, Any]:
    """The motorcycle part's set of pairs and facts, or ``status`` "not available" and the reason."""
    from workbench.data.realflow import motorcycle_pair

    try:
        frame_a, frame_b, gt = motorcycle_pair()
    except InputError as exc:  # scikit-image missing
        return {"status": "not available", "reason": str(exc), "rows": []}
    H, W = gt.shape[1:]
    return {"status": "ok", "size": [W, H], "known_fraction": float(np.isfinite(gt).all(axis=0).mean()),
            "pairs": [(frame_a, frame_b, gt)]}


def _bench_speed(config: BenchFlowConfig, estimators: dict, progress: Callable[[str], None] | None
                 ) -> dict[str, Any]:
    """ms/frame of every method at each timing size, on the consecutive pairs of one held-out clip per size,
    all in this run (so that ratios between methods and sizes come from one machine state)."""
    sizes = [tuple(s) for s in config.timing_sizes]
    rows = [{"method": label, "status": "ok" if est is not None else "skipped"} | ({"reason": why} if why else {})
            for label, (est, why) in estimators.items()]
    for W, H in sizes:
        synth = SynthConfig(clips=1, frames=config.timing_pairs + 1, size=(W, H), seed=config.seed,
                            difficulty=config.difficulty)
        pairs = _pairs_of([TalkingHeadClip(synth, 0)])
        for row, (estimator, _) in zip(rows, estimators.values(), strict=True):
            if estimator is None:
                continue
            if progress:
                progress(f"speed {W}x{H}: {row['method']}")
            row[f"ms_{W}x{H}"] = _time_flows(estimator, pairs, config.repeat)
    return {"sizes": [list(s) for s in sizes], "pairs": config.timing_pairs, "rows": rows}


def _reference_pairs(config: BenchFlowConfig) -> list[dict[str, Any]]:
    """One part per ``--pair``: its frames, the reference flow (NaN vectors = unknown, skipped) and facts."""
    from workbench.io.flo import read_flo
    from workbench.io.images import read_image

    parts = []
    for path_a, path_b, path_flow in config.pairs:
        frame_a, frame_b, reference = read_image(path_a), read_image(path_b), read_flo(path_flow)
        if frame_a.shape != frame_b.shape or reference.shape[1:] != frame_a.shape[:2]:
            raise InputError(f"--pair {path_a} {path_b} {path_flow}: frames {frame_a.shape[1]}x{frame_a.shape[0]} "
                             f"and {frame_b.shape[1]}x{frame_b.shape[0]}, flow {reference.shape[2]}x"
                             f"{reference.shape[1]}: expected one size")
        H, W = reference.shape[1:]
        parts.append({"frames": [str(path_a), str(path_b)], "reference": str(path_flow), "size": [W, H],
                      "known_fraction": float(np.isfinite(reference).all(axis=0).mean()),
                      "pairs": [(frame_a, frame_b, reference)]})
    return parts


def bench_flow(config: BenchFlowConfig | None = None, progress: Callable[[str], None] | None = None,
               workers: int = 0, scheduler: str | None = None, **overrides: Any) -> dict[str, Any]:
    """Run the flow benchmark (module docstring) → a JSON-ready dict; ``overrides`` replace config fields.

    The methods' scores (one untimed pass of each method over every set of pairs) can run on a Dask cluster —
    ``workers`` local processes or the one at ``scheduler`` (:func:`workbench.experiments.farm.farm`; the same
    scores); timing always runs here, one method after another. Long because it assembles the report in reading
    order: the sets of pairs, the scores (farmed), then each part's timed rows."""
    from workbench.experiments.farm import farm

    config = BenchFlowConfig(**{**(config or BenchFlowConfig()).to_dict(), **overrides})
    config.size = tuple(config.size)  # type: ignore[assignment]
    config.validate()
    started = time.perf_counter()
    result: dict[str, Any] = {"benchmark": "flow", "config": {**config.to_dict(), "workers": workers,
                                                              "scheduler": scheduler},
                              "machine": machine_info(config.threads)}
    with PinnedThreads(config.threads):
        specs = {label: (name, options) for label, name, options in method_specs(config.pwc_checkpoint)}
        estimators = {label: _build(name, options) for label, (name, options) in specs.items()}
        pairs = _synthetic_pairs(config)
        sets = {"synthetic": {"pairs": pairs, "moving": True, "pairs_per_clip": config.frames - 1}}
        if config.layers:
            sets["layers"] = {"pairs": _layered_pairs(config), "moving": True,
                              "pairs_per_clip": config.layer_frames - 1}
        motorcycle = _motorcycle(config) if config.motorcycle else None
        if motorcycle is not None and motorcycle["status"] == "ok":
            sets["motorcycle"] = {"pairs": motorcycle.pop("pairs"), "moving": False, "pairs_per_clip": None}
        references = _reference_pairs(config) if config.pairs else []
        for index, part in enumerate(references):
            sets[f"pair {index}"] = {"pairs": part.pop("pairs"), "moving": False, "pairs_per_clip": None}
        labels = [label for label, (estimator, _) in estimators.items() if estimator is not None]
        if progress:
            progress(f"scoring {len(labels)} methods" + (f" on {workers} workers" if workers else
                                                         f" on {scheduler}" if scheduler else ""))
        scored = farm(_score_method, labels, (specs, sets), workers=workers, scheduler=scheduler,
                      threads=config.threads, progress=False)
        scores = dict(zip(labels, scored, strict=True))

        def rows(part: str) -> list[dict[str, Any]]:
            return _bench_methods(config, estimators, sets[part]["pairs"],
                                  {label: scores[label].get(part, scores[label]) for label in labels},
                                  _prefixed(progress, part))

        moving = sum(int((np.sqrt((gt**2).sum(axis=0)) > MOVING_PX).sum()) for _, _, gt in pairs)
        result["synthetic"] = {
            "clips": config.clips, "pairs": len(pairs), "size": list(config.size),
            "seeds": f"seed {config.seed}, clips 0..{config.clips - 1}",
            "moving_fraction": moving / (len(pairs) * config.size[0] * config.size[1]), "rows": rows("synthetic")}
        if config.layers:
            result["layers"] = {
                "clips": config.layers, "pairs": len(sets["layers"]["pairs"]), "size": list(config.size),
                "seeds": f"seed {config.seed}, scenes 0..{config.layers - 1}, held-out photographs",
                "rows": rows("layers")}
        if motorcycle is not None:
            result["motorcycle"] = {**motorcycle, "rows": rows("motorcycle")} if "motorcycle" in sets else motorcycle
        if references:
            result["pairs"] = [{**part, "rows": rows(f"pair {index}")} for index, part in enumerate(references)]
        if config.timing_sizes:
            result["speed"] = _bench_speed(config, estimators, progress)
        if config.correlation:
            if progress:
                progress("correlation")
            result["correlation"] = _bench_correlation(config.repeat)
    result["seconds"] = time.perf_counter() - started
    return result


# ------------------------------------------------------------------------------------------------- output


def format_bench_flow(result: dict[str, Any]) -> str:
    """The benchmark result as Markdown (headline facts, then one table per part).

    Long because it is a report template: one block of lines per part, in reading order.
    """
    config, machine = result["config"], result["machine"]
    W, H = config["size"]
    lines = [
        "# workbench bench flow",
        "",
        f"workbench {machine['workbench']} · torch {machine['torch']} · OpenCV {machine['cv2']} · "
        f"{machine['cpu_count']} CPUs ({machine['cpus_usable']} usable), **{machine['threads']} threads** "
        f"(torch and OpenCV) · {machine['processor']}" + (f" · GPU {machine['cuda_device']}"
                                                           if machine.get("cuda_device") else ""),
        f"ms/frame: median of {config['repeat']} passes after one warm-up, `estimate` only. "
        f"Total time {result.get('seconds', float('nan')):.1f} s.",
        "",
    ]
    synth = result["synthetic"]
    lines += [
        f"## Held-out synthetic clips ({synth['clips']} clips, {synth['pairs']} pairs, {W}x{H}, "
        f"{config['difficulty']}, {synth['seeds']})",
        "",
        f"Moving pixels (|gt| > {MOVING_PX} px): {100 * synth['moving_fraction']:.1f} % of all. Intervals: 95 % "
        f"bootstrap over whole clips ({CI_RESAMPLES} resamples; pairs of a clip are not independent) of EPE all, "
        f"and of each method's EPE minus {PAIRED_REFERENCE}'s on the same clips (the ranking question: an interval "
        "that excludes 0 is a stable difference).",
        "",
    ]
    skipped = [row for row in synth["rows"] if row["status"] != "ok"]
    lines += moving_table(synth["rows"])
    layers = result.get("layers")
    if layers is not None:
        lines += ["", f"## Held-out layered scenes ({layers['clips']} scenes, {layers['pairs']} pairs, {W}x{H}, "
                      f"{layers['seeds']})", "",
                  "Generic layers of photographs and procedural textures in independent affine motion "
                  "(`workbench data synth --kind layers`): flow that is not a video call's.", ""]
        lines += moving_table(layers["rows"])
    moto = result.get("motorcycle")
    if moto is not None:
        lines += ["", "## Motorcycle stereo pair (real, Middlebury 2014 via scikit-image)", ""]
        if moto["status"] != "ok":
            lines.append(f"not available: {moto['reason']}")
        else:
            mW, mH = moto["size"]
            lines += [f"{mW}x{mH}, flow = (−disparity, 0), {100 * moto['known_fraction']:.1f} % of pixels with known "
                      "ground truth; EPE over those.", "",
                      *pair_table(moto["rows"])]
    for part in result.get("pairs", []):
        pW, pH = part["size"]
        lines += ["", f"## Pair `{Path(part['frames'][0]).name}` → `{Path(part['frames'][1]).name}` against "
                      f"`{part['reference']}`", "",
                  f"{pW}x{pH}, {100 * part['known_fraction']:.1f} % of pixels with a reference vector. When the "
                  "reference is another method's output (not ground truth), EPE is the distance to that method.", "",
                  *pair_table(part["rows"])]
    speed = result.get("speed")
    if speed is not None:
        sizes = [f"{w}x{h}" for w, h in speed["sizes"]]
        lines += ["", f"## Speed ({speed['pairs']} consecutive pairs of one held-out clip per size, this run)", "",
                  "| method | " + " | ".join(f"ms/frame {s}" for s in sizes) + " |",
                  "|---|" + "---:|" * len(sizes)]
        for row in speed["rows"]:
            lines.append(f"| {row['method']} | " + " | ".join(
                fmt_num(row.get(f"ms_{s}"), ".1f") if row["status"] == "ok" else "skipped" for s in sizes) + " |")
    corr = result.get("correlation")
    if corr is not None:
        lines += ["", f"## Correlation (PWC-Net level 2: N=1, C={CORR_CHANNELS}, H/4 x W/4, "
                      f"d={CORR_DISPLACEMENT}, 81 channels)", ""]
        if corr["status"] != "ok":
            lines.append(f"not available: {corr['reason']}")
        else:
            lines += ["| backend | device | input | features (NxCxHxW) | ms | GB/s | GFLOP/s |",
                      "|---|---|---|---|---:|---:|---:|"]
            for row in corr["rows"]:
                shape = "x".join(str(v) for v in row["shape"])
                if row["status"] != "ok":
                    lines.append(f"| {row['backend']} | {row['device']} | {row['input']} | {shape} | failed: "
                                 f"{row['reason']} | | |")
                    continue
                lines.append(f"| {row['backend']} | {row['device']} | {row['input']} | {shape} | "
                             f"{row['ms']:.3f} | {row['gb_per_s']:.2f} | {row['gflop_per_s']:.1f} |")
    if skipped:
        lines += ["", "Skipped methods:"]
        lines += [f"- {row['method']}: {row['reason']}" for row in skipped]
    return "\n".join(lines) + "\n"


def pair_table(rows: list[dict[str, Any]]) -> list[str]:
    """Markdown rows for one image pair: EPE, Fl-all and speed per method."""
    lines = ["| method | EPE (px) | Fl-all | ms/frame |", "|---|---:|---:|---:|"]
    for row in rows:
        if row["status"] != "ok":
            lines.append(f"| {row['method']} | skipped | | |")
            continue
        lines.append(f"| {row['method']} | {fmt_num(row['epe'], '.3f')} | {fmt_num(100 * row['fl_all'], '.1f')} % "
                     f"| {fmt_num(row['ms_per_frame'], '.1f')} |")
    return lines


def moving_table(rows: list[dict[str, Any]]) -> list[str]:
    """Markdown rows: EPE and Fl-all over all and over moving pixels, and speed, per method."""
    lines = ["| method | EPE all (px) | 95 % interval (clips) | − DIS medium, paired (95 %) | Fl-all all | "
             "EPE moving (px) | Fl-all moving | ms/frame |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        if row["status"] != "ok":
            lines.append(f"| {row['method']} | skipped | | | | | | |")
            continue
        lo, hi = row.get("epe_ci", (None, None))
        dlo, dhi = row.get("epe_diff_dis_medium_ci", (None, None))
        paired = (f"{row['epe_diff_dis_medium']:+.3f} ({fmt_num(dlo, '+.3f')} … {fmt_num(dhi, '+.3f')})"
                  if "epe_diff_dis_medium" in row else "—")
        lines.append(f"| {row['method']} | {fmt_num(row['epe'], '.3f')} | {fmt_num(lo, '.3f')}–{fmt_num(hi, '.3f')} | "
                     f"{paired} | "
                     f"{fmt_num(100 * row['fl_all'], '.1f')} % | "
                     f"{fmt_num(row['epe_moving'], '.3f')} | {fmt_num(100 * row['fl_all_moving'], '.1f')} % | "
                     f"{fmt_num(row['ms_per_frame'], '.1f')} |")
    return lines


def write_bench_flow(result: dict[str, Any], out: str | Path) -> tuple[Path, Path]:
    """Write ``bench_flow.md`` and ``bench_flow.json`` under ``out`` (each atomically) → their paths."""
    return write_bench(result, out, format_bench_flow(result))


__all__ = ["BenchFlowConfig", "bench_flow", "format_bench_flow", "method_specs", "moving_table", "pair_table",
           "write_bench_flow"]
