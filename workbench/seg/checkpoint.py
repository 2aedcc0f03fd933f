"""Segmentation checkpoints: the network, and everything prediction needs to feed it as in training.

A checkpoint (docs/conventions.md) is a ``torch.save`` dict: ``arch`` (registered model name), ``options`` (the
``create_model`` keywords that rebuild it, e.g. ``size``/``num_classes``), ``config`` (the network's config,
checked on load), ``state_dict`` (float32), ``input`` (``rgb`` | ``funet`` | ``funet_flow``), ``flow`` (the
flow method the network was trained with; ``None`` for RGB networks), ``scale`` (frames are resized by it
before the network), ``classes``, ``threshold``, ``metrics``, ``workbench_version`` and free extras
(``train_config``). Loading a missing file, a foreign file, a flow network's checkpoint or a checkpoint
whose weights do not fit its declared architecture is an :class:`~workbench.errors.InputError` naming the
file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from workbench import __version__
from workbench.errors import InputError
from workbench.io.checkpoints import fitting, read_checkpoint
from workbench.registry import create_model, list_models, model_facts
from workbench.seg.inputs import RGB_CHANNELS

FORMAT = "workbench-seg/1"
MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
SEG_SCHEMA = {"arch": str, "options": dict, "config": dict, "state_dict": dict, "input": str,
              "flow": (str, type(None)), "scale": (int, float), "classes": (list, tuple), "threshold": (int, float),
              "metrics": (dict, type(None))}
"""Required keys of a segmentation checkpoint and their types (checked before anything is built from them)."""


@dataclass
class SegNetwork:
    """A loaded segmentation network with the facts needed to use it exactly as it was trained."""

    model: nn.Module
    arch: str
    options: dict[str, Any]
    input: str  # rgb | funet | funet_flow
    flow: str | None  # flow method of training (None: the network takes no flow)
    scale: float = 1.0
    classes: list[str] = field(default_factory=lambda: ["background", "person"])
    threshold: float = 0.5
    metrics: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    backend: str = "torch"  # where ``model`` runs: torch, or onnx (workbench.export.on_backend); its flow follows

    @property
    def num_classes(self) -> int:
        """Output channels: 1 for binary (one logit), K for K classes."""
        return 1 if len(self.classes) == 2 else len(self.classes)

    def input_scale(self, width: int) -> float:
        """The resize factor for frames ``width`` pixels wide: the checkpoint's own, unless the frames are wider
        than those it was trained on (generated clips record their width) — then they are brought back to that
        width, because a person twice as large in pixels as in training is not recognised (the shipped
        ``funet_flow`` on a 640×384 call: IoU 0.69 at scale 1, 0.94 at 0.5)."""
        trained = (self.extra.get("train_config") or {})
        if trained.get("data") or not trained.get("frame_size"):
            return self.scale
        seen = float(trained["frame_size"][0]) * self.scale  # the width the network saw in training
        return seen / width if width * self.scale > 1.25 * seen else self.scale

    @property
    def needs_flow(self) -> bool:
        return self.input != "rgb"

    def parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())


def build_network(arch: str, options: dict[str, Any] | None = None, flow: str | None = "dis", scale: float = 1.0,
                  classes: list[str] | None = None) -> SegNetwork:
    """A fresh (untrained) network by registered name, with its input kind and flow method filled in."""
    if arch not in list_models("seg"):
        raise InputError(f"unknown segmentation model {arch!r}; expected one of {', '.join(list_models('seg'))}")
    classes = list(classes or ["background", "person"])
    options = dict(options or {})
    options["num_classes"] = 1 if len(classes) == 2 else len(classes)
    model = create_model(arch, **options)
    kind = model_facts(arch)["input"]
    return SegNetwork(model=model, arch=arch, options=options, input=kind, flow=flow if kind != "rgb" else None,
                      scale=scale, classes=classes)


def save_seg_checkpoint(path: str | Path, net: SegNetwork, metrics: dict[str, Any] | None = None,
                        extra: dict[str, Any] | None = None) -> None:
    """Write ``net`` as a checkpoint dict, atomically (temp name, then rename)."""
    from workbench.io.atomic import atomic_file

    payload = {"format": FORMAT, "arch": net.arch, "options": net.options, "config": net.model.config.to_dict(),
               "state_dict": {k: v.detach().cpu() for k, v in net.model.state_dict().items()},
               "input": net.input, "flow": net.flow, "scale": net.scale, "classes": net.classes,
               "threshold": net.threshold, "metrics": metrics if metrics is not None else net.metrics,
               "workbench_version": __version__, **(extra or {})}
    with atomic_file(path) as tmp:
        torch.save(payload, tmp)


def resolve_checkpoint(name_or_path: str | Path) -> Path:
    """A checkpoint path, or a shipped model's name (``funet_flow`` → ``models/funet_flow/checkpoint.pt``)."""
    path = Path(name_or_path)
    if not path.exists() and path.suffix == "" and len(path.parts) == 1:
        shipped = MODELS_DIR / path.name / "checkpoint.pt"
        if shipped.is_file():
            return shipped
    return path


