"""``workbench dvs run | labels | sweep`` (argument parsing only).

Defaults are the shipped checkpoints (``models/unet``, ``models/fastseg``, ``models/decision``), so
``workbench dvs run --data CLIP`` needs no other flag. Errors follow :mod:`workbench.cli.main`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli import types as T
from workbench.errors import InputError


def _threads(n: int):
    from workbench.experiments.measure import PinnedThreads

    return PinnedThreads(n)


def _sequences(args: argparse.Namespace, default_seed: int):
    """``--data`` (clip folder, folder of clips, image folder, video) or clips generated in memory."""
    if args.data:
        from workbench.io import open_dataset

        return open_dataset(args.data, masks=getattr(args, "mask", None))
    from workbench.data.synthetic import SynthConfig, memory_clips

    seed = default_seed if args.seed is None else args.seed
    return memory_clips(SynthConfig(clips=args.clips, frames=args.frames, size=args.size, seed=seed,
                                    difficulty=args.difficulty))


def _add_generated(parser: argparse.ArgumentParser, clips: int, frames: int, seed_help: str) -> None:
    parser.add_argument("--clips", type=T.COUNT, default=clips,
                        help=f"generated clips without --data (default {clips})")
    parser.add_argument("--frames", type=T.COUNT, default=frames,
                        help=f"frames per generated clip (default {frames})")
    parser.add_argument("--size", type=T.SIZE, default=(320, 192), help="generated frame size (default 320x192)")
    parser.add_argument("--seed", type=T.SEED, default=None, help=seed_help)
    parser.add_argument("--difficulty", choices=["easy", "medium", "hard", "mixed"], default="mixed")


def _pipeline_defaults():
    """The pipeline's defaults, from :class:`~workbench.pipeline.PipelineConfig` (one place for each)."""
    from workbench.pipeline import PipelineConfig

    return PipelineConfig()


