"""The streaming pipeline: policies decide as specified, warping is exact where it should be, state flows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from workbench.data.synthetic import SynthConfig, memory_clips
from workbench.decision import Decider, DecisionNet
from workbench.errors import InputError
from workbench.io import MemorySequence
from workbench.pipeline import (
    POLICIES,
    RULES,
    PipelineConfig,
    Rule,
    VideoSegmenter,
    region_grid,
    register_rule,
    run_video,
)
from workbench.pipeline.policies import method_name
from workbench.seg.checkpoint import build_network
from workbench.seg.segmenter import Segmenter


@pytest.fixture(scope="module")
def net(tiny_unet):
    return tiny_unet


@pytest.fixture(scope="module")
def clip():
    return memory_clips(SynthConfig(clips=1, frames=7, size=(96, 64), seed=10001))[0]


def constant_decider(score: float) -> Decider:
    """A decision network whose prediction is ``score`` for every input."""
    model = DecisionNet()
    for p in model.parameters():
        torch.nn.init.zeros_(p)
    torch.nn.init.constant_(model.head[-1].bias, score)
    return Decider(model)


def decisions(segmenter, seq):
    out = run_video(segmenter, seq, progress=False)
    frames = max(r["frame"] for r in out.rows) + 1
    grid = np.zeros((frames, out.summary["regions"]), bool)
    for r in out.rows:
        grid[r["frame"], r["region"]] = r["decision"] == "segment"
    return grid, out


def test_per_frame_matches_the_network_on_each_region(net, clip):
    seg = VideoSegmenter(net, PipelineConfig(policy="per-frame", regions=(1, 2), overlap=0))
    result, _ = seg.step(clip.frame(0))
    plain = Segmenter(net)
    for region in region_grid(96, 64, 1, 2, 0):
        logits, _ = plain.logits(np.ascontiguousarray(region.crop(clip.frame(0))))
        np.testing.assert_allclose(region.crop(result.logits, channels_first=True), logits[0].numpy(), atol=1e-5)


@pytest.mark.parametrize("policy, interval, expected", [("fixed", 3, [0, 3, 6]), ("flow-only", 5, [0]),
                                                        ("per-frame", 1, list(range(7)))])
def test_schedules(net, clip, policy, interval, expected):
    grid, out = decisions(VideoSegmenter(net, PipelineConfig(policy=policy, interval=interval)), clip)
    assert [t for t in range(7) if grid[t].all()] == expected
    assert grid.any(axis=1).sum() == len(expected)  # whole key frames only
    assert out.summary["key_fraction"] == pytest.approx(len(expected) / 7)
    assert all(r["key_frame"] == max(k for k in expected if k <= r["frame"]) for r in out.rows)


def test_adaptive_follows_the_score(net, clip):
    always_warp, _ = decisions(VideoSegmenter(net, PipelineConfig(target=40), decider=constant_decider(50)), clip)
    assert always_warp[0].all() and not always_warp[1:].any()
    always_seg, out = decisions(VideoSegmenter(net, PipelineConfig(target=60), decider=constant_decider(50)), clip)
    assert always_seg.all()
    assert all(r["score_pred"] == pytest.approx(50.0) for r in out.rows if r["frame"] > 0)
    # Both paths ran on adaptive segment steps, so the true score is known there.
    assert all(0 <= r["score_true"] <= 100 for r in out.rows if r["frame"] > 0)


def test_dynamic_target(net, clip):
    """DVSNet's --dynamic: −1 after a segmentation, +0.1 after a warp; the row keeps the target it used."""
    config = PipelineConfig(target=51.2, dynamic=True, regions=(1, 1))
    _, out = decisions(VideoSegmenter(net, config, decider=constant_decider(50)), clip)
    expected, keys, target = [], [], 51.2
    for t in range(7):
        expected.append(target)
        keys.append(t == 0 or 50 < target)
        target = target - 1 if keys[-1] else target + 0.1
    assert [r["target"] for r in out.rows] == pytest.approx(expected)
    assert [r["decision"] == "segment" for r in out.rows] == keys
    assert keys[:3] == [True, True, False]  # the rule moved the target across the score


