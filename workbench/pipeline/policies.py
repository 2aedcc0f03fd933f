"""Key-frame policies and decision rules: the research variable of dynamic video segmentation, one small
registered object each.

A **policy** says, per region and frame, whether to segment (a new key frame), to warp the key frame's
output by optical flow, or to ask for a score and let a **rule** decide. :class:`~workbench.pipeline.
streaming.VideoSegmenter` only orchestrates (flow → policy → segment or warp → correct → stitch) and asks
the objects registered here.

Policies (``POLICIES``, name → object):

- ``per-frame`` — always segment;
- ``fixed`` — segment every ``interval`` frames, warp in between;
- ``adaptive`` — DVSNet: the decision network predicts the score of warping, the rule decides;
- ``oracle`` — as adaptive with the *true* score (look-ahead: an upper bound that needs the segmentation it is
  meant to save);
- ``flow-only`` — segment the first frame, then always warp.

Rules (``RULES``) turn a score (0–100) into segment or warp against a target:

- ``threshold`` — DVSNet: segment when this frame's score is below the target;
- ``cumulative`` — segment when the compound score, 100 × the product of score / 100 over every warp from the
  region's key frame (this one included), is below the target: a loss budget per key frame (the reasoning is
  in :mod:`workbench.pipeline.streaming`).

Adding a rule is one class here (or in your own module, imported before use) with ``@register_rule``: its
name, a one-line summary (the CLI's help, the sweep's text), the sweep's default targets and ``decide``;
``--rule``, ``dvs sweep``, run ids (``adaptive-<rule>``), the figures' curve names and the dashboard follow.
A policy is one class with ``@register_policy``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from workbench.pipeline.streaming import PipelineConfig


class Rule:
    """How a scored policy turns a region's score into a decision."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""  # one line: when this rule segments
    default_targets: ClassVar[str] = ""  # dvs sweep's targets (START:STOP:STEP or a list) without --targets

    @property
    def suffix(self) -> str:
        """What run ids and curve names append to ``adaptive`` / ``oracle`` under this rule."""
        return f"-{self.name}"

    def decide(self, score: float, compound: float, target: float) -> tuple[bool, float, float]:
        """``(segment, compound, compared)``: whether to segment; the key's compound (product of score / 100
        over its warps) after this warp; the number compared with the target when it is not ``score`` itself
        (NaN otherwise). ``compound`` is the key's value before this warp (1 right after a key frame)."""
        raise NotImplementedError


class Policy:
    """When a region is segmented: ``schedule`` → True (segment), False (warp) or None (score it, then ask the
    rule). The first frame of a region is always segmented, before any policy is asked."""

    name: ClassVar[str] = ""
    score: ClassVar[str | None] = None  # scored policies: "predicted" (decision network) or "true" (look-ahead)
    param: ClassVar[str | None] = None  # the PipelineConfig field a sweep varies for this policy

    @property
    def scored(self) -> bool:
        """Decides by a rule on a score (and so uses target, rule, dynamic)."""
        return self.score is not None

    def schedule(self, t: int, config: PipelineConfig) -> bool | None:
        raise NotImplementedError


class ScoredPolicy(Policy):
    """Every region-step after the first is scored and the rule decides; subclasses say where the score comes
    from (``score``)."""

    param = "target"

    def schedule(self, t: int, config: PipelineConfig) -> bool | None:
        return None


RULES: dict[str, Rule] = {}
POLICIES: dict[str, Policy] = {}


def register_rule(cls: type[Rule]) -> type[Rule]:
    """Class decorator: make a rule available by its ``name`` everywhere a rule is chosen."""
    if not cls.name or cls.name in RULES:
        raise ValueError(f"rule {cls.name!r}: a name is required and must be new")
    RULES[cls.name] = cls()
    return cls


def register_policy(cls: type[Policy]) -> type[Policy]:
    """Class decorator: make a policy available by its ``name`` everywhere a policy is chosen."""
    if not cls.name or cls.name in POLICIES:
        raise ValueError(f"policy {cls.name!r}: a name is required and must be new")
    POLICIES[cls.name] = cls()
    return cls


# ------------------------------------------------------------------------------------------------- rules


@register_rule
class ThresholdRule(Rule):
    name = "threshold"
    summary = "segment when this frame's score is below the target (DVSNet)"
    default_targets = "50:98:4"

    @property
    def suffix(self) -> str:
        return ""  # DVSNet's rule: run ids say plain adaptive / oracle

    def decide(self, score: float, compound: float, target: float) -> tuple[bool, float, float]:
        return score < target, compound, math.nan


@register_rule
class CumulativeRule(Rule):
    name = "cumulative"
    summary = ("segment when 100 × the product of score / 100 over the warps since the region's key frame is "
               "below the target (a loss budget per key frame)")
    # The compound score falls with every warp, so its useful targets reach much lower than the threshold's.
    default_targets = "1,3,5,10,20,30,40,50,60,70,80,90,95,97"

    def decide(self, score: float, compound: float, target: float) -> tuple[bool, float, float]:
        compound = compound * min(1.0, max(0.0, score / 100.0))
        return 100.0 * compound < target, compound, 100.0 * compound


# ---------------------------------------------------------------------------------------------- policies


@register_policy
class PerFrame(Policy):
    name = "per-frame"

    def schedule(self, t: int, config: PipelineConfig) -> bool | None:
        return True


@register_policy
class Fixed(Policy):
    name = "fixed"
    param = "interval"

    def schedule(self, t: int, config: PipelineConfig) -> bool | None:
        return t % config.interval == 0


@register_policy
class Adaptive(ScoredPolicy):
    name = "adaptive"
    score = "predicted"


@register_policy
class Oracle(ScoredPolicy):
    name = "oracle"
    score = "true"


@register_policy
class FlowOnly(Policy):
    name = "flow-only"

    def schedule(self, t: int, config: PipelineConfig) -> bool | None:
        return False


def method_name(policy: str, rule: str) -> str:
    """A run's method as run ids and sweep curves name it: the policy, plus the rule's suffix when scored."""
    return policy + RULES[rule].suffix if POLICIES[policy].scored else policy
