"""Training the segmentation networks (``workbench train seg``): U-Net, FUNet, FUNet-flow, the fast network.

Data: synthetic video calls generated in memory (``train_clips`` clips from ``seed``, difficulty ``mixed``
by default) or any layout :func:`workbench.io.open_dataset` reads (``data``), with masks. The validation
split is **by clip** (``val_percent`` % of the clips, :func:`workbench.data.split_by_clip`), never by frame.
Frames, masks and flows are resized by ``scale`` once, when loaded; the flow from t to t−1 is computed once
per frame pair with the network's flow method (``flow``; ``gt`` uses the ground truth), at that size.

One epoch visits every training frame t ≥ 1 once, in a shuffled order, as a random ``crop`` (or the whole
frame; with ``zoom``, a window of a random scale resampled to that size) with a random horizontal flip (the
flow's u negated) and photometric jitter of the frame. The ``funet_flow`` input needs the previous frame's
prediction: training uses the previous ground-truth mask, degraded as a real prediction would be (shifted,
eroded or dilated, blurred, softened; on 10 % of samples none at all, as on a sequence's first frame), then
warped by the flow exactly as in prediction.

The seed's recipe is the default: RMSprop (lr 1e-4, momentum 0.9, weight decay 1e-8), gradient values
clipped at 0.1, BCE-with-logits (``dice_bce`` adds a soft Dice term; more than two classes use CE),
ReduceLROnPlateau on the validation Dice (patience 2). Validation runs the network over each validation
clip frame by frame with :class:`workbench.seg.Segmenter` — as prediction does, so ``funet_flow`` sees its
own previous outputs — and reports Dice and IoU of the foreground.

Outputs in ``out`` (a folder): ``checkpoint.pt`` (best validation Dice), ``train_log.csv``,
``tensorboard/`` (when TensorBoard is installed), ``epochs/epoch_NNN.pt`` (every epoch) and
``epochs/state.pt`` (everything needed to resume: weights, optimiser, scheduler, RNG states). Resuming
gives the same weights as an uninterrupted run (same threads, CPU).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from workbench.config import Config
from workbench.errors import InputError
from workbench.io.atomic import atomic_file, write_csv_atomic
from workbench.io.checkpoints import fitting, load_torch_file
from workbench.metrics import scoring_truth
from workbench.metrics.stream import SegScores
from workbench.seg import build_input
from workbench.seg.checkpoint import (
    SegNetwork,
    build_network,
    load_seg_checkpoint,
    save_seg_checkpoint,
    transfer_weights,
)
from workbench.seg.segmenter import Segmenter, probs_to_labels, resize_frame, scaled_size
from workbench.train import distributed

IGNORE = 255
LOSSES = ("bce", "dice_bce", "ce")


@dataclass
class SegTrainConfig(Config):
    out: str = "models/funet_flow"
    model: str = "funet_flow"
    size: str = "small"  # U-Net widths: seed | small | tiny | deep (ignored by fastseg)
    batch_norm: bool = False  # U-Net: batch norm after each conv (the seed has none)
    width: int = 16  # fastseg: channels after the stem (the encoder doubles them twice)
    context: bool = False  # fastseg: gate the deepest features by their frame average (LR-ASPP)
    deep: bool = False  # fastseg: one more encoder stage, to 1/32
    flow: str = "dis"  # flow method for funet / funet_flow inputs: dis | farneback | pwc | gt | zero
    data: str | None = None  # a dataset path; None: generate synthetic clips in memory
    train_clips: int = 40
    frames: int = 40
    frame_size: tuple[int, int] = (320, 192)  # (W, H) of generated clips
    difficulty: str = "mixed"
    classes: str = "binary"  # binary | parts (generated clips)
    # Realism of generated clips (issue 14): photographs behind and on the person, a webcam model, real people.
    photo_backgrounds: float = 0.0  # probability of a bundled (train-split) photograph behind the person
    photo_textures: float = 0.0  # probability that the shirt is printed with a photograph
    hats: float = 0.0  # probability of a cap or beanie on the procedural person
    clutter: float = 0.0  # probability of shaded objects (some skin-toned) in front of the background
    camera: str = "none"  # webcam model preset: none | webcam | harsh
    camera_prob: float = 1.0  # share of clips that go through the camera
    portraits: str | None = None  # real people to animate: "astronaut" (teacher-labelled) or a folder
    portrait_share: float = 0.0  # share of generated clips that animate a real portrait (needs portraits)
    seed: int = 0
    epochs: int = 10
    batch_size: int = 8
    optimizer: str = "rmsprop"  # rmsprop (the seed's) | adam
    lr: float = 1e-4
    momentum: float = 0.9
    weight_decay: float = 1e-8
    grad_clip: float = 0.1  # clip gradient values (the seed's clip_grad_value_)
    loss: str = "bce"  # bce | dice_bce (binary); ce is used for more than two classes
    scale: float = 1.0
    crop: tuple[int, int] | None = (160, 96)  # (W, H) training crops; None: whole frames
    zoom: tuple[float, float] | None = None  # (MIN, MAX) random scale of each sample, log-uniform; None: no zoom
    val_percent: float = 10.0
    val_frames: int | None = None  # frames per validation clip (None: all)
    prev_none_prob: float = 0.3  # funet_flow: share of samples with no previous prediction (a first frame)
    prev_own_prob: float = 0.3  # funet_flow, from the second epoch: share fed the network's own previous output
    load: str | None = None  # initial weights: same architecture, or a U-Net of the same widths (unet → funet*)
    device: str = "cpu"
    threads: int = 2
    resume: bool = False

    def validate(self) -> None:
        from workbench.registry import list_models, model_facts

        if self.model not in list_models("seg"):
            raise InputError(f"--model {self.model!r}: expected one of {', '.join(list_models('seg'))}")
        takes = model_facts(self.model)["options"]
        default = type(self)()
        ignored = [f for f in NETWORK_OPTIONS if f not in takes and getattr(self, f) != getattr(default, f)]
        if ignored:
            raise InputError(f"{', '.join('--' + f.replace('_', '-') for f in ignored)}: {self.model} does not take "
                             f"{'it' if len(ignored) == 1 else 'them'} (its options: "
                             f"{', '.join('--' + f.replace('_', '-') for f in takes)})")
        if self.epochs < 1 or self.batch_size < 1:
            raise InputError(f"--epochs {self.epochs} --batch-size {self.batch_size}: expected positive numbers")
        if not self.lr > 0:
            raise InputError(f"--learning-rate {self.lr}: expected a positive number")
        if not 0 < self.scale <= 4:
            raise InputError(f"--scale {self.scale}: expected a factor in (0, 4]")
        if not 0 < self.val_percent < 100:
            raise InputError(f"--validation {self.val_percent}: expected a percentage of clips in (0, 100)")
        if self.optimizer not in ("rmsprop", "adam"):
            raise InputError(f"--optimizer {self.optimizer!r}: expected rmsprop or adam")
        if self.loss not in LOSSES:
            raise InputError(f"--loss {self.loss!r}: expected one of {', '.join(LOSSES)}")
        if not 0.0 <= self.portrait_share <= 1.0:
            raise InputError(f"--portrait-share {self.portrait_share}: expected a share in [0, 1]")
        if self.portrait_share > 0 and not self.portraits:
            raise InputError("--portrait-share needs --portraits (astronaut, or a folder of images and masks)")
        if self.zoom is not None and not 0.25 <= self.zoom[0] <= self.zoom[1] <= 4:
            raise InputError(f"--zoom {self.zoom[0]:g}:{self.zoom[1]:g}: expected MIN:MAX with 0.25 <= MIN <= MAX <= 4")
        if self.portraits and self.classes != "binary":
            raise InputError("--portraits: real portraits have person masks only; use --classes binary")


class SegBank:
    """Frames, masks and backward flows of whole clips in memory, at the training resolution."""

    def __init__(self, classes: list[str]):
        self.classes = classes
        self.names: list[str] = []
        self.frames: list[np.ndarray] = []  # uint8 (T, H, W, 3)
        self.masks: list[np.ndarray] = []  # uint8 (T, H, W) class ids, 255 = ignore
        self.flows: list[np.ndarray | None] = []  # float16 (T, 2, H, W) from t to t−1 (entry 0: zeros)

    def add(self, name: str, frames: list[np.ndarray], masks: list[np.ndarray],
            flows: list[np.ndarray] | None) -> None:
        if len(frames) < 2:
            raise InputError(f"{name}: {len(frames)} frame(s); training needs clips of at least 2 frames")
        self.names.append(name)
        self.frames.append(np.stack(frames))
        self.masks.append(np.stack(masks))
        self.flows.append(None if flows is None else np.stack(flows).astype(np.float16))

    def subset(self, names: list[str]) -> SegBank:
        bank = SegBank(self.classes)
        for i, name in enumerate(self.names):
            if name in names:
                bank.names.append(name)
                bank.frames.append(self.frames[i])
                bank.masks.append(self.masks[i])
                bank.flows.append(self.flows[i])
        return bank

    def items(self) -> list[tuple[int, int]]:
        """(clip, t) of every frame with a predecessor."""
        return [(c, t) for c in range(len(self.frames)) for t in range(1, len(self.frames[c]))]

    def flow(self, clip: int, t: int) -> np.ndarray:
        return self.flows[clip][t].astype(np.float32)


STATE_SCHEMA = {"model": dict, "optimizer": dict, "scheduler": dict, "epoch": int, "best": (int, float),
                "history": list, "rng": dict, "torch_rng": torch.Tensor, "config": dict}
"""Keys of ``epochs/state.pt`` and their types (read weights-only, checked before use)."""

def _scaled(frame: np.ndarray, mask: np.ndarray, gt_flow: np.ndarray | None, scale: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Frame, mask and ground-truth flow at the network's scale (frames exactly as :class:`Segmenter` resizes)."""
    if scale == 1.0:
        return frame, mask, gt_flow
    from workbench.data.datasets import resize_flow

    H, W = frame.shape[:2]
    size = scaled_size(W, H, scale)
    mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
    if gt_flow is not None:
        gt_flow = resize_flow(np.nan_to_num(gt_flow), size)
    return resize_frame(frame, scale), mask, gt_flow


