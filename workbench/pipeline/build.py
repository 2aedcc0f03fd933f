"""One way from a description to a running segmenter, used by ``dvs run``, ``dvs sweep``, the dashboard's New run
and notebooks alike.

A :class:`SegmenterSpec` names the networks (shipped name, checkpoint path or teacher) and nests the
:class:`~workbench.pipeline.PipelineConfig`. :func:`build` loads the networks once and *resolves* the
configuration: the pipeline settings a decision network was trained with — its flow method, the scale its flow
was estimated at and its kind of score (``INHERITED``) — are taken from the decision network unless the spec
says it sets them itself (``inherit``). :meth:`Built.segmenter` then makes the
:class:`~workbench.pipeline.VideoSegmenter` for one clip (the flow ``gt`` is the clip's own ground truth, so the
flow estimator is made per clip) and for any variant of the configuration (a sweep's policies and targets).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from workbench.config import Config
from workbench.decision import Decider, load_decision_checkpoint
from workbench.errors import InputError
from workbench.flow import flow_for
from workbench.io.sequence import Sequence
from workbench.pipeline.policies import POLICIES
from workbench.pipeline.streaming import PipelineConfig, VideoSegmenter
from workbench.seg.checkpoint import SegNetwork, load_seg_checkpoint

INHERITED = ("flow", "flow_scale", "score")
"""Pipeline settings a decision network was trained with: its features and scores only mean what they meant in
training when the pipeline uses the same ones."""

NONE = "none"  # a network option that is left out (no decision network, no corrector)
_BUILT = object()  # Built.segmenter's default corrector: the built one


@dataclass
class SegmenterSpec(Config):
    """The networks of a segmenter by name and its pipeline settings.

    ``decision`` is loaded when the policy reads predicted scores (adaptive) or when :func:`build` is asked to
    (a sweep runs every policy); ``correct`` names a single-frame network whose output is fused into every output
    (Accel's corrective fusion) or ``none``; ``inherit`` lists the fields of ``INHERITED`` that come from the
    decision network when one is loaded (the command line leaves there exactly the options not given).
    """

    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    seg: str = "unet"
    decision: str = "decision"
    correct: str = NONE
    inherit: tuple[str, ...] = INHERITED
    backend: str = "torch"  # where the networks run: torch, or onnx (ONNX Runtime; workbench.export)

    def validate(self) -> None:
        from workbench.export import BACKENDS

        self.pipeline.validate()
        if self.backend not in BACKENDS:
            raise InputError(f"--backend {self.backend}: expected one of {', '.join(BACKENDS)}")
        unknown = [name for name in self.inherit if name not in INHERITED]
        if unknown:
            raise InputError(f"inherit {', '.join(unknown)}: expected some of {', '.join(INHERITED)}")


def inherited(decider: Decider) -> dict[str, object]:
    """The pipeline settings ``decider`` was trained with (``INHERITED``; ``flow_scale`` only when recorded)."""
    values: dict[str, object] = {"flow": decider.flow, "score": decider.score}
    if "flow_scale" in decider.meta:
        values["flow_scale"] = float(decider.meta["flow_scale"])
    return values


def resolve(config: PipelineConfig, decider: Decider | None, inherit: tuple[str, ...] = INHERITED) -> PipelineConfig:
    """``config`` with the fields in ``inherit`` taken from ``decider`` (unchanged without one)."""
    if decider is None:
        return config
    values = inherited(decider)
    return replace(config, **{name: values[name] for name in inherit if name in values})


@dataclass
class Built:
    """Loaded networks and the resolved configuration; :meth:`segmenter` makes a segmenter for a clip."""

    config: PipelineConfig
    seg: SegNetwork
    decider: Decider | None = None
    corrector: SegNetwork | None = None

    def segmenter(self, seq: Sequence | None = None, config: PipelineConfig | None = None,
                  net: SegNetwork | None = None, corrector: SegNetwork | None | object = _BUILT) -> VideoSegmenter:
        """A :class:`VideoSegmenter` for ``seq`` (its own ground-truth flow when the method is ``gt``) with
        ``config`` (default: the resolved one). The decision network goes only to policies that read predicted
        scores. ``net`` and ``corrector`` replace the built ones (a sweep's fast-network reference, its
        uncorrected rows)."""
        config = config or self.config
        decider = self.decider if POLICIES[config.policy].score == "predicted" else None
        flow = flow_for(config.flow, seq) if seq is not None else None
        return VideoSegmenter(net or self.seg, config, decider=decider, flow=flow,
                              corrector=self.corrector if corrector is _BUILT else corrector)


def build(spec: SegmenterSpec, load_decider: bool | None = None) -> Built:
    """Load ``spec``'s networks and resolve its configuration. The decision network is loaded when the policy
    needs it, or as ``load_decider`` says (``decision = "none"`` never loads one)."""
    from workbench.export import on_backend

    spec.validate()
    seg = on_backend(load_seg_checkpoint(spec.seg), spec.backend)
    corrector = None if spec.correct == NONE else on_backend(load_seg_checkpoint(spec.correct), spec.backend)
    wanted = POLICIES[spec.pipeline.policy].score == "predicted" if load_decider is None else load_decider
    decider = load_decision_checkpoint(spec.decision) if wanted and spec.decision != NONE else None
    config = resolve(spec.pipeline, decider, spec.inherit)
    config.validate()
    return Built(config, seg, on_backend(decider, spec.backend), corrector)


__all__ = ["INHERITED", "Built", "SegmenterSpec", "build", "inherited", "resolve"]
