"""``workbench dvs sweep``: every policy over the same clips, the trade-off table and figures.

Runs, on every clip: ``per-frame`` with the accurate segmentation network (the reference), ``per-frame``
with the fast network (the practitioner's alternative), ``fixed`` at each interval, ``adaptive`` at each
target (decision network), ``oracle`` at each target (true scores: an upper bound) and ``flow-only``. Each run
is a run record under ``<out>/runs/`` (summaries and rows only, no stored frames). Writes:

- ``sweep.csv`` — docs/conventions.md columns ``method, param, mean_iou, fps, key_fraction, run_id`` plus ``seg``,
  ``clip``, ``frames``, ``ms_per_frame``, ``min_iou``: one row per (method, param, network, clip) and one
  aggregate row per (method, param, network) with ``clip = all`` (IoU averaged over all frames, fps = all
  frames / all compute time, run_id empty);
- ``sweep.md`` / ``sweep.json`` — the aggregate table, the reference, the best adaptive operating point within
  ``max_loss`` IoU points of it with its speedup and the bound ``1 / (k + (1 − k)·o)``, where the time goes
  per path, and whether adaptive Pareto-dominates fixed at every fixed interval's key fraction (the adaptive
  curve interpolated linearly in the key fraction, with its exact limits: flow-only = target 0, per-frame = k 1);
- ``iou_vs_fps.png`` and ``iou_vs_key_fraction.png`` — one curve per policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from workbench.config import Config
from workbench.errors import InputError
from workbench.experiments.farm import farm
from workbench.io.atomic import atomic_dir, json_text
from workbench.io.sequence import Sequence
from workbench.pipeline import POLICIES, RULES, PipelineConfig
from workbench.pipeline.build import Built
from workbench.runs import record_run
from workbench.seg.checkpoint import SegNetwork

SWEEP_COLUMNS = ("method", "param", "mean_iou", "fps", "key_fraction", "run_id", "seg", "clip", "frames",
                 "ms_per_frame", "min_iou")




@dataclass
class SweepConfig(Config):
    """What a sweep varies and keeps: ``pipeline`` is the base every run starts from (regions, overlap, flow and
    its scale, score kind, rule, dynamic target, corrector weight); the sweep sets each run's policy and its
    ``target`` or ``interval``."""

    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    targets: tuple[float, ...] = tuple(range(50, 99, 4))
    intervals: tuple[int, ...] = (1, 2, 3, 5, 8, 12, 20)
    oracle: bool = True
    flow_only: bool = True
    max_loss: float = 1.0  # IoU points: the best operating point may lose at most this much
    max_frames: int | None = None

    def validate(self) -> None:
        if not self.targets or any(not 0 <= t <= 100 for t in self.targets):
            raise InputError(f"--targets {list(self.targets)}: expected scores between 0 and 100")
        if not self.intervals or any(int(i) != i or i < 1 for i in self.intervals):
            raise InputError(f"--intervals {list(self.intervals)}: expected whole numbers of frames, 1 or more")
        self.pipeline.validate()


DEFAULT = PipelineConfig()
Plan = list[tuple[str, PipelineConfig, SegNetwork, SegNetwork | None]]


def _plan(config: SweepConfig, built: Built, fast: SegNetwork | None) -> Plan:
    """``(method, pipeline, network, corrector)`` of every run, each pipeline a variant of ``config.pipeline``."""
    seg, corrector, base = built.seg, built.corrector, config.pipeline

    def variant(policy: str, **values: float) -> PipelineConfig:
        """The base with ``policy``; the rule only for scored policies, the moving target only for adaptive
        (the oracle is the fixed-target bound)."""
        scored = POLICIES[policy].scored
        return replace(base, policy=policy, rule=base.rule if scored else DEFAULT.rule,
                       dynamic=base.dynamic and policy == "adaptive", **values)

    plan = [("per-frame", variant("per-frame"), seg, None)]
    if fast is not None:
        plan.append(("per-frame", variant("per-frame"), fast, None))
    if corrector is not None:  # the two networks' ensemble on every frame: the corrected schedules' k = 1
        plan.append(("per-frame", variant("per-frame"), seg, corrector))
    plan += [("fixed", variant("fixed", interval=int(k)), seg, corrector) for k in config.intervals]
    if built.decider is not None:
        plan += [("adaptive", variant("adaptive", target=t), seg, corrector) for t in config.targets]
    if config.oracle:
        plan += [("oracle", variant("oracle", target=t), seg, corrector) for t in config.targets]
    if config.flow_only:
        plan.append(("flow-only", variant("flow-only"), seg, corrector))
    return plan


def _warm_up(built: Built, plan: Plan, frame: np.ndarray) -> None:
    """Run every network of the plan once, untimed: the first pass pays one-off costs (allocator, kernels)
    that would otherwise land on whichever run comes first — the per-frame reference."""
    done: set[int] = set()
    for _, pipeline, net, correct in plan:
        if id(net) not in done or (correct is not None and id(correct) not in done):
            built.segmenter(None, replace(pipeline, policy="per-frame", flow="dis"), net=net,
                            corrector=correct).step(frame)
            done |= {id(net)} | ({id(correct)} if correct is not None else set())


def _seg_name(net: SegNetwork, corrector: SegNetwork | None = None) -> str:
    """A network's shipped name (its folder) or its architecture; ``unet+fastseg`` when corrected."""
    name = net.path.parent.name if net.path is not None and net.path.name == "checkpoint.pt" else net.arch
    return name if corrector is None else f"{name}+{_seg_name(corrector)}"


