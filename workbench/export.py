"""Leaving PyTorch: ``workbench export onnx`` writes a trained network as an ONNX model, and the ``onnx`` backend
(``--backend onnx``) runs the networks of a command in ONNX Runtime.

Exports are at a fixed frame size (see :mod:`workbench.ops.onnx_runtime` for why): the segmentation networks and
the fast network take ``input (1, C, H, W)`` — their input as :func:`workbench.seg.build_input` builds it (RGB in
[0, 1], then the motion mask or the scaled flow and the warped previous prediction for the FUNets) — and give
``logits (1, K, H, W)``; the decision network takes ``grid (N, C, h, w)`` and ``extra (N, E)`` (its features) and
gives ``score (N,)``; PWC-Net takes ``frame_a`` and ``frame_b (1, 3, H, W)`` in [0, 1] and gives ``flow (1, 2, H,
W)`` in pixels from a to b, its correlation written as plain ONNX ops. Each file carries what it needs to be used
right in its metadata (``workbench.*`` properties: kind, architecture, input, classes, threshold, flow, scale).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from workbench.errors import InputError
from workbench.flow.pwc import PWCFlowModule
from workbench.io.atomic import atomic_file
from workbench.io.checkpoints import load_torch_file

BACKENDS = ("torch", "onnx")


def checkpoint_kind(name_or_path: str | Path) -> str:
    """``seg``, ``decision`` or ``flow`` for a checkpoint file or a shipped model name."""
    from workbench.seg.checkpoint import resolve_checkpoint

    path = resolve_checkpoint(name_or_path)
    payload = load_torch_file(path, "checkpoint")
    fmt, arch = str(payload.get("format", "")), str(payload.get("arch", ""))
    if fmt.startswith("workbench-seg"):
        return "seg"
    if fmt.startswith("workbench-decision"):
        return "decision"
    if arch.startswith("pwc"):
        return "flow"
    raise InputError(f"{path}: not a workbench checkpoint (segmentation, decision or PWC-Net); expected a .pt file "
                     "from `workbench train`")


def exportable(name_or_path: str | Path, size: tuple[int, int], batch: int = 1
               ) -> tuple[nn.Module, tuple[torch.Tensor, ...], list[str], list[str], dict[str, str]]:
    """The module to export for a checkpoint, example inputs at ``size`` (W, H), input and output names, and the
    metadata its ONNX file carries."""
    from workbench.seg.checkpoint import resolve_checkpoint

    kind = checkpoint_kind(name_or_path)
    name_or_path = resolve_checkpoint(name_or_path)
    W, H = size
    meta = {"kind": kind, "source": str(name_or_path), "size": f"{W}x{H}"}
    if kind == "seg":
        from workbench.seg.checkpoint import load_seg_checkpoint

        net = load_seg_checkpoint(name_or_path)
        channels = {"rgb": 3, "funet": 4, "funet_flow": 3 + 2 + (1 if net.num_classes == 1 else net.num_classes)}
        meta.update(arch=net.arch, input=net.input, classes=",".join(net.classes), threshold=str(net.threshold),
                    flow=str(net.flow), scale=str(net.scale))
        return (net.model, (torch.rand(batch, channels[net.input], H, W),), ["input"], ["logits"], meta)
    if kind == "decision":
        from workbench.decision import load_decision_checkpoint

        decider = load_decision_checkpoint(name_or_path)
        config = decider.model.config
        meta.update(arch="decision", features=decider.features, flow=str(decider.flow), score=decider.score,
                    grid="x".join(map(str, config.grid)))
        example = (torch.rand(batch, config.in_channels, *config.grid), torch.rand(batch, config.extra))
        return decider.model, example, ["grid", "extra"], ["score"], {**meta, "size": "features"}
    from workbench.flow.pwc import load_pwc

    model = load_pwc(name_or_path)
    meta.update(arch="pwc", flow_scale=str(model.config.flow_scale))
    if model.config.init_flow:
        raise InputError(f"{name_or_path}: refines an initial {model.config.init_flow} flow, which ONNX cannot "
                         "compute; export a PWC-Net without --variant pwc_dis")
    return PWCFlowModule(model), (torch.rand(batch, 3, H, W), torch.rand(batch, 3, H, W)), ["frame_a", "frame_b"], \
        ["flow"], meta


def export_onnx(name_or_path: str | Path, out: str | Path, size: tuple[int, int] = (320, 192),
                overwrite: bool = False) -> dict[str, Any]:
    """Write ``name_or_path``'s network to ``out`` as an ONNX model at frame size ``size`` (W, H), checked with
    ``onnx.checker``; returns what was written (kind, inputs, outputs, metadata, path)."""
    import onnx

    from workbench.ops.onnx_runtime import export_bytes

    out = Path(out)
    if out.suffix.lower() != ".onnx":
        raise InputError(f"-o {out}: expected a file name ending in .onnx")
    if out.exists() and not overwrite:
        raise InputError(f"-o {out}: exists; pass --overwrite to replace it")
    module, example, inputs, outputs, meta = exportable(name_or_path, size)
    model = onnx.load_from_string(export_bytes(module, example, inputs, outputs))
    onnx.helper.set_model_props(model, {f"workbench.{k}": v for k, v in meta.items()})
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out) as tmp:
        onnx.save(model, tmp)
    return {"path": str(out), "kind": meta["kind"], "inputs": {n: list(t.shape) for n, t in zip(inputs, example,
                                                                                                    strict=True)},
            "outputs": outputs, "meta": meta, "bytes": out.stat().st_size}


def on_backend(network: Any, backend: str) -> Any:
    """``network`` (a :class:`~workbench.seg.checkpoint.SegNetwork`, a decision network's ``Decider`` or a flow
    method) running on ``backend``: itself for ``torch``; for ``onnx`` a copy whose module runs in ONNX Runtime
    (:class:`~workbench.ops.onnx_runtime.OnnxModule`, exported per input shape). External ONNX models, teachers
    and flow methods without a network run as they are."""
    if backend not in BACKENDS:
        raise InputError(f"--backend {backend}: expected one of {', '.join(BACKENDS)}")
    if backend == "torch" or network is None:
        return network
    import copy

    from workbench.decision import Decider
    from workbench.flow import FlowEstimator
    from workbench.ops.onnx_runtime import OnnxModule
    from workbench.seg.teacher import TEACHERS

    if isinstance(network, FlowEstimator):
        return network.on_backend(backend)
    if not isinstance(network, Decider) and (network.arch == "onnx" or network.arch in TEACHERS):
        return network
    clone = copy.copy(network)
    clone.model = OnnxModule(network.model, ("grid", "extra") if isinstance(network, Decider) else ("input",))
    clone.backend = backend  # a segmentation network's flow (and the pipeline's, with it) follows
    return clone


def describe(result: dict[str, Any]) -> str:
    """One paragraph about an export, for the command line."""
    ins = ", ".join(f"{k} {tuple(v)}" for k, v in result["inputs"].items())
    return (f"wrote {result['path']} ({result['bytes'] / 2**20:.1f} MB, ONNX opset checked): {result['kind']} "
            f"network {result['meta'].get('arch')}, inputs {ins} → {', '.join(result['outputs'])}; metadata "
            + json.dumps(result["meta"]))


__all__ = ["BACKENDS", "PWCFlowModule", "checkpoint_kind", "describe", "export_onnx", "exportable", "on_backend"]
