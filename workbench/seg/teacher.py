"""MediaPipe Selfie Segmentation as an in-process segmentation network: the real-world teacher and baseline.

MediaPipe Selfie Segmentation (Google; the model card reports 95.99 % IoU on its evaluation set) is what a
video-call user would pick for background replacement, so the workbench uses it twice:

- as a **baseline**: ``load_seg_checkpoint("mediapipe")`` gives a :class:`~workbench.seg.checkpoint.SegNetwork`
  usable wherever a network is (``workbench predict -m mediapipe``, ``dvs run --seg mediapipe``, ``bench seg``,
  the dashboard's New run);
- as a **teacher**: ``workbench data label VIDEO --teacher mediapipe`` writes its masks as a clip's ground
  truth, so that our networks can be measured on (and fine-tuned to) a user's own real video.

Two models ship inside the ``mediapipe==0.10.21`` wheel (the last release that has them):
``mediapipe`` — the general model (256×256 input) — and ``mediapipe_landscape`` (144×256, faster, made for
16:9 video). Both are stateless per frame here (the same frame gives the same mask, whatever came before),
take any frame size (MediaPipe resizes internally) and return a probability per pixel at the frame's size.
We hand that on as a logit, ``log(p / (1 − p))`` with p clipped to [1e-4, 1 − 1e-4], so the rest of the
workbench (sigmoid, threshold 0.5, stitching of regions by confidence) treats it like our own networks.

MediaPipe is an optional extra (``make teacher``): its metadata asks for ``numpy<2`` and ``protobuf<5``, but it
runs with the workbench's numpy 2 and protobuf 6 (same masks) when installed with ``--no-deps`` plus its
runtime dependencies (``requirements-teacher.txt``). Where it is missing, asking for it is an
:class:`~workbench.errors.InputError` that says how to install it. It runs on the CPU with its own thread
pool (TFLite XNNPACK), which the workbench's ``--threads`` does not control.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from workbench.config import Config
from workbench.errors import InputError
from workbench.io.video import quiet_stderr

#: teacher name → MediaPipe's ``model_selection`` (0: general 256×256, 1: landscape 144×256)
TEACHERS = {"mediapipe": 0, "mediapipe_landscape": 1}
INSTALL_HINT = ("MediaPipe is not installed; install the teacher extra with `make teacher` (or: .venv/bin/pip "
                "install --no-deps -r requirements-teacher.txt)")
_EPS = 1e-4


def mediapipe_available() -> bool:
    """Whether MediaPipe's selfie segmentation can be imported (without importing it twice)."""
    try:
        _solution()
    except InputError:
        return False
    return True


def available_teachers() -> list[str]:
    """The teacher networks that can run here (empty when MediaPipe is not installed)."""
    return list(TEACHERS) if mediapipe_available() else []


def _solution():
    """MediaPipe's legacy ``selfie_segmentation`` solution module, or an InputError saying how to install it."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # before the import: MediaPipe's own logging
    try:
        with quiet_stderr():
            from mediapipe.python.solutions import selfie_segmentation
    except ImportError:
        raise InputError(INSTALL_HINT) from None
    return selfie_segmentation


@dataclass
class MediaPipeConfig(Config):
    model_selection: int = 0  # 0 general (256×256), 1 landscape (144×256)


class MediaPipeSelfie(nn.Module):
    """MediaPipe Selfie Segmentation behind the interface of our networks: ``(N, 3, H, W)`` RGB in [0, 1] →
    ``(N, 1, H, W)`` person logits. No parameters, no gradients; each image is segmented on its own."""

    def __init__(self, model_selection: int = 0):
        super().__init__()
        if model_selection not in (0, 1):
            raise InputError(f"MediaPipe model_selection {model_selection}: expected 0 (general) or 1 (landscape)")
        self.config = MediaPipeConfig(model_selection)
        module = _solution()
        with quiet_stderr():
            self._graph = module.SelfieSegmentation(model_selection=model_selection)
            # The first inference creates the TFLite delegate, which logs; do it here, silenced.
            self._graph.process(np.full((144, 256, 3), 128, np.uint8))

    def segment(self, frame: np.ndarray) -> np.ndarray:
        """``uint8 (H, W, 3)`` RGB → ``float32 (H, W)`` person probability."""
        with quiet_stderr():
            result = self._graph.process(np.ascontiguousarray(frame))
        return np.asarray(result.segmentation_mask, np.float32).copy()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, C, H, W = x.shape
        if C != 3:
            raise ValueError(f"MediaPipe takes RGB input (N, 3, H, W), got {C} channels")
        frames = (x.detach().clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        probs = np.stack([self.segment(f) for f in frames])[:, None]  # (N, 1, H, W)
        probs = np.clip(probs, _EPS, 1 - _EPS)
        return torch.from_numpy(np.log(probs / (1 - probs))).to(x.device)

    def close(self) -> None:
        self._graph.close()


TEACHER_SOURCE = "MediaPipe Selfie Segmentation 0.10.21 (not trained by the workbench)"


def teacher_model(name: str) -> tuple[MediaPipeSelfie, dict[str, Any]]:
    """MediaPipe (``mediapipe`` | ``mediapipe_landscape``) as a module in eval mode, and its options;
    :func:`workbench.seg.checkpoint.load_seg_checkpoint` wraps it as a ``SegNetwork`` (RGB input, no flow)."""
    if name not in TEACHERS:
        raise InputError(f"unknown teacher {name!r}; expected one of {', '.join(TEACHERS)}")
    return MediaPipeSelfie(TEACHERS[name]).eval(), {"model_selection": TEACHERS[name]}


__all__ = ["INSTALL_HINT", "TEACHERS", "TEACHER_SOURCE", "MediaPipeSelfie", "available_teachers",
           "mediapipe_available", "teacher_model"]
