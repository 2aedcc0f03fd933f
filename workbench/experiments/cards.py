"""Model cards: what a shipped checkpoint is, how it was made, how well it does, and its checksum.

A card (``models/<name>/MODEL_CARD.md``) is written by the command that trains the checkpoint, from numbers
that command measured: the training summary and a held-out benchmark run (``workbench.experiments``) on seeds
that training never saw. Nothing in a card is typed by hand.
"""

from __future__ import annotations

import hashlib
import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbench import __version__
from workbench.flow.pwc import DEFAULT_CHECKPOINT, LOSS_WEIGHTS
from workbench.io.atomic import write_text_atomic
from workbench.io.checkpoints import load_torch_file
from workbench.registry import list_models, model_facts
from workbench.seg.checkpoint import load_seg_checkpoint


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fmt(value: Any, pattern: str = "{:.3f}") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return pattern.format(value)


def _workers(train: dict[str, Any], tc: dict[str, Any]) -> str:
    """How many processes and threads trained: ``2 processes (DDP) × 1 torch threads`` under torchrun."""
    world = int(train.get("world_size") or 1)
    threads = f"{tc.get('threads', '?')} torch threads"
    return f"{world} processes (torchrun, DDP) × {threads}" if world > 1 else threads


def flow_card(checkpoint: str | Path, train: dict[str, Any], bench: dict[str, Any], command: str,
              label: str = "pwc") -> str:
    """Markdown model card of a PWC-Net checkpoint; ``label`` is its row in ``bench`` (``bench flow``'s result).

    Long because it is a template: one line of the card per fact, in reading order.
    """
    checkpoint = Path(checkpoint)
    payload = load_torch_file(checkpoint, "checkpoint")
    params = sum(v.numel() for v in payload["state_dict"].values())
    config = payload["config"]
    tc = payload.get("train_config", {})
    synthetic = bench.get("synthetic", {})
    weighting = ", picked with probability ∝ |flow|" if tc.get("moving_crop_weighting") == "magnitude" else ""
    init = config.get("init_flow")
    name = checkpoint.parent.name
    trained_on = "synthetic video calls" + (" and generic layered scenes" if tc.get("layer_clips") else "")
    lines = [
        f"# {name} — PWC-Net (width {config['width']}, {config['num_levels']} levels"
        f"{', cosine cost volume' if config.get('normalize_features') else ''})"
        + (f" refining `{init}`" if init else "") + f" trained on {trained_on}",
        "",
        "Optical flow network of Sun et al., *PWC-Net: CNNs for Optical Flow Using Pyramid, Warping, and Cost "
        "Volume*, CVPR 2018 (arXiv 1709.02371), re-implemented in `workbench/flow/pwc.py` and "
        + (f"continued from `{tc['load']}`" if tc.get("load") else "trained from scratch")
        + " by `workbench train flow` on data our own generator makes. Used by "
        + ("`create_flow(\"pwc\")`." if checkpoint.resolve() == DEFAULT_CHECKPOINT.resolve() else
           f"`create_flow(\"pwc\", checkpoint=\"{checkpoint}\")`."),
        "",
    ]
    if init:
        lines += [
            f"It does not estimate flow from zero: it refines the flow of `{init}` (`INIT_FLOWS` in "
            "`workbench/flow/pwc.py`), a classical method run on the whole frames. At every pyramid level the "
            "second frame's features are warped by that flow (area-averaged to the level) plus the residual "
            "found so far, and the decoders predict the remaining residual; the output is the initial flow at full "
            "resolution plus the residual upsampled from 1/4. A residual of zero returns the initial flow "
            "unchanged, and the flow heads start at zero when a non-refining network's weights are loaded, so "
            "training starts from the classical method's error.",
            "",
        ]
    lines += [
        "## Checkpoint",
        f"- File: `{checkpoint.name}`, {checkpoint.stat().st_size / 1e6:.2f} MB, weights stored as float16 "
        "(loaded into float32)",
        f"- SHA-256: `{sha256(checkpoint)}`",
        f"- Parameters: {params:,} ({params / 1e6:.2f} M)",
        f"- Architecture: pyramid levels {config['num_levels']}, output level {config['output_level']} "
        f"(1/{2 ** config['output_level']} resolution, bilinear upsampling), cost volume max displacement "
        f"{config['max_displacement']}, channel multiplier {config['width']}"
        + (f", initial flow `{init}`" if init else ""),
        f"- workbench {payload.get('workbench_version', '?')}, step {payload['metrics'].get('step')}",
        "",
        "## Data",
        f"- Training: {tc.get('train_clips', '?')} synthetic clips × {tc.get('frames', '?')} frames at "
        f"{'x'.join(str(v) for v in tc.get('size', []))}, difficulty mixed, seed {tc.get('seed', '?')} "
        f"(clip i = `SeedSequence([seed, i])`), {train.get('pairs', '?')} consecutive pairs used in both "
        "directions" + (f"; clip folders from `{tc['data']}`" if tc.get("data") else ""),
    ]
    if tc.get("layer_clips"):
        lines.append(
            f"- Generic layered scenes (`workbench.data.flying`, FlyingChairs-like: train-split photographs and "
            f"procedural textures in independent affine motion, up to {tc.get('max_motion', 0):.0%} of the width "
            f"per frame): {tc['layer_clips']} clips × {tc.get('layer_frames')} frames, "
            f"{tc.get('layer_share', 0):.0%} of the training pairs")
    if tc.get("load"):
        lines.append(f"- Started from `{tc['load']}` (a curriculum stage)")
    lines += [
        f"- Validation (best checkpoint chosen on it): {tc.get('val_clips', '?')} clips from seed "
        f"{tc.get('val_seed', '?')}" + (f", and {2 * tc.get('val_clips', 0)} layered scenes from the same seed "
                                         "(best = lowest mean EPE relative to DIS-medium's over both)"
                                         if tc.get("layer_clips") else ""),
        f"- Held-out test (below): {synthetic.get('clips', '?')} clips, {synthetic.get('pairs', '?')} pairs, "
        f"{synthetic.get('seeds', '?')} — seeds ≥ 10 000 are never used for training",
        "",
        "## Recipe",
        f"- Adam, batch {tc.get('batch_size', '?')}, random "
        f"{'x'.join(str(v) for v in tc.get('crop', []))} crops ({int(100 * tc.get('moving_crop_prob', 0))} % "
        f"centred on a moving pixel{weighting}), learning rate {tc.get('lr', '?')} → {tc.get('lr_min', '?')} "
        f"(cosine over {tc.get('steps', '?')} steps); this checkpoint: the best validation point, step "
        f"{payload['metrics'].get('step')}, of {train.get('steps', '?')} steps run",
        "- Augmentation: random pair direction, horizontal flips, brightness/contrast/colour gain and noise"
        + (f"; the initial flow (`{init}`) is estimated on the whole frames, then cropped and mirrored with them"
           if init else ""),
        "- Loss: the paper's multi-scale EPE (Σ α_l Σ_x ‖flow_l − gt_l‖₂, ground truth scaled by 1/20), α = "
        + " / ".join(str(w) for w in LOSS_WEIGHTS[-(config["num_levels"] - config["output_level"] + 1):])
        + f" for levels {config['num_levels']}..{config['output_level']} (the paper's α for those levels)",
        f"- Training time: {train.get('seconds', 0) / 60:.1f} min with {_workers(train, tc)} "
        f"({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs), data generation included",
        "",
        "Reproduce (one command, CPU, writes this folder including this card):",
        "",
        "```bash",
        command.strip(),
        "```",
        "",
    ]
    lines += _flow_tables(bench, label, name)
    lines += ["", "## Limitations"]
    if tc.get("layer_clips"):
        lines.append("- Trained only on generated data (video calls with stylised people, layered scenes in affine "
                     "motion): no real footage, no non-rigid motion beyond the calls' animated people.")
    else:
        lines.append("- Trained only on synthetic head-and-shoulders scenes (affine layer motion, stylised people): "
                     "expect worse flow on real footage (see the real-image row) and on non-rigid motion.")
    if init:
        lines.append(f"- Runs `{init}` first: its time adds to the network's (included in ms/frame above), and "
                     "where the initial flow is wrong by more than the residual search reaches (4 px at each level, "
                     "compounded over the pyramid) the network cannot recover the motion.")
        lines.append("- The residual is predicted at 1/4 resolution and upsampled bilinearly; the initial flow "
                     "keeps its own full-resolution motion boundaries.")
    else:
        lines.append("- Output at 1/4 resolution, upsampled bilinearly: motion boundaries are smoothed.")
    lines += [
              "", f"Card written {datetime.now(timezone.utc).strftime('%Y-%m-%d')} by workbench {__version__}."]
    return "\n".join(lines) + "\n"