def load_seg_checkpoint(name_or_path: str | Path, map_location: str | torch.device = "cpu") -> SegNetwork:
    """Load a segmentation checkpoint (a path or a shipped model name) into an eval-mode :class:`SegNetwork`.

    The names of the teacher networks (``mediapipe``, ``mediapipe_landscape``; :mod:`workbench.seg.teacher`)
    give MediaPipe Selfie Segmentation behind the same interface, unless a file of that name exists; an ONNX file
    with its input size, normalisation and output channel (:mod:`workbench.seg.external`) runs in ONNX Runtime.
    """
    from workbench.seg.external import ExternalOnnxSeg, is_onnx_spec, parse_spec
    from workbench.seg.teacher import TEACHER_SOURCE, TEACHERS, teacher_model

    if is_onnx_spec(name_or_path):
        path, options = parse_spec(str(name_or_path))
        model = ExternalOnnxSeg(path, options)
        return SegNetwork(model=model, arch="onnx", options=dict(model.options), input="rgb", flow=None,
                          metrics={"source": f"external ONNX model {path.name}"}, path=path)
    if str(name_or_path) in TEACHERS and not Path(name_or_path).exists():
        model, options = teacher_model(str(name_or_path))
        return SegNetwork(model=model, arch=str(name_or_path), options=options, input="rgb", flow=None,
                          metrics={"source": TEACHER_SOURCE})
    path = resolve_checkpoint(name_or_path)
    shipped = sorted(p.parent.name for p in MODELS_DIR.glob("*/checkpoint.pt")) if MODELS_DIR.is_dir() else []
    seg = list_models("seg")
    payload = read_checkpoint(path, "segmentation checkpoint", SEG_SCHEMA, lambda p: p.get("arch") in seg,
                              f"a segmentation network ({', '.join(seg)})",
                              f"expected a .pt file from `workbench train seg`, a shipped model: {', '.join(shipped)}, "
                              f"or a teacher: {', '.join(TEACHERS)}", map_location)
    with fitting(path, f"weights do not fit a {payload['arch']!r} network"):
        net = build_network(payload["arch"], {k: v for k, v in payload["options"].items() if k != "num_classes"},
                            payload["flow"], float(payload["scale"]), payload["classes"])
        built = net.model.config.to_dict()  # fields added since the checkpoint was written keep their defaults
        if not set(payload["config"]) <= set(built) or {k: built[k] for k in payload["config"]} != payload["config"]:
            raise ValueError("config differs from the one its options build")
        net.model.load_state_dict(payload["state_dict"])
        net.threshold = float(payload.get("threshold", 0.5))
        if not 0 < net.threshold < 1:
            raise ValueError(f"threshold {net.threshold} outside (0, 1)")
    net.metrics = dict(payload.get("metrics") or {})
    net.path = path
    known = {"format", "arch", "options", "config", "state_dict", "input", "flow", "scale", "classes", "threshold",
             "metrics", "workbench_version"}
    net.extra = {k: v for k, v in payload.items() if k not in known}
    net.model.to(map_location).eval()
    return net


def transfer_weights(source: SegNetwork, target: SegNetwork) -> None:
    """Start ``target`` from ``source``: the same architecture copies every weight; U-Nets that differ only in
    their input (``unet`` → ``funet`` / ``funet_flow``) copy every weight and put the first convolution's RGB
    filters on the target's RGB channels, with zero weights for the new channels (motion mask, flow, previous
    prediction), so the target starts exactly as the source network and learns what the new inputs add."""
    src_cfg, dst_cfg = source.model.config.to_dict(), target.model.config.to_dict()
    same = src_cfg == dst_cfg and source.arch == target.arch
    widen = ({k: v for k, v in src_cfg.items() if k != "in_channels"} ==
             {k: v for k, v in dst_cfg.items() if k != "in_channels"} and hasattr(target.model, "encoders"))
    if not (same or widen):
        where = f"{source.path}: " if source.path else ""
        raise InputError(f"{where}a {source.arch!r} checkpoint with config {src_cfg} cannot start a {target.arch!r} "
                         f"network with config {dst_cfg} (same widths, batch norm and classes needed)")
    state = source.model.state_dict()
    if not same:
        key = next(k for k in state if k.endswith("weight") and state[k].dim() == 4)  # the first convolution
        weight = torch.zeros_like(target.model.state_dict()[key])
        weight[:, RGB_CHANNELS[target.input]] = state[key][:, RGB_CHANNELS[source.input]]
        state = {**state, key: weight}
    target.model.load_state_dict(state)
