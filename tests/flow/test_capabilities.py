"""Flow methods declare what they can do (``needs_sequence``, ``has_features``) and callers ask for it: a new
method with a capability is one class, recognised without its name appearing anywhere else."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.data.synthetic import SynthConfig, memory_clips
from workbench.flow import FlowEstimator, create_flow, flow_capability, flow_for, list_flows, register_flow
from workbench.flow.base import _REGISTRY


@pytest.fixture
def toy_methods():
    """Two toy methods, registered for one test: one that reads its clip by index, one that exposes features."""
    calls = []

    @register_flow("toy-truth")
    class ToyTruth(FlowEstimator):
        needs_sequence = True

        def __init__(self, sequence=None):
            self.sequence = sequence

        def estimate_indices(self, t: int, s: int) -> np.ndarray:
            calls.append((t, s))
            W, H = self.sequence.size
            return np.zeros((2, H, W), np.float32)

    @register_flow("toy-net")
    class ToyNet(FlowEstimator):
        has_features = True

        def estimate(self, frame_a, frame_b):
            return np.zeros((2, *frame_a.shape[:2]), np.float32)

    yield calls
    del _REGISTRY["toy-truth"], _REGISTRY["toy-net"]


def test_capabilities_are_declared_and_asked_for(toy_methods, tiny_unet):
    from workbench.pipeline import PipelineConfig, VideoSegmenter, run_video
    from workbench.pipeline.labels import LabelConfig

    assert flow_capability("gt", "needs_sequence") and not flow_capability("dis", "needs_sequence")
    assert flow_capability("pwc", "has_features") and not flow_capability("dis", "has_features")
    assert "gt" not in list_flows(pairs_only=True) and "toy-truth" not in list_flows(pairs_only=True)
    assert {"gt", "toy-truth", "toy-net", "dis"} <= set(list_flows())
    LabelConfig(PipelineConfig(flow="toy-net"), features="flownet").validate()  # a network with features is accepted
    with pytest.raises(Exception, match="needs --flow pwc or toy-net, not dis"):
        LabelConfig(PipelineConfig(flow="dis"), features="flownet").validate()
    clip = memory_clips(SynthConfig(clips=1, frames=4, size=(64, 48), seed=10002))[0]
    assert flow_for("dis", clip) is None and isinstance(flow_for("gt", clip), FlowEstimator)
    # the pipeline reads a sequence-bound method by frame index, whatever its name
    segmenter = VideoSegmenter(tiny_unet, PipelineConfig(policy="fixed", interval=10, regions=(1, 1),
                                                         flow="toy-truth"), flow=flow_for("toy-truth", clip))
    run_video(segmenter, clip, progress=False)
    assert toy_methods == [(1, 0), (2, 0), (3, 0)]
    with pytest.raises(Exception, match="unknown flow method 'nope'"):
        flow_capability("nope", "has_features")
    assert create_flow("toy-net").estimate(clip.frame(0), clip.frame(1)).shape == (2, 48, 64)