def _flow_tables(bench: dict[str, Any], label: str, name: str) -> list[str]:
    """Every part of a ``bench flow`` result, with this checkpoint's row (``label``) renamed to ``name``."""
    from workbench.experiments.bench_flow import moving_table, pair_table

    def rows(part: dict[str, Any]) -> list[dict[str, Any]]:
        return [{**r, "method": f"**{name}** (this card)"} if r["method"] == label else r for r in part["rows"]]

    machine = bench.get("machine", {})
    lines = ["", f"All numbers: one `workbench bench flow` run, {machine.get('threads', '?')} threads, "
                 f"{machine.get('cpu_count', '?')} CPUs ({machine.get('processor', '?')}); ms/frame = median of "
                 f"{bench.get('config', {}).get('repeat', '?')} passes."]
    synthetic = bench.get("synthetic")
    if synthetic:
        W, H = synthetic["size"]
        lines += ["", f"## Held-out synthetic video calls ({synthetic['clips']} clips, {synthetic['pairs']} pairs, "
                      f"{W}x{H}, {synthetic['seeds']})", "",
                  "Intervals: 95 % bootstrap over whole clips; the paired column is each method's EPE minus DIS "
                  "medium's on the same clips (an interval that excludes 0 is a stable difference).", "",
                  *moving_table(rows(synthetic))]
    layers = bench.get("layers")
    if layers:
        lines += ["", f"## Held-out layered scenes ({layers['clips']} scenes, {layers['pairs']} pairs, "
                      f"{layers['seeds']})", "", *moving_table(rows(layers))]
    moto = bench.get("motorcycle")
    if moto and moto.get("status") == "ok":
        lines += ["", "## Real imagery: Middlebury motorcycle stereo pair (scikit-image), disparity as flow", "",
                  "Evaluation only: never trained on.", "", *pair_table(rows(moto))]
    for part in bench.get("pairs", []):
        lines += ["", f"## Pair `{Path(part['frames'][0]).name}` → `{Path(part['frames'][1]).name}` against "
                      f"`{Path(part['reference']).name}`", "",
                  "Where the reference is another method's output (the original PWC-Net's), EPE is the distance "
                  "to it. Evaluation only: never trained on.", "", *pair_table(rows(part))]
    speed = bench.get("speed")
    if speed:
        sizes = [f"{w}x{h}" for w, h in speed["sizes"]]
        lines += ["", "## Speed", "", "| method | " + " | ".join(f"ms/frame {s}" for s in sizes) + " |",
                  "|---|" + "---:|" * len(sizes)]
        lines += [f"| {r['method']} | " + " | ".join(_fmt(r.get(f"ms_{s}"), "{:.1f}") for s in sizes) + " |"
                  for r in rows(speed) if r["status"] == "ok"]
    return lines