@dataclass
class _Shared:
    """What every run of a sweep needs, sent to each worker once: networks (the plan refers to them), clips."""

    built: Built
    plan: Plan
    sequences: list[Sequence]
    runs: Path
    max_frames: int | None
    out: str


def _one_run(shared: _Shared, job: tuple[int, int]) -> dict[str, Any]:
    """Run plan entry ``job[0]`` on clip ``job[1]`` (a run record under ``shared.runs``): its sweep row and the
    per-path times of the accurate network's runs."""
    method, pipeline, net, correct = shared.plan[job[0]]
    seq = shared.sequences[job[1]]
    run = record_run(shared.built.segmenter(seq, pipeline, net=net, corrector=correct), seq, shared.runs,
                     store=False, max_frames=shared.max_frames, progress=False, meta={"sweep": shared.out})
    s = run.summary
    row = {"method": method, "param": pipeline.param, "mean_iou": s["mean_iou"], "fps": s["fps"],
           "key_fraction": s["key_fraction"], "run_id": run.run_id, "seg": _seg_name(net, correct),
           "clip": seq.name, "frames": s["frames"], "ms_per_frame": s["ms_per_frame"], "min_iou": s["min_iou"]}
    path_ms: dict[str, list[float]] = {"seg": [], "warp": []}
    if net is shared.built.seg and (method == "adaptive" or (method == "per-frame" and correct is None)):
        df = run.frames
        segment = df["decision"] == "segment"
        path_ms["seg"] = list(df.loc[segment, "t_seg_ms"])
        if method == "adaptive":
            warp_cost = df["t_flow_ms"] + df["t_decision_ms"] + df["t_warp_ms"] + df["t_fast_ms"]
            path_ms["warp"] = list(warp_cost[~segment])
    return {"row": row, "path_ms": path_ms}


