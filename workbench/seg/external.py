"""Any ONNX person-segmentation model as a segmentation network (and so as a labelling teacher): its input size,
normalisation and output channel are given with its path, wherever a network name is accepted::

    workbench predict -m 'selfie.onnx:size=256x256,mean=0.5,std=0.5,channel=1' call.mp4
    workbench data label call.mp4 --teacher 'person.onnx:size=320x192,output=logit' --out clip/

Options after the first ``:`` (comma-separated ``key=value``):

- ``size=WxH`` — the model's input size (default: read from the model when its height and width are fixed);
- ``mean=…``, ``std=…`` — one value or three as R/G/B (``mean=0.485/0.456/0.406``): the model sees
  ``(pixel / 255 · range − mean) / std`` (defaults 0 and 1); ``range=1`` (default) or ``255``;
- ``order=rgb`` (default) or ``bgr``; ``layout=nchw`` or ``nhwc`` (default: ``nhwc`` when the input's last
  dimension is 3, else ``nchw``);
- ``channel=K`` — the output channel holding the person (default: the last one; a single-map output needs none);
- ``output=prob`` (default: probabilities, turned into logits here) or ``logit``.

Frames are resized to the model's size and its output resized back (bilinear, as logits). The model runs in
ONNX Runtime on the CPU (the optional extra ``onnx``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workbench.errors import InputError

KEYS = ("size", "mean", "std", "range", "order", "layout", "channel", "output")


def is_onnx_spec(name: str | Path) -> bool:
    """Whether a network name is an ONNX file (with or without options)."""
    return str(name).split(":", 1)[0].lower().endswith(".onnx")


def parse_spec(spec: str) -> tuple[Path, dict[str, Any]]:
    """``PATH.onnx[:key=value,...]`` → (path, options), or an :class:`InputError` naming what is wrong."""
    path, _, rest = str(spec).partition(":")
    options: dict[str, Any] = {"mean": (0.0,) * 3, "std": (1.0,) * 3, "range": 1.0, "order": "rgb", "output": "prob"}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep or key not in KEYS:
            raise InputError(f"{spec}: option {item!r}; expected key=value with a key of {', '.join(KEYS)}")
        try:
            if key == "size":
                w, h = (int(v) for v in value.lower().split("x"))
                if not (0 < w <= 8192 and 0 < h <= 8192):
                    raise ValueError
                options[key] = (w, h)
            elif key in ("mean", "std"):
                values = tuple(float(v) for v in value.split("/")) if "/" in value else (float(value),)
                values = values * 3 if len(values) == 1 else values
                if len(values) != 3 or (key == "std" and min(values) <= 0):
                    raise ValueError
                options[key] = values
            elif key == "range":
                options[key] = {"1": 1.0, "255": 255.0}[value]
            elif key == "channel":
                options[key] = int(value)
                if options[key] < 0:
                    raise ValueError
            else:
                allowed = {"order": ("rgb", "bgr"), "layout": ("nchw", "nhwc"), "output": ("prob", "logit")}[key]
                if value not in allowed:
                    raise ValueError
                options[key] = value
        except (ValueError, KeyError):
            raise InputError(f"{spec}: {key}={value} is not valid (see `workbench predict --help`: size=WxH, "
                             "mean/std one value or R/G/B (std > 0), range=1|255, order=rgb|bgr, "
                             "layout=nchw|nhwc, channel=K, output=prob|logit)") from None
    return Path(path), options


class ExternalOnnxSeg(nn.Module):
    """An ONNX person-segmentation model behind the workbench's interface: ``(N, 3, H, W)`` RGB in [0, 1] →
    ``(N, 1, H, W)`` person logits."""

    def __init__(self, path: Path, options: dict[str, Any]):
        super().__init__()
        from workbench.ops.onnx_runtime import session

        if not path.is_file():
            raise InputError(f"{path}: no such ONNX file")
        try:
            self.session = session(str(path))
        except InputError:
            raise
        except Exception as exc:  # onnxruntime raises its own types for files it cannot read
            raise InputError(f"{path}: not an ONNX model ONNX Runtime can run ({type(exc).__name__})") from None
        first = self.session.get_inputs()[0]
        self.input_name, shape = first.name, list(first.shape)
        self.batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
        if len(shape) != 4:
            raise InputError(f"{path}: expects a 4-D image input, its input {first.name!r} has shape {shape}")
        layout = options.get("layout") or ("nhwc" if shape[-1] == 3 else "nchw")
        h_dim, w_dim = (shape[1], shape[2]) if layout == "nhwc" else (shape[2], shape[3])
        if "size" not in options:
            if not (isinstance(h_dim, int) and isinstance(w_dim, int)):
                raise InputError(f"{path}: its input size is not fixed; give it as {path}:size=WxH")
            options = {**options, "size": (w_dim, h_dim)}
        self.options = {**options, "layout": layout}
        mean, std = torch.tensor(options["mean"]), torch.tensor(options["std"])
        self.register_buffer("mean", mean.view(1, 3, 1, 1).float(), persistent=False)
        self.register_buffer("std", std.view(1, 3, 1, 1).float(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        H, W = x.shape[-2:]
        w, h = self.options["size"]
        x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False) if (H, W) != (h, w) else x
        x = (x * self.options["range"] - self.mean) / self.std
        if self.options["order"] == "bgr":
            x = x.flip(1)
        if self.options["layout"] == "nhwc":
            x = x.permute(0, 2, 3, 1)
        array = np.ascontiguousarray(x.cpu().numpy(), np.float32)
        step = self.batch or len(array)  # a model made for one frame at a time gets them one at a time
        maps = [self._person(np.asarray(self.session.run(None, {self.input_name: array[i:i + step]})[0], np.float32))
                for i in range(0, len(array), step)]
        person = torch.from_numpy(np.concatenate(maps))[:, None]  # (N, 1, h, w)
        if self.options["output"] == "prob":
            p = person.clamp(1e-6, 1 - 1e-6)
            person = torch.log(p) - torch.log1p(-p)
        return F.interpolate(person, size=(H, W), mode="bilinear", align_corners=False) if (H, W) != (h, w) \
            else person

    def _person(self, out: np.ndarray) -> np.ndarray:
        """The person map ``(N, h, w)`` of the model's output (NCHW, NHWC or a single map)."""
        w, h = self.options["size"]
        if out.ndim == 3:
            return out
        if out.ndim != 4:
            raise InputError(f"ONNX model output of shape {out.shape}: expected (N, C, h, w), (N, h, w, C) or "
                             "(N, h, w)")
        channels_last = out.shape[1:3] == (h, w) and out.shape[3] != w
        maps = np.moveaxis(out, 3, 1) if channels_last else out
        channel = self.options.get("channel", maps.shape[1] - 1)
        if channel >= maps.shape[1]:
            raise InputError(f"channel={channel}: the ONNX model outputs {maps.shape[1]} channels")
        return maps[:, channel]


__all__ = ["ExternalOnnxSeg", "is_onnx_spec", "parse_spec"]
