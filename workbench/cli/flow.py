"""``workbench flow``: optical flow between two images, as a ``.flo`` file and a picture."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli import types as T
from workbench.errors import InputError


def cmd_flow(args: argparse.Namespace) -> int:
    import time

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


def add_flow(sub: argparse._SubParsersAction) -> None:
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
