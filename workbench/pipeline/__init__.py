"""Streaming dynamic video segmentation: regions, key-frame policies, stitching, ``run_video``."""

from workbench.pipeline.regions import Region, parse_grid, region_grid, stitch
from workbench.pipeline.run import RunOutput, run_video
from workbench.pipeline.streaming import (
           POLICIES,
           RULES,
           STAGES,
           PipelineConfig,
           StepResult,
           StreamState,
           VideoSegmenter,
)

__all__ = ["POLICIES", "RULES", "STAGES", "PipelineConfig", "Region", "RunOutput", "StepResult", "StreamState",
           "VideoSegmenter", "parse_grid", "region_grid", "run_video", "stitch"]