def _aggregate(method: str, pipeline: PipelineConfig, seg: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``clip = all`` row of one plan entry over its clips' rows."""
    frames = sum(r["frames"] for r in rows)
    total_ms = sum(r["ms_per_frame"] * r["frames"] for r in rows)
    return {"method": method, "param": pipeline.param,
            "mean_iou": sum(r["mean_iou"] * r["frames"] for r in rows) / frames, "fps": 1000.0 * frames / total_ms,
            "key_fraction": sum(r["key_fraction"] * r["frames"] for r in rows) / frames, "run_id": "", "seg": seg,
            "clip": "all", "frames": frames, "ms_per_frame": total_ms / frames,
            "min_iou": min(r["min_iou"] for r in rows)}


def run_sweep(built: Built, sequences: list[Sequence], config: SweepConfig, out: str | Path,
              fast: SegNetwork | None = None, overwrite: bool = False, progress: bool = True, workers: int = 0,
              scheduler: str | None = None, threads: int | None = None) -> dict[str, Any]:
    """Run the sweep with ``built``'s networks (:func:`workbench.pipeline.build.build`; adaptive rows only with
    a decision network) and write its outputs under ``out`` (built under a temporary name). ``fast`` adds the
    per-frame row of a fast network. With a corrector, every policy that warps fuses its warps with that network
    (``VideoSegmenter``'s corrective fusion).

    The runs are independent: ``workers`` / ``scheduler`` farm them out to a Dask cluster
    (:func:`workbench.experiments.farm.farm`, each run pinned to ``threads``), with the serial run's results.
    """
    import pandas as pd

    config.validate()
    if not sequences:
        raise InputError("the sweep has no clips")
    for seq in sequences:
        if not seq.has_masks:
            raise InputError(f"{seq.name}: no ground-truth masks; the sweep compares IoU and needs them")
    seg, corrector = built.seg, built.corrector
    plan = _plan(config, built, fast)
    if not workers and not scheduler:
        _warm_up(built, plan, sequences[0].frame(0))  # (a worker's first run pays its own one-off costs)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        jobs = [(p, c) for p in range(len(plan)) for c in range(len(sequences))]
        shared = _Shared(built, plan, list(sequences), tmp / "runs", config.max_frames, str(out))

        def describe(job: tuple[int, int]) -> str:
            method, pipeline = plan[job[0]][:2]
            return f"{method} {'' if pipeline.param is None else pipeline.param} {sequences[job[1]].name}"

        done = farm(_one_run, jobs, shared, workers=workers, scheduler=scheduler, threads=threads,
                    progress=progress, desc="sweep", describe=describe)
        rows: list[dict[str, Any]] = []
        path_ms: dict[str, list[float]] = {"seg": [], "warp": []}
        for p, (method, pipeline, net, correct) in enumerate(plan):
            clip_rows = [d["row"] for (q, _), d in zip(jobs, done, strict=True) if q == p]
            rows += clip_rows + [_aggregate(method, pipeline, _seg_name(net, correct), clip_rows)]
        for d in done:
            for path in path_ms:
                path_ms[path] += d["path_ms"][path]
        table = pd.DataFrame(rows, columns=list(SWEEP_COLUMNS))
        table.to_csv(tmp / "sweep.csv", index=False)
        report = sweep_report(table, _seg_name(seg), path_ms, config.max_loss, scheduled=_seg_name(seg, corrector))
        report["config"] = config.to_dict()
        report["corrector"] = _seg_name(corrector) if corrector is not None else None
        report["clips"] = [seq.name for seq in sequences]
        report["farm"] = {"workers": workers, "scheduler": scheduler, "threads": threads}
        (tmp / "sweep.json").write_text(json_text(report))
        (tmp / "sweep.md").write_text(format_sweep(table, report))
        from workbench.viz.sweep import save_figure, tradeoff_figure

        for x, name in (("fps", "iou_vs_fps.png"), ("key_fraction", "iou_vs_key_fraction.png")):
            figure = tradeoff_figure(table, x, reference=report["reference"]["seg"], rule=config.pipeline.rule)
            save_figure(figure, tmp / name)
    return {"table": table, "report": report, "out": Path(out)}


def _interp(x: np.ndarray, y: np.ndarray, at: float) -> float:
    order = np.argsort(x)
    x, y = x[order], y[order]
    if at < x[0] or at > x[-1]:
        return float("nan")  # outside the adaptive curve: no claim
    return float(np.interp(at, x, y))


def sweep_report(table: Any, seg_name: str, path_ms: dict[str, list[float]], max_loss: float = 1.0,
                 scheduled: str | None = None) -> dict[str, Any]:
    """Reference, best operating point within ``max_loss`` IoU points, bound, Pareto check (aggregate rows).

    ``seg_name`` is the reference (per-frame) network; ``scheduled`` the label of the scheduled rows when it
    differs (``unet+fastseg`` with a corrector), whose own per-frame row is then the adaptive curve's k = 1."""
    agg = table[table["clip"] == "all"]
    scheduled = scheduled or seg_name
    ref = agg[(agg["method"] == "per-frame") & (agg["seg"] == seg_name)].iloc[0]
    top = agg[(agg["method"] == "per-frame") & (agg["seg"] == scheduled)].iloc[0]
    seg_ms = float(np.median(path_ms["seg"])) if path_ms["seg"] else float("nan")
    warp_ms = float(np.median(path_ms["warp"])) if path_ms["warp"] else float("nan")
    o = warp_ms / seg_ms if seg_ms > 0 else float("nan")
    report: dict[str, Any] = {
        "reference": {"seg": seg_name, "mean_iou": float(ref["mean_iou"]), "fps": float(ref["fps"])},
        "path_ms": {"seg_region_step": seg_ms, "warp_region_step": warp_ms, "o": o}}
    if scheduled != seg_name:
        report["scheduled_per_frame"] = {"seg": scheduled, "mean_iou": float(top["mean_iou"]), "fps": float(top["fps"])}
    adaptive = agg[agg["method"] == "adaptive"]
    best = None
    for _, row in adaptive.iterrows():
        loss = 100 * (ref["mean_iou"] - row["mean_iou"])
        speedup = row["fps"] / ref["fps"]
        if loss <= max_loss and (best is None or speedup > best["speedup"]):
            k = float(row["key_fraction"])
            best = {"target": float(row["param"]), "mean_iou": float(row["mean_iou"]), "fps": float(row["fps"]),
                    "key_fraction": k, "iou_loss_points": float(loss), "speedup": float(speedup),
                    "iou_loss_points_vs_scheduled_per_frame": float(100 * (top["mean_iou"] - row["mean_iou"])),
                    "bound": float(1.0 / (k + (1 - k) * o)) if np.isfinite(o) else None}
    report["best_adaptive"] = best
    fixed = agg[agg["method"] == "fixed"]
    checks = []
    if len(adaptive):
        # The adaptive curve's exact limits: target 0 never re-segments (= flow-only), and every region
        # re-segmented (k = 1) is the per-frame reference.
        limits = agg[(agg["method"] == "flow-only") & (agg["seg"] == scheduled)]
        ks = np.concatenate([adaptive["key_fraction"].to_numpy(float), limits["key_fraction"].to_numpy(float), [1.0]])
        ious = np.concatenate([adaptive["mean_iou"].to_numpy(float), limits["mean_iou"].to_numpy(float),
                               [top["mean_iou"]]])
        for _, row in fixed.iterrows():
            at = _interp(ks, ious, float(row["key_fraction"]))
            checks.append({"interval": int(row["param"]), "key_fraction": float(row["key_fraction"]),
                           "fixed_iou": float(row["mean_iou"]), "adaptive_iou": at,
                           "dominates": None if np.isnan(at) else bool(at >= row["mean_iou"] - 1e-9)})
    report["pareto"] = checks
    decided = [c["dominates"] for c in checks if c["dominates"] is not None]
    report["adaptive_dominates_fixed"] = bool(decided) and all(decided)
    return report


def _points(loss: float) -> str:
    """An IoU loss in points, said the right way round."""
    return f"{loss:.2f} points lost" if loss >= 0 else f"{-loss:.2f} points gained"


def sweep_pipeline(report: dict[str, Any]) -> dict[str, Any]:
    """The pipeline settings a sweep ran with, from its ``sweep.json`` report: ``config.pipeline``, or — for sweeps
    written before the pipeline config was nested — ``config`` itself; ``{}`` when the report says nothing."""
    config = report.get("config") if isinstance(report, dict) else None
    config = config if isinstance(config, dict) else {}
    pipeline = config.get("pipeline")
    return pipeline if isinstance(pipeline, dict) else config


def sweep_rule(report: dict[str, Any]) -> str:
    """The decision rule a sweep ran under (:func:`sweep_pipeline`); ``threshold`` when it says nothing."""
    rule = sweep_pipeline(report).get("rule", DEFAULT.rule)
    return rule if isinstance(rule, str) else DEFAULT.rule


def rule_sentence(rule: str) -> str:
    """How adaptive and oracle decided in a sweep, in the registered rule's own words."""
    summary = RULES[rule].summary if rule in RULES else "(a rule this workbench does not know)"
    return f"Adaptive and oracle decide by the {rule} rule: {summary}."


def format_sweep(table: Any, report: dict[str, Any]) -> str:
    agg = table[table["clip"] == "all"]
    lines = ["# Sweep", "", f"Clips: {', '.join(report.get('clips', []))}", ""]
    lines += [rule_sentence(sweep_rule(report)), ""]
    farmed = report.get("farm") or {}
    if farmed.get("workers") or farmed.get("scheduler"):
        where = (f"{farmed['workers']} local workers" if farmed.get("workers")
                 else f"the cluster at {farmed['scheduler']}")
        lines += [f"Runs farmed out to {where}: IoU and key fractions are the serial run's; times were measured "
                  "while runs shared the machines, so compare fps within this sweep only.", ""]
    if report.get("corrector"):
        weight = sweep_pipeline(report).get("correct_weight", float("nan"))
        lines += [f"Scheduled runs corrected by {report['corrector']} (their logits + {weight:g} × its logits on "
                  "every frame); the reference per-frame run is not.", ""]
    lines += ["| method | network | param | mean IoU | fps | key fraction | ms/frame |",
              "|---|---|---|---|---|---|---|"]
    for _, row in agg.iterrows():
        param = "" if row["param"] is None or (isinstance(row["param"], float) and np.isnan(row["param"])) else \
            f"{row['param']:g}"
        lines.append(f"| {row['method']} | {row['seg']} | {param} | {row['mean_iou']:.4f} | {row['fps']:.1f} | "
                     f"{row['key_fraction']:.3f} | {row['ms_per_frame']:.1f} |")
    ref, best, paths = report["reference"], report["best_adaptive"], report["path_ms"]
    lines += ["", f"Reference: per-frame {ref['seg']}, mean IoU {ref['mean_iou']:.4f}, {ref['fps']:.1f} fps."]
    if report.get("scheduled_per_frame"):
        top = report["scheduled_per_frame"]
        lines.append(f"Per-frame {top['seg']} (both networks on every frame): mean IoU {top['mean_iou']:.4f}, "
                     f"{top['fps']:.1f} fps; it is the corrected curves' key fraction 1.")
    lines += [
              f"Median region-step: segmentation {paths['seg_region_step']:.2f} ms, warp path (flow + decision + "
              f"warp + its share of the fast network) {paths['warp_region_step']:.2f} ms, "
              f"o = {paths['o']:.3f}."]
    if best:
        bound = "unknown: no warp step was timed" if best["bound"] is None else f"{best['bound']:.2f}×"
        lines.append(f"Best adaptive point within the IoU budget: target {best['target']:g}, mean IoU "
                     f"{best['mean_iou']:.4f} ({_points(best['iou_loss_points'])}), {best['fps']:.1f} fps, "
                     f"key fraction {best['key_fraction']:.3f}: speedup {best['speedup']:.2f}× "
                     f"(bound 1/(k + (1 − k)·o) = {bound}).")
        if report.get("scheduled_per_frame"):
            lines.append(f"Against per-frame {report['scheduled_per_frame']['seg']}: "
                         f"{_points(best['iou_loss_points_vs_scheduled_per_frame'])}.")
    else:
        lines.append("No adaptive point stays within the IoU budget.")
    if report["pareto"]:
        lines += ["", "| fixed interval | key fraction | fixed IoU | adaptive IoU (interpolated) | adaptive ≥ fixed |",
                  "|---|---|---|---|---|"]
        for c in report["pareto"]:
            dom = "—" if c["dominates"] is None else ("yes" if c["dominates"] else "no")
            at = "outside the adaptive curve" if np.isnan(c["adaptive_iou"]) else f"{c['adaptive_iou']:.4f}"
            lines.append(f"| {c['interval']} | {c['key_fraction']:.3f} | {c['fixed_iou']:.4f} | {at} | {dom} |")
    return "\n".join(lines) + "\n"
