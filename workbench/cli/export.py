"""``workbench export onnx``: a trained network as an ONNX model (:mod:`workbench.export`)."""

from __future__ import annotations

import argparse

from workbench.cli import types as T


def cmd_export_onnx(args: argparse.Namespace) -> int:
    from workbench.export import describe, export_onnx

    print(describe(export_onnx(args.checkpoint, args.out, size=args.size, overwrite=args.overwrite)))
    return 0


def add_export(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser("export", help="write a trained network in another format (ONNX)")
    esub = export.add_subparsers(dest="export_command", required=True, metavar="{onnx}")
    onnx = esub.add_parser("onnx", help="a segmentation, decision or PWC-Net checkpoint as an ONNX model",
                           description="Write a checkpoint (or a shipped model's name) as an ONNX model at a fixed "
                                       "frame size, checked with onnx.checker; its metadata says how to feed it. "
                                       "Run it anywhere ONNX Runtime runs, or here with --backend onnx.")
    onnx.add_argument("checkpoint", help="a checkpoint from `workbench train` or a shipped name (unet, fastseg, "
                                         "decision, pwc_small, ...)")
    onnx.add_argument("-o", "--out", required=True, help="the .onnx file to write")
    onnx.add_argument("--size", type=T.SIZE, default=(320, 192),
                      help="frame size WIDTHxHEIGHT the model takes (default 320x192; the decision network "
                           "takes its feature grid whatever the frames)")
    onnx.add_argument("--overwrite", action="store_true", help="replace an existing file")
    onnx.set_defaults(func=cmd_export_onnx)