def test_warp_of_a_still_scene_is_exact(net):
    """Identical frames: the flow is zero, so warping the key logits reproduces per-frame segmentation."""
    frame = memory_clips(SynthConfig(clips=1, frames=2, size=(96, 64), seed=10002))[0].frame(0)
    still = MemorySequence("still", [frame] * 4, [np.zeros((64, 96), np.uint8)] * 4)
    _, per_frame = decisions(VideoSegmenter(net, PipelineConfig(policy="per-frame")), still)
    _, fixed = decisions(VideoSegmenter(net, PipelineConfig(policy="flow-only")), still)
    assert [r["iou"] for r in fixed.rows] == [r["iou"] for r in per_frame.rows]


def test_warp_at_a_smaller_scale(net, clip):
    """``warp_scale`` 0.5 warps the key's logits at half size and upsamples: on a repeated frame it reproduces the
    key up to the down- and upsampling; on a moving clip it stays close to the full-size warp, with the same key
    frames."""
    frame = clip.frame(0)
    full = VideoSegmenter(net, PipelineConfig(policy="flow-only", regions=(1, 1)))
    half = VideoSegmenter(net, PipelineConfig(policy="flow-only", regions=(1, 1), warp_scale=0.5))
    (a, state_a), (b, state_b) = full.step(frame), half.step(frame)
    assert np.array_equal(a.probs, b.probs)  # a key frame is segmented, not warped
    (a, _), (b, _) = full.step(frame, state_a), half.step(frame, state_b)
    assert np.abs(a.probs - b.probs).max() < 0.1 and np.mean(a.seg == b.seg) > 0.97
    fixed = {scale: decisions(VideoSegmenter(net, PipelineConfig(policy="fixed", interval=3, warp_scale=scale)), clip)
             for scale in (1.0, 0.5)}
    assert np.array_equal(fixed[1.0][0], fixed[0.5][0])
    ious = {scale: np.array([r["iou"] for r in out.rows]) for scale, (_, out) in fixed.items()}
    assert np.abs(ious[1.0] - ious[0.5]).max() < 0.05
    with pytest.raises(InputError, match="--warp-scale 0"):
        VideoSegmenter(net, PipelineConfig(warp_scale=0))


def test_cumulative_rule_spends_a_budget(net, clip):
    """Under the cumulative rule a region warps until 100 × the product of score / 100 since its key falls
    below the target: a constant score of 95 against target 80 warps 4 frames (0.95⁴ = 0.81), then
    re-segments (0.95⁵ = 0.77)."""
    config = PipelineConfig(target=80, rule="cumulative", regions=(1, 1))
    grid, out = decisions(VideoSegmenter(net, config, decider=constant_decider(95)), clip)
    assert [t for t in range(7) if grid[t].all()] == [0, 5]
    assert [r["score_cum"] for r in out.rows[1:]] == pytest.approx([100 * 0.95**n for n in (1, 2, 3, 4, 5, 1)])
    assert all(r["score_pred"] == pytest.approx(95) for r in out.rows[1:])
    assert [r["key_frame"] for r in out.rows] == [0, 0, 0, 0, 0, 5, 5]
    # DVSNet's threshold rule never re-segments at that score, and leaves score_cum unset
    grid, out = decisions(VideoSegmenter(net, PipelineConfig(target=80, regions=(1, 1)),
                                         decider=constant_decider(95)), clip)
    assert not grid[1:].any() and all(np.isnan(r["score_cum"]) for r in out.rows)
    assert config.method == "adaptive-cumulative" and PipelineConfig(policy="fixed", rule="cumulative").method == \
        "fixed"


def test_cumulative_oracle_multiplies_true_scores(net, clip):
    """The oracle under the cumulative rule: each row's compared score is 100 × the product of the true
    scores / 100 over the warps since its key; it re-segments exactly when that falls below the target."""
    _, out = decisions(VideoSegmenter(net, PipelineConfig(policy="oracle", target=97, rule="cumulative",
                                                          regions=(1, 1))), clip)
    compound = 1.0
    for r in out.rows[1:]:
        compound *= r["score_true"] / 100
        assert r["score_cum"] == pytest.approx(100 * compound)
        assert (r["decision"] == "segment") == (100 * compound < 97)
        if r["decision"] == "segment":
            compound = 1.0


def test_oracle_limits(net, clip):
    """Target 0 never re-segments (flow-only); target 100 re-segments whenever the warp is imperfect."""
    low, _ = decisions(VideoSegmenter(net, PipelineConfig(policy="oracle", target=0)), clip)
    assert not low[1:].any()
    _, out = decisions(VideoSegmenter(net, PipelineConfig(policy="oracle", target=100)), clip)
    assert all((r["decision"] == "segment") == (r["score_true"] < 100) for r in out.rows if r["frame"] > 0)


