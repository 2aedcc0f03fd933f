"""The decision network of adaptive key-frame scheduling (DVSNet): features, network, checkpoints, labels.

It predicts, for a region of the current frame and that region's key frame, the *expected confidence
score* (0–100) of warping the key frame's segmentation to the current frame by optical flow; the pipeline
warps when the score reaches the target and re-segments otherwise.
"""

from workbench.decision.checkpoint import Decider, load_decision_checkpoint, save_decision_checkpoint
from workbench.decision.features import FEATURE_KINDS, flow_features
from workbench.decision.network import DecisionConfig, DecisionNet

__all__ = ["FEATURE_KINDS", "DecisionConfig", "DecisionNet", "Decider", "flow_features", "load_decision_checkpoint",
           "save_decision_checkpoint"]
