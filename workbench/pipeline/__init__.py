"""Streaming dynamic video segmentation: regions, key-frame policies, stitching, ``run_video``."""

from workbench.pipeline.policies import POLICIES, RULES, Policy, Rule, register_policy, register_rule
from workbench.pipeline.regions import Region, parse_grid, region_grid, stitch
from workbench.pipeline.run import RunOutput, run_video
from workbench.pipeline.streaming import (
           STAGES,
           PipelineConfig,
           StepResult,
           StreamState,
           VideoSegmenter,
)

__all__ = ["POLICIES", "RULES", "STAGES", "PipelineConfig", "Policy", "Region", "Rule", "RunOutput", "StepResult",
           "StreamState", "VideoSegmenter", "parse_grid", "region_grid", "register_policy", "register_rule",
           "run_video", "stitch"]
