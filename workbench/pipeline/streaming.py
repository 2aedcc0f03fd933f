"""The streaming pipeline of dynamic video segmentation: ``result, state = segmenter.step(frame, state)``.

Per frame and per region (``workbench.pipeline.regions``), a **policy** picks one of two paths:

- **segment** — run the segmentation network on the region; the region becomes a new key frame
  (``key_frame``, ``key_logits``);
- **warp** — estimate the flow from the current region to its key region and backward-warp the key logits
  by it (``padding="border"``: a zero logit would mean "undecided").

With a ``corrector`` (a cheap single-frame network, e.g. ``fastseg``; the corrective fusion of Accel, Jain et
al., CVPR 2019), every region's output — warped or fresh — is fused with the corrector's logits on the current
frame: ``logits + correct_weight · corrector``. The corrector runs once per frame on the whole frame (cheaper
than per region, and it sees the context); its time is shared by the frame's regions. Key logits, and so every
warp, stay the accurate network's alone: the corrector repairs what warping gets wrong (disocclusions, flow
errors at the boundary, a stale key), and with ``per-frame`` the pipeline is the two networks' ensemble.

Policies (``POLICIES``, objects in :mod:`workbench.pipeline.policies`): ``per-frame`` (always segment),
``fixed`` (segment every ``interval`` frames, warp in between), ``adaptive`` (DVSNet: the decision network
predicts the confidence score of warping; segment when it is below ``target``), ``oracle`` (as adaptive but
with the *true* score — an upper bound that needs the segmentation it is meant to save; its look-ahead is not
timed), ``flow-only`` (segment the first frame, then always warp). The ``rule`` of adaptive and oracle
(``RULES``, same module): ``threshold`` (DVSNet) segments when this frame's score is below ``target``;
``cumulative`` when the compound score — 100 × the product of score / 100 over
every warp from the region's key frame, this one included — is below it. As ln(score / 100) ≈ −(100 −
score) / 100, that is a budget of about −100·ln(target / 100) loss points (≈ 100 − target near 100) summed
over the key's warps; target 0 never re-segments, 100 re-segments on any loss, as with the threshold.
Why: if a region's loss grows linearly with the key's age at a rate a, a per-frame threshold gives it an
interval ∝ 1/a, and over many regions that spends keys exactly as well as one fixed interval for all; the
loss-minimising intervals for a given number of keys are ∝ 1/√a (a renewal argument), which is what a
budget on the summed loss gives. ``dynamic`` moves the target after each region-step: −``dynamic_down`` after a
segmentation, +``dynamic_up`` after a warp (DVSNet's ``--dynamic``: −1 and +0.1), within [0, 100].

The true score (``score_true``) of a warp is its agreement (:func:`workbench.metrics.confidence_score`,
``score`` kind) with the segmentation network's output on the same region; it is known for free on adaptive
segment steps (both were computed), and on every region-step with ``true_scores`` (untimed look-ahead).

Stage times per region-step, in ms, I/O excluded: ``flow``, ``decision`` (features + network), ``seg``,
``warp``, ``fast`` (the fast network: corrector, or input of ``flow+fast`` decision features; one pass per
frame, shared by its regions); per frame: ``stitch``. Overlaps are stitched by the more confident region.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import cached_property

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from workbench.config import Config
from workbench.decision import Decider
from workbench.errors import InputError
from workbench.flow import FlowEstimator, create_flow, flow_capability, list_flows
from workbench.metrics import SCORE_KINDS, confidence_score
from workbench.ops import warp
from workbench.pipeline.policies import POLICIES, RULES, method_name
from workbench.pipeline.regions import Region, region_grid, stitch
from workbench.seg.checkpoint import SegNetwork
from workbench.seg.segmenter import Segmenter, frame_tensor, logits_to_probs, probs_to_labels, resize_frame

STAGES = ("flow", "decision", "seg", "warp", "fast")


def estimate_flow(method: FlowEstimator, current: np.ndarray, key: np.ndarray, scale: float = 1.0,
                  features: bool = False) -> tuple[np.ndarray, torch.Tensor | None]:
    """Flow current → key ``(2, h, w)`` in pixels of the inputs, estimated on both resized by ``scale``
    (DVSNet runs its flow network at half the region's resolution) and upsampled; with ``features``, also the
    flow network's deepest features of that pass."""
    h, w = current.shape[:2]
    if scale != 1.0:
        size = (max(8, round(w * scale)), max(8, round(h * scale)))
        current, key = (cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in (current, key))
    feats = None
    if features:
        flow, feats = method.estimate_with_features(current, key)
    else:
        flow = method.estimate(current, key)
    if scale != 1.0:
        sy, sx = h / flow.shape[1], w / flow.shape[2]
        flow = np.stack([cv2.resize(flow[0], (w, h), interpolation=cv2.INTER_LINEAR) * sx,
                         cv2.resize(flow[1], (w, h), interpolation=cv2.INTER_LINEAR) * sy])
    return flow.astype(np.float32, copy=False), feats


@dataclass
class PipelineConfig(Config):
    policy: str = "adaptive"
    target: float = 90.0  # adaptive / oracle: warp when the score reaches it (DVSNet's default 90)
    rule: str = "threshold"  # adaptive / oracle: threshold (DVSNet) or cumulative (see the module docstring)
    interval: int = 5  # fixed: a key frame every `interval` frames
    dynamic: bool = False
    dynamic_down: float = 1.0  # DVSNet --dynamic: target −1 after a segmentation step
    dynamic_up: float = 0.1  # … and +0.1 after a warp step
    regions: tuple[int, int] = (2, 2)  # rows × cols (DVSNet: 2×2)
    overlap: int = 16  # px each region reaches into its neighbours (DVSNet: 64 at 1024×2048)
    flow: str = "dis"  # flow method of the warp path (from the registry)
    flow_scale: float = 0.5  # the warp path's flow is estimated at this scale of the region (DVSNet: 0.5)
    warp_scale: float = 1.0  # the key's logits are warped at this scale of the region, then upsampled (1: full size)
    score: str = "iou"  # kind of the true score (metrics.confidence_score)
    true_scores: bool = False  # compute the true score on every region-step (untimed look-ahead)
    correct_weight: float = 3.0  # warp path with a corrector: warped + weight × corrector logits

    def validate(self) -> None:
        if self.policy not in POLICIES:
            raise InputError(f"--policy {self.policy!r}: expected one of {', '.join(POLICIES)}")
        if not 0 <= self.target <= 100:
            raise InputError(f"--target {self.target}: expected a confidence score between 0 and 100")
        if self.interval < 1:
            raise InputError(f"--interval {self.interval}: expected 1 or more frames")
        if self.rule not in RULES:
            raise InputError(f"--rule {self.rule!r}: expected one of {', '.join(RULES)}")
        if self.score not in SCORE_KINDS:
            raise InputError(f"--score {self.score!r}: expected one of {', '.join(SCORE_KINDS)}")
        if not 0 < self.flow_scale <= 1:
            raise InputError(f"--flow-scale {self.flow_scale}: expected a factor in (0, 1]")
        if not 0 < self.warp_scale <= 1:
            raise InputError(f"--warp-scale {self.warp_scale}: expected a factor in (0, 1]")
        if self.dynamic_down < 0 or self.dynamic_up < 0:
            raise InputError("--dynamic steps must be 0 or more")
        if not self.correct_weight >= 0:
            raise InputError(f"--correct-weight {self.correct_weight}: expected 0 or more")

    @property
    def method(self) -> str:
        """The policy's name in records: ``adaptive-cumulative`` / ``oracle-cumulative`` under that rule."""
        return method_name(self.policy, self.rule)

    @property
    def param(self) -> float | int | None:
        """The policy's swept parameter: the interval (fixed) or the target (adaptive, oracle)."""
        field_name = POLICIES[self.policy].param
        return None if field_name is None else getattr(self, field_name)


@dataclass
class RegionKey:
    """A region's key frame: its pixels, its logits ``(1, K, h, w)``, its frame index and the product of
    score / 100 over the warps taken from it so far (the ``cumulative`` rule's compound score)."""

    key_frame: np.ndarray
    key_logits: torch.Tensor
    index: int
    compound: float = 1.0
    small: dict = field(default_factory=dict, repr=False, compare=False)  # key_logits at a warp size, made once


@dataclass
class StreamState:
    """Everything carried from one frame to the next."""

    index: int = 0  # the next frame's index
    size: tuple[int, int] | None = None  # (W, H) of the stream
    keys: list[RegionKey | None] = field(default_factory=list)
    target: float = 90.0
    prev_frame: np.ndarray | None = None  # for segmentation networks that take the previous frame
    prev_probs: np.ndarray | None = None  # (K, H, W) previous stitched probabilities


@dataclass
class RegionStep:
    region: int
    is_key: bool
    score_pred: float  # NaN when no prediction was made
    score_true: float  # NaN when unknown
    target: float  # the target this decision was taken against (NaN for policies without one)
    key_frame: int  # index of the key frame the region's output comes from
    times: dict[str, float]  # ms per stage (STAGES)
    flow: np.ndarray | None = None  # (2, h, w) current → key, when the warp path estimated it
    score_cum: float = float("nan")  # cumulative rule: 100 × Π score/100 since the key, compared with the target

    @property
    def decision(self) -> str:
        return "segment" if self.is_key else "warp"


@dataclass
class StepResult:
    index: int
    logits: np.ndarray  # (K, H, W)
    regions: list[RegionStep]
    stitch_ms: float
    threshold: float = 0.5

    @cached_property
    def probs(self) -> np.ndarray:
        return logits_to_probs(torch.from_numpy(self.logits)[None])[0].numpy()

    @property
    def seg(self) -> np.ndarray:
        """``uint8 (H, W)`` labels."""
        return probs_to_labels(self.probs, self.threshold)

    @property
    def total_ms(self) -> float:
        return self.stitch_ms + sum(sum(r.times.values()) for r in self.regions)

    @property
    def num_keys(self) -> int:
        return sum(r.is_key for r in self.regions)


@dataclass
class _FrameWork:
    """What the regions of one frame share while it is processed: the frame, the state before it, and the fast
    network's logits on the whole frame (computed at most once) with their time."""

    frame: np.ndarray
    state: StreamState
    fast: torch.Tensor | None = None
    fast_ms: float = 0.0


@dataclass
class _RegionWork:
    """One region's step while it is decided and produced (what becomes its :class:`RegionStep`)."""

    crop: np.ndarray
    times: dict[str, float]
    score_pred: float = float("nan")
    score_true: float = float("nan")
    flow: np.ndarray | None = None
    ahead: torch.Tensor | None = None  # the oracle's look-ahead segmentation
    ahead_ms: float = 0.0
    compound: float = 1.0
    score_cum: float = float("nan")


class VideoSegmenter:
    """Adaptive key-frame scheduling over regions with any segmentation network and flow method."""

    def __init__(self, net: SegNetwork, config: PipelineConfig | None = None, decider: Decider | None = None,
                 flow: FlowEstimator | None = None, device: torch.device | str = "cpu",
                 corrector: SegNetwork | None = None):
        self.config = config = config or PipelineConfig()
        config.validate()
        self.net = net
        self.device = torch.device(device)
        self.segmenter = Segmenter(net, device=self.device)
        self.corrector = corrector
        # The fast network: the corrector, else (adaptive with flow+fast features) the decision network's own.
        self.policy, self.rule = POLICIES[config.policy], RULES[config.rule]
        predicted = self.policy.score == "predicted"  # the decision network's score: adaptive
        fast = corrector
        if fast is None and predicted and decider is not None and decider.features == "flow+fast":
            fast = decider.fast_net
        self._fast = None
        if fast is not None:
            name = fast.path or fast.arch
            if fast.needs_flow:
                raise InputError(f"{name}: the fast network runs on the current frame alone; expected a single-frame "
                                 f"network (e.g. fastseg), not {fast.arch}")
            if list(fast.classes) != list(net.classes):
                raise InputError(f"{name}: the fast network's classes {fast.classes} differ from the segmentation "
                                 f"network's {net.classes}")
            self._fast = Segmenter(fast, device=self.device)
        self.flow = flow or create_flow(config.flow).on_backend(getattr(net, "backend", "torch"))  # PWC: as the net
        if predicted:
            if decider is None:
                raise InputError(f"--policy {config.policy} needs a decision network (--decision CHECKPOINT)")
            if decider.features == "flow+fast" and decider.fast_net is None and corrector is None:
                raise InputError(f"{decider.path}: this decision network reads a fast network's output; load it "
                                 "with load_decision_checkpoint or pass a corrector")
            if decider.features == "flownet" and not self.flow.has_features:
                networks = [name for name in list_flows() if flow_capability(name, "has_features")]
                raise InputError(f"{decider.path}: this decision network reads the flow network's features; "
                                 f"it needs --flow {' or '.join(networks)}, not {config.flow}")
        self.decider = decider
        self._regions: list[Region] = []

    def regions(self, width: int, height: int) -> list[Region]:
        if not self._regions or self._size != (width, height):
            rows, cols = self.config.regions
            self._regions = region_grid(width, height, rows, cols, self.config.overlap)
            self._size = (width, height)
            for segmenter in (self.segmenter, self._fast):  # regions are segmented at the whole frame's scale
                if segmenter is not None:
                    segmenter.fit(width)
        return self._regions

    def initial_state(self) -> StreamState:
        return StreamState(target=self.config.target)

    # --- the two paths -------------------------------------------------------------------------------------
    def _segment(self, crop: np.ndarray, region: Region, state: StreamState) -> torch.Tensor:
        """Logits ``(1, K, h, w)`` of the segmentation network on one region."""
        prev_frame = prev_probs = None
        if self.net.needs_flow and state.prev_frame is not None:
            prev_frame = resize_frame(region.crop(state.prev_frame), self.segmenter.scale)
            probs = region.crop(state.prev_probs, channels_first=True)
            prev_probs = torch.from_numpy(np.ascontiguousarray(probs))[None].to(self.device)
            if prev_probs.shape[-2:] != prev_frame.shape[:2]:
                prev_probs = torch.nn.functional.interpolate(prev_probs, size=prev_frame.shape[:2], mode="bilinear",
                                                             align_corners=False)
        logits, _ = self.segmenter.logits(crop, prev_frame, prev_probs)
        return logits

    def _estimate(self, crop: np.ndarray, key: RegionKey, t: int, region: Region
                  ) -> tuple[np.ndarray, torch.Tensor | None]:
        """Flow current → key region ``(2, h, w)`` and, for ``flownet`` features, the flow network's features.
        With ``--flow gt`` (an ablation: perfect flow), the clip's ground truth from frame t to the key frame."""
        if self.flow.needs_sequence:
            flow = self.flow.estimate_indices(t, key.index)
            return np.ascontiguousarray(region.crop(flow, channels_first=True)), None
        features = self.decider is not None and self.decider.features == "flownet"
        return estimate_flow(self.flow, crop, key.key_frame, self.config.flow_scale, features)

    def _warp(self, key: RegionKey, flow: torch.Tensor) -> torch.Tensor:
        """The key's logits warped by ``flow`` (current → key, region size). With ``warp_scale`` < 1 the warp runs
        at that scale — the key's logits area-averaged down once per key, the flow resized and its vectors scaled
        — and its result is upsampled bilinearly to the region's size (a quarter of the work at 0.5)."""
        scale = self.config.warp_scale
        if scale >= 1:
            warped, _ = warp(key.key_logits, flow, padding="border", valid=False)
            return warped
        h, w = key.key_logits.shape[-2:]
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        if size not in key.small:
            key.small[size] = F.interpolate(key.key_logits, size=size, mode="area")
        small_flow = F.interpolate(flow, size=size, mode="bilinear", align_corners=False)
        small_flow = small_flow * small_flow.new_tensor([size[1] / w, size[0] / h]).view(1, 2, 1, 1)
        warped, _ = warp(key.small[size], small_flow, padding="border", valid=False)
        return F.interpolate(warped, size=(h, w), mode="bilinear", align_corners=False)

    def _score(self, warped: torch.Tensor, reference: torch.Tensor) -> float:
        """True score of a warp: agreement of warped key logits with the network's own logits."""
        seg_warp = probs_to_labels(logits_to_probs(warped)[0].cpu().numpy(), self.net.threshold)
        seg_ref = probs_to_labels(logits_to_probs(reference)[0].cpu().numpy(), self.net.threshold)
        return confidence_score(seg_warp, seg_ref, self.config.score)

    def _fast_logits(self, work: _FrameWork) -> torch.Tensor:
        """The fast network's logits ``(1, K, H, W)`` on the whole frame — computed once per frame, its time kept
        on ``work``."""
        if work.fast is None:
            start = time.perf_counter()
            work.fast = self._fast.logits(work.frame)[0]
            work.fast_ms = 1000 * (time.perf_counter() - start)
        return work.fast

    # --- one region: decide, then produce ------------------------------------------------------------------
    def _decide(self, r: _RegionWork, key: RegionKey, t: int, region: Region, target: float,
                work: _FrameWork) -> bool:
        """A scored policy's decision for one region: the flow to its key, the score (predicted by the decision
        network, or true by looking ahead), and the rule's verdict. Fills ``r``; returns whether to segment."""
        start = time.perf_counter()
        r.flow, features = self._estimate(r.crop, key, t, region)
        flow_t = torch.from_numpy(np.nan_to_num(r.flow))[None].to(self.device)
        r.times["flow"] = 1000 * (time.perf_counter() - start)
        if self.policy.score == "predicted":
            fast_crop = None
            if self.decider.features == "flow+fast":
                fast_crop = region.crop(self._fast_logits(work), channels_first=True)
            start = time.perf_counter()
            grid, extra = self.decider.inputs(frame_tensor(r.crop, self.device), frame_tensor(key.key_frame,
                                              self.device), flow_t, key.key_logits, t - key.index, features,
                                              fast_crop)
            r.score_pred = float(self.decider.predict(grid, extra)[0])
            r.times["decision"] = 1000 * (time.perf_counter() - start)
            is_key, r.compound, r.score_cum = self.rule.decide(r.score_pred, key.compound, target)
        else:  # the true score (oracle): look ahead; the segmentation is charged only if it is kept
            start = time.perf_counter()
            r.ahead = self._segment(r.crop, region, work.state)
            r.ahead_ms = 1000 * (time.perf_counter() - start)
            r.score_true = self._score(self._warp(key, flow_t), r.ahead)
            is_key, r.compound, r.score_cum = self.rule.decide(r.score_true, key.compound, target)
        return is_key

    def _produce(self, r: _RegionWork, is_key: bool, key: RegionKey | None, t: int, region: Region,
                 state: StreamState) -> tuple[torch.Tensor, RegionKey]:
        """The region's logits by the decided path — segment (a new key) or warp the key by the flow — and the
        region's key afterwards."""
        if is_key and r.ahead is not None:
            r.times["seg"] = r.ahead_ms
            return r.ahead, RegionKey(r.crop, r.ahead, t)
        if is_key:
            start = time.perf_counter()
            logits = self._segment(r.crop, region, state)
            r.times["seg"] = 1000 * (time.perf_counter() - start)
            if key is not None and r.flow is not None and np.isnan(r.score_true):  # both paths known: free score
                flow = torch.from_numpy(np.nan_to_num(r.flow))[None].to(self.device)
                r.score_true = self._score(self._warp(key, flow), logits)
            return logits, RegionKey(r.crop, logits, t)
        start = time.perf_counter()
        if r.flow is None:
            r.flow, _ = self._estimate(r.crop, key, t, region)
            r.times["flow"] = 1000 * (time.perf_counter() - start)
            start = time.perf_counter()
        logits = self._warp(key, torch.from_numpy(np.nan_to_num(r.flow))[None].to(self.device))
        r.times["warp"] = 1000 * (time.perf_counter() - start)
        if self.config.true_scores and np.isnan(r.score_true):
            r.score_true = self._score(logits, self._segment(r.crop, region, state))
        return logits, key if r.compound == key.compound else replace(key, compound=r.compound)

    # --- one frame -----------------------------------------------------------------------------------------
    @torch.inference_mode()
    def step(self, frame: np.ndarray, state: StreamState | None = None) -> tuple[StepResult, StreamState]:
        """Segment ``frame`` (``uint8 (H, W, 3)``) given the state after the previous frame: per region, the policy
        (and for scored policies the flow, the score and the rule) decides, the region is segmented or warped,
        optionally corrected; then the regions are stitched."""
        cfg = self.config
        state = state or self.initial_state()
        H, W = frame.shape[:2]
        if state.size is not None and state.size != (W, H):
            raise InputError(f"frame {state.index} is {W}x{H}, expected {state.size[0]}x{state.size[1]} like the "
                             "first frame of the stream")
        regions = self.regions(W, H)
        keys = list(state.keys) if state.keys else [None] * len(regions)
        t, target = state.index, state.target
        work = _FrameWork(frame, state)
        steps: list[RegionStep] = []
        parts: list[np.ndarray] = []
        for region, key in zip(regions, keys, strict=True):
            r = _RegionWork(np.ascontiguousarray(region.crop(frame)), dict.fromkeys(STAGES, 0.0))
            used_target = target if self.policy.scored else float("nan")
            is_key = True if key is None else self.policy.schedule(t, cfg)
            if is_key is None:  # a scored policy: flow to the key region, score, let the rule decide
                is_key = self._decide(r, key, t, region, target, work)
            logits, new_key = self._produce(r, is_key, key, t, region, state)
            if self.corrector is not None:  # the key logits stay the accurate network's alone
                logits = logits + cfg.correct_weight * region.crop(self._fast_logits(work), channels_first=True)
            if cfg.dynamic and self.policy.scored:
                target = min(100.0, max(0.0, target - cfg.dynamic_down if is_key else target + cfg.dynamic_up))
            steps.append(RegionStep(region.index, is_key, r.score_pred, r.score_true, used_target, new_key.index,
                                    r.times, r.flow, r.score_cum))
            parts.append(logits[0].cpu().numpy())
            keys[region.index] = new_key
        for step in steps:  # the frame's one pass of the fast network is shared by its regions
            step.times["fast"] = work.fast_ms / len(steps)
        start = time.perf_counter()
        full = stitch(parts, regions, W, H)
        stitch_ms = 1000 * (time.perf_counter() - start)
        result = StepResult(t, full, steps, stitch_ms, self.net.threshold)
        new_state = StreamState(index=t + 1, size=(W, H), keys=keys, target=target)
        if self.net.needs_flow:
            new_state.prev_frame, new_state.prev_probs = frame, result.probs
        return result, new_state
