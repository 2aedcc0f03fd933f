"""ONNX export of a module at given input shapes, and :class:`OnnxModule`: a module that runs its PyTorch module's
ONNX export in ONNX Runtime — the ``onnx`` backend wherever a network runs.

Exports are static in height and width: PyTorch's exporters (TorchScript-based and ``torch.export``-based alike)
fix the sizes of ``interpolate``, padding and crops of our networks at the example input's, and a graph with
dynamic axes gave wrong outputs at other sizes (measured: U-Net exported at 320×192, max |Δ| 4.6 at 640×360).
So :class:`OnnxModule` exports once per input shape it meets — a video has one — and keeps the sessions.
Correlation (PWC-Net) exports as its plain-PyTorch fallback's ops.

ONNX and ONNX Runtime are the optional extra ``onnx`` (``pip install -e ".[onnx]"``).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

OPSET = 17


def _require() -> Any:
    try:
        import onnxruntime
    except ImportError:
        from workbench.errors import InputError

        raise InputError("--backend onnx: ONNX Runtime is not installed; pip install -e '.[onnx]'") from None
    return onnxruntime


def export_bytes(module: nn.Module, inputs: Sequence[torch.Tensor], input_names: Sequence[str],
                 output_names: Sequence[str]) -> bytes:
    """``module`` (in evaluation mode) exported to an ONNX model at the shapes of ``inputs``, checked with
    ``onnx.checker``; the serialized model."""
    import onnx

    was_training = module.training
    module.eval()
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer warnings about shapes: exports are per shape by design
            torch.onnx.export(module, tuple(inputs), buffer, dynamo=False, opset_version=OPSET,
                              input_names=list(input_names), output_names=list(output_names))
    finally:
        module.train(was_training)
    data = buffer.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    return data


def session(model: bytes | str, threads: int | None = None) -> Any:
    """An ONNX Runtime CPU session of ``model`` (bytes or a path) with ``threads`` intra-op threads (default:
    torch's current count, so that both backends are measured with the same threads)."""
    ort = _require()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


class OnnxModule(nn.Module):
    """Runs ``module``'s ONNX export in ONNX Runtime: ``forward(*tensors)`` → what ``module`` returns (a tensor
    or a tuple of tensors), on the CPU, without gradients. The PyTorch module stays inside (its parameters count,
    its state dict saves); each new set of input shapes exports it once more."""

    def __init__(self, module: nn.Module, input_names: Sequence[str] = ("input",), outputs: int = 1):
        super().__init__()
        _require()
        self.module = module
        self.input_names = tuple(input_names)
        self.outputs = outputs
        self.sessions: dict[tuple, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        """Pickles (to a Dask worker) without its sessions, which it makes again there."""
        state = self.__dict__.copy()
        state["sessions"] = {}
        return state

    def __getattr__(self, name: str) -> Any:
        """Anything but ``forward`` is the PyTorch module's (its config, its parameters)."""
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("module"), name)

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        key = tuple((tuple(t.shape), t.dtype) for t in tensors)
        if key not in self.sessions:
            names = [f"output{i}" for i in range(self.outputs)]
            example = tuple(t.detach().cpu() for t in tensors)
            self.sessions[key] = session(export_bytes(self.module.cpu(), example, self.input_names, names))
        feeds = {name: np.ascontiguousarray(t.detach().cpu().numpy())
                 for name, t in zip(self.input_names, tensors, strict=True)}
        out = [torch.from_numpy(o) for o in self.sessions[key].run(None, feeds)]
        return out[0] if self.outputs == 1 else tuple(out)


__all__ = ["OPSET", "OnnxModule", "export_bytes", "session"]