def write_flow_card(checkpoint: str | Path, train: dict[str, Any], bench: dict[str, Any], command: str,
                    label: str = "pwc") -> Path:
    path = Path(checkpoint).parent / "MODEL_CARD.md"
    write_text_atomic(path, flow_card(checkpoint, train, bench, command, label))
    return path


def seg_card(checkpoint: str | Path, train: dict[str, Any], bench: dict[str, Any], command: str) -> str:
    """Markdown model card of a segmentation checkpoint (numbers from its training run and ``bench_seg``).

    Long because it is a template: one line of the card per fact, in reading order.
    """
    checkpoint = Path(checkpoint)
    payload = load_torch_file(checkpoint, "checkpoint")
    stored = sum(v.numel() for v in payload["state_dict"].values())  # weights and buffers (batch-norm statistics)
    params = load_seg_checkpoint(checkpoint).parameters()  # learnable, as bench seg counts them
    tc = payload.get("train_config", {})
    arch = payload["arch"]
    row = bench["rows"][0]
    cfg = bench["config"]
    crop = "x".join(str(v) for v in tc["crop"]) + " crops" if tc.get("crop") else "whole frames"
    if tc.get("zoom"):
        crop += f" zoomed ×{tc['zoom'][0]:g}–{tc['zoom'][1]:g} (log-uniform)"
    data = (f"`{tc['data']}`" if tc.get("data") else
            f"{tc.get('train_clips')} synthetic clips × {tc.get('frames')} frames at "
            f"{'x'.join(str(v) for v in tc.get('frame_size', []))}, difficulty {tc.get('difficulty')}, "
            f"{tc.get('classes')} labels, seed {tc.get('seed')} (clip i = `SeedSequence([seed, i])`)")
    realism = [f"{label} {100 * tc[key]:.0f} % of clips" for key, label in
               (("photo_backgrounds", "bundled photographs behind the person (train split)"),
                ("photo_textures", "photographic shirts"), ("hats", "caps"),
                ("clutter", "shaded objects in front of the background")) if tc.get(key)]
    if tc.get("camera", "none") != "none":
        realism.append(f"webcam model `{tc['camera']}` in {100 * tc.get('camera_prob', 1.0):.0f} % of clips")
    if tc.get("portraits") and tc.get("portrait_share"):
        realism.append(f"the real portrait(s) `{tc['portraits']}` (teacher-labelled) animated in "
                       f"{100 * tc['portrait_share']:.0f} % of clips")
    if realism and not tc.get("data"):
        data += "; realism: " + ", ".join(realism)
    loss = "cross-entropy" if len(payload["classes"]) > 2 else {"bce": "BCE-with-logits",
                                                                  "dice_bce": "BCE-with-logits + soft Dice"}[tc["loss"]]
    sizes = [f"{w}x{h}" for w, h in cfg["timing_sizes"]]
    optimizer = (f"Adam lr {tc.get('lr'):g} (weight decay {tc.get('weight_decay'):g})"
                 if tc.get("optimizer") == "adam" else
                 f"RMSprop lr {tc.get('lr'):g} (momentum {tc.get('momentum')}, "
                 f"weight decay {tc.get('weight_decay'):g})")
    best = {k: _fmt(payload["metrics"].get(k), "{:.4f}") for k in ("val_dice", "val_iou")}
    opts = payload["options"]
    variant = opts.get("size") if "size" in opts else ", ".join(
        [f"width {opts['width']}"] * ("width" in opts) + ["to 1/32"] * bool(opts.get("deep"))
        + ["global context"] * bool(opts.get("context")))
    describe = model_facts(arch)["description"] if arch in list_models("seg") else arch
    lines = [
        f"# {checkpoint.parent.name} — {arch}" + (f" ({variant})" if variant else ""),
        "",
        f"Segmentation network: {describe}. Built by `create_model({arch!r})` "
        f"(`workbench/seg/`), "
        + (f"continued from `{tc['load']}` (how that was made: its own card)" if tc.get("load") else
           "trained from scratch")
        + " by `workbench train seg` on "
        + (f"the clip folders of `{tc['data']}`. " if tc.get("data") else "clips our own generator makes. ")
        + f"Use it with `workbench predict -m {checkpoint.parent.name}` or `load_seg_checkpoint`.",
        "",
        "## Checkpoint",
        f"- File: `{checkpoint.name}`, {checkpoint.stat().st_size / 1e6:.2f} MB (float32 weights)",
        f"- SHA-256: `{sha256(checkpoint)}`",
        f"- Parameters: {params:,} learnable ({params / 1e6:.3f} M; {stored:,} values stored with the buffers); "
        f"classes {', '.join(payload['classes'])}",
        f"- Input: `{payload['input']}`" + (f", flow method `{payload['flow']}` (the same at prediction)"
                                            if payload.get("flow") else "") + f", scale {payload['scale']:g}",
        f"- Best epoch {payload['metrics'].get('epoch')} of {train.get('epochs')}: validation Dice "
        f"{best['val_dice']}, IoU {best['val_iou']}",
        "",
        "## Data",
        f"- Training: {data}; {train.get('train_clips')} clips ({train.get('train_frames')} frames) for training, "
        f"{train.get('val_clips')} clips for validation — split **by clip** (`-v {tc.get('val_percent'):g}`)",
        f"- Held-out test (below): {cfg['clips']} clips × {cfg['frames']} frames, seed {cfg['seed']}, difficulty "
        f"{cfg['difficulty']} — seeds ≥ 10 000 are never used for training",
        "",
        "## Recipe",
        f"- {train.get('epochs')} epochs, batch {tc.get('batch_size')} of random {crop} (horizontal flips, colour "
        f"gain and brightness jitter), {optimizer}, gradient values clipped at {tc.get('grad_clip')}, {loss}, "
        "ReduceLROnPlateau on validation Dice (patience 2)" + (" — the FUNet seed's recipe"
                                                              if tc.get("optimizer", "rmsprop") == "rmsprop" else
                                                              " — the FUNet seed's recipe with Adam for RMSprop"),
    ]
    if payload["input"] == "funet_flow":
        lines.append(f"- Previous prediction in training: none on {100 * tc.get('prev_none_prob', 0):.0f} % of samples "
                     f"(a first frame); from epoch 2 the network's own output on frame t−1 on "
                     f"{100 * tc.get('prev_own_prob', 0):.0f} %; otherwise the previous ground-truth mask degraded "
                     "like a prediction (shift ≤ 6 px, erosion/dilation ≤ 3 px, wrong-label blobs, blur, softened); "
                     "always warped by the flow as at prediction")
    lines += [
        f"- Training time: {train.get('seconds', 0) / 60:.1f} min with {_workers(train, tc)} "
        f"({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs), data generation and flow included",
        "",
        "Reproduce (one command, CPU, writes this folder including this card"
        + (f"; it starts from `{tc['load']}`, made as its card says" if tc.get("load") else "") + "):",
        "", "```bash", command.strip(), "```", "",
        f"## Held-out synthetic clips ({cfg['size'][0]}x{cfg['size'][1]}, {cfg['threads']} threads)",
        "",
        "Frame by frame as `workbench predict` runs it (its own flow, its own previous prediction). Flicker: % of "
        "pixels whose label changes between frames while the truth does not. Fast: frames whose person moves "
        f"≥ {cfg['fast_px']:g} px (90th percentile), {100 * bench['fast_fraction']:.1f} % of frames.",
        "",
        "| IoU | Dice | boundary F | flicker (%) | IoU fast | worst-frame IoU | "
        + " | ".join(f"ms/frame {s}" for s in sizes) + " |",
        "|---:|---:|---:|---:|---:|---:|" + "---:|" * len(sizes),
        f"| {_fmt(row['iou'], '{:.4f}')} | {_fmt(row['dice'], '{:.4f}')} | {_fmt(row['boundary_f'], '{:.4f}')} | "
        f"{_fmt(100 * row['flicker'], '{:.3f}')} | {_fmt(row['iou_fast'], '{:.4f}')} | "
        f"{_fmt(row['iou_min'], '{:.4f}')} | "
        + " | ".join(_fmt(row[f"ms_{s}"], "{:.1f}") for s in sizes) + " |",
        "",
    ]
    for real, m in zip(bench.get("real", []), row.get("real", []), strict=True):
        lines += [
            f"## Real material: `{_shown(real['path'])}` ({real['frames']} frames)", "",
            "Against the teacher's masks (" + (", ".join(real["teachers"]) or "MediaPipe") + "), not ground truth.",
            "", "| IoU | IoU per clip | Dice | boundary F | flicker (%) | worst-frame IoU |",
            "|---:|---|---:|---:|---:|---:|",
            f"| {_fmt(m['iou'], '{:.4f}')} | {' / '.join(_fmt(v) for v in m.get('clip_iou', []))} | "
            f"{_fmt(m['dice'], '{:.4f}')} | {_fmt(m['boundary_f'], '{:.4f}')} | "
            f"{_fmt(100 * m['flicker'], '{:.3f}')} | {_fmt(m['iou_min'], '{:.4f}')} |", ""]
    lines += [
        "## Limitations",
        ("- Trained on generated head-and-shoulders clips made more realistic (above) and, at most, one real "
         "person: expect lower accuracy on people, clothes and rooms unlike them; measure on your own call "
         "(`workbench data label`, `bench seg --real`) and fine-tune on it (docs/results.md, *Real video*)."
         if realism else
         "- Trained only on synthetic head-and-shoulders scenes (stylised people, affine layer motion, generated "
         "rooms): expect lower accuracy on real footage."),
        "- Binary person/background; hair strands and soft edges are hard 0/1 in the ground truth.",
        "", f"Card written {datetime.now(timezone.utc).strftime('%Y-%m-%d')} by workbench {__version__}.",
    ]
    return "\n".join(lines) + "\n"