def test_bad_configs(net):
    with pytest.raises(InputError, match="policy"):
        VideoSegmenter(net, PipelineConfig(policy="sometimes"))
    with pytest.raises(InputError, match="between 0 and 100"):
        VideoSegmenter(net, PipelineConfig(target=120))
    with pytest.raises(InputError, match="--rule 'greedy'"):
        VideoSegmenter(net, PipelineConfig(rule="greedy"))
    with pytest.raises(InputError, match="decision network"):
        VideoSegmenter(net, PipelineConfig(policy="adaptive"))
    seg = VideoSegmenter(net, PipelineConfig(policy="per-frame"))
    _, state = seg.step(np.zeros((64, 96, 3), np.uint8))
    with pytest.raises(InputError, match="expected 96x64"):
        seg.step(np.zeros((64, 80, 3), np.uint8), state)


def test_no_ground_truth_asked_for_iou(net):
    seq = MemorySequence("nogt", [np.zeros((64, 96, 3), np.uint8)] * 2)
    with pytest.raises(InputError, match="no ground-truth"):
        run_video(VideoSegmenter(net, PipelineConfig(policy="per-frame")), seq, progress=False)
    out = run_video(VideoSegmenter(net, PipelineConfig(policy="per-frame")), seq, evaluate=False, progress=False)
    assert out.summary["mean_iou"] is None and np.isnan(out.rows[0]["iou"])


def test_stage_times_add_up(net, clip):
    _, out = decisions(VideoSegmenter(net, PipelineConfig(policy="fixed", interval=2)), clip)
    for r in out.rows:
        parts = (r["t_flow_ms"] + r["t_decision_ms"] + r["t_seg_ms"] + r["t_warp_ms"] + r["t_fast_ms"]
                 + r["t_stitch_ms"])
        assert r["t_total_ms"] == pytest.approx(parts)
        assert (r["t_seg_ms"] > 0) == (r["decision"] == "segment")
    total = sum(r["t_total_ms"] for r in out.rows)
    assert out.summary["fps"] == pytest.approx(7 / (total / 1000))


def test_ground_truth_flow_ablation(net, clip):
    """--flow gt: the warp path reads the clip's ground truth from frame t to the key frame, per region."""
    from workbench.flow import create_flow

    segmenter = VideoSegmenter(net, PipelineConfig(policy="flow-only", flow="dis"), flow=create_flow("gt",
                                                                                                  sequence=clip))
    result, state = segmenter.step(clip.frame(0))
    result, state = segmenter.step(clip.frame(1), state)
    result, state = segmenter.step(clip.frame(2), state)
    from workbench.flow.ground_truth import GroundTruthFlow

    truth = GroundTruthFlow(clip).estimate_indices(2, 0)
    for step, region in zip(result.regions, segmenter.regions(96, 64), strict=True):
        np.testing.assert_array_equal(step.flow, region.crop(truth, channels_first=True))


@pytest.fixture(scope="module")
def corrector():
    torch.manual_seed(1)
    net = build_network("fastseg")
    net.model.eval()
    return net


def test_corrective_fusion(net, clip, corrector):
    """With a corrector, every region's output is its logits (warped or fresh) + weight × the corrector's logits
    on the whole frame; key logits stay the accurate network's; weight 0 is the plain pipeline."""
    config = PipelineConfig(policy="fixed", interval=3, regions=(1, 2), overlap=0, correct_weight=2.5)
    plain = VideoSegmenter(net, PipelineConfig(**{**config.to_dict(), "correct_weight": 0.0}), corrector=corrector)
    fused = VideoSegmenter(net, config, corrector=corrector)
    alone = Segmenter(corrector)
    state_p = state_f = None
    for t in range(4):
        frame = clip.frame(t)
        res_p, state_p = plain.step(frame, state_p)
        res_f, state_f = fused.step(frame, state_f)
        extra, _ = alone.logits(frame)
        assert [s.is_key for s in res_f.regions] == [t % 3 == 0] * 2
        for step, region in zip(res_f.regions, fused.regions(96, 64), strict=True):
            got = region.crop(res_f.logits, channels_first=True)
            base = region.crop(res_p.logits, channels_first=True)
            np.testing.assert_allclose(got, base + 2.5 * region.crop(extra[0].numpy(), channels_first=True),
                                       atol=1e-4)
            assert step.times["fast"] > 0
        for key_f, key_p in zip(state_f.keys, state_p.keys, strict=True):
            assert torch.equal(key_f.key_logits, key_p.key_logits)
    state_n = None
    no_corrector = VideoSegmenter(net, config)
    for t in range(4):
        res_n, state_n = no_corrector.step(clip.frame(t), state_n)
    np.testing.assert_array_equal(res_n.logits, res_p.logits)


