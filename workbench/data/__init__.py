"""Data for training and analysis: torch datasets of frame pairs, splits by clip, dataset summaries.

Sequences come from :mod:`workbench.io` (any supported layout); see :mod:`workbench.data.datasets` for the
item format and :mod:`workbench.data.info` for ``workbench data info``.
"""

from workbench.data.datasets import FramePairDataset, resize_flow, split_by_clip, train_val_datasets
from workbench.data.info import dataset_info, format_info

__all__ = ["FramePairDataset", "dataset_info", "format_info", "resize_flow", "split_by_clip",
           "train_val_datasets"]