def write_seg_card(checkpoint: str | Path, train: dict[str, Any], bench: dict[str, Any], command: str) -> Path:
    path = Path(checkpoint).parent / "MODEL_CARD.md"
    write_text_atomic(path, seg_card(checkpoint, train, bench, command))
    return path


def decision_card(out: Path, result: dict[str, Any], command: str) -> str:
    """Markdown model card of a decision network (numbers from ``train_decision``).

    Long because it is a template: one line of the card per fact, in reading order.
    """
    checkpoint = out / "checkpoint.pt"
    payload = load_torch_file(checkpoint, "checkpoint")
    params = sum(v.numel() for k, v in payload["state_dict"].items() if not k.startswith("in_"))
    labels = result["labels"]
    lc = labels["config"]  # a LabelConfig as a dict (load_labels)
    pc = lc["pipeline"]
    tc = payload.get("train_config", {})
    gen = labels.get("generated") or {}
    data = (f"`{labels.get('data')}`" if labels.get("data") else
            f"{gen.get('clips')} synthetic clips × {gen.get('frames')} frames at "
            f"{'x'.join(str(v) for v in gen.get('size', []))}, difficulty {gen.get('difficulty')}, seed "
            f"{gen.get('seed')}")
    cfg = payload["config"]
    val, test = result["val"], result.get("test")
    features = ("the flow network's deepest features (PWC-Net's coarsest decoder), DVSNet's choice"
                if payload["features"] == "flownet" else
                "11 channels from the flow field and the warp (u, v, |flow|, flow gradient, photometric residual, "
                "outside share, warped key probability and its uncertainty, residual × uncertainty, max-pooled "
                "residual and flow gradient)")
    if payload["features"] == "flow+fast":
        features += (f" and 3 from the fast network `{lc.get('fast')}` run on the current frame (its foreground "
                     "probability; its disagreement with the warped key, mean and max) — loaded with this checkpoint "
                     "and run once per frame by the pipeline (ours)")
    lines = [
        f"# {out.name} — decision network ({payload['features']} features, flow `{payload['flow']}`)",
        "",
        "DVSNet's decision network (Xu et al., *Dynamic Video Segmentation Network*, CVPR 2018, arXiv 1804.00931) "
        "scaled to our sizes (`workbench/decision/`): it predicts the expected confidence score (0–100) of warping "
        "a region's key-frame segmentation to the current frame, and `workbench dvs run --policy adaptive` "
        "re-segments the region when the prediction is below the target.",
        "",
        "## Checkpoint",
        f"- File: `checkpoint.pt`, {checkpoint.stat().st_size / 1e6:.2f} MB; SHA-256 `{sha256(checkpoint)}`",
        f"- Parameters: {params:,}; conv 3×3 {cfg['conv_channels']} → FC {' → FC '.join(str(v) for v in cfg['fc'])} "
        f"→ 1, leaky ReLU 0.1, dropout {cfg['dropout']} (DVSNet: conv 96 → FC 1024 → 1024 → 10 → 1)",
        f"- Input: {features}, pooled to a {cfg['grid'][0]}×{cfg['grid'][1]} grid, plus the frames since the key "
        "frame / 10 (ours)" + ("; whole-region summaries (each channel's mean and maximum"
                               + (", and mean per person area" if cfg.get("area_channel") is not None else "")
                               + ") join the FC layers (ours)" if cfg.get("summaries") else ""),
        "",
        "## Labels (`workbench dvs labels`)",
        f"- Data: {data}; regions {pc['regions'][0]}×{pc['regions'][1]}, overlap {pc['overlap']} px; key offsets "
        f"1..{lc['max_offset']}; {labels['pairs']:,} pairs (score mean {labels['score_mean']:.1f}, "
        f"std {labels['score_std']:.1f})",
        f"- Score: `{pc['score']}` agreement between the key segmentation warped by `{pc['flow']}` flow and "
        + ("the segmentation network's own output (self-supervised, DVSNet)" if lc["label"] == "self" else
           "the ground truth") + f"; segmentation network `{_shown((labels.get('seg') or {}).get('path'))}`",
        "",
        "## Recipe",
        f"- Adam lr {tc.get('lr')} × {tc.get('lr_decay')} per epoch, batch {tc.get('batch_size')}, "
        f"{tc.get('epochs')} epochs, MSE; inputs standardised per channel on the training pairs; validation split "
        f"by clip ({tc.get('val_percent'):g} %); best epoch by validation MAE: {val['epoch']}",
        f"- Training time: {result['seconds'] / 60:.1f} min, {_workers(result, tc)} "
        f"({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs)",
        "",
        "Reproduce (labels, then training; CPU):",
        "", "```bash", *(labels.get("commands") or []), *((result.get("test_labels") or {}).get("commands") or []),
        command.strip(), "```", "",
        "## Accuracy",
        "",
        "| set | pairs | MAE | RMSE | Pearson r |", "|---|---:|---:|---:|---:|",
        f"| validation clips | {val['pairs']} | {val['mae']:.2f} | {val['rmse']:.2f} | {val['pearson']:.3f} |",
    ]
    if test:
        lines.append(f"| held-out clips | {test['pairs']} | {test['mae']:.2f} | {test['rmse']:.2f} | "
                     f"{test['pearson']:.3f} |")
    lines += ["", f"Predicting the training mean gives a validation MAE of {result['baseline_val_mae']:.2f}.", "",
              f"Card written {datetime.now(timezone.utc).strftime('%Y-%m-%d')} by workbench {__version__}."]
    return "\n".join(lines) + "\n"


def _shown(path: str | None) -> str | None:
    """A checkpoint path as the card shows it: relative to the repository for shipped models."""
    from workbench.seg.checkpoint import MODELS_DIR

    if path and Path(path).is_relative_to(MODELS_DIR.parent):
        return str(Path(path).relative_to(MODELS_DIR.parent))
    return path


def write_decision_card(out: Path, result: dict[str, Any], command: str) -> Path:
    path = Path(out) / "MODEL_CARD.md"
    write_text_atomic(path, decision_card(Path(out), result, command))
    return path
