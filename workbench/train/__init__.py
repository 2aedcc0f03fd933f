"""Training loops shared by the CLI and the notebooks (flow now; segmentation and decision networks next)."""

from workbench.train.flow import FlowTrainConfig, train_flow

__all__ = ["FlowTrainConfig", "train_flow"]
