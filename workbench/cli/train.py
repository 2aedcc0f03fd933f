"""``workbench train flow | seg | decision``: the recipes of :mod:`workbench.experiments.recipes` (train, then
benchmark on held-out material, then write the model card)."""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Callable
from typing import Any

from workbench.cli import types as T
from workbench.cli.bench import bench_progress
from workbench.cli.data import add_camera


def _trainer_config(module: str, name: str) -> Callable[[], Any]:
    """A loader of trainer config ``name`` of ``module`` with its defaults, imported when first needed."""
    return lambda: getattr(importlib.import_module(module), name)()


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces this run, as the card quotes it: under torchrun, with its process counts."""
    launcher = ["workbench"]
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        nodes = int(os.environ.get("GROUP_WORLD_SIZE", "1"))
        launcher = ["torchrun", "--nproc-per-node", os.environ.get("LOCAL_WORLD_SIZE", "?"),
                    *(["--nnodes", str(nodes)] if nodes > 1 else []), "-m", "workbench"]
    return " ".join([*launcher, *args.argv])


def cmd_train_flow(args: argparse.Namespace) -> int:
    from workbench.experiments.recipes import flow_recipe
    from workbench.train.flow import FlowTrainConfig

    config = FlowTrainConfig(out=args.out, variant=args.variant, data=args.data, train_clips=args.train_clips,
                             frames=args.frames, size=args.size, seed=args.seed, val_clips=args.val_clips,
                             steps=args.steps, batch_size=args.batch_size, crop=args.crop, lr=args.lr,
                             moving_crop_weighting=args.crop_weighting, threads=args.threads, resume=args.resume,
                             layer_clips=args.layer_clips, layer_frames=args.layer_frames,
                             layer_share=args.layer_share, max_motion=args.max_motion, load=args.load)
    result = flow_recipe(config, card=not args.no_card, eval_clips=args.eval_clips, eval_frames=args.eval_frames,
                         command=_command(args), progress=not args.quiet, stop_after=args.stop_after)
    summary = result.summary
    if summary["rank"]:  # another process of a torchrun: rank 0 reports
        return 0
    print(f"best validation EPE {summary['best_val_epe']:.3f} px (DIS medium {summary['dis_medium_val']['epe']:.3f})"
          f" after {summary['steps']} steps in {summary['seconds'] / 60:.1f} min → {summary['out']}")
    if result.card:
        print(f"wrote {result.card}")
    return 0


def cmd_train_seg(args: argparse.Namespace) -> int:
    from workbench.experiments.recipes import seg_recipe
    from workbench.train.seg import SegTrainConfig

    out = train_seg_out(args)
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
    result = seg_recipe(config, card=not args.no_card, eval_clips=args.eval_clips, eval_frames=args.eval_frames,
                        eval_real=args.eval_real, command=_command(args), progress=not args.quiet,
                        bench_progress=None if args.quiet else bench_progress)
    summary = result.summary
    if summary["rank"]:  # another process of a torchrun: rank 0 reports
        return 0
    print(f"best validation Dice {summary['best_val_dice']:.4f} (IoU {summary['best_val_iou']:.4f}, epoch "
          f"{summary['best_epoch']}) after {summary['epochs']} epochs in {summary['seconds'] / 60:.1f} min "
          f"→ {summary['out']}")
    if result.card:
        print(f"wrote {result.card}")
    return 0


def _seg_models() -> list[str]:
    from workbench.registry import list_models

    return list_models("seg")


def _add_train_seg(tsub: argparse._SubParsersAction) -> None:
    """The options of `train seg`, one declaration per option. Long because it declares; there is no logic to split."""
    seg = tsub.add_parser("seg", help="train a segmentation network (unet, funet, funet_flow, fastseg)",
                          description="Train a segmentation network on synthetic video calls (generated in memory) "
                                      "or --data, with the FUNet seed's options and recipe (RMSprop 1e-4, "
                                      "BCE-with-logits, gradient clip 0.1, ReduceLROnPlateau on validation Dice). "
                                      "Validation clips are split off by clip. Writes OUT/checkpoint.pt (best), "
                                      "OUT/epochs/, OUT/train_log.csv, OUT/tensorboard/, then benchmarks the "
                                      "checkpoint on held-out clips and writes OUT/MODEL_CARD.md.")
    seg.add_argument("--model", choices=T.LazyChoices(_seg_models), metavar="MODEL",
                     help="network: %(choices)s (default %(default)s)")
    seg.add_argument("--size", choices=["seed", "small", "tiny", "deep"],
                     help="U-Net widths: seed 64/128/256, small 32/64/128, tiny 16/32/64, deep 24/48/96/128/160 "
                          "(default %(default)s)")
    seg.add_argument("--flow", choices=T.LazyChoices(lambda: T.flow_methods(pairs_only=False)),
                     metavar="METHOD", help="flow for funet/funet_flow inputs: %(choices)s (default %(default)s; "
                                            "the same method is used at prediction)")
    seg.add_argument("--data", help="training data (clip folders, FUNet, DAVIS, ...; default: generate in memory)")
    seg.add_argument("--out", help="output folder (default models/MODEL)")
    seg.add_argument("-e", "--epochs", type=T.COUNT, help="epochs (default %(default)s)")
    seg.add_argument("-b", "--batch-size", type=T.COUNT, help="batch size (default %(default)s)")
    seg.add_argument("-l", "--learning-rate", type=T.LEARNING_RATE,
                     help="RMSprop learning rate (default %(default)s)")
    seg.add_argument("-f", "--load", metavar="CHECKPOINT",
                     help="start from these weights: the same architecture, or a unet checkpoint of the same size "
                          "for funet / funet_flow (RGB filters copied, new inputs start at zero)")
    seg.add_argument("-s", "--scale", type=T.SCALE, help="resize frames by this factor (default %(default)s)")
    seg.add_argument("-v", "--validation", type=T.PERCENT,
                     help="percent of clips (not frames) held out for validation (default %(default)s)")
    seg.add_argument("-g", "--gpu", type=T.GPU, default=None, metavar="INDEX",
                     help="CUDA device index (default: the CPU)")
    seg.add_argument("--batch-norm", action="store_true",
                     help="U-Net with batch normalisation after each conv (the seed has none)")
    seg.add_argument("--width", type=T.CHANNELS,
                     help="fastseg: channels after the stem; the encoder doubles them twice (default %(default)s)")
    seg.add_argument("--context", action="store_true",
                     help="fastseg: gate the 1/16 features by their average over the frame (LR-ASPP's global "
                          "context)")
    seg.add_argument("--deep", action="store_true",
                     help="fastseg: one more encoder stage, to 1/32, fused back at 1/16 (a wider receptive field)")
    seg.add_argument("--optimizer", choices=["rmsprop", "adam"],
                     help="rmsprop (the seed's, momentum 0.9, weight decay 1e-8) or adam (default %(default)s)")
    seg.add_argument("--loss", choices=["bce", "dice_bce"],
                     help="binary loss (default %(default)s, the seed's); more than two classes use cross-entropy")
    seg.add_argument("--crop", type=T.CROP,
                     help="training crop WIDTHxHEIGHT (default %(default)s; 0x0: whole frames)")
    seg.add_argument("--zoom", type=T.ZOOM, metavar="MIN:MAX",
                     help="scale augmentation: each sample shows the frame zoomed by a random factor in MIN:MAX "
                          "(log-uniform; e.g. 0.5:2 — below 1 only as far as the crop is smaller than the frame; "
                          "default none)")
    seg.add_argument("--train-clips", type=T.COUNT, help="generated clips before the split (default %(default)s)")
    seg.add_argument("--frames", type=T.COUNT, help="frames per generated clip (default %(default)s)")
    seg.add_argument("--frame-size", type=T.SIZE, help="generated frame size (default %(default)s)")
    seg.add_argument("--difficulty", choices=["easy", "medium", "hard", "mixed"],
                     help="generated clips' difficulty (default %(default)s)")
    seg.add_argument("--classes", choices=["binary", "parts"],
                     help="generated labels: person vs background, or head / torso / arm (default %(default)s)")
    seg.add_argument("--seed", type=T.SEED, help="data, split and sampling seed (default %(default)s)")
    seg.add_argument("--photo-backgrounds", type=T.PROBABILITY, metavar="P",
                     help="generated clips: probability of a bundled photograph behind the person "
                          "(default %(default)s)")
    seg.add_argument("--photo-textures", type=T.PROBABILITY, metavar="P",
                     help="generated clips: probability that the shirt is printed with a photograph "
                          "(default %(default)s)")
    seg.add_argument("--hats", type=T.PROBABILITY, metavar="P",
                     help="generated clips: probability of a cap or beanie on the procedural person "
                          "(default %(default)s)")
    seg.add_argument("--clutter", type=T.PROBABILITY, metavar="P",
                     help="generated clips: probability of shaded objects, some skin-toned, in front of the "
                          "background (default %(default)s)")
    add_camera(seg)
    seg.add_argument("--portraits", metavar="astronaut|DIR",
                     help="real people to animate into training clips: astronaut (scikit-image's portrait, "
                          "labelled by the MediaPipe teacher) or a folder with images/ and masks/")
    seg.add_argument("--portrait-share", type=T.PROBABILITY, metavar="P",
                     help="share of generated clips that animate a real portrait (default %(default)s)")
    seg.add_argument("--val-frames", type=T.COUNT, help="frames per validation clip (default %(default)s)")
    seg.add_argument("--threads", type=T.THREADS, help="torch threads (default %(default)s)")
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
    T.config_defaults(seg, _trainer_config("workbench.train.seg", "SegTrainConfig"),
                      {"learning_rate": "lr", "validation": "val_percent"}, skip=("out",))


def add_train(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train the networks (flow, seg, decision)")
    tsub = train.add_subparsers(dest="train_command", required=True, metavar="{flow,seg,decision}")
    flow = tsub.add_parser("flow", help="train PWC-Net on synthetic clips with exact flow; writes checkpoint + card",
                           description="Train PWC-Net from scratch on synthetic video calls (generated in memory, or "
                                       "--data clip folders), keep the best validation checkpoint, then benchmark it "
                                       "on held-out clips and write MODEL_CARD.md next to it.")
    flow.add_argument("--out", help="checkpoint path (default %(default)s)")
    flow.add_argument("--variant", choices=["pwc_small", "pwc_dis", "pwc"],
                      help="pwc_dis: pwc_small refining DIS-medium's flow (default %(default)s)")
    flow.add_argument("--data", help="clip folders with flow_fwd/flow_bwd (default: generate in memory)")
    flow.add_argument("--train-clips", type=T.COUNT, help="generated training clips (default %(default)s)")
    flow.add_argument("--frames", type=T.COUNT, help="frames per generated clip (default %(default)s)")
    flow.add_argument("--size", type=T.SIZE, help="generated frame size (default %(default)s)")
    flow.add_argument("--seed", type=T.SEED, help="training data and sampling seed (default %(default)s)")
    flow.add_argument("--val-clips", type=T.COUNT, help="validation clips, seed 5000 (default %(default)s)")
    flow.add_argument("--steps", type=T.COUNT, help="training steps (default %(default)s)")
    flow.add_argument("--batch-size", type=T.COUNT, help="batch size (default %(default)s)")
    flow.add_argument("--crop", type=T.SIZE, help="training crop WIDTHxHEIGHT (default %(default)s)")
    flow.add_argument("--lr", type=T.LEARNING_RATE, help="Adam learning rate, cosine-decayed (default %(default)s)")
    flow.add_argument("--crop-weighting", choices=["uniform", "magnitude"],
                      help="centre moving crops on a uniform moving pixel or one picked by |flow|")
    flow.add_argument("--layer-clips", type=T.COUNT0,
                      help="also train on this many generic layered scenes (data synth --kind layers, generated in "
                           "memory; default %(default)s)")
    flow.add_argument("--layer-frames", type=T.COUNT, help="frames per layered scene (default %(default)s)")
    flow.add_argument("--layer-share", type=T.PROBABILITY,
                      help="share of training pairs drawn from the layered scenes (default %(default)s)")
    flow.add_argument("--max-motion", type=T.MOTION, metavar="SHARE",
                      help="layered scenes: largest translation per frame as a share of the width "
                           "(default %(default)s)")
    flow.add_argument("-f", "--load", metavar="CHECKPOINT",
                      help="start from these weights (same --variant): the next stage of a curriculum")
    flow.add_argument("--threads", type=T.THREADS, help="torch threads (default %(default)s)")
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
    T.config_defaults(flow, _trainer_config("workbench.train.flow", "FlowTrainConfig"),
                      {"crop_weighting": "moving_crop_weighting"})
    _add_train_seg(tsub)
    add_train_decision(tsub)


def train_seg_out(args: argparse.Namespace) -> str:
    args.out = args.out or f"models/{args.model}"
    return args.out


def cmd_train_decision(args: argparse.Namespace) -> int:
    from workbench.experiments.recipes import decision_recipe
    from workbench.train.decision import DecisionTrainConfig

    config = DecisionTrainConfig(labels=args.labels, out=args.out, test=args.test, epochs=args.epochs,
                                 batch_size=args.batch_size, lr=args.learning_rate, val_percent=args.validation,
                                 seed=args.seed, threads=args.threads)
    recipe = decision_recipe(config, card=not args.no_card, command=_command(args), progress=not args.quiet)
    result = recipe.summary
    if result["rank"]:  # another process of a torchrun: rank 0 reports
        return 0
    val = result["val"]
    line = (f"validation ({result['val_pairs']} pairs): MAE {val['mae']:.2f}, Pearson r {val['pearson']:.3f} "
            f"(epoch {val['epoch']}; predicting the mean: MAE {result['baseline_val_mae']:.2f})")
    if "test" in result:
        line += f"; held-out: MAE {result['test']['mae']:.2f}, Pearson r {result['test']['pearson']:.3f}"
    print(line)
    if recipe.card:
        print(f"wrote {recipe.card}")
    return 0


def add_train_decision(tsub: argparse._SubParsersAction) -> None:
    dec = tsub.add_parser("decision", help="train the decision network on labels from `workbench dvs labels`",
                          description="Train the decision network (DVSNet's recipe scaled: Adam 0.002, x0.99 per "
                                      "epoch, batch 32, MSE on the 0-100 score); validation split by clip; keeps the "
                                      "lowest validation MAE; writes OUT/checkpoint.pt, train_log.csv, MODEL_CARD.md.")
    dec.add_argument("--labels", help="labels folder (default %(default)s)")
    dec.add_argument("--test", help="held-out labels folder to score at the end (e.g. from --seed 10000)")
    dec.add_argument("--out", help="output folder (default %(default)s)")
    dec.add_argument("-e", "--epochs", type=T.COUNT, help="epochs (default %(default)s, DVSNet's)")
    dec.add_argument("-b", "--batch-size", type=T.COUNT, help="batch size (default %(default)s)")
    dec.add_argument("-l", "--learning-rate", type=T.LEARNING_RATE,
                     help="Adam learning rate (default %(default)s)")
    dec.add_argument("-v", "--validation", type=T.PERCENT,
                     help="percent of clips for validation (default %(default)s)")
    dec.add_argument("--seed", type=T.SEED, help="split and sampling seed (default %(default)s)")
    dec.add_argument("--threads", type=T.THREADS, help="torch threads (default %(default)s)")
    dec.add_argument("--no-card", action="store_true", help="do not write MODEL_CARD.md")
    dec.add_argument("--overwrite", action="store_true",
                     help="replace an existing OUT (the default OUT is the shipped model: refused without it)")
    dec.add_argument("--quiet", action="store_true")
    dec.set_defaults(func=cmd_train_decision)
    T.config_defaults(dec, _trainer_config("workbench.train.decision", "DecisionTrainConfig"),
                      {"learning_rate": "lr", "validation": "val_percent"})
