"""The ``workbench`` command — the only place that parses arguments.

User errors (:class:`workbench.errors.InputError`, missing files, permissions) print one line
``workbench: error: <message>`` on stderr and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench import __version__
from workbench import cli_types as T
from workbench.cli_dvs import add_dvs, add_train_decision
from workbench.errors import InputError

# ------------------------------------------------------------------------------------------- data


def cmd_data_synth(args: argparse.Namespace) -> int:
    foreign = _CALL_ONLY if args.kind == "layers" else _LAYERS_ONLY
    given = [name for name in foreign if getattr(args, name) != args.synth_defaults[name]]
    if given:
        option = "--" + given[0].replace("_", "-")
        raise InputError(f"{option}: a video-call option; --kind layers takes --clips, --frames, --size, --seed, "
                         "--difficulty, --photo-split, --layers and --max-motion" if args.kind == "layers" else
                         f"{option}: an option of --kind layers (generic layered scenes), not of video calls")
    if args.kind == "layers":
        summary, size = _synth_layers(args)
    else:
        from workbench.data.synthetic import SynthConfig, synthesize

        config = SynthConfig(clips=args.clips, frames=args.frames, size=args.size, seed=args.seed,
                             classes=args.classes, difficulty=args.difficulty, fps=args.fps, camouflage=args.camouflage,
                             photo_backgrounds=args.photo_backgrounds, photo_split=args.photo_split,
                             photo_textures=args.photo_textures, hats=args.hats, camera=args.camera,
                             camera_prob=args.camera_prob, clutter=args.clutter)
        summary = synthesize(args.out, config, backgrounds=args.backgrounds, overwrite=args.overwrite,
                             progress=not args.quiet)
        size = config.size
    what = "layered scenes" if args.kind == "layers" else "clips"
    print(f"wrote {len(summary['clips'])} {what} ({summary['frames']} frames, {size[0]}x{size[1]}) "
          f"to {args.out} in {summary['seconds']:.1f} s ({summary['fps']:.0f} frames/s)")
    return 0


#: data synth options of one kind only (compared with the parser's own defaults: a given one is refused)
_CALL_ONLY = ("classes", "backgrounds", "camouflage", "fps", "photo_backgrounds", "photo_textures", "hats", "clutter",
              "camera", "camera_prob")
_LAYERS_ONLY = ("layers", "max_motion")


def _synth_layers(args: argparse.Namespace) -> tuple[dict, tuple[int, int]]:
    from workbench.data.flying import FlyingConfig, synthesize_flying

    config = FlyingConfig(clips=args.clips, frames=args.frames, size=args.size, seed=args.seed,
                          layers=args.layers, max_motion=args.max_motion, difficulty=args.difficulty,
                          photo_split=args.photo_split)
    return synthesize_flying(args.out, config, overwrite=args.overwrite, progress=not args.quiet), config.size


def cmd_data_animate(args: argparse.Namespace) -> int:
    from workbench.data.animate import animate

    summary = animate(args.images, args.masks, args.out, backgrounds=args.backgrounds, frames=args.frames,
                      size=args.size, seed=args.seed, difficulty=args.difficulty, fps=args.fps, matte=args.matte,
                      overwrite=args.overwrite, progress=not args.quiet, framing=args.framing, photos=args.photos,
                      camera=args.camera, clips_per_portrait=args.clips_per_portrait, camera_prob=args.camera_prob)
    print(f"wrote {len(summary['clips'])} clips ({summary['frames']} frames) to {args.out} "
          f"in {summary['seconds']:.1f} s ({summary['fps']:.0f} frames/s)")
    return 0


def _key_color(text: str) -> tuple[int, int, int]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: expected R,G,B with values 0..255, e.g. 0,177,64")
    return values  # type: ignore[return-value]


def cmd_data_label(args: argparse.Namespace) -> int:
    from workbench.pipeline.teacher import LabelConfig, label_video

    config = LabelConfig(teacher=args.teacher, threshold=args.threshold, size=args.size, start=args.start,
                         max_frames=args.max_frames, step=args.step, chunk=args.chunk, flow=args.flow,
                         key_color=args.key_color)
    summary = label_video(args.input, args.out, config, overwrite=args.overwrite, progress=not args.quiet)
    for clip in summary["clips"]:
        print(f"{clip['name']}: {clip['frames']} frames labelled by {args.teacher} "
              f"({clip['teacher_ms_per_frame']:.1f} ms/frame)")
    print(f"wrote {args.out} in {summary['seconds']:.1f} s")
    return 0


def cmd_data_portraits(args: argparse.Namespace) -> int:
    from workbench.data.photos import write_portraits

    paths = write_portraits(args.out, args.names, overwrite=args.overwrite)
    print(f"wrote {len(paths)} portrait(s) with MediaPipe teacher masks to {args.out} (images/, masks/)")
    return 0


def cmd_data_info(args: argparse.Namespace) -> int:
    from workbench.data.info import dataset_info, format_info

    info = dataset_info(args.path, flow_stats=not args.no_flow_stats)
    print(json.dumps(info, indent=2) if args.json else format_info(info))
    return 0


def _add_camera(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--camera", choices=["none", "webcam", "harsh"], default="none",
                        help="webcam image pipeline after rendering: compression, exposure and white-balance "
                             "drift, defocus, vignetting, sensor noise, low resolution (default none)")
    parser.add_argument("--camera-prob", type=T.PROBABILITY, default=1.0, metavar="P",
                        help="share of clips that go through the camera; the others stay clean (default 1)")


def _add_data(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="generate and inspect data sets")
    dsub = data.add_subparsers(dest="data_command", required=True, metavar="{synth,animate,label,portraits,info}")

    synth = dsub.add_parser("synth", help="generate synthetic clips with exact ground truth: video calls (mask and "
                                          "flow) or generic layered scenes (flow)",
                            description="Generate synthetic clips (clip folders) with exact forward/backward optical "
                                        "flow: head-and-shoulders video calls with exact masks (--kind calls), or "
                                        "generic layered scenes in the FlyingChairs tradition — photographic and "
                                        "procedural layers in independent affine motion — that teach a flow network "
                                        "flow rather than our scenes (--kind layers).")
    synth.add_argument("--out", required=True, help="output folder (clips go to OUT/clip_0000, ...)")
    synth.add_argument("--kind", choices=["calls", "layers"], default="calls",
                       help="calls: video calls (default); layers: generic layered flow scenes")
    synth.add_argument("--layers", type=T.RANGE, default=(3, 8), metavar="MIN:MAX",
                       help="--kind layers: foreground layers per clip (default 3:8)")
    synth.add_argument("--max-motion", type=T.MOTION, default=0.15, metavar="SHARE",
                       help="--kind layers: largest translation per frame as a share of the width (default 0.15)")
    synth.add_argument("--clips", type=T.COUNT, default=4, help="number of clips (default 4)")
    synth.add_argument("--frames", type=T.COUNT, default=60, help="frames per clip (default 60)")
    synth.add_argument("--size", type=T.SIZE, default=(320, 192), help="WIDTHxHEIGHT (default 320x192)")
    synth.add_argument("--seed", type=T.SEED, default=0, help="random seed: same seed, same bytes (default 0)")
    synth.add_argument("--classes", choices=["binary", "parts"], default="binary",
                       help="binary (1 = person) or parts (1 head, 2 torso, 3 hand/arm)")
    synth.add_argument("--difficulty", choices=["easy", "medium", "hard", "mixed"], default="mixed",
                       help="easy: no noise, blur or lighting change; mixed: drawn per clip (default)")
    synth.add_argument("--backgrounds", help="folder of background images to use instead of generated rooms")
    synth.add_argument("--camouflage", type=T.PROBABILITY, default=None, metavar="P",
                       help="probability that the wall takes the shirt's colour (default: by difficulty)")
    synth.add_argument("--fps", type=T.FPS, default=30.0, help="frame rate written to meta.json (default 30)")
    synth.add_argument("--photo-backgrounds", type=T.PROBABILITY, default=0.0, metavar="P",
                       help="probability of a bundled photograph (or a collage) behind the person instead of a "
                            "room (default 0)")
    synth.add_argument("--photo-split", choices=["train", "heldout"], default="train",
                       help="which bundled photographs: train, or heldout (evaluation only; default train)")
    synth.add_argument("--photo-textures", type=T.PROBABILITY, default=0.0, metavar="P",
                       help="probability that the shirt is printed with a photograph (default 0)")
    synth.add_argument("--hats", type=T.PROBABILITY, default=0.0, metavar="P",
                       help="probability of a cap or beanie over the hair (default 0)")
    synth.add_argument("--clutter", type=T.PROBABILITY, default=0.0, metavar="P",
                       help="probability of shaded objects, some skin-toned, in front of the background (default 0)")
    _add_camera(synth)
    synth.add_argument("--overwrite", action="store_true", help="replace existing clip folders")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(func=cmd_data_synth,
                       synth_defaults={name: synth.get_default(name) for name in _CALL_ONLY + _LAYERS_ONLY})

    anim = dsub.add_parser("animate", help="turn (portrait, mask) stills into clips with exact mask and flow",
                           description="Move each portrait's cut-out over a background with the synthetic motion "
                                       "model; one clip folder per portrait, named after it.")
    anim.add_argument("--images", required=True, help="folder of portrait images")
    anim.add_argument("--masks", required=True, help="folder of 0/255 masks named like the images")
    anim.add_argument("--backgrounds", help="folder of background images (default: generated rooms)")
    anim.add_argument("--out", required=True, help="output folder")
    anim.add_argument("--frames", type=T.COUNT, default=60, help="frames per clip (default 60)")
    anim.add_argument("--size", type=T.SIZE, default=None, help="WIDTHxHEIGHT (default: the first portrait's size)")
    anim.add_argument("--seed", type=T.SEED, default=0)
    anim.add_argument("--difficulty", choices=["easy", "medium", "hard", "mixed"], default="easy")
    anim.add_argument("--fps", type=T.FPS, default=30.0)
    anim.add_argument("--matte", action="store_true", help="masks are soft alpha mattes (0-255), not 0/255")
    anim.add_argument("--framing", choices=["cover", "person"], default="cover",
                      help="cover: the portrait fills the frame (default); person: framed as in a video call, "
                           "the background showing around the person")
    anim.add_argument("--photos", choices=["train", "heldout"], default=None,
                      help="without --backgrounds: bundled photographs of this split behind the person "
                           "(default: generated rooms)")
    anim.add_argument("--clips-per-portrait", type=T.COUNT, default=1, metavar="N",
                      help="clips per portrait, each with its own motion, background and camera (default 1)")
    _add_camera(anim)
    anim.add_argument("--overwrite", action="store_true", help="replace existing clip folders")
    anim.add_argument("--quiet", action="store_true", help="no progress bar")
    anim.set_defaults(func=cmd_data_animate)

    lab = dsub.add_parser("label", help="label your own video with a teacher (MediaPipe, green-screen keying, a "
                                        "checkpoint) into a clip folder",
                          description="Write a clip folder (frames, 0/1 masks, meta.json naming the teacher and its "
                                      "settings; optional flow files) from a video file or a folder of images, "
                                      "labelled frame by frame by a teacher.")
    lab.add_argument("input", help="a video file or a folder of images (or any layout `data info` reads)")
    lab.add_argument("--teacher", default="mediapipe",
                     help="mediapipe (default), mediapipe_landscape, chroma (green/blue-screen keying), or a "
                          "segmentation checkpoint / shipped name (e.g. funet_flow)")
    lab.add_argument("--out", required=True, help="output clip folder")
    lab.add_argument("--size", type=T.SIZE, default=None, help="resize frames to WIDTHxHEIGHT first (default: keep)")
    lab.add_argument("--start", type=T.COUNT0, default=0, metavar="K", help="skip the first K frames (default 0)")
    lab.add_argument("--max-frames", type=T.COUNT, default=None, metavar="N", help="label at most N frames")
    lab.add_argument("--chunk", type=T.COUNT, default=None, metavar="N",
                     help="cut into clip folders of N frames (OUT/<name>_000, ...), e.g. to fine-tune on a call "
                          "with a validation split by clip")
    lab.add_argument("--step", type=T.COUNT, default=1, metavar="K", help="keep every K-th frame (default 1)")
    lab.add_argument("--threshold", type=T.THRESHOLD, default=0.5,
                     help="network teachers: person where the probability is at least this (default 0.5)")
    lab.add_argument("--key-color", type=_key_color, default=None, metavar="R,G,B",
                     help="chroma: the screen's colour (default: estimated from the frame border)")
    lab.add_argument("--flow", choices=T.LazyChoices(T.flow_methods), default=None, metavar="METHOD",
                     help="also write flow_fwd/flow_bwd files computed by this method (e.g. dis)")
    lab.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    lab.add_argument("--quiet", action="store_true", help="no progress bar")
    lab.set_defaults(func=cmd_data_label)

    por = dsub.add_parser("portraits", help="the real portraits that install with the dependencies, with teacher masks",
                          description="Write scikit-image's astronaut and matplotlib's Grace Hopper (or those named) "
                                      "as OUT/images/<name>.png with MediaPipe teacher masks OUT/masks/<name>.png, for "
                                      "`data animate` and `train seg --portraits`. Grace Hopper is held out: evaluate "
                                      "on her, never train on her.")
    por.add_argument("--out", required=True, help="output folder")
    por.add_argument("--names", nargs="+", choices=["astronaut", "grace_hopper"],
                     default=["astronaut", "grace_hopper"], help="which portraits (default both)")
    por.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    por.set_defaults(func=cmd_data_portraits)

    info = dsub.add_parser("info", help="summarise a data set (clip folders, FUNet, DAVIS, video, image folder)")
    info.add_argument("path", help="a clip folder, a folder of clips, a FUNet or DAVIS root, a video, images")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    info.add_argument("--no-flow-stats", action="store_true", help="skip reading ground-truth flow files")
    info.set_defaults(func=cmd_data_info)


# ------------------------------------------------------------------------------------------- flow


def cmd_flow(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    import numpy as np

    from workbench.flow import create_flow
    from workbench.io import IMAGE_EXTENSIONS, encode_image, read_image, write_bytes_atomic, write_flo
    from workbench.viz import flow_to_color

    out, viz = Path(args.out), Path(args.viz) if args.viz else None
    if out.suffix.lower() != ".flo":
        raise InputError(f"{out}: the output must be a .flo file (Middlebury flow)")
    if viz is not None and viz.suffix.lower() not in IMAGE_EXTENSIONS:
        raise InputError(f"{viz}: --viz must be an image file ({', '.join(IMAGE_EXTENSIONS)})")
    options = {}
    if args.preset is not None:
        if args.method != "dis":
            raise InputError(f"--preset applies to --method dis only, not {args.method}")
        options["preset"] = args.preset
    # Grayscale files are accepted: read_image expands them to RGB (all channels equal).
    frame_a, frame_b = read_image(args.frame_a), read_image(args.frame_b)
    if frame_a.shape != frame_b.shape:
        raise InputError(f"{args.frame_b}: {frame_b.shape[1]}x{frame_b.shape[0]}, expected "
                         f"{frame_a.shape[1]}x{frame_a.shape[0]} like {args.frame_a} (frames must have one size)")
    estimator = create_flow(args.method, **options)
    start = time.perf_counter()
    flow = estimator.estimate(frame_a, frame_b)
    ms = 1000.0 * (time.perf_counter() - start)
    picture = encode_image(flow_to_color(flow), viz.suffix) if viz is not None else None
    write_flo(out, flow)
    if viz is not None:
        try:
            write_bytes_atomic(viz, picture)
        except BaseException:
            out.unlink(missing_ok=True)  # all or nothing
            raise
    H, W = flow.shape[1:]
    magnitude = np.sqrt((flow**2).sum(axis=0))
    preset = getattr(estimator, "preset", None)
    label = args.method + (f" ({preset})" if preset else "")
    print(f"wrote {out} ({W}x{H}, {label}): dx {flow[0].min():.2f}..{flow[0].max():.2f} px, "
          f"dy {flow[1].min():.2f}..{flow[1].max():.2f} px, max |flow| {magnitude.max():.2f} px, {ms:.1f} ms"
          + (f"; colour picture {viz}" if viz is not None else ""))
    return 0


def _add_flow(sub: argparse._SubParsersAction) -> None:
    flow = sub.add_parser("flow", help="optical flow between two images → .flo",
                          description="Estimate optical flow from FRAME_A to FRAME_B (frame_a(x) ≈ frame_b(x + "
                                      "flow(x)), pixels, dx then dy) and write it as a Middlebury .flo file. "
                                      "Grayscale images are accepted (expanded to RGB).")
    flow.add_argument("frame_a", metavar="FRAME_A", help="first image (the flow starts here)")
    flow.add_argument("frame_b", metavar="FRAME_B", help="second image, same size")
    flow.add_argument("-o", "--out", required=True, metavar="OUT.flo", help="output .flo file")
    # Default dis, not pwc: the shipped PWC-Net is trained on synthetic video calls only and does not carry to
    # arbitrary real images (models/pwc_small/MODEL_CARD.md: 34 px EPE on the motorcycle pair vs DIS's 2.6).
    flow.add_argument("--method", choices=T.LazyChoices(T.flow_methods), default="dis", metavar="METHOD",
                      help="flow method: %(choices)s (default %(default)s; pwc is our checkpoint trained on "
                           "synthetic video calls)")
    flow.add_argument("--preset", choices=["ultrafast", "fast", "medium"], default=None,
                      help="DIS preset (default medium)")
    flow.add_argument("--viz", metavar="OUT.png", help="also write the Middlebury colour coding of the flow")
    flow.add_argument("--overwrite", action="store_true", help="replace existing output files")
    flow.set_defaults(func=cmd_flow)


# ------------------------------------------------------------------------------------------- bench


def cmd_bench_flow(args: argparse.Namespace) -> int:
    from workbench.bench import bench_flow, format_bench_flow, write_bench_flow

    result = bench_flow(clips=args.clips, frames=args.frames, size=args.size, seed=args.seed, threads=args.threads,
                        repeat=args.repeat, layers=args.layers, pairs=[tuple(p) for p in args.pair or []],
                        timing_sizes=[tuple(s) for s in args.timing_sizes],
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
    from workbench.bench_seg import bench_seg, format_bench_seg, write_bench_seg

    checkpoints = _model_labels(args.models)
    result = bench_seg(checkpoints, clips=args.clips, frames=args.frames, size=args.size, seed=args.seed,
                       difficulty=args.difficulty, threads=args.threads, repeat=args.repeat, real=args.real,
                       progress=_bench_progress, flow=args.flow)
    md, js = write_bench_seg(result, args.out)
    print(format_bench_seg(result), end="")
    print(f"\nwrote {md} and {js}")
    return 0


def _add_bench(sub: argparse._SubParsersAction) -> None:
    from workbench.data.synthetic import HELD_OUT_SEED

    bench = sub.add_parser("bench", help="benchmarks (JSON + Markdown table)")
    bsub = bench.add_subparsers(dest="bench_command", required=True, metavar="{flow,seg}")
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
    seg.set_defaults(func=cmd_bench_seg)


# ------------------------------------------------------------------------------------------- train


def cmd_train_flow(args: argparse.Namespace) -> int:
    from workbench.bench import bench_flow, write_bench_flow
    from workbench.cards import write_flow_card
    from workbench.train.flow import FlowTrainConfig, train_flow

    config = FlowTrainConfig(out=args.out, variant=args.variant, data=args.data, train_clips=args.train_clips,
                             frames=args.frames, size=args.size, seed=args.seed, val_clips=args.val_clips,
                             steps=args.steps, batch_size=args.batch_size, crop=args.crop, lr=args.lr,
                             moving_crop_weighting=args.crop_weighting, threads=args.threads, resume=args.resume,
                             layer_clips=args.layer_clips, layer_frames=args.layer_frames,
                             layer_share=args.layer_share, max_motion=args.max_motion, load=args.load)
    summary = train_flow(config, progress=not args.quiet, stop_after=args.stop_after)
    print(f"best validation EPE {summary['best_val_epe']:.3f} px (DIS medium {summary['dis_medium_val']['epe']:.3f})"
          f" after {summary['steps']} steps in {summary['seconds'] / 60:.1f} min → {summary['out']}")
    if args.no_card:
        return 0
    # The card's numbers: the held-out benchmark (seeds >= 10 000) with this checkpoint, 2 threads.
    result = bench_flow(clips=args.eval_clips, frames=args.eval_frames, threads=2, repeat=3, correlation=False,
                        pwc_checkpoint=summary["out"])
    folder = Path(summary["out"]).parent
    write_bench_flow(result, folder / "eval")
    card = write_flow_card(summary["out"], summary, result, " ".join(["workbench", *args.argv]))
    print(f"wrote {card}")
    return 0


def cmd_train_seg(args: argparse.Namespace) -> int:
    from workbench.bench_seg import bench_seg, write_bench_seg
    from workbench.cards import write_seg_card
    from workbench.train.seg import SegTrainConfig, train_seg

    out = _train_seg_out(args)
    config = SegTrainConfig(out=out, model=args.model, size=args.size, batch_norm=args.batch_norm, flow=args.flow,
                            width=args.width, context=args.context, deep=args.deep,
                            data=args.data,
                            train_clips=args.train_clips, frames=args.frames, frame_size=args.frame_size,
                            difficulty=args.difficulty, classes=args.classes, seed=args.seed, epochs=args.epochs,
                            batch_size=args.batch_size, optimizer=args.optimizer, lr=args.learning_rate, loss=args.loss,
                            scale=args.scale,
                            crop=None if args.crop == (0, 0) else args.crop, zoom=args.zoom,
                            val_percent=args.validation,
                            val_frames=args.val_frames, load=args.load,
                            device="cpu" if args.gpu is None else str(args.gpu), threads=args.threads,
                            resume=args.resume, photo_backgrounds=args.photo_backgrounds,
                            photo_textures=args.photo_textures, hats=args.hats, camera=args.camera,
                            camera_prob=args.camera_prob, clutter=args.clutter, portraits=args.portraits,
                            portrait_share=args.portrait_share)
    summary = train_seg(config, progress=not args.quiet)
    print(f"best validation Dice {summary['best_val_dice']:.4f} (IoU {summary['best_val_iou']:.4f}, epoch "
          f"{summary['best_epoch']}) after {summary['epochs']} epochs in {summary['seconds'] / 60:.1f} min "
          f"→ {summary['out']}")
    if args.no_card:
        return 0
    # The card's numbers: held-out clips (seeds >= 10 000, never trained on), 2 threads.
    result = bench_seg({args.model: summary["out"]}, clips=args.eval_clips, frames=args.eval_frames, threads=2,
                       real=args.eval_real, progress=None if args.quiet else _bench_progress)
    write_bench_seg(result, Path(out) / "eval")
    card = write_seg_card(summary["out"], summary, result, " ".join(["workbench", *args.argv]))
    print(f"wrote {card}")
    return 0


def _seg_models() -> list[str]:
    from workbench.registry import list_models

    return list_models("seg")


def _add_train_seg(tsub: argparse._SubParsersAction) -> None:
    seg = tsub.add_parser("seg", help="train a segmentation network (unet, funet, funet_flow, fastseg)",
                          description="Train a segmentation network on synthetic video calls (generated in memory) "
                                      "or --data, with the FUNet seed's options and recipe (RMSprop 1e-4, "
                                      "BCE-with-logits, gradient clip 0.1, ReduceLROnPlateau on validation Dice). "
                                      "Validation clips are split off by clip. Writes OUT/checkpoint.pt (best), "
                                      "OUT/epochs/, OUT/train_log.csv, OUT/tensorboard/, then benchmarks the "
                                      "checkpoint on held-out clips and writes OUT/MODEL_CARD.md.")
    seg.add_argument("--model", choices=T.LazyChoices(_seg_models), default="funet_flow", metavar="MODEL",
                     help="network: %(choices)s (default %(default)s)")
    seg.add_argument("--size", choices=["seed", "small", "tiny", "deep"], default="small",
                     help="U-Net widths: seed 64/128/256, small 32/64/128, tiny 16/32/64, deep 24/48/96/128/160 "
                          "(default small)")
    seg.add_argument("--flow", choices=T.LazyChoices(lambda: T.flow_methods(pairs_only=False)), default="dis",
                     metavar="METHOD", help="flow for funet/funet_flow inputs: %(choices)s (default dis; the same "
                                            "method is used at prediction)")
    seg.add_argument("--data", help="training data (clip folders, FUNet, DAVIS, ...; default: generate in memory)")
    seg.add_argument("--out", help="output folder (default models/MODEL)")
    seg.add_argument("-e", "--epochs", type=T.COUNT, default=10, help="epochs (default 10)")
    seg.add_argument("-b", "--batch-size", type=T.COUNT, default=8, help="batch size (default 8)")
    seg.add_argument("-l", "--learning-rate", type=T.LEARNING_RATE, default=1e-4,
                     help="RMSprop learning rate (default 1e-4)")
    seg.add_argument("-f", "--load", metavar="CHECKPOINT",
                     help="start from these weights: the same architecture, or a unet checkpoint of the same size "
                          "for funet / funet_flow (RGB filters copied, new inputs start at zero)")
    seg.add_argument("-s", "--scale", type=T.SCALE, default=1.0, help="resize frames by this factor (default 1)")
    seg.add_argument("-v", "--validation", type=T.PERCENT, default=10.0,
                     help="percent of clips (not frames) held out for validation (default 10)")
    seg.add_argument("-g", "--gpu", type=T.GPU, default=None, metavar="INDEX",
                     help="CUDA device index (default: the CPU)")
    seg.add_argument("--batch-norm", action="store_true",
                     help="U-Net with batch normalisation after each conv (the seed has none)")
    seg.add_argument("--width", type=T.CHANNELS, default=16,
                     help="fastseg: channels after the stem; the encoder doubles them twice (default 16)")
    seg.add_argument("--context", action="store_true",
                     help="fastseg: gate the 1/16 features by their average over the frame (LR-ASPP's global "
                          "context)")
    seg.add_argument("--deep", action="store_true",
                     help="fastseg: one more encoder stage, to 1/32, fused back at 1/16 (a wider receptive field)")
    seg.add_argument("--optimizer", choices=["rmsprop", "adam"], default="rmsprop",
                     help="rmsprop (the seed's, momentum 0.9, weight decay 1e-8) or adam (default rmsprop)")
    seg.add_argument("--loss", choices=["bce", "dice_bce"], default="bce",
                     help="binary loss (default bce, the seed's); more than two classes use cross-entropy")
    seg.add_argument("--crop", type=T.CROP, default=(160, 96),
                     help="training crop WIDTHxHEIGHT (default 160x96; 0x0: whole frames)")
    seg.add_argument("--zoom", type=T.ZOOM, default=None, metavar="MIN:MAX",
                     help="scale augmentation: each sample shows the frame zoomed by a random factor in MIN:MAX "
                          "(log-uniform; e.g. 0.5:2 — below 1 only as far as the crop is smaller than the frame; "
                          "default none)")
    seg.add_argument("--train-clips", type=T.COUNT, default=40, help="generated clips before the split (default 40)")
    seg.add_argument("--frames", type=T.COUNT, default=40, help="frames per generated clip (default 40)")
    seg.add_argument("--frame-size", type=T.SIZE, default=(320, 192), help="generated frame size (default 320x192)")
    seg.add_argument("--difficulty", choices=["easy", "medium", "hard", "mixed"], default="mixed")
    seg.add_argument("--classes", choices=["binary", "parts"], default="binary",
                     help="generated labels: person vs background, or head / torso / arm (default binary)")
    seg.add_argument("--seed", type=T.SEED, default=0, help="data, split and sampling seed (default 0)")
    seg.add_argument("--photo-backgrounds", type=T.PROBABILITY, default=0.0, metavar="P",
                     help="generated clips: probability of a bundled photograph behind the person (default 0)")
    seg.add_argument("--photo-textures", type=T.PROBABILITY, default=0.0, metavar="P",
                     help="generated clips: probability that the shirt is printed with a photograph (default 0)")
    seg.add_argument("--hats", type=T.PROBABILITY, default=0.0, metavar="P",
                     help="generated clips: probability of a cap or beanie on the procedural person (default 0)")
    seg.add_argument("--clutter", type=T.PROBABILITY, default=0.0, metavar="P",
                     help="generated clips: probability of shaded objects, some skin-toned, in front of the "
                          "background (default 0)")
    _add_camera(seg)
    seg.add_argument("--portraits", default=None, metavar="astronaut|DIR",
                     help="real people to animate into training clips: astronaut (scikit-image's portrait, "
                          "labelled by the MediaPipe teacher) or a folder with images/ and masks/")
    seg.add_argument("--portrait-share", type=T.PROBABILITY, default=0.0, metavar="P",
                     help="share of generated clips that animate a real portrait (default 0)")
    seg.add_argument("--val-frames", type=T.COUNT, default=None, help="frames per validation clip (default all)")
    seg.add_argument("--threads", type=T.THREADS, default=2, help="torch threads (default 2)")
    seg.add_argument("--resume", action="store_true", help="continue from OUT/epochs/state.pt")
    seg.add_argument("--overwrite", action="store_true",
                     help="replace an existing OUT (the default OUT is the shipped model: refused without it)")
    seg.add_argument("--eval-clips", type=T.COUNT, default=8, help="held-out clips for the model card (default 8)")
    seg.add_argument("--eval-frames", type=T.COUNT, default=40, help="frames per held-out clip (default 40)")
    seg.add_argument("--eval-real", nargs="+", default=None, metavar="DIR",
                     help="also score the checkpoint on real material for the card (labelled clip folders)")
    seg.add_argument("--no-card", action="store_true", help="skip the held-out benchmark and the model card")
    seg.add_argument("--quiet", action="store_true", help="no progress bars")
    seg.set_defaults(func=cmd_train_seg)


def _bench_progress(step: str) -> None:
    print(f"bench: {step}", file=sys.stderr, flush=True)


def _add_train(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train the networks (flow, seg, decision)")
    tsub = train.add_subparsers(dest="train_command", required=True, metavar="{flow,seg,decision}")
    flow = tsub.add_parser("flow", help="train PWC-Net on synthetic clips with exact flow; writes checkpoint + card",
                           description="Train PWC-Net from scratch on synthetic video calls (generated in memory, or "
                                       "--data clip folders), keep the best validation checkpoint, then benchmark it "
                                       "on held-out clips and write MODEL_CARD.md next to it.")
    flow.add_argument("--out", default="models/pwc_small/checkpoint.pt", help="checkpoint path (default %(default)s)")
    flow.add_argument("--variant", default="pwc_small", choices=["pwc_small", "pwc_dis", "pwc"],
                      help="pwc_dis: pwc_small refining DIS-medium's flow (default %(default)s)")
    flow.add_argument("--data", help="clip folders with flow_fwd/flow_bwd (default: generate in memory)")
    flow.add_argument("--train-clips", type=T.COUNT, default=48, help="generated training clips (default 48)")
    flow.add_argument("--frames", type=T.COUNT, default=40, help="frames per generated clip (default 40)")
    flow.add_argument("--size", type=T.SIZE, default=(320, 192), help="generated frame size (default 320x192)")
    flow.add_argument("--seed", type=T.SEED, default=0, help="training data and sampling seed (default 0)")
    flow.add_argument("--val-clips", type=T.COUNT, default=4, help="validation clips, seed 5000 (default 4)")
    flow.add_argument("--steps", type=T.COUNT, default=3000)
    flow.add_argument("--batch-size", type=T.COUNT, default=8)
    flow.add_argument("--crop", type=T.SIZE, default=(128, 128), help="training crop WIDTHxHEIGHT (default 128x128)")
    flow.add_argument("--lr", type=T.LEARNING_RATE, default=5e-4)
    flow.add_argument("--crop-weighting", choices=["uniform", "magnitude"], default="magnitude",
                      help="centre moving crops on a uniform moving pixel or one picked by |flow|")
    flow.add_argument("--layer-clips", type=T.COUNT0, default=0,
                      help="also train on this many generic layered scenes (data synth --kind layers, generated in "
                           "memory; default 0)")
    flow.add_argument("--layer-frames", type=T.COUNT, default=3, help="frames per layered scene (default 3)")
    flow.add_argument("--layer-share", type=T.PROBABILITY, default=0.5,
                      help="share of training pairs drawn from the layered scenes (default 0.5)")
    flow.add_argument("--max-motion", type=T.MOTION, default=0.15, metavar="SHARE",
                      help="layered scenes: largest translation per frame as a share of the width (default 0.15)")
    flow.add_argument("-f", "--load", metavar="CHECKPOINT",
                      help="start from these weights (same --variant): the next stage of a curriculum")
    flow.add_argument("--threads", type=T.THREADS, default=2, help="torch threads (default 2)")
    flow.add_argument("--resume", action="store_true", help="continue from OUT.state.pt")
    flow.add_argument("--stop-after", type=T.COUNT, metavar="N",
                      help="end this call after N steps (state saved; --resume continues the same schedule): "
                           "a long schedule in sessions, or a curriculum stage taken before its schedule ends")
    flow.add_argument("--overwrite", action="store_true",
                      help="replace an existing OUT (the default OUT is the shipped model: refused without it)")
    flow.add_argument("--eval-clips", type=T.COUNT, default=6, help="held-out clips for the model card (default 6)")
    flow.add_argument("--eval-frames", type=T.COUNT, default=31, help="frames per held-out clip (default 31)")
    flow.add_argument("--no-card", action="store_true", help="skip the held-out benchmark and the model card")
    flow.add_argument("--quiet", action="store_true", help="no progress bars")
    flow.set_defaults(func=cmd_train_flow)
    _add_train_seg(tsub)
    add_train_decision(tsub)


# ------------------------------------------------------------------------------------------- predict


def cmd_predict(args: argparse.Namespace) -> int:
    from workbench.io import open_dataset
    from workbench.seg.checkpoint import load_seg_checkpoint
    from workbench.seg.predict import PredictOptions, predict
    from workbench.viz.composite import background_spec

    device = "cpu"
    if args.gpu is not None:
        import torch

        if not torch.cuda.is_available():
            raise InputError(f"--gpu {args.gpu}: no CUDA device here (omit --gpu to run on the CPU)")
        device = f"cuda:{args.gpu}"
    background = background_spec(args.background)
    net = load_seg_checkpoint(args.model)
    sequences = open_dataset(args.img, masks=args.mask)
    _predict_out(args)
    options = PredictOptions(threshold=args.mask_threshold, scale=args.scale, flow=args.flow, background=background,
                             save=not args.no_save, viz=not args.no_viz, evaluate=not args.no_eval, device=device,
                             video_format=args.video_format)
    report = (lambda line: None) if args.quiet else print
    summaries = predict(net, sequences, args.output, options, overwrite=args.overwrite, report=report,
                        progress=not args.quiet)
    for s in summaries:
        scores = ", ".join(f"mean {k[5:]} {s[k]:.4f}" for k in ("mean_dice", "mean_iou") if k in s)
        print(f"{s['sequence']}: {s['frames']} frames, {scores + ', ' if scores else ''}{s['fps']:.1f} fps without "
              f"I/O ({s['model']}, flow {s['flow'] or '-'}, {s['ms_per_frame']['flow'] + s['ms_per_frame']['seg']:.1f}"
              f" ms/frame)")
    if args.output is not None and (options.save or options.viz or options.evaluate):
        print(f"wrote {args.output}")
    return 0


def _add_predict(sub: argparse._SubParsersAction) -> None:
    pred = sub.add_parser("predict", help="segment a clip, an image folder or a video; masks, composite, viz",
                          description="Segment every frame in order with a trained network and write masks (PNG, "
                                      "0/255, named after the input frames), the person on a virtual background and "
                                      "a side-by-side picture (videos for a video input); with ground truth, print "
                                      "per-frame and mean Dice and IoU. fps excludes reading and writing files.")
    pred.add_argument("-m", "--model", default="funet_flow",
                      help="checkpoint file, a shipped model name (unet, funet, funet_flow, fastseg) or the "
                           "MediaPipe teacher (mediapipe, mediapipe_landscape; make teacher) (default funet_flow)")
    pred.add_argument("-i", "--img", "--input", dest="img", required=True,
                      help="a clip folder, a folder of images, or a video file")
    pred.add_argument("--mask", help="ground truth for an image folder or a video: a mask folder or a mask video "
                                     "(clip folders carry their own)")
    pred.add_argument("-o", "--output", help="output folder (default data/predict/<input name>)")
    pred.add_argument("--background", default="blur",
                      help="virtual background: blur, a colour (green, #rrggbb, r,g,b) or an image file "
                           "(default blur)")
    pred.add_argument("--flow", choices=T.LazyChoices(T.flow_methods), default=None, metavar="METHOD",
                      help="flow method for funet/funet_flow (default: the one the checkpoint was trained with)")
    pred.add_argument("-t", "--mask-threshold", type=T.THRESHOLD, default=None,
                      help="foreground probability threshold (default: the checkpoint's, 0.5)")
    pred.add_argument("-s", "--scale", type=T.SCALE, default=None,
                      help="resize frames by this factor before the network (default: the checkpoint's, or "
                           "down to the frame width it was trained at, e.g. 0.5 for a 640-wide call)")
    pred.add_argument("-g", "--gpu", type=T.GPU, default=None, metavar="INDEX", help="CUDA device (default CPU)")
    pred.add_argument("--video-format", choices=("webm", "mp4"), default="webm",
                      help="a video input's composite and side-by-side video: webm (VP8, plays in browsers) or mp4 "
                           "(MPEG-4 Part 2, plays in VLC and most players, not in browsers) (default webm)")
    pred.add_argument("--no-viz", action="store_true", help="do not write the side-by-side pictures")
    pred.add_argument("--no-save", action="store_true", help="do not write masks and composites")
    pred.add_argument("--no-eval", action="store_true", help="do not score against ground truth")
    pred.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    pred.add_argument("--quiet", action="store_true", help="no progress bar and no per-frame lines")
    pred.set_defaults(func=cmd_predict)


# ------------------------------------------------------------------------------------------- dashboard


MAX_UPLOAD_MB = 200
"""The largest file the dashboard's New run accepts (Streamlit's ``server.maxUploadSize``)."""


def _check_address(address: str, port: int) -> None:
    """A bad ``--address`` or a busy ``--port`` is a one-line error here, not a traceback from Streamlit."""
    import socket

    try:
        infos = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InputError(f"--address {address!r}: not an address of this machine (e.g. 127.0.0.1 or 0.0.0.0)") from None
    family, kind, proto, _, sockaddr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        try:
            probe.bind(sockaddr)
        except OSError as exc:
            raise InputError(f"--address {address} --port {port}: cannot listen there ({exc.strerror}); pick another "
                             "--port") from None


def _open_browser_when_up(url: str, address: str, port: int, server: object) -> None:
    """Open ``url`` once the server answers — only where a graphical browser can exist (never a text browser
    taking over the terminal, never a prompt)."""
    import os
    import socket
    import threading
    import time
    import webbrowser

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print(f"dashboard: no display here; open {url} in a browser", flush=True)
        return

    def wait_and_open() -> None:
        host = "127.0.0.1" if address in ("0.0.0.0", "::", "") else address
        for _ in range(120):
            if server.poll() is not None:  # type: ignore[attr-defined]
                return
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.25)
        else:
            return
        try:
            webbrowser.open(url)
        except Exception:  # no browser: the URL is printed above
            pass

    threading.Thread(target=wait_and_open, daemon=True).start()


def cmd_dashboard(args: argparse.Namespace) -> int:
    import subprocess

    app = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
    if not app.is_file():
        raise InputError(f"{app}: the dashboard is not there (it runs from a source checkout of the workbench)")
    runs = Path(args.runs).resolve()
    root = Path(args.root).resolve() if args.root else runs
    if runs.exists() and not runs.is_dir():
        raise InputError(f"--runs {args.runs}: a file, expected a folder of run records")
    if root != runs and root not in runs.parents:
        raise InputError(f"--runs {args.runs}: outside --root {args.root}; the dashboard reads and writes only under "
                         "its root")
    _check_address(args.address, args.port)
    # Always headless: Streamlit's first-run e-mail prompt would otherwise wait for a keyboard; we open the browser.
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", args.address,
               "--server.port", str(args.port), "--server.headless", "true",
               "--server.maxUploadSize", str(MAX_UPLOAD_MB), "--browser.gatherUsageStats", "false",
               "--", "--runs", str(runs), "--root", str(root)]
    url = f"http://{'127.0.0.1' if args.address in ('0.0.0.0', '::') else args.address}:{args.port}"
    print(f"dashboard: {url} over the runs in {args.runs} (Ctrl-C stops it)", flush=True)
    server = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    if not args.no_browser:
        _open_browser_when_up(url, args.address, args.port, server)
    try:
        return server.wait()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop the server too, never leave it running on its own
        return 0
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


def _add_dashboard(sub: argparse._SubParsersAction) -> None:
    dash = sub.add_parser("dashboard", help="open the Streamlit dashboard over run records",
                          description="Start the dashboard (Streamlit) on this machine only (127.0.0.1 by default): "
                                      "run explorer, timelines, compare, flow inspector, worst frames, new runs.")
    dash.add_argument("--runs", default="data/runs", help="folder of run records (default data/runs)")
    dash.add_argument("--root", default=None,
                      help="the only folder the dashboard reads runs from and writes uploads under (default: --runs)")
    dash.add_argument("--port", type=T.PORT, default=8501, help="port (default 8501)")
    dash.add_argument("--address", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1; 0.0.0.0 exposes it to the network)")
    dash.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    dash.set_defaults(func=cmd_dashboard)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``workbench: error: argument --fps: '0': expected … (see workbench data
    synth --help)`` on stderr and exit status 2, like every other user error (subcommands inherit the class)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"workbench: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="workbench", description="Flow-guided video segmentation workbench.")
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True,
                                metavar="{data,flow,train,predict,dvs,bench,dashboard}")
    _add_data(sub)
    _add_flow(sub)
    _add_train(sub)
    _add_predict(sub)
    add_dvs(sub)
    _add_bench(sub)
    _add_dashboard(sub)
    return parser


# ------------------------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Output:
    """One output of a command: the option that names it (or a function of the arguments), its kind
    (:data:`workbench.io.atomic.OUTPUT_KINDS`), the options that name what the command reads, and whether
    ``--resume`` may continue it (training outputs)."""

    option: str
    kind: str = "folder"
    inputs: tuple[str, ...] = ()
    path: Callable[[argparse.Namespace], str | Path | None] | None = None
    resumable: bool = False


def _bench_files(stem: str) -> Callable[[argparse.Namespace], list[Path]]:
    return lambda args: [Path(args.out) / f"{stem}.md", Path(args.out) / f"{stem}.json"]


def _predict_out(args: argparse.Namespace) -> str | None:
    if args.output is None and not (args.no_save and args.no_viz):
        args.output = f"data/predict/{Path(args.img).stem or 'input'}"
    return args.output


def _train_seg_out(args: argparse.Namespace) -> str:
    args.out = args.out or f"models/{args.model}"
    return args.out


def outputs_table() -> dict[Callable[[argparse.Namespace], int], tuple[Output, ...]]:
    """What every command writes and reads: the one place :func:`check_outputs` learns it from."""
    from workbench.cli_dvs import cmd_dvs_labels, cmd_dvs_run, cmd_dvs_sweep, cmd_train_decision

    seg_inputs = ("data", "mask", "seg", "decision", "correct", "fast")
    return {
        cmd_data_synth: (Output("--out", "parent", ("backgrounds",)),),
        cmd_data_animate: (Output("--out", "parent", ("images", "masks", "backgrounds")),),
        cmd_data_label: (Output("--out", "folder", ("input", "teacher")),),
        cmd_data_portraits: (Output("--out", "folder"),),
        cmd_flow: (Output("--out", "file", ("frame_a", "frame_b")), Output("--viz", "file", ("frame_a", "frame_b"))),
        cmd_bench_flow: (Output("--out", "parent", ("pair",)),
                         *(Output("--out", "file", ("pair",), lambda a, i=i: _bench_files("bench_flow")(a)[i])
                           for i in range(2))),
        cmd_bench_seg: (Output("--out", "parent", ("models", "real")),
                        *(Output("--out", "file", ("models", "real"), lambda a, i=i: _bench_files("bench_seg")(a)[i])
                          for i in range(2))),
        cmd_train_seg: (Output("--out", "folder", ("data", "load", "eval_real", "portraits"), _train_seg_out,
                               resumable=True),),
        cmd_train_flow: (Output("--out", "file", ("data", "load"), resumable=True),),
        cmd_train_decision: (Output("--out", "folder", ("labels", "test"), resumable=True),),
        cmd_predict: (Output("--output", "folder", ("img", "mask", "background", "model"), _predict_out),),
        cmd_dvs_run: (Output("--out", "parent", seg_inputs),),
        cmd_dvs_labels: (Output("--out", "folder", seg_inputs),),
        cmd_dvs_sweep: (Output("--out", "folder", seg_inputs),),
    }


def _paths(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):  # nested for options that take several paths each (--pair A B FLOW)
        return [p for v in value for p in _paths(v)]
    return [str(value)]


def check_outputs(args: argparse.Namespace) -> None:
    """Run :func:`workbench.io.atomic.check_output` on every output of the command, before any work."""
    from workbench.io.atomic import check_output

    for spec in outputs_table().get(args.func, ()):
        dest = spec.option.lstrip("-").replace("-", "_")
        path = spec.path(args) if spec.path else getattr(args, dest, None)
        if path is None:
            continue
        inputs = [p for name in spec.inputs for p in _paths(getattr(args, name, None))]
        check_output(path, inputs, overwrite=getattr(args, "overwrite", False), kind=spec.kind, option=spec.option,
                     resume=getattr(args, "resume", False), resumable=spec.resumable)


def _error_line(exc: BaseException) -> str:
    """One line for a user error: our own message, or what the operating system said about which file."""
    if isinstance(exc, InputError):
        return " ".join(str(exc).split())
    if isinstance(exc, MemoryError):
        return "out of memory (try a smaller --size, fewer --frames or --clips, or a smaller batch)"
    assert isinstance(exc, OSError)
    where = exc.filename if exc.filename is not None else ""
    what = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    return f"{what}: {where}" if where else what


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM (a killed job, a closed terminal) unwinds like Ctrl-C, so partial outputs are removed."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    import signal
    import threading

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _main(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded by commands that write model cards
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        check_outputs(args)
        return func(args)
    except (InputError, OSError, MemoryError) as exc:
        print(f"workbench: error: {_error_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
