"""``workbench bench flow | seg``: the benchmarks of :mod:`workbench.experiments` on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli import types as T
from workbench.errors import InputError


def cmd_bench_flow(args: argparse.Namespace) -> int:
    from workbench.experiments.bench_flow import bench_flow, format_bench_flow, write_bench_flow

    result = bench_flow(clips=args.clips, frames=args.frames, size=args.size, seed=args.seed, threads=args.threads,
                        repeat=args.repeat, layers=args.layers, pairs=[tuple(p) for p in args.pair or []],
                        timing_sizes=[tuple(s) for s in args.timing_sizes], workers=args.workers,
                        scheduler=args.scheduler,
                        progress=lambda step: print(f"bench: {step}", file=sys.stderr, flush=True))
    md, js = write_bench_flow(result, args.out)
    print(format_bench_flow(result), end="")
    print(f"\nwrote {md} and {js}")
    return 0


def _model_labels(models: list[str]) -> dict[str, str]:
    """Row labels for ``bench seg``: the folder name of a ``checkpoint.pt``, else the file's stem; where two
    models would share a label, both are labelled by the path given, so no result is dropped."""
    def short(m: str) -> str:
        return Path(m).parent.name if Path(m).name == "checkpoint.pt" else Path(m).stem

    if len(set(models)) != len(models):
        twice = next(m for m in models if models.count(m) > 1)
        raise InputError(f"{twice}: given twice; list each model once")
    labels = [short(m) for m in models]
    return {(label if labels.count(label) == 1 else m): m for label, m in zip(labels, models, strict=True)}


def cmd_bench_seg(args: argparse.Namespace) -> int:
    from workbench.experiments.bench_seg import bench_seg, format_bench_seg, write_bench_seg

    checkpoints = _model_labels(args.models)
    result = bench_seg(checkpoints, clips=args.clips, frames=args.frames, size=args.size, seed=args.seed,
                       difficulty=args.difficulty, threads=args.threads, repeat=args.repeat, real=args.real,
                       progress=bench_progress, flow=args.flow, workers=args.workers, scheduler=args.scheduler,
                       backends=args.backend)
    md, js = write_bench_seg(result, args.out)
    print(format_bench_seg(result), end="")
    print(f"\nwrote {md} and {js}")
    return 0


def cmd_bench_realtime(args: argparse.Namespace) -> int:
    from workbench.experiments.realtime import bench_realtime, format_bench_realtime, write_bench_realtime

    if args.data:
        from workbench.io import open_dataset

        sequences = open_dataset(args.data)
    else:
        from workbench.data.synthetic import SynthConfig, memory_clips

        sequences = memory_clips(SynthConfig(clips=args.clips, frames=args.frames, size=args.size, seed=args.seed))
    result = bench_realtime(list(args.setups), sequences, threads=args.threads, fps=args.fps,
                            progress=None if args.quiet else bench_progress)
    md, js = write_bench_realtime(result, args.out)
    print(format_bench_realtime(result), end="")
    print(f"\nwrote {md} and {js}")
    return 0


def add_bench(sub: argparse._SubParsersAction) -> None:
    from workbench.data.synthetic import HELD_OUT_SEED

    bench = sub.add_parser("bench", help="benchmarks (JSON + Markdown table)")
    bsub = bench.add_subparsers(dest="bench_command", required=True, metavar="{flow,seg,realtime}")
    flow = bsub.add_parser("flow", help="accuracy and speed of every flow method, and correlation throughput",
                           description="EPE, Fl-all and ms/frame of every flow method on held-out synthetic clips "
                                       "and held-out generic layered scenes (generated in memory) and on the real "
                                       "motorcycle stereo pair, and the "
                                       "correlation op's throughput per backend. Writes OUT/bench_flow.md and "
                                       "OUT/bench_flow.json.")
    flow.add_argument("--clips", type=T.COUNT, default=4, help="held-out synthetic clips (default 4)")
    flow.add_argument("--frames", type=T.COUNT, default=16, help="frames per clip (default 16)")
    flow.add_argument("--layers", type=T.COUNT0, default=8,
                      help="held-out layered scenes of 3 frames, held-out photographs (default 8; 0: none)")
    flow.add_argument("--size", type=T.SIZE, default=(320, 192), help="WIDTHxHEIGHT (default 320x192)")
    flow.add_argument("--seed", type=T.SEED, default=HELD_OUT_SEED,
                      help=f"first held-out seed, >= {HELD_OUT_SEED} (training uses the seeds below; "
                           "default %(default)s)")
    flow.add_argument("--pair", nargs=3, action="append", metavar=("FRAME_A", "FRAME_B", "FLOW"),
                      help="also score on two real frames against a reference .flo (ground truth, or another "
                           "method's output, e.g. the original PWC-Net's on a Sintel pair); repeatable")
    flow.add_argument("--timing-sizes", type=T.SIZE, nargs="*", default=[(320, 192), (640, 360)], metavar="SIZE",
                      help="frame sizes every method is timed at (default 320x192 640x360; none: skip)")
    flow.add_argument("--threads", type=T.THREADS, default=2, help="torch and OpenCV threads (default 2)")
    flow.add_argument("--repeat", type=T.COUNT, default=3, help="timed passes; the median is reported (default 3)")
    flow.add_argument("--out", default="data/bench", help="output folder (default data/bench)")
    flow.add_argument("--overwrite", action="store_true", help="replace an existing bench_flow.md/json")
    T.add_farm(flow)
    flow.set_defaults(func=cmd_bench_flow)

    seg = bsub.add_parser("seg", help="accuracy, flicker and speed of segmentation checkpoints on held-out clips",
                          description="IoU, Dice, boundary F, flicker, IoU on fast-motion frames and ms/frame "
                                      "(160x120, 320x192 and 640x360) of each checkpoint, run frame by frame as "
                                      "`workbench predict` does, on held-out synthetic clips generated in memory and, "
                                      "with --real, on labelled real clips (speed as a ratio to their teacher). "
                                      "Writes OUT/bench_seg.md and OUT/bench_seg.json.")
    seg.add_argument("models", nargs="*", default=["unet", "funet", "funet_flow", "fastseg"], metavar="MODEL",
                     help="checkpoint files, shipped model names or a teacher (mediapipe, mediapipe_landscape; "
                          "default: unet funet funet_flow fastseg)")
    seg.add_argument("--real", nargs="+", default=None, metavar="DIR",
                     help="also score on real material: clip folders labelled by a teacher (workbench data label); "
                          "the teacher's own row, when benchmarked, gives the speed ratios")
    seg.add_argument("--flow", choices=T.LazyChoices(T.flow_methods), default=None, metavar="METHOD",
                     help="run every network that reads flow with this method instead of its own (an ablation; "
                          "default: each checkpoint's)")
    seg.add_argument("--clips", type=T.COUNT0, default=8, help="held-out synthetic clips (default 8; 0: only --real)")
    seg.add_argument("--frames", type=T.COUNT, default=40, help="frames per clip (default 40)")
    seg.add_argument("--size", type=T.SIZE, default=(320, 192), help="WIDTHxHEIGHT (default 320x192)")
    seg.add_argument("--seed", type=T.SEED, default=HELD_OUT_SEED, help="first held-out seed (default %(default)s)")
    seg.add_argument("--difficulty", choices=["easy", "medium", "hard", "mixed"], default="mixed")
    seg.add_argument("--threads", type=T.THREADS, default=2, help="torch and OpenCV threads (default 2)")
    seg.add_argument("--repeat", type=T.COUNT, default=3, help="timed passes; the median is reported (default 3)")
    seg.add_argument("--out", default="data/bench", help="output folder (default data/bench)")
    seg.add_argument("--overwrite", action="store_true", help="replace an existing bench_seg.md/json")
    T.add_farm(seg)
    T.add_backend(seg, several=True)
    seg.set_defaults(func=cmd_bench_seg)
    _add_bench_realtime(bsub, HELD_OUT_SEED)


def _add_bench_realtime(bsub: argparse._SubParsersAction, held_out_seed: int) -> None:
    from workbench.experiments.realtime import DEFAULT_SETUPS

    rt = bsub.add_parser("realtime", help="a video call end to end (read, segment, composite, write): fps and IoU",
                         description="Run several set-ups (network, backend, key-frame policy, regions) over the same "
                                     "videos end to end — reading and writing in their own threads — and report fps "
                                     "with and without I/O, per-stage times and IoU against the ground truth (or a "
                                     "teacher's masks). Writes OUT/bench_realtime.md and OUT/bench_realtime.json.")
    rt.add_argument("--setups", type=lambda text: tuple(v.strip() for v in text.split(",") if v.strip()),
                    default=DEFAULT_SETUPS, metavar="LIST",
                    help="comma-separated SEG[@torch|onnx][/per-frame|fixed:K|adaptive:TARGET][/ROWSxCOLS]"
                         "[/fs:SCALE][/ws:SCALE]; the first is the IoU reference (default "
                         + ",".join(DEFAULT_SETUPS) + ")")
    rt.add_argument("--data", default=None, help="clip folders or videos with masks (default: held-out clips "
                                                 "generated in memory)")
    rt.add_argument("--clips", type=T.COUNT, default=2, help="generated clips (default 2)")
    rt.add_argument("--frames", type=T.COUNT, default=40, help="frames per generated clip (default 40)")
    rt.add_argument("--size", type=T.SIZE, default=(640, 360), help="generated frame size (default 640x360)")
    rt.add_argument("--seed", type=T.SEED, default=held_out_seed, help="generated clips' seed (default %(default)s)")
    rt.add_argument("--fps", type=T.FPS, default=30.0, help="frame rate of the videos written (default 30)")
    rt.add_argument("--threads", type=T.THREADS, default=2, help="torch and OpenCV threads (default 2)")
    rt.add_argument("--out", default="data/bench", help="output folder (default data/bench)")
    rt.add_argument("--overwrite", action="store_true", help="replace an existing bench_realtime.md/json")
    rt.add_argument("--quiet", action="store_true", help="no progress lines")
    rt.set_defaults(func=cmd_bench_realtime)


def bench_progress(step: str) -> None:
    print(f"bench: {step}", file=sys.stderr, flush=True)
