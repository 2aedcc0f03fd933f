"""Training loops of the three networks — PWC-Net (``flow``), segmentation (``seg``), decision (``decision``) —
shared by the recipes (:mod:`workbench.experiments.recipes`), the command line and the notebooks."""

from workbench.train.flow import FlowTrainConfig, train_flow

__all__ = ["FlowTrainConfig", "train_flow"]