def _add_pipeline(parser: argparse.ArgumentParser) -> None:
    d = _pipeline_defaults()
    parser.add_argument("--regions", type=T.grid, default=d.regions,
                        help=f"ROWSxCOLS grid of regions (default {d.regions[0]}x{d.regions[1]})")
    parser.add_argument("--overlap", type=T.PIXELS, default=d.overlap,
                        help="pixels each region reaches into its neighbours (default %(default)s)")
    parser.add_argument("--seg", default="unet",
                        help="segmentation checkpoint, shipped name or teacher (mediapipe, make teacher; default unet)")
    parser.add_argument("--decision", default="decision",
                        help="decision checkpoint or shipped name (default decision)")
    parser.add_argument("--flow", choices=T.LazyChoices(lambda: T.flow_methods(pairs_only=False)), default=None,
                        metavar="METHOD", help="flow method of the warp path: %(choices)s (gt: the clip's ground "
                                               f"truth, an ablation; default: the decision network's, {d.flow})")
    parser.add_argument("--flow-scale", type=T.SCALE, default=None,
                        help="estimate the warp path's flow at this scale of the region (default: the decision "
                             f"network's, {d.flow_scale:g} as DVSNet)")
    parser.add_argument("--warp-scale", type=T.SCALE, default=None,
                        help="warp the key's logits at this scale of the region and upsample the result (default "
                             f"{d.warp_scale:g}: at the region's size; 0.5: a quarter of the warp's work)")
    parser.add_argument("--threads", type=T.THREADS, default=2, help="torch and OpenCV threads (default 2)")
    T.add_backend(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _add_rule(parser: argparse.ArgumentParser) -> None:
    from workbench.pipeline import RULES

    parser.add_argument("--rule", choices=RULES, default=_pipeline_defaults().rule,
                        help="adaptive/oracle: " + "; ".join(f"{name} = {rule.summary}" for name, rule in RULES.items())
                             + " (default %(default)s)")


def _add_correct(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--correct", default="none",
                        help="fuse every output (warped or fresh) with this cheap single-frame network's output on "
                             "the current frame (Accel's corrective fusion), e.g. fastseg; none = DVSNet's plain "
                             "pipeline (default none)")
    parser.add_argument("--correct-weight", type=T.WEIGHT, default=_pipeline_defaults().correct_weight,
                        help="fused logits = logits + W x corrector logits (default %(default)g, chosen on training "
                             "clips)")


def _corrector(args: argparse.Namespace):
    from workbench.seg.checkpoint import load_seg_checkpoint

    return None if args.correct == "none" else load_seg_checkpoint(args.correct)


# ------------------------------------------------------------------------------------------- dvs run


def _spec(args: argparse.Namespace, **pipeline: object):
    """The :class:`~workbench.pipeline.build.SegmenterSpec` of the options: what is not given (``None``) is left
    to the pipeline's default or, when a decision network is loaded, to the settings it was trained with."""
    from workbench.pipeline import PipelineConfig
    from workbench.pipeline.build import INHERITED, SegmenterSpec

    # the options a command may lack
    options = ("regions", "overlap", "correct_weight", "flow", "flow_scale", "warp_scale", "score")
    given = {**{name: getattr(args, name, None) for name in options}, **pipeline}
    return SegmenterSpec(pipeline=PipelineConfig(**{k: v for k, v in given.items() if v is not None}), seg=args.seg,
                         decision=getattr(args, "decision", "none"), correct=getattr(args, "correct", "none"),
                         inherit=tuple(name for name in INHERITED if given.get(name) is None),
                         backend=getattr(args, "backend", "torch"))


def cmd_dvs_run(args: argparse.Namespace) -> int:
    from workbench.pipeline.build import build
    from workbench.runs import record_run

    built = build(_spec(args, policy=args.policy, target=args.target, rule=args.rule, interval=args.interval,
                        dynamic=args.dynamic, dynamic_down=args.dynamic_down, dynamic_up=args.dynamic_up,
                        true_scores=args.true_scores))
    sequences = _sequences(args, 0)
    if args.eval and not all(s.has_masks for s in sequences):
        missing = next(s for s in sequences if not s.has_masks)
        raise InputError(f"{missing.name}: no ground-truth masks, so no IoU (give --mask, or drop --eval)")
    with _threads(args.threads):
        for seq in sequences:
            segmenter = built.segmenter(seq)
            evaluate = seq.has_masks if args.eval is None else args.eval
            segmenter.regions(*seq.size)  # bad grids fail before any work
            run = record_run(segmenter, seq, args.out, store=not args.no_store, evaluate=evaluate,
                             max_frames=args.frames, progress=not args.quiet,
                             meta={"threads": args.threads, "command": " ".join(["workbench", *args.argv])})
            s = run.summary
            iou = f"mean IoU {s['mean_iou']:.4f}, " if s["mean_iou"] is not None else ""
            stages = ", ".join(f"{k} {v:.1f}" for k, v in s["stage_ms"].items() if v > 0)
            print(f"{seq.name}: {s['frames']} frames, {iou}{s['fps']:.1f} fps without I/O, key fraction "
                  f"{s['key_fraction']:.3f} (ms/frame: {stages}) → {run.path}")
            if getattr(seq, "live", False):
                seq.close()
                print(seq.report())
    return 0


# ------------------------------------------------------------------------------------------- dvs labels


def cmd_dvs_labels(args: argparse.Namespace) -> int:
    from workbench.export import on_backend
    from workbench.pipeline.labels import LabelConfig, make_labels
    from workbench.seg.checkpoint import load_seg_checkpoint

    flow = args.flow or ("pwc" if args.features == "flownet" else None)
    pipeline = _spec(args, policy="per-frame", flow=flow).pipeline
    config = LabelConfig(pipeline=pipeline, features=args.features, label=args.label, grid=args.grid,
                         fast=args.fast if args.features == "flow+fast" else "", max_offset=args.max_offset)
    config.validate()
    net = on_backend(load_seg_checkpoint(args.seg), args.backend)  # the labels' fast network runs in PyTorch
    with _threads(args.threads):
        sequences = _sequences(args, 0)
        meta = {"data": args.data, "generated": None if args.data else {
            "clips": args.clips, "frames": args.frames, "size": list(args.size), "seed": args.seed or 0,
            "difficulty": args.difficulty}, "commands": [" ".join(["workbench", *args.argv])]}
        info = make_labels(net, sequences, config, args.out, meta=meta, overwrite=args.overwrite,
                           progress=not args.quiet)
    print(f"{info['pairs']} labelled pairs from {len(info['clips'])} clips (score mean {info['score_mean']:.1f}, "
          f"std {info['score_std']:.1f}) → {args.out}")
    return 0


# ------------------------------------------------------------------------------------------- dvs sweep


def cmd_dvs_sweep(args: argparse.Namespace) -> int:
    from workbench.data.synthetic import HELD_OUT_SEED
    from workbench.experiments.sweep import SweepConfig, run_sweep
    from workbench.export import on_backend
    from workbench.pipeline import RULES
    from workbench.pipeline.build import build
    from workbench.seg.checkpoint import load_seg_checkpoint

    spec = _spec(args, rule=args.rule, dynamic=args.dynamic)
    spec.validate()
    targets = args.targets or T.TARGETS(RULES[args.rule].default_targets)
    config = SweepConfig(pipeline=spec.pipeline, targets=tuple(targets), intervals=tuple(args.intervals),
                         oracle=not args.no_oracle, flow_only=not args.no_flow_only, max_frames=args.max_frames)
    config.validate()
    built = build(spec, load_decider=True)
    config.pipeline = built.config
    fast = None if args.fast == "none" else on_backend(load_seg_checkpoint(args.fast), args.backend)
    with _threads(args.threads):
        sequences = _sequences(args, HELD_OUT_SEED)
        result = run_sweep(built, sequences, config, args.out, fast=fast, overwrite=args.overwrite,
                           progress=not args.quiet, workers=args.workers, scheduler=args.scheduler,
                           threads=args.threads)
    print((Path(args.out) / "sweep.md").read_text())
    print(f"wrote {args.out}/sweep.csv, sweep.md, sweep.json, iou_vs_fps.png, iou_vs_key_fraction.png "
          f"({len(result['table'])} rows)")
    return 0


# ------------------------------------------------------------------------------------------- train decision


def add_dvs(sub: argparse._SubParsersAction) -> None:
    """The `dvs` subcommands' options, one declaration per option. Long because it declares; there is no logic to
    split."""
    from workbench.metrics import SCORE_KINDS
    from workbench.pipeline import POLICIES, RULES

    dvs = sub.add_parser("dvs", help="dynamic video segmentation: run a policy, make decision labels, sweep")
    dsub = dvs.add_subparsers(dest="dvs_command", required=True, metavar="{run,labels,sweep}")

    run = dsub.add_parser("run", help="run a key-frame policy over a clip, image folder or video; write a run record",
                          description="Segment a video region by region with a key-frame policy and write a run "
                                      "record (run.json + frames.parquet + stored frames) under OUT. fps excludes "
                                      "reading and writing files.")
    run.add_argument("--data", required=True, help="a clip folder, a folder of clips, an image folder or a video")
    run.add_argument("--mask", help="ground truth for an image folder or a video (mask folder or mask video)")
    d = _pipeline_defaults()
    run.add_argument("--policy", choices=POLICIES, default=d.policy, help="key-frame policy (default %(default)s)")
    run.add_argument("--target", type=T.SCORE, default=d.target, help="confidence target 0-100 (default %(default)g)")
    _add_rule(run)
    run.add_argument("--dynamic", action="store_true", help=f"DVSNet's dynamic target: -{d.dynamic_down:g} after a "
                                                           f"segmentation step, +{d.dynamic_up:g} after a warp step")
    run.add_argument("--dynamic-down", type=T.SCORE_STEP, default=d.dynamic_down,
                     help="target change after a segmentation step (default %(default)g)")
    run.add_argument("--dynamic-up", type=T.SCORE_STEP, default=d.dynamic_up,
                     help="target change after a warp step (default %(default)g)")
    run.add_argument("--interval", type=T.COUNT, default=d.interval,
                     help="fixed policy: a key frame every N frames (default %(default)s)")
    run.add_argument("--score", choices=SCORE_KINDS, default=None,
                     help="kind of the true score (default: the decision network's, else iou)")
    run.add_argument("--true-scores", action="store_true",
                     help="also compute the true score on warp steps (untimed; for calibration plots)")
    run.add_argument("--out", default="data/runs", help="runs folder (default data/runs)")
    run.add_argument("--frames", type=T.COUNT, default=None, help="only the first N frames")
    run.add_argument("--no-store", action="store_true", help="write only run.json and frames.parquet")
    ev = run.add_mutually_exclusive_group()
    ev.add_argument("--eval", dest="eval", action="store_true", default=None,
                    help="score IoU against ground truth (default: when the input has masks)")
    ev.add_argument("--no-eval", dest="eval", action="store_false")
    _add_pipeline(run)
    _add_correct(run)
    run.set_defaults(func=cmd_dvs_run, clips=None, seed=None)

    lab = dsub.add_parser("labels", help="make decision-network training data (DVSNet's gentestcase)",
                          description="For each frame, key offsets 1..K and region: the decision network's input "
                                      "and the true confidence score of warping (vs the segmentation network's own "
                                      "output, or the ground truth with --label gt).")
    lab.add_argument("--data", help="clip folders (default: generate clips in memory)")
    _add_generated(lab, 16, 40, "generated clips' seed (default 0; use >= 10000 for a held-out set)")
    lab.add_argument("--features", choices=["flow", "flow+fast", "flownet"], default="flow",
                     help="flow: from the flow field and warp residual (any flow method); flow+fast: those plus a "
                          "fast network's output on the current frame (--fast); flownet: PWC-Net's deepest "
                          "features (DVSNet's choice; needs --flow pwc) (default flow)")
    lab.add_argument("--fast", default="fastseg",
                     help="flow+fast: the fast segmentation network (shipped name or checkpoint; default fastseg)")
    lab.add_argument("--label", choices=["self", "gt"], default="self",
                     help="score against the network's own output (self, DVSNet) or the ground truth")
    lab.add_argument("--score", choices=SCORE_KINDS, default="iou", help="score kind (default iou)")
    lab.add_argument("--grid", type=T.grid, default=(4, 8), help="feature grid ROWSxCOLS (default 4x8, DVSNet's)")
    lab.add_argument("--max-offset", type=T.COUNT, default=12, help="key offsets 1..K (default 12, DVSNet's)")
    lab.add_argument("--out", default="data/decision/labels", help="output folder (default %(default)s)")
    lab.add_argument("--overwrite", action="store_true")
    _add_pipeline(lab)
    lab.set_defaults(func=cmd_dvs_labels)

    sw = dsub.add_parser("sweep", help="per-frame, fixed, adaptive, oracle over the same clips; table + figures",
                         description="Run every policy over the same clips and write sweep.csv, sweep.md/json and "
                                     "the trade-off figures (IoU vs fps, IoU vs key fraction).")
    sw.add_argument("--data", help="clip folders with masks (default: held-out clips generated in memory)")
    _add_generated(sw, 4, 40, "generated clips' seed (default 10000, held out)")
    sw.add_argument("--targets", type=T.TARGETS, default=None,
                    help="adaptive/oracle targets START:STOP:STEP or a list (default: "
                         + ", ".join(f"{rule.default_targets} with the {name} rule" for name, rule in RULES.items())
                         + ")")
    sw.add_argument("--intervals", type=T.INTERVALS, default="1,2,3,5,8,12,20",
                    help="fixed intervals (default %(default)s)")
    sw.add_argument("--fast", default="fastseg", help="fast per-frame network, or none (default fastseg)")
    sw.add_argument("--dynamic", action="store_true", help="adaptive with the dynamic target")
    _add_rule(sw)
    sw.add_argument("--no-oracle", action="store_true")
    sw.add_argument("--no-flow-only", action="store_true")
    sw.add_argument("--max-frames", type=T.COUNT, default=None, help="only the first N frames of each clip")
    sw.add_argument("--out", default="data/sweep", help="output folder (default data/sweep)")
    sw.add_argument("--overwrite", action="store_true")
    _add_pipeline(sw)
    _add_correct(sw)
    T.add_farm(sw)
    sw.set_defaults(func=cmd_dvs_sweep)