def training_portraits(spec: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Real people for training: ``(name, uint8 RGB, float32 alpha)`` each.

    ``astronaut``: scikit-image's portrait, labelled in memory by the MediaPipe teacher (``make teacher``);
    a folder: ``images/`` (or ``frames/``, as ``workbench data label`` writes) and ``masks/`` paired by name.
    The held-out evaluation portrait (``grace_hopper``) is refused.
    """
    from workbench.data.animate import load_portrait, pair_portraits
    from workbench.data.photos import PORTRAITS, labelled_portrait

    if spec in PORTRAITS:  # a bundled portrait: only those of the train split (the held-out one is evaluation)
        if PORTRAITS[spec].split != "train":
            raise InputError(f"--portraits {spec}: that portrait is held out for evaluation; train with "
                             + ", ".join(n for n, p in PORTRAITS.items() if p.split == "train"))
        image, mask = labelled_portrait(spec)
        return [(spec, image, mask.astype(np.float32))]
    folder = Path(spec)
    images = folder / "images" if (folder / "images").is_dir() else folder / "frames"
    if not images.is_dir() or not (folder / "masks").is_dir():
        raise InputError(f"--portraits {spec}: expected astronaut, or a folder with images/ (or frames/) and masks/")
    return [(image_path.stem, *load_portrait(image_path, mask_path))
            for image_path, mask_path in pair_portraits(images, folder / "masks")]


def training_clip(synth, index: int, people: list[tuple[str, np.ndarray, np.ndarray]], share: float):
    """Generated training clip ``index``: a real portrait animated over a photograph or a room (with probability
    ``share``, drawn from the clip's own seed), otherwise a procedural person."""
    from workbench.data.animate import AnimatedPortrait
    from workbench.data.synthetic import TalkingHeadClip

    rng = np.random.default_rng(np.random.SeedSequence([synth.seed, index, 3]))
    if people and rng.random() < share:
        name, image, alpha = people[int(rng.integers(len(people)))]
        return AnimatedPortrait(image, alpha, synth, index, None, {"portrait": name}, framing="person",
                                augment=True)
    return TalkingHeadClip(synth, index)


NETWORK_OPTIONS = ("size", "batch_norm", "width", "context", "deep")  # shape options; each network takes some


def network_options(config: SegTrainConfig) -> dict[str, Any]:
    """The builder options of ``config.model``: the fields it declared at registration (``model_facts``)."""
    from workbench.registry import model_facts

    return {field: getattr(config, field) for field in model_facts(config.model)["options"]}


def load_bank(config: SegTrainConfig, needs_flow: bool, progress: bool) -> SegBank:
    """Every clip of the training data (before the split), with flows when the network needs them."""
    from workbench.flow import create_flow, flow_capability

    from_truth = needs_flow and flow_capability(config.flow, "needs_sequence")  # the clips' own ground truth
    estimator = create_flow(config.flow) if needs_flow and not from_truth else None
    if config.data:
        from workbench.io import open_dataset

        sequences = open_dataset(config.data)
        missing = [s.name for s in sequences if not s.has_masks]
        if missing:
            raise InputError(f"{config.data}: no masks for {', '.join(missing[:3])}; training needs a mask per frame")
        if from_truth and not all(s.has_flow for s in sequences):
            raise InputError(f"{config.data}: --flow {config.flow} needs ground-truth flow in every clip; choose dis "
                             "or pwc")
        classes = sequences[0].classes or ["background", "person"]
        clips = ((s.name, ((s.frame(t), s.mask(t), s.flow_bwd(t) if t else None) for t in range(len(s))))
                 for s in sequences)
        count = len(sequences)
    else:
        from workbench.data.synthetic import BINARY_CLASSES, PART_CLASSES, SynthConfig, clip_name

        synth = SynthConfig(clips=config.train_clips, frames=config.frames, size=config.frame_size,
                            seed=config.seed, difficulty=config.difficulty, classes=config.classes,
                            photo_backgrounds=config.photo_backgrounds, photo_textures=config.photo_textures,
                            hats=config.hats, clutter=config.clutter, camera=config.camera,
                            camera_prob=config.camera_prob)
        synth.validate()
        classes = BINARY_CLASSES if config.classes == "binary" else PART_CLASSES
        people = training_portraits(config.portraits) if config.portraits and config.portrait_share > 0 else []
        clips = ((clip_name(i), ((d.frame, d.mask, d.flow_bwd) for d in training_clip(synth, i, people,
                                                                                       config.portrait_share)))
                 for i in range(config.train_clips))
        count = config.train_clips
    bank = None
    for name, items in tqdm(clips, total=count, desc="loading clips" + (f" + {config.flow} flow" if needs_flow
                                                                            else ""),
                            unit="clip", disable=not progress, leave=False):
        frames, masks, flows = [], [], []
        for frame, mask, gt_flow in items:
            frame, mask, gt_flow = _scaled(frame, mask, gt_flow if from_truth else None, config.scale)
            if needs_flow:
                if not frames:
                    flows.append(np.zeros((2, *frame.shape[:2]), np.float32))
                elif estimator is None:
                    flows.append(np.nan_to_num(gt_flow))
                else:
                    flows.append(estimator.estimate(frame, frames[-1]))
            frames.append(frame)
            masks.append(mask)
        if bank is None:
            bank = SegBank(list(classes))
        bank.add(name, frames, masks, flows if needs_flow else None)
    return bank


def degraded_prev(mask: np.ndarray, rng: np.random.Generator, num_classes: int) -> np.ndarray:
    """The previous ground-truth mask made to look like a previous *prediction*: ``float32 (K, H, W)``.

    A shift (flow error, ≤ 6 px), erosion or dilation (boundary error, ≤ 3 px), on 30 % of binary masks a few
    ellipses of wrong labels, blur and softened probabilities.
    """
    H, W = mask.shape
    valid = mask != IGNORE
    if num_classes == 1:
        planes = [((mask > 0) & valid).astype(np.float32)]
    else:
        planes = [((mask == k) & valid).astype(np.float32) for k in range(num_classes)]
    dx, dy = (int(v) for v in rng.integers(-6, 7, size=2))
    shift = np.float32([[1, 0, dx], [0, 1, dy]])
    radius = int(rng.integers(-3, 4))  # < 0: erode, > 0: dilate
    sigma = float(rng.uniform(0.0, 1.5))
    soft = float(rng.uniform(0.0, 0.15))
    blobs = []  # false positives / negatives of a real prediction: a few ellipses set to 1 or 0 (binary only)
    if num_classes == 1 and rng.random() < 0.3:
        for _ in range(int(rng.integers(1, 4))):
            blobs.append((int(rng.integers(W)), int(rng.integers(H)), int(rng.integers(3, max(4, W // 8))),
                          int(rng.integers(3, max(4, H // 8))), float(rng.integers(2))))
    out = []
    for plane in planes:
        plane = cv2.warpAffine(plane, shift, (W, H), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
        if radius and num_classes == 1:
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(radius) + 1,) * 2)
            plane = cv2.dilate(plane, kernel) if radius > 0 else cv2.erode(plane, kernel)
        if blobs:
            for cx, cy, ax, ay, value in blobs:
                cv2.ellipse(plane, (cx, cy), (ax, ay), 0, 0, 360, value, -1)
        if sigma > 0.3:
            plane = cv2.GaussianBlur(plane, (0, 0), sigma)
        out.append(plane)
    probs = np.stack(out)
    if num_classes > 1:
        probs /= np.maximum(probs.sum(axis=0, keepdims=True), 1e-6)
    return (probs * (1 - 2 * soft) + soft).astype(np.float32) if num_classes == 1 else \
        (probs * (1 - soft) + soft / num_classes).astype(np.float32)


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array))[None]


@torch.no_grad()
def own_prediction(net: SegNetwork, bank: SegBank, clip: int, t: int, rng: np.random.Generator,
                   prev_none_prob: float) -> np.ndarray:
    """The network's own probabilities ``(K, H, W)`` for frame ``t`` of a clip, given a degraded ground truth of
    frame t−1 (or nothing) — what it will see as "previous prediction" when run frame by frame."""
    prev = None
    if t >= 1 and rng.random() >= prev_none_prob:
        prev = _tensor(degraded_prev(bank.masks[clip][t - 1], rng, net.num_classes))
    frame = _tensor(bank.frames[clip][t].transpose(2, 0, 1)).float() / 255.0
    x = build_input(net.input, frame, _tensor(bank.flow(clip, t)), prev, num_classes=net.num_classes)
    was_training = net.model.training
    net.model.eval()
    try:
        device = next(net.model.parameters()).device
        logits = net.model(x.to(device)).cpu()
    finally:
        net.model.train(was_training)
    return (torch.sigmoid(logits) if logits.shape[1] == 1 else torch.softmax(logits, 1))[0].numpy()


def zoomed(rng: np.random.Generator, zoom: tuple[float, float], out: tuple[int, int], frame: np.ndarray,
           mask: np.ndarray, flow: np.ndarray | None, prev: np.ndarray | None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """A random window of the sample resampled to ``out`` (W, H): the person appears ``s`` times larger.

    ``s`` is drawn log-uniformly from ``zoom``; the window (``out / s``) never leaves the frame, so zooming out
    (``s < 1``) is only possible down to the frame's own size (``out`` = a crop smaller than the frame). The frame
    and the previous prediction are resampled bilinearly (area when shrinking), the mask by nearest neighbour,
    and the flow is resampled and multiplied by the scale, as if the video had been filmed at that size.
    """
    H, W = mask.shape
    ow, oh = out
    lo = max(zoom[0], ow / W, oh / H)
    s = math.exp(rng.uniform(math.log(lo), math.log(max(zoom[1], lo))))
    w, h = min(W, max(1, round(ow / s))), min(H, max(1, round(oh / s)))
    y0, x0 = int(rng.integers(H - h + 1)), int(rng.integers(W - w + 1))
    if (w, h) == (ow, oh):
        cut = (slice(y0, y0 + h), slice(x0, x0 + w))
        return (frame[cut], mask[cut], None if flow is None else flow[(slice(None), *cut)],
                None if prev is None else prev[(slice(None), *cut)])
    smooth = cv2.INTER_AREA if w > ow else cv2.INTER_LINEAR

    def resize(a: np.ndarray, how: int) -> np.ndarray:
        return cv2.resize(np.ascontiguousarray(a[y0:y0 + h, x0:x0 + w]), (ow, oh), interpolation=how)

    frame, mask = resize(frame, smooth), resize(mask, cv2.INTER_NEAREST)
    if flow is not None:
        flow = (resize(flow.transpose(1, 2, 0), smooth).transpose(2, 0, 1)
                * np.float32([ow / w, oh / h])[:, None, None])
    if prev is not None:
        prev = resize(prev.transpose(1, 2, 0), smooth).reshape(oh, ow, -1).transpose(2, 0, 1)
    return frame, mask, flow, prev


def sample_batch(bank: SegBank, items: list[tuple[int, int]], rng: np.random.Generator, net: SegNetwork,
                 crop: tuple[int, int] | None, prev_none_prob: float = 0.3, prev_own_prob: float = 0.0,
                 zoom: tuple[float, float] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Network inputs ``(N, C, h, w)`` and targets ``int64 (N, h, w)`` for ``items`` (augmented).

    ``funet_flow``: the previous prediction is nothing (``prev_none_prob``), the network's own output on frame
    t−1 (``prev_own_prob``), or else the degraded ground truth of t−1. ``zoom``: each sample is a window
    resampled to ``crop`` (or to the frame's size) by :func:`zoomed` instead of a plain crop.
    """
    xs, ys = [], []
    for clip, t in items:
        frame = bank.frames[clip][t].astype(np.float32) / 255.0
        mask = bank.masks[clip][t]
        flow = bank.flow(clip, t) if net.needs_flow else None
        prev = None
        if net.input == "funet_flow":
            draw = rng.random()
            if draw < prev_own_prob:
                prev = own_prediction(net, bank, clip, t - 1, rng, prev_none_prob)
            elif draw < prev_own_prob + (1 - prev_own_prob) * (1 - prev_none_prob):
                prev = degraded_prev(bank.masks[clip][t - 1], rng, net.num_classes)
        if rng.random() < 0.5:  # mirror: u changes sign
            frame, mask = frame[:, ::-1], mask[:, ::-1]
            if flow is not None:
                flow = flow[:, :, ::-1] * np.float32([-1, 1])[:, None, None]
            if prev is not None:
                prev = prev[:, :, ::-1]
        # photometric jitter of the frame only (the flow was measured on the clean frames, as in prediction)
        gain = rng.uniform(0.85, 1.15, 3).astype(np.float32)
        bias = np.float32(rng.uniform(-0.06, 0.06))
        frame = np.clip(frame * gain + bias, 0, 1)
        H, W = mask.shape
        if crop is not None and (crop[0] > W or crop[1] > H):
            raise InputError(f"--crop {crop[0]}x{crop[1]} is larger than the training frames ({W}x{H})")
        if zoom is not None:  # a window of a random scale, resampled to the crop: no plain crop after it
            frame, mask, flow, prev = zoomed(rng, zoom, crop or (W, H), frame, mask, flow, prev)
        x = build_input(net.input, _tensor(frame.transpose(2, 0, 1)), None if flow is None else _tensor(flow),
                        None if prev is None else _tensor(prev), num_classes=net.num_classes)[0]
        y = torch.from_numpy(np.ascontiguousarray(mask).astype(np.int64))
        if crop is not None and zoom is None:
            cw, ch = crop
            y0, x0 = int(rng.integers(H - ch + 1)), int(rng.integers(W - cw + 1))
            x, y = x[:, y0:y0 + ch, x0:x0 + cw], y[y0:y0 + ch, x0:x0 + cw]
        xs.append(x)
        ys.append(y)
    return torch.stack(xs), torch.stack(ys)


def seg_loss(logits: torch.Tensor, target: torch.Tensor, loss: str = "bce",
             total: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """BCE-with-logits (binary, one logit), optionally + soft Dice; CE for K > 1 logits; 255 ignored.

    Every term is a sum over the batch divided by a count (or, for Dice, a ratio of sums); ``total`` sums each
    over the processes of a distributed run (:meth:`workbench.train.distributed.Dist.sum`), so that each process
    computes the loss of the global batch from its own rows."""
    total = total or (lambda t: t)
    if logits.shape[1] > 1:
        ce = F.cross_entropy(logits, target, ignore_index=IGNORE, reduction="sum")
        return total(ce) / total((target != IGNORE).sum().to(ce.dtype)).clamp(min=1)
    valid = (target != IGNORE).float()
    truth = (target == 1).float() * valid
    logit = logits[:, 0]
    bce = total((F.binary_cross_entropy_with_logits(logit, truth, reduction="none") * valid).sum()) / \
        total(valid.sum()).clamp(min=1)
    if loss != "dice_bce":
        return bce
    p = torch.sigmoid(logit) * valid
    soft_dice = (2 * total((p * truth).sum()) + 1) / (total(p.sum()) + total(truth.sum()) + 1)
    return bce + (1 - soft_dice)


def evaluate_bank(net: SegNetwork, bank: SegBank, max_frames: int | None = None,
                  device: str | torch.device = "cpu") -> dict[str, Any]:
    """Frame-by-frame predictions over every clip of ``bank`` (with the bank's flows): mean foreground Dice and
    IoU over frames (mIoU for more than two classes), and the predictions themselves."""
    segmenter = Segmenter(net, flow="zero", scale=1.0, device=device)  # the bank is already at the net's scale
    scores = SegScores(len(net.classes), metrics=("dice", "iou"), flicker=False)  # every frame of every clip
    predictions = []
    was_training = net.model.training
    try:
        for c in range(len(bank.frames)):
            segmenter.reset()
            clip_preds = []
            for t in range(len(bank.frames[c]) if max_frames is None else min(max_frames, len(bank.frames[c]))):
                flow = bank.flow(c, t) if net.needs_flow else None
                labels = probs_to_labels(segmenter.step(bank.frames[c][t], flow), net.threshold)
                gt = bank.masks[c][t]
                scores.update(labels, scoring_truth(gt, len(net.classes)))
                clip_preds.append(labels)
            predictions.append(clip_preds)
    finally:
        net.model.train(was_training)
    iou = scores.mean("iou")
    return {"dice": scores.mean("dice") if "dice" in scores.metrics else iou, "iou": iou, "predictions": predictions}


def _device(spec: str) -> torch.device:
    if spec in ("cpu", "", None):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise InputError(f"--gpu {spec}: no CUDA device here (omit --gpu to train on the CPU)")
    index = int(spec)
    if index >= torch.cuda.device_count():
        raise InputError(f"--gpu {index}: only {torch.cuda.device_count()} CUDA device(s)")
    return torch.device(f"cuda:{index}")


def _summary_writer(folder: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # TensorBoard is a dependency, but a trimmed environment may lack it: CSV still works
        return None
    return SummaryWriter(log_dir=str(folder))


def train_seg(config: SegTrainConfig, progress: bool = True, stop_after: int | None = None) -> dict[str, Any]:
    """Train a segmentation network; returns a summary (best validation Dice/IoU, epochs, time, paths).

    ``stop_after`` ends this call after that many epochs (the state is saved), as an interruption would. Under
    ``torchrun`` it is one of several data-parallel processes (:mod:`workbench.train.distributed`): the same
    global batches, each process its share of the rows; rank 0 validates and writes.

    Long because it is one training loop read top to bottom: set-up, resume, epochs, validation, checkpoints; split,
    it would hide the order that a resumed run must reproduce bit for bit (tested).
    """
    config.validate()
    torch.set_num_threads(config.threads)
    with distributed.joined(config.device) as dist:
        return _train_seg(config, dist, progress and dist.main, stop_after)


def _train_seg(config: SegTrainConfig, dist: distributed.Dist, progress: bool, stop_after: int | None
               ) -> dict[str, Any]:
    """Long because it is the training loop of :func:`train_seg`, read top to bottom (see there)."""
    device = _device(distributed.local_device(config.device, dist))
    out = Path(config.out)
    epochs_dir = out / "epochs"
    state_path = epochs_dir / "state.pt"
    start = time.perf_counter()
    if config.resume and not state_path.is_file():
        raise InputError(f"{state_path}: no training state to resume from")
    torch.manual_seed(config.seed)
    options = network_options(config)

    init = load_seg_checkpoint(config.load) if config.load else None  # a bad file fails before the data work
    bank = load_bank(config, needs_flow=build_network(config.model, options).needs_flow, progress=progress)
    net = build_network(config.model, options, flow=config.flow, scale=config.scale, classes=bank.classes)
    if init is not None:
        transfer_weights(init, net)
    net.model.to(device)
    model = dist.wrap(net.model)  # the training forward pass; checkpoints save net.model
    from workbench.data.datasets import split_by_clip

    train_names, val_names = split_by_clip(bank.names, config.val_percent, config.seed)
    train_bank, val_bank = bank.subset(train_names), bank.subset(val_names)
    loss_name = "ce" if net.num_classes > 1 else config.loss
    if config.optimizer == "adam":
        optimizer = torch.optim.Adam(net.model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    else:
        optimizer = torch.optim.RMSprop(net.model.parameters(), lr=config.lr, momentum=config.momentum,
                                        weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", patience=2)
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 11]))
    epoch, best, history = 0, -math.inf, []
    if config.resume:
        state = load_torch_file(state_path, "training state", STATE_SCHEMA, device)
        if state["config"].get("model") != config.model:
            raise InputError(f"{state_path}: state of a {state['config']['model']} run, not {config.model}")
        with fitting(state_path, "training state does not fit this run"):
            net.model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            epoch, best, history = state["epoch"], state["best"], state["history"]
            rng.bit_generator.state = state["rng"]
            torch.set_rng_state(state["torch_rng"])

    writer = _summary_writer(out / "tensorboard") if dist.main else None
    items = train_bank.items()
    steps_per_epoch = math.ceil(len(items) / config.batch_size)
    last = config.epochs if stop_after is None else min(config.epochs, epoch + stop_after)
    train_extra = {"train_config": config.to_dict(), "train_clips": train_names, "val_clips": val_names,
                   "world_size": dist.world}
    try:
        while epoch < last:
            net.model.train()
            order = rng.permutation(len(items))
            bar = tqdm(total=steps_per_epoch, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch",
                       disable=not progress, leave=False)
            losses = []
            for b in range(steps_per_epoch):
                batch = [items[i] for i in order[b * config.batch_size:(b + 1) * config.batch_size]]
                own = config.prev_own_prob if epoch >= 1 else 0.0  # once the network predicts something
                x, y = sample_batch(train_bank, batch, rng, net, config.crop, config.prev_none_prob, own,
                                    config.zoom)  # the whole global batch, as one process draws it
                rows = dist.shard(len(batch))  # this process's rows of it
                loss = seg_loss(model(x[rows].to(device)), y[rows].to(device), loss_name, total=dist.sum)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_value_(net.model.parameters(), config.grad_clip)
                optimizer.step()
                losses.append(loss.item())
                bar.update(1)
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
                if writer is not None:
                    writer.add_scalar("train/loss", losses[-1], epoch * steps_per_epoch + b + 1)
            bar.close()
            epoch += 1
            metrics = dist.broadcast({k: v for k, v in evaluate_bank(net, val_bank, config.val_frames, device).items()
                                      if k in ("dice", "iou")} if dist.main else None)  # rank 0 validates
            lr = optimizer.param_groups[0]["lr"]
            scheduler.step(metrics["dice"])
            history.append({"epoch": epoch, "step": epoch * steps_per_epoch, "train_loss": float(np.mean(losses)),
                            "val_dice": metrics["dice"], "val_iou": metrics["iou"], "lr": lr,
                            "seconds": time.perf_counter() - start})
            if writer is not None:
                for key in ("val_dice", "val_iou", "lr", "train_loss"):
                    writer.add_scalar(key.replace("_", "/", 1), history[-1][key], epoch)
                writer.flush()
            message = (f"epoch {epoch}: loss {history[-1]['train_loss']:.4f}, validation Dice {metrics['dice']:.4f}, "
                       f"IoU {metrics['iou']:.4f} ({len(val_names)} clips), lr {lr:.2g}")
            tqdm.write(message) if progress else None
            if not dist.main:
                continue
            scores = {"val_dice": metrics["dice"], "val_iou": metrics["iou"], "epoch": epoch}
            save_seg_checkpoint(epochs_dir / f"epoch_{epoch:03d}.pt", net, scores, train_extra)
            if metrics["dice"] > best:
                best = metrics["dice"]
                save_seg_checkpoint(out / "checkpoint.pt", net, scores, train_extra)
            write_csv_atomic(out / "train_log.csv", history)
            with atomic_file(state_path) as tmp:
                torch.save({"model": net.model.state_dict(), "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict(), "epoch": epoch, "best": best, "history": history,
                            "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                            "config": config.to_dict()}, tmp)
    finally:
        if writer is not None:
            writer.close()
    best_row = max(history, key=lambda h: h["val_dice"]) if history else {}
    return {"out": str(out / "checkpoint.pt"), "epochs": epoch, "best_val_dice": best_row.get("val_dice"),
            "best_val_iou": best_row.get("val_iou"), "best_epoch": best_row.get("epoch"),
            "seconds": time.perf_counter() - start, "history": history, "train_clips": len(train_names),
            "val_clips": len(val_names), "train_frames": len(items), "parameters": net.parameters(),
            "net": net, "world_size": dist.world, "rank": dist.rank}
