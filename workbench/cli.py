"""The ``workbench`` command — the only place that parses arguments.

User errors (:class:`workbench.errors.InputError`, missing files, permissions) print one line
``workbench: error: <message>`` on stderr and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from workbench import __version__
from workbench.errors import InputError


def _size(text: str) -> tuple[int, int]:
    from workbench.data.synthetic import parse_size

    try:
        return parse_size(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# ------------------------------------------------------------------------------------------- data


def cmd_data_synth(args: argparse.Namespace) -> int:
    from workbench.data.synthetic import SynthConfig, synthesize

    config = SynthConfig(clips=args.clips, frames=args.frames, size=args.size, seed=args.seed, classes=args.classes,
                         difficulty=args.difficulty, fps=args.fps, camouflage=args.camouflage)
    summary = synthesize(args.out, config, backgrounds=args.backgrounds, overwrite=args.overwrite,
                         progress=not args.quiet)
    print(f"wrote {len(summary['clips'])} clips ({summary['frames']} frames, {config.size[0]}x{config.size[1]}) "
          f"to {args.out} in {summary['seconds']:.1f} s ({summary['fps']:.0f} frames/s)")
    return 0


def cmd_data_animate(args: argparse.Namespace) -> int:
    from workbench.data.animate import animate

    summary = animate(args.images, args.masks, args.out, backgrounds=args.backgrounds, frames=args.frames,
                      size=args.size, seed=args.seed, difficulty=args.difficulty, fps=args.fps, matte=args.matte,
                      overwrite=args.overwrite, progress=not args.quiet)
    print(f"wrote {len(summary['clips'])} clips ({summary['frames']} frames) to {args.out} "
          f"in {summary['seconds']:.1f} s ({summary['fps']:.0f} frames/s)")
    return 0


def cmd_data_info(args: argparse.Namespace) -> int:
    from workbench.data.info import dataset_info, format_info

    info = dataset_info(args.path, flow_stats=not args.no_flow_stats)
    print(json.dumps(info, indent=2) if args.json else format_info(info))
    return 0


def _add_data(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="generate and inspect data sets")
    dsub = data.add_subparsers(dest="data_command", required=True, metavar="{synth,animate,info}")

    synth = dsub.add_parser("synth", help="generate synthetic head-and-shoulders clips with exact mask and flow",
                            description="Generate synthetic video-call clips (clip folders, DESIGN.md §4) with "
                                        "exact masks and forward/backward optical flow.")
    synth.add_argument("--out", required=True, help="output folder (clips go to OUT/clip_0000, ...)")
    synth.add_argument("--clips", type=int, default=4, help="number of clips (default 4)")
    synth.add_argument("--frames", type=int, default=60, help="frames per clip (default 60)")
    synth.add_argument("--size", type=_size, default=(320, 192), help="WIDTHxHEIGHT (default 320x192)")
    synth.add_argument("--seed", type=int, default=0, help="random seed: same seed, same bytes (default 0)")
    synth.add_argument("--classes", choices=["binary", "parts"], default="binary",
                       help="binary (1 = person) or parts (1 head, 2 torso, 3 hand/arm)")
    synth.add_argument("--difficulty", choices=["easy", "medium", "hard", "mixed"], default="mixed",
                       help="easy: no noise, blur or lighting change; mixed: drawn per clip (default)")
    synth.add_argument("--backgrounds", help="folder of background images to use instead of generated rooms")
    synth.add_argument("--camouflage", type=float, default=None, metavar="P",
                       help="probability that the wall takes the shirt's colour (default: by difficulty)")
    synth.add_argument("--fps", type=float, default=30.0, help="frame rate written to meta.json (default 30)")
    synth.add_argument("--overwrite", action="store_true", help="replace existing clip folders")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(func=cmd_data_synth)

    anim = dsub.add_parser("animate", help="turn (portrait, mask) stills into clips with exact mask and flow",
                           description="Move each portrait's cut-out over a background with the synthetic motion "
                                       "model; one clip folder per portrait, named after it.")
    anim.add_argument("--images", required=True, help="folder of portrait images")
    anim.add_argument("--masks", required=True, help="folder of 0/255 masks named like the images")
    anim.add_argument("--backgrounds", help="folder of background images (default: generated rooms)")
    anim.add_argument("--out", required=True, help="output folder")
    anim.add_argument("--frames", type=int, default=60, help="frames per clip (default 60)")
    anim.add_argument("--size", type=_size, default=None, help="WIDTHxHEIGHT (default: the first portrait's size)")
    anim.add_argument("--seed", type=int, default=0)
    anim.add_argument("--difficulty", choices=["easy", "medium", "hard", "mixed"], default="easy")
    anim.add_argument("--fps", type=float, default=30.0)
    anim.add_argument("--matte", action="store_true", help="masks are soft alpha mattes (0-255), not 0/255")
    anim.add_argument("--overwrite", action="store_true", help="replace existing clip folders")
    anim.add_argument("--quiet", action="store_true", help="no progress bar")
    anim.set_defaults(func=cmd_data_animate)

    info = dsub.add_parser("info", help="summarise a data set (clip folders, FUNet, DAVIS, video, image folder)")
    info.add_argument("path", help="a clip folder, a folder of clips, a FUNet or DAVIS root, a video, images")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    info.add_argument("--no-flow-stats", action="store_true", help="skip reading ground-truth flow files")
    info.set_defaults(func=cmd_data_info)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description="Flow-guided video segmentation workbench.")
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{data}")
    _add_data(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (InputError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as exc:
        message = str(exc) if isinstance(exc, InputError) else f"{exc.strerror or exc}: {exc.filename}"
        print(f"workbench: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
