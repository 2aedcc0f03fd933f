"""Training data of the decision network (``workbench dvs labels``; DVSNet's ``gentestcase``).

For every frame t of every clip, every key offset k = 1 … ``max_offset`` (t − k ≥ 0) and every region: the
decision network's input for the pair (region at t, region at t − k) — computed exactly as the pipeline
computes it (:func:`workbench.decision.features.pair_inputs`) — and the **true confidence score** of
warping the key region's segmentation to frame t by the flow: its agreement
(:func:`workbench.metrics.confidence_score`) with the segmentation network's own output on frame t
(``label="self"``: DVSNet's self-supervised labels, no ground truth needed) or with the ground truth
(``label="gt"``). The network's outputs come from the pipeline's per-frame policy, so labels and runs see the
same region logits.

Written (atomically) to ``<out>/labels.npz`` (``grid (N, C, gh, gw)``, ``extra (N, 1)``, ``score (N,)``,
``clip``, ``frame``, ``offset``, ``region``) and ``<out>/labels.json`` (how they were made).
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.config import Config
from workbench.decision.features import FEATURE_KINDS, pair_inputs
from workbench.errors import InputError
from workbench.flow import flow_capability, list_flows
from workbench.io.atomic import atomic_dir, json_text
from workbench.io.sequence import Sequence
from workbench.metrics import confidence_score, scoring_truth
from workbench.ops import warp
from workbench.pipeline.streaming import PipelineConfig, VideoSegmenter, estimate_flow
from workbench.seg.checkpoint import SegNetwork
from workbench.seg.segmenter import Segmenter, frame_tensor, logits_to_probs, probs_to_labels

LABEL_KINDS = ("self", "gt")


LEGACY_PIPELINE_KEYS = ("flow", "flow_scale", "score", "regions", "overlap")  # flat in labels of version 0.x


def _labelling_pipeline() -> PipelineConfig:
    return PipelineConfig(policy="per-frame")


@dataclass
class LabelConfig(Config):
    """How labels are made. ``pipeline`` is the pipeline the labels are for: its regions and overlap, its flow
    method and the scale it runs at, and its kind of score are the ones the decision network will see (the
    labelling run itself segments every frame, whatever the policy says)."""

    pipeline: PipelineConfig = field(default_factory=_labelling_pipeline)
    features: str = "flow"  # flow | flow+fast (needs fast) | flownet (needs a flow network with features)
    fast: str = ""  # flow+fast: the fast segmentation network (shipped name or checkpoint path)
    label: str = "self"  # self | gt
    grid: tuple[int, int] = (4, 8)
    max_offset: int = 12  # DVSNet: key frames up to 12 frames back

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> LabelConfig:
        """The config saved in a ``labels.json`` (labels written before the pipeline was nested keep its fields
        at the top level; they are read into ``pipeline``)."""
        saved = dict(info.get("config") or {})
        if "pipeline" not in saved:
            flat = {k: saved.pop(k) for k in LEGACY_PIPELINE_KEYS if k in saved}
            flat.setdefault("flow_scale", 1.0)  # labels older than the setting estimated flow at full scale
            saved["pipeline"] = {**_labelling_pipeline().to_dict(), **flat}
        return cls.from_dict(saved)

    def validate(self) -> None:
        if self.features not in FEATURE_KINDS:
            raise InputError(f"--features {self.features!r}: expected one of {', '.join(FEATURE_KINDS)}")
        self.pipeline.validate()
        flow = self.pipeline.flow
        if self.features == "flownet" and not flow_capability(flow, "has_features"):
            networks = [name for name in list_flows() if flow_capability(name, "has_features")]
            raise InputError(f"--features flownet reads the flow network's features: it needs --flow "
                             f"{' or '.join(networks)}, not {flow}")
        if self.features == "flow+fast" and not self.fast:
            raise InputError("--features flow+fast reads a fast network's output: give --fast (e.g. fastseg)")
        if self.label not in LABEL_KINDS:
            raise InputError(f"--label {self.label!r}: expected one of {', '.join(LABEL_KINDS)}")
        if self.max_offset < 1:
            raise InputError(f"--max-offset {self.max_offset}: expected 1 or more frames")


def _labels_of(logits: torch.Tensor, threshold: float) -> np.ndarray:
    return probs_to_labels(logits_to_probs(logits)[0].cpu().numpy(), threshold)


@torch.inference_mode()
def clip_labels(net: SegNetwork, seq: Sequence, config: LabelConfig, clip_index: int = 0,
                progress: bool = True, fast_net: SegNetwork | None = None) -> dict[str, np.ndarray]:
    """The labelled pairs of one sequence (arrays as in the module docstring); ``flow+fast`` features need
    ``fast_net``, run on each whole frame and cropped per region, as the pipeline does.

    Long because it mirrors the pipeline's region loop line for line (the labels must see what a run sees); tested
    against a whole-clip reference.
    """
    from tqdm import tqdm

    from workbench.flow import create_flow

    if config.label == "gt" and not seq.has_masks:
        raise InputError(f"{seq.name}: --label gt needs ground-truth masks")
    pipeline = config.pipeline
    flow_method = create_flow(pipeline.flow)
    segmenter = VideoSegmenter(net, replace(pipeline, policy="per-frame"), flow=flow_method)
    W, H = seq.size
    regions = segmenter.regions(W, H)
    if config.features == "flow+fast" and fast_net is None:
        raise InputError("--features flow+fast needs the fast network (--fast)")
    fast = Segmenter(fast_net) if config.features == "flow+fast" else None
    if fast is not None:
        fast.fit(W)  # the whole frame's scale, as the pipeline's fast network uses
    # Frames t − max_offset … t: per frame, per region, the crop, its logits and the fast network's logits (or
    # None). Pairs reach back max_offset frames at most, so nothing older is kept: memory does not grow with
    # the clip (only the labelled pairs, the output, do).
    window: deque[tuple[list[np.ndarray], list[torch.Tensor], list[torch.Tensor] | None]] = deque(
        maxlen=config.max_offset + 1)
    out: dict[str, list] = {k: [] for k in ("grid", "extra", "score", "clip", "frame", "offset", "region")}
    state = None
    for t in tqdm(range(len(seq)), desc=f"labelling {seq.name}", unit="frame", disable=not progress, leave=False):
        frame = seq.frame(t)  # readers stream in order (a video decodes frame by frame)
        _, state = segmenter.step(frame, state)
        fast_crops = None
        if fast is not None:
            whole = fast.logits(frame)[0]
            fast_crops = [r.crop(whole, channels_first=True) for r in regions]
        window.append(([key.key_frame for key in state.keys], [key.key_logits for key in state.keys], fast_crops))
        if t == 0:
            continue
        crops, logits, fast_logits = window[-1]
        gt = seq.mask(t) if config.label == "gt" else None
        for k in range(1, min(t, config.max_offset) + 1):
            key_crops, key_logits, _ = window[-1 - k]
            for region in regions:
                r = region.index
                current, key = crops[r], key_crops[r]
                flow, features = estimate_flow(flow_method, current, key, pipeline.flow_scale,
                                               config.features == "flownet")
                flow_t = torch.from_numpy(np.nan_to_num(flow))[None]
                warped, _ = warp(key_logits[r], flow_t, padding="border", valid=False)
                if gt is None:
                    reference = _labels_of(logits[r], net.threshold)
                else:
                    reference = scoring_truth(region.crop(gt), len(net.classes))
                score = confidence_score(_labels_of(warped, net.threshold), reference, pipeline.score)
                grid, extra = pair_inputs(config.features, config.grid, frame_tensor(current), frame_tensor(key),
                                          flow_t, key_logits[r], k, features,
                                          fast_logits[r] if fast_logits is not None else None)
                out["grid"].append(grid[0].numpy())
                out["extra"].append(extra[0].numpy())
                for name, value in (("score", score), ("clip", clip_index), ("frame", t), ("offset", k),
                                    ("region", r)):
                    out[name].append(value)
    if not out["score"]:
        raise InputError(f"{seq.name}: {len(seq)} frame(s) give no (frame, key frame) pairs")
    return {"grid": np.stack(out["grid"]).astype(np.float32), "extra": np.stack(out["extra"]).astype(np.float32),
            "score": np.asarray(out["score"], np.float32),
            **{name: np.asarray(out[name], np.int32) for name in ("clip", "frame", "offset", "region")}}


def make_labels(net: SegNetwork, sequences: list[Sequence], config: LabelConfig, out: str | Path,
                meta: dict[str, Any] | None = None, overwrite: bool = False, progress: bool = True,
                fast_net: SegNetwork | None = None) -> dict[str, Any]:
    """Label every sequence and write ``labels.npz`` + ``labels.json`` under ``out`` (atomically);
    ``flow+fast`` features read ``fast_net`` (``config.fast`` names it; loaded from there when not given)."""
    from tqdm import tqdm

    config.validate()
    if config.features == "flow+fast" and fast_net is None:
        from workbench.seg.checkpoint import load_seg_checkpoint

        fast_net = load_seg_checkpoint(config.fast)
    if fast_net is not None and list(fast_net.classes) != list(net.classes):
        raise InputError(f"{config.fast}: the fast network's classes {fast_net.classes} differ from {net.classes}")
    parts = [clip_labels(net, seq, config, i, progress, fast_net) for i, seq in
             enumerate(tqdm(sequences, desc="clips", unit="clip", disable=not progress))]
    arrays = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    info = {"config": config.to_dict(), "seg": {"arch": net.arch, "path": str(net.path) if net.path else None},
            "clips": [seq.name for seq in sequences], "pairs": int(len(arrays["score"])),
            "score_mean": float(arrays["score"].mean()), "score_std": float(arrays["score"].std()),
            "channels": int(arrays["grid"].shape[1]), **(meta or {})}
    with atomic_dir(out, overwrite=overwrite) as tmp:
        np.savez_compressed(tmp / "labels.npz", **arrays)
        (tmp / "labels.json").write_text(json_text(info))
    return info


def load_labels(folder: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """``(arrays, info)`` of a labels folder written by :func:`make_labels`; ``info["config"]`` is a
    :class:`LabelConfig` as a dict (``LabelConfig.from_dict`` reads it back)."""
    folder = Path(folder)
    npz, meta = folder / "labels.npz", folder / "labels.json"
    if not npz.is_file() or not meta.is_file():
        raise InputError(f"{folder}: not a decision-label folder (expected labels.npz and labels.json from "
                         "`workbench dvs labels`)")
    try:
        with np.load(npz) as data:
            arrays = {k: data[k] for k in data.files}
        info = json.loads(meta.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{folder}: unreadable labels ({type(exc).__name__})") from None
    missing = [k for k in ("grid", "extra", "score", "clip") if k not in arrays]
    if missing:
        raise InputError(f"{npz}: missing arrays {', '.join(missing)}")
    info["config"] = LabelConfig.from_info(info).to_dict()  # one form, whenever the labels were written
    return arrays, info
