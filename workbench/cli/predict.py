"""``workbench predict``: segment a video, an image folder or a dataset with one network; masks, composites, metrics."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli import types as T
from workbench.errors import InputError


def cmd_predict(args: argparse.Namespace) -> int:
    from workbench.export import on_backend
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
    net = on_backend(load_seg_checkpoint(args.model), args.backend)
    sequences = open_dataset(args.img, masks=args.mask)
    predict_out(args)
    options = PredictOptions(threshold=args.mask_threshold, scale=args.scale, flow=args.flow, background=background,
                             save=not args.no_save, viz=not args.no_viz, evaluate=not args.no_eval, device=device,
                             video_format=args.video_format, max_frames=args.max_frames)
    report = (lambda line: None) if args.quiet else print
    summaries = predict(net, sequences, args.output, options, overwrite=args.overwrite, report=report,
                        progress=not args.quiet)
    for s in summaries:
        scores = ", ".join(f"mean {k[5:]} {s[k]:.4f}" for k in ("mean_dice", "mean_iou") if k in s)
        print(f"{s['sequence']}: {s['frames']} frames, {scores + ', ' if scores else ''}{s['fps']:.1f} fps without "
              f"I/O ({s['model']}, flow {s['flow'] or '-'}, {s['ms_per_frame']['flow'] + s['ms_per_frame']['seg']:.1f}"
              f" ms/frame)" + (f"; live: {s['dropped']} of the source's {s['source_frames']} frames dropped while "
                               "busy" if "dropped" in s else ""))
    if args.output is not None and (options.save or options.viz or options.evaluate):
        print(f"wrote {args.output}")
    return 0


def add_predict(sub: argparse._SubParsersAction) -> None:
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
    pred.add_argument("--max-frames", type=T.COUNT, default=None, metavar="N",
                      help="only the first N frames (a live source: stop after N; default: all, or 5 minutes of "
                           "a live source)")
    T.add_backend(pred)
    pred.set_defaults(func=cmd_predict)


def predict_out(args: argparse.Namespace) -> str | None:
    if args.output is None and not (args.no_save and args.no_viz):
        args.output = f"data/predict/{Path(args.img).stem or 'input'}"
    return args.output
