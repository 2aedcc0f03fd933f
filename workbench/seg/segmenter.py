"""Frame-by-frame segmentation of a video with any segmentation network, exactly as in training.

``Segmenter(net).step(frame)`` keeps what the flow-guided inputs need between calls (the previous frame
and the previous prediction's probabilities at the network's resolution), estimates the flow from frame
t to t−1 with the network's flow method when it needs one, builds the input with
:func:`workbench.seg.inputs.build_input`, and returns class probabilities at the frame's full size. The
sigmoid is applied once (the FUNet seed applied it twice, which moved its 0.5 threshold to ≈1/255).

Frames are resized by ``scale`` before the flow and the network (as in training); logits are resized back
bilinearly. Without an explicit ``scale`` it is chosen per sequence from its frame width
(:meth:`SegNetwork.input_scale`: the checkpoint's own, or back to the width it was trained at) — at the first
:meth:`step` after :meth:`reset`, or by :meth:`fit` for callers that segment parts of a frame. ``step`` also
records its stage times (``last_times``: flow and network, in milliseconds, no I/O) so that callers can report
fps without reading or writing files.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import torch

from workbench.errors import InputError
from workbench.flow import FlowEstimator, create_flow
from workbench.seg.checkpoint import SegNetwork
from workbench.seg.inputs import build_input


def probs_to_labels(probs: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """``(K, H, W)`` probabilities → ``uint8 (H, W)`` class ids (binary: foreground where p ≥ threshold)."""
    if probs.shape[0] == 1:
        return (probs[0] >= threshold).astype(np.uint8)
    return probs.argmax(axis=0).astype(np.uint8)


def logits_to_probs(logits: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(logits) if logits.shape[1] == 1 else torch.softmax(logits, dim=1)


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """``(W, H)`` of a frame resized by ``scale`` — the one rounding rule of training and prediction."""
    return max(8, round(width * scale)), max(8, round(height * scale))


def resize_frame(frame: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return frame
    H, W = frame.shape[:2]
    return cv2.resize(frame, scaled_size(W, H, scale), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def frame_tensor(frame: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """``uint8 (H, W, 3)`` → ``float32 (1, 3, H, W)`` in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frame.transpose(2, 0, 1))).to(device).float().div_(255.0)[None]


class Segmenter:
    """Streaming segmentation of one sequence; call :meth:`reset` between sequences."""

    def __init__(self, net: SegNetwork, flow: FlowEstimator | str | None = None, scale: float | None = None,
                 device: torch.device | str = "cpu"):
        self.net = net
        self.auto_scale = scale is None  # chosen per sequence from the frame width (fit)
        self.scale = float(net.scale if scale is None else scale)
        if not self.scale > 0:
            raise InputError(f"--scale {scale}: expected a positive factor")
        self.device = torch.device(device)
        self.net.model.to(self.device).eval()
        if net.needs_flow:
            flow = flow if flow is not None else net.flow or "dis"
            if isinstance(flow, str):  # a learned flow runs where the network runs
                flow = create_flow(flow).on_backend(getattr(net, "backend", "torch"))
            self.flow: FlowEstimator | None = flow
        else:
            self.flow = None
        self.last_times: dict[str, float] = {}
        self.reset()

    def reset(self) -> None:
        self.prev_frame: np.ndarray | None = None
        self.prev_probs: torch.Tensor | None = None
        self._fitted = False

    def fit(self, width: int) -> None:
        """Choose the scale for a sequence whose frames are ``width`` wide (no-op with an explicit ``scale``)."""
        if self.auto_scale:
            self.scale = self.net.input_scale(width)
        self._fitted = True

    @torch.inference_mode()
    def logits(self, frame: np.ndarray, prev_frame: np.ndarray | None = None,
               prev_probs: torch.Tensor | None = None, flow_bwd: np.ndarray | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Stateless core of :meth:`step`: logits ``(1, K, H, W)`` at the frame's size, and the
        probabilities ``(1, K, h, w)`` at the network's resolution (what the next frame's input needs).

        ``prev_frame`` (already resized by ``scale``) and ``prev_probs`` (network resolution) are the
        previous frame and prediction; ``flow_bwd`` (``(2, h, w)``, t → t−1) replaces the flow estimate.
        Stage times go to ``last_times``.
        """
        H, W = frame.shape[:2]
        small = resize_frame(frame, self.scale)
        start = time.perf_counter()
        flow = None
        if self.net.needs_flow:
            if flow_bwd is None:
                if prev_frame is None:
                    flow_bwd = np.zeros((2, *small.shape[:2]), np.float32)  # first frame: no motion known
                elif prev_frame.shape != small.shape:
                    raise InputError(f"frame size changed within a sequence: {small.shape[1]}x{small.shape[0]} "
                                     f"after {prev_frame.shape[1]}x{prev_frame.shape[0]}")
                else:
                    flow_bwd = self.flow.estimate(small, prev_frame)
            flow = torch.from_numpy(np.nan_to_num(np.asarray(flow_bwd, np.float32)))[None].to(self.device)
        t_flow = time.perf_counter()
        x = build_input(self.net.input, frame_tensor(small, self.device), flow, prev_probs,
                        num_classes=self.net.num_classes)
        logits = self.net.model(x)
        probs_small = logits_to_probs(logits)
        if (H, W) != tuple(logits.shape[-2:]):  # resize the logits, not the probabilities (sharper edges)
            logits = torch.nn.functional.interpolate(logits, size=(H, W), mode="bilinear", align_corners=False)
        self.last_times = {"flow_ms": 1000 * (t_flow - start), "seg_ms": 1000 * (time.perf_counter() - t_flow)}
        return logits, probs_small

    @torch.inference_mode()
    def step(self, frame: np.ndarray, flow_bwd: np.ndarray | None = None) -> np.ndarray:
        """Probabilities ``float32 (K, H, W)`` of ``frame`` (``uint8 (H, W, 3)``), K = 1 for binary.

        ``flow_bwd`` (optional, ``(2, h, w)`` at the network's resolution, from t to t−1) replaces the
        estimate — training validation passes precomputed flows this way.
        """
        if not self._fitted:
            self.fit(frame.shape[1])
        logits, probs_small = self.logits(frame, self.prev_frame, self.prev_probs, flow_bwd)
        t_net = time.perf_counter()
        probs = probs_small if logits.shape[-2:] == probs_small.shape[-2:] else logits_to_probs(logits)
        probs = probs[0].cpu().numpy()
        self.last_times["seg_ms"] += 1000 * (time.perf_counter() - t_net)
        self.prev_frame, self.prev_probs = resize_frame(frame, self.scale), probs_small
        return probs

    def labels(self, probs: np.ndarray, threshold: float | None = None) -> np.ndarray:
        return probs_to_labels(probs, self.net.threshold if threshold is None else threshold)
