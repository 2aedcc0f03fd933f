"""Data: the synthetic video-call generator, still-to-video animation, torch datasets, splits, summaries.

Sequences come from :mod:`workbench.io` (any supported layout). :mod:`workbench.data.synthetic` and
:mod:`workbench.data.animate` make clips with exact ground truth; :mod:`workbench.data.realflow` gives real
images with true flow; :mod:`workbench.data.datasets` gives the training items (frame pairs, splits by clip);
:mod:`workbench.data.info` backs ``workbench data info``.
Names are imported lazily so that generating or summarising data does not pay for importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FramePairDataset": "datasets", "resize_flow": "datasets", "split_by_clip": "datasets",
    "train_val_datasets": "datasets", "dataset_info": "info", "format_info": "info",
    "SynthConfig": "synthetic", "TalkingHeadClip": "synthetic", "synthesize": "synthetic",
    "sample_frames": "synthetic", "HELD_OUT_SEED": "synthetic", "animate": "animate",
    "motorcycle_pair": "realflow",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"workbench.data.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'workbench.data' has no attribute {name!r}")
