"""``workbench data synth | animate | label | portraits | info``: make and inspect training and demo material."""

from __future__ import annotations

import argparse
import json

from workbench.cli import types as T
from workbench.errors import InputError


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


def add_camera(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--camera", choices=["none", "webcam", "harsh"], default="none",
                        help="webcam image pipeline after rendering: compression, exposure and white-balance "
                             "drift, defocus, vignetting, sensor noise, low resolution (default none)")
    parser.add_argument("--camera-prob", type=T.PROBABILITY, default=1.0, metavar="P",
                        help="share of clips that go through the camera; the others stay clean (default 1)")


def add_data(sub: argparse._SubParsersAction) -> None:
    """The `data` subcommands' options, one declaration per option. Long because it declares; there is no logic to
    split."""
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
    add_camera(synth)
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
    add_camera(anim)
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
