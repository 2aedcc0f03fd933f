"""Segmentation networks: U-Net, FUNet (motion mask + RGB), FUNet-flow (ours), and a fast per-frame network.

All are built by name with :func:`workbench.registry.create_model` and return logits ``(N, K, H, W)`` for
inputs of any size. Checkpoints (:mod:`~workbench.seg.checkpoint`), frame-by-frame segmentation of a video
(:mod:`~workbench.seg.segmenter`), ``workbench predict`` (:mod:`~workbench.seg.predict`) and the MediaPipe teacher
(:mod:`~workbench.seg.teacher`) live here; training is :mod:`workbench.train.seg`.
"""

from workbench.seg.fastseg import FastSeg, FastSegConfig
from workbench.seg.inputs import FLOW_NORM, MOTION_THRESHOLD, build_input, motion_mask, warp_probs
from workbench.seg.unet import UNet, UNetConfig

__all__ = ["FLOW_NORM", "MOTION_THRESHOLD", "FastSeg", "FastSegConfig", "UNet", "UNetConfig", "build_input",
           "motion_mask", "warp_probs"]
