"""One builder from a spec to a segmenter (``workbench.pipeline.build``), used by ``dvs run``, ``dvs sweep`` and the
dashboard's New run: the settings a decision network was trained with are inherited unless given."""

from __future__ import annotations

import pytest

from workbench.cli import build_parser
from workbench.cli.dvs import _spec
from workbench.data.synthetic import SynthConfig, memory_clips
from workbench.errors import InputError
from workbench.flow.ground_truth import GroundTruthFlow
from workbench.pipeline import PipelineConfig
from workbench.pipeline.build import INHERITED, Built, SegmenterSpec, build, inherited, resolve


def test_adaptive_inherits_the_decision_networks_settings_unless_given():
    built = build(SegmenterSpec(PipelineConfig(policy="adaptive", flow="farneback", flow_scale=1.0),
                                inherit=("score",)))
    assert built.decider is not None
    assert built.config.flow == "farneback" and built.config.flow_scale == 1.0  # given: kept
    assert built.config.score == built.decider.score
    everything = build(SegmenterSpec(PipelineConfig(policy="adaptive")))
    trained = inherited(everything.decider)
    assert {k: getattr(everything.config, k) for k in trained} == trained and set(trained) <= set(INHERITED)
    # other policies load no decision network and keep the pipeline's defaults
    fixed = build(SegmenterSpec(PipelineConfig(policy="fixed", interval=3)))
    assert fixed.decider is None and fixed.config == PipelineConfig(policy="fixed", interval=3)
    assert build(SegmenterSpec(PipelineConfig(policy="fixed")), load_decider=True).decider is not None
    assert build(SegmenterSpec(PipelineConfig(policy="fixed"), decision="none"), load_decider=True).decider is None
    assert resolve(PipelineConfig(), None) == PipelineConfig()


def test_segmenter_per_clip_and_variants(tiny_unet):
    clip = memory_clips(SynthConfig(clips=1, frames=3, size=(64, 48), seed=10005))[0]
    built = Built(PipelineConfig(policy="fixed", flow="gt", regions=(1, 1)), tiny_unet)
    segmenter = built.segmenter(clip)
    assert isinstance(segmenter.flow, GroundTruthFlow)  # the clip's own ground truth, made per clip
    variant = built.segmenter(clip, PipelineConfig(policy="per-frame", regions=(1, 1)))
    assert variant.config.policy == "per-frame" and segmenter.config.policy == "fixed"
    with pytest.raises(InputError, match="inherit"):
        SegmenterSpec(inherit=("rule",)).validate()


def test_command_line_spec_leaves_only_the_options_not_given_to_the_decision_network():
    parser = build_parser()
    args = parser.parse_args(["dvs", "run", "--data", "x", "--flow-scale", "1"])
    spec = _spec(args, policy=args.policy)
    assert spec.pipeline.flow_scale == 1.0 and spec.inherit == ("flow", "score")
    args = parser.parse_args(["dvs", "sweep", "--flow", "farneback", "--regions", "1x2"])
    spec = _spec(args, rule=args.rule)
    assert spec.pipeline.flow == "farneback" and spec.pipeline.regions == (1, 2)
    assert spec.inherit == ("flow_scale", "score")