def test_corrector_must_fit(net):
    with pytest.raises(InputError, match="single-frame"):
        VideoSegmenter(net, PipelineConfig(policy="fixed"), corrector=build_network("funet", {"size": "tiny"}))
    with pytest.raises(InputError, match="classes"):
        VideoSegmenter(net, PipelineConfig(policy="fixed"),
                       corrector=build_network("fastseg", classes=["background", "head", "body"]))
    with pytest.raises(InputError, match="correct-weight"):
        VideoSegmenter(net, PipelineConfig(policy="fixed", correct_weight=-1.0))


# ----------------------------------------------------------------- policies and rules are registered objects


@pytest.fixture
def toy_rule():
    """A toy rule registered for one test: segment every other warp-eligible frame whose score is below the
    target, i.e. when the number of warps since the key (kept in the compound) reaches 2 and the score is low."""

    @register_rule
    class EveryOther(Rule):
        name = "every-other"
        summary = "segment on the second warp of a key whose score is below the target"
        default_targets = "60,90"

        def decide(self, score: float, compound: float, target: float) -> tuple[bool, float, float]:
            warps = round(-math.log2(compound)) + 1 if compound < 1 else 1  # compound = 2^-warps
            return warps >= 2 and score < target, compound / 2, float(warps)

    yield RULES["every-other"]
    del RULES["every-other"]


def test_a_new_rule_is_one_class(net, clip, toy_rule):
    from workbench.experiments.sweep import rule_sentence
    from workbench.viz.sweep import curve_name

    config = PipelineConfig(target=90, rule="every-other", regions=(1, 1))
    config.validate()
    grid, out = decisions(VideoSegmenter(net, config, decider=constant_decider(50)), clip)
    assert [t for t in range(7) if grid[t].all()] == [0, 2, 4, 6]  # the second warp of each key segments
    assert [r["score_cum"] for r in out.rows[1:]] == [1, 2, 1, 2, 1, 2]  # what the rule compared
    grid, _ = decisions(VideoSegmenter(net, config, decider=constant_decider(95)), clip)
    assert not grid[1:].any()  # a score above the target never segments
    assert config.method == method_name("adaptive", "every-other") == "adaptive-every-other"
    assert curve_name("adaptive", "every-other") == config.method  # the figures name the curve as the run ids
    assert PipelineConfig(policy="fixed", rule="every-other").method == "fixed"
    assert rule_sentence("every-other") == f"Adaptive and oracle decide by the every-other rule: {toy_rule.summary}."


def test_registered_rules_and_policies_are_what_the_cli_offers():
    import contextlib
    import io

    from workbench.cli import build_parser

    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), pytest.raises(SystemExit):
        build_parser().parse_args(["dvs", "run", "--help"])
    shown = " ".join(shown.getvalue().split())
    assert all(f"{name} = {rule.summary}" in shown for name, rule in RULES.items())  # --rule's help: the registry
    assert "{per-frame,fixed,adaptive,oracle,flow-only}" in shown
    assert {"threshold", "cumulative"} <= set(RULES) and set(POLICIES) == {"per-frame", "fixed", "adaptive",
                                                                           "oracle", "flow-only"}
    assert [p.param for p in POLICIES.values()] == [None, "interval", "target", "target", None]
    assert PipelineConfig(policy="fixed", interval=7).param == 7 and PipelineConfig(policy="oracle").param == 90
    assert RULES["threshold"].decide(80, 1.0, 90)[0] and not RULES["threshold"].decide(95, 1.0, 90)[0]
    segment, compound, compared = RULES["cumulative"].decide(90, 0.9, 80)
    assert compound == pytest.approx(0.81) and compared == pytest.approx(81) and not segment
    assert np.isnan(RULES["threshold"].decide(95, 1.0, 90)[2])
    with pytest.raises(ValueError, match="must be new"):
        register_rule(type(RULES["threshold"]))
