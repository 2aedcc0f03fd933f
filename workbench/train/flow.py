"""Training PWC-Net on synthetic video calls with exact ground-truth flow (``workbench train flow``).

Data: by default, ``train_clips`` clips generated in memory by :mod:`workbench.data.synthetic` from
``seed`` (clip i = ``SeedSequence([seed, i])``); ``data`` points to clip folders on disk instead. Validation
uses clips from seed ``val_seed`` (5000 by default) and the held-out benchmark (``workbench bench flow``)
seeds from 10 000, so none of them is ever trained on.

Samples: a random pair (t, t+1) or (t, t−1) with its ground-truth flow, a random crop biased towards moving
pixels (most of a video call is static), a random horizontal flip (u negated), and photometric jitter
(brightness, contrast, per-channel gain, noise) applied to both frames. Loss: the paper's multi-scale EPE
(:func:`workbench.flow.pwc.multiscale_epe_loss`). Optimiser: Adam with a cosine learning-rate decay.

Resumable: every ``checkpoint_every`` steps the full state (weights, optimiser, step, RNG states) is written
atomically to ``<out>.state.pt``; ``resume=True`` continues from it and gives the same weights as an
uninterrupted run (same seed, same threads, CPU). The best validation checkpoint is written to ``out``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from workbench.config import Config
from workbench.errors import InputError
from workbench.flow import create_flow
from workbench.flow.base import FlowEstimator
from workbench.flow.pwc import create_pwc, init_estimator, multiscale_epe_loss, save_checkpoint
from workbench.io.atomic import atomic_file, write_csv_atomic
from workbench.io.checkpoints import fitting, load_torch_file
from workbench.train import distributed

VAL_SEED = 5000


@dataclass
class FlowTrainConfig(Config):
    out: str = "models/pwc_small/checkpoint.pt"
    variant: str = "pwc_small"
    data: str | None = None  # clip folders with ground-truth flow; None: generate in memory
    train_clips: int = 48
    frames: int = 40
    size: tuple[int, int] = (320, 192)  # (W, H) of generated clips
    seed: int = 0
    val_clips: int = 4
    val_seed: int = VAL_SEED
    steps: int = 3000
    batch_size: int = 8
    crop: tuple[int, int] = (128, 128)  # (W, H); multiples of 2**num_levels
    lr: float = 5e-4
    lr_min: float = 1e-5
    weight_decay: float = 0.0
    moving_crop_prob: float = 0.7  # share of crops centred on a moving pixel
    moving_crop_weighting: str = "magnitude"  # uniform | magnitude: pick the centre ∝ |flow| (more fast moves)
    # Generic layered scenes (workbench.data.flying): flow that is not our video calls' (FlyingChairs-like).
    layer_clips: int = 0  # generated layered clips added to the training data (0: video calls only)
    layer_frames: int = 3  # frames per layered clip
    layer_share: float = 0.5  # share of training pairs drawn from the layered clips (when there are some)
    max_motion: float = 0.15  # layered scenes: largest translation per frame, share of the width
    load: str | None = None  # start from these weights (a flow checkpoint of the same variant): a curriculum stage
    threads: int = 2
    checkpoint_every: int = 250
    validate_every: int = 250
    resume: bool = False


class PairBank:
    """Frames and ground-truth flows of many clips in memory (flows as float16 to halve the footprint)."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []  # per clip: uint8 (T, H, W, 3)
        self.fwd: list[np.ndarray] = []  # per clip: float16 (T-1, 2, H, W), t → t+1
        self.bwd: list[np.ndarray] = []  # per clip: float16 (T-1, 2, H, W), t+1 → t
        self.weights: np.ndarray | None = None  # per clip sampling probability (None: uniform over clips)

    def add(self, frames: list[np.ndarray], fwd: list[np.ndarray], bwd: list[np.ndarray]) -> None:
        self.frames.append(np.stack(frames))
        self.fwd.append(np.stack(fwd).astype(np.float16))
        self.bwd.append(np.stack(bwd).astype(np.float16))

    @classmethod
    def synthetic(cls, clips: int, frames: int, size: tuple[int, int], seed: int, progress: bool) -> PairBank:
        """Video calls (:mod:`workbench.data.synthetic`)."""
        from workbench.data.synthetic import SynthConfig, TalkingHeadClip

        config = SynthConfig(clips=clips, frames=frames, size=size, seed=seed)
        return cls.rendered((TalkingHeadClip(config, i) for i in range(clips)), clips, f"clips (seed {seed})",
                            progress)

    @classmethod
    def layered(cls, clips: int, frames: int, size: tuple[int, int], seed: int, max_motion: float,
                progress: bool) -> PairBank:
        """Generic layered scenes (:mod:`workbench.data.flying`), train-split photographs only."""
        from workbench.data.flying import FlyingClip, FlyingConfig

        config = FlyingConfig(clips=clips, frames=frames, size=size, seed=seed, max_motion=max_motion)
        config.validate()
        return cls.rendered((FlyingClip(config, i) for i in range(clips)), clips, f"layered scenes (seed {seed})",
                            progress)

    @classmethod
    def rendered(cls, clips: Iterable[Iterable[Any]], count: int, desc: str, progress: bool) -> PairBank:
        """Frames and exact flows of generated clips (each an iterable of ``FrameData``), rendered one by one."""
        bank = cls()
        for clip in tqdm(clips, total=count, desc=desc, unit="clip", disable=not progress, leave=False):
            items = list(clip)
            bank.add([i.frame for i in items], [i.flow_fwd for i in items[:-1]], [i.flow_bwd for i in items[1:]])
        return bank

    def mixed_with(self, other: PairBank, share: float) -> PairBank:
        """Both banks' clips, sampled so that ``share`` of the pairs come from ``other`` (uniform within each)."""
        mixed = PairBank()
        mixed.frames, mixed.fwd, mixed.bwd = self.frames + other.frames, self.fwd + other.fwd, self.bwd + other.bwd
        weights = np.concatenate([np.full(len(self.frames), (1 - share) / max(len(self.frames), 1)),
                                  np.full(len(other.frames), share / max(len(other.frames), 1))])
        mixed.weights = weights / weights.sum()
        return mixed

    @classmethod
    def folders(cls, root: str | Path, progress: bool) -> PairBank:
        from workbench.io import ClipFolder, find_clip_folders

        folders = find_clip_folders(root)
        if not folders:
            raise InputError(f"{root}: no clip folders (expected clip folders with flow_fwd/ and flow_bwd/)")
        bank = cls()
        for folder in tqdm(folders, desc="loading clips", unit="clip", disable=not progress, leave=False):
            clip = ClipFolder(folder)
            fwd = [clip.flow_fwd(t) for t in range(len(clip) - 1)]
            bwd = [clip.flow_bwd(t) for t in range(1, len(clip))]
            if any(f is None for f in fwd + bwd):
                raise InputError(f"{folder}: missing ground-truth flow files (flow_fwd/, flow_bwd/)")
            bank.add([clip.frame(t) for t in range(len(clip))], fwd, bwd)
        return bank

    def num_pairs(self) -> int:
        return sum(len(f) for f in self.fwd)

    def pair(self, clip: int, t: int, reverse: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(frame_a, frame_b, flow a → b) for (t, t+1), or (t+1, t) when ``reverse``."""
        frames = self.frames[clip]
        if reverse:
            return frames[t + 1], frames[t], self.bwd[clip][t].astype(np.float32)
        return frames[t], frames[t + 1], self.fwd[clip][t].astype(np.float32)


STATE_SCHEMA = {"model": dict, "optimizer": dict, "step": int, "best": (int, float), "history": list, "rng": dict,
                "torch_rng": torch.Tensor, "config": dict}
"""Keys of ``OUT.state.pt`` and their types (read weights-only, checked before use)."""

def sample_batch(bank: PairBank, rng: np.random.Generator, batch: int, crop: tuple[int, int],
                 moving_prob: float, weighting: str = "uniform", init: FlowEstimator | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Augmented crops → (frame_a, frame_b) float (N, 3, h, w) in [0, 1], flow (N, 2, h, w) in pixels and, with
    ``init``, that estimator's flow of the whole frames cropped and mirrored alike (else None). The initial flow
    is estimated on the whole frames, as it is at run time: estimated on a crop it is worse at the borders, and a
    refining network trained on it learns corrections that full frames do not need."""
    cw, ch = crop
    As, Bs, flows, inits = [], [], [], []
    for _ in range(batch):
        clip = int(rng.integers(len(bank.frames)) if bank.weights is None else rng.choice(len(bank.frames),
                                                                                          p=bank.weights))
        t = int(rng.integers(len(bank.fwd[clip])))
        a, b, flow = bank.pair(clip, t, reverse=bool(rng.random() < 0.5))
        H, W = a.shape[:2]
        if cw > W or ch > H:
            raise InputError(f"crop {cw}x{ch} is larger than the frames ({W}x{H})")
        moving = np.argwhere((np.abs(flow) > 0.5).any(axis=0)) if rng.random() < moving_prob else np.empty((0, 2))
        if len(moving):
            if weighting == "magnitude":  # fast moves are rare but carry most of the moving-pixel error
                magnitude = np.sqrt((flow[:, moving[:, 0], moving[:, 1]] ** 2).sum(axis=0))
                cy, cx = moving[int(rng.choice(len(moving), p=magnitude / magnitude.sum()))]
            else:
                cy, cx = moving[int(rng.integers(len(moving)))]
            y0 = int(np.clip(cy - ch // 2 + rng.integers(-ch // 4, ch // 4 + 1), 0, H - ch))
            x0 = int(np.clip(cx - cw // 2 + rng.integers(-cw // 4, cw // 4 + 1), 0, W - cw))
        else:
            y0, x0 = int(rng.integers(H - ch + 1)), int(rng.integers(W - cw + 1))
        start = init.estimate(a, b)[:, y0:y0 + ch, x0:x0 + cw] if init is not None else None
        a, b = a[y0:y0 + ch, x0:x0 + cw], b[y0:y0 + ch, x0:x0 + cw]
        flow = flow[:, y0:y0 + ch, x0:x0 + cw]
        if rng.random() < 0.5:  # mirror: the horizontal component changes sign
            sign = np.array([-1.0, 1.0], np.float32)[:, None, None]
            a, b, flow = a[:, ::-1], b[:, ::-1], flow[:, :, ::-1] * sign
            start = None if start is None else start[:, :, ::-1] * sign
        As.append(a)
        Bs.append(b)
        flows.append(np.ascontiguousarray(flow))
        if start is not None:
            inits.append(np.ascontiguousarray(start, np.float32))
    frames = torch.from_numpy(np.stack(As + Bs).astype(np.float32) / 255.0).permute(0, 3, 1, 2)
    # Photometric jitter, identical for both frames of a pair (brightness constancy stays true), then noise.
    n = len(As)
    gain = torch.from_numpy(rng.uniform(0.8, 1.2, (n, 3, 1, 1)).astype(np.float32))
    bias = torch.from_numpy(rng.uniform(-0.08, 0.08, (n, 1, 1, 1)).astype(np.float32))
    contrast = torch.from_numpy(rng.uniform(0.8, 1.2, (n, 1, 1, 1)).astype(np.float32))
    a, b = frames[:n], frames[n:]
    mean = 0.5 * (a.mean(dim=(1, 2, 3), keepdim=True) + b.mean(dim=(1, 2, 3), keepdim=True))
    a = ((a - mean) * contrast + mean) * gain + bias
    b = ((b - mean) * contrast + mean) * gain + bias
    sigma = torch.from_numpy(rng.uniform(0.0, 0.02, (n, 1, 1, 1)).astype(np.float32))
    noise = torch.from_numpy(rng.standard_normal((2, *a.shape)).astype(np.float32))
    a = (a + sigma * noise[0]).clamp(0, 1)
    b = (b + sigma * noise[1]).clamp(0, 1)
    return a, b, torch.from_numpy(np.stack(flows)), torch.from_numpy(np.stack(inits)) if inits else None


def bank_epe(bank: PairBank, estimate: Callable[[np.ndarray, np.ndarray], np.ndarray],
             stride: int = 3) -> dict[str, float]:
    """Mean EPE of ``estimate(frame_a, frame_b)`` over every ``stride``-th forward pair of the bank (full
    frames): over all pixels and over moving pixels (|gt| > 0.5 px)."""
    errors, moving = [], []
    for clip in range(len(bank.frames)):
        for t in range(0, len(bank.fwd[clip]), stride):
            a, b, gt = bank.pair(clip, t, reverse=False)
            err = np.sqrt(((estimate(a, b) - gt) ** 2).sum(axis=0))
            errors.append(err.mean())
            mask = np.sqrt((gt**2).sum(axis=0)) > 0.5
            if mask.any():
                moving.append(err[mask].mean())
    return {"epe": float(np.mean(errors)), "epe_moving": float(np.mean(moving)) if moving else float("nan")}


@torch.inference_mode()
def evaluate(model: torch.nn.Module, bank: PairBank, stride: int = 3) -> dict[str, float]:
    """:func:`bank_epe` of the network being trained (refining its initial flow, when it has one)."""
    init = None if model.config.init_flow is None else init_estimator(model.config.init_flow)

    def estimate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        pair = torch.from_numpy(np.stack([a, b]).astype(np.float32) / 255.0).permute(0, 3, 1, 2)
        start = None if init is None else torch.from_numpy(init.estimate(a, b))[None]
        return model.flow(pair[:1], pair[1:], init=start)[0].numpy()

    model.eval()
    try:
        return bank_epe(bank, estimate, stride)
    finally:
        model.train()


def _state_path(out: Path) -> Path:
    return out.with_name(out.name + ".state.pt")


def train_flow(config: FlowTrainConfig, progress: bool = True, stop_after: int | None = None) -> dict[str, Any]:
    """Train PWC-Net; returns a summary (best validation EPE, DIS baseline, time, paths).

    ``stop_after`` ends this call after that many steps (saving the state), as an interruption would. Under
    ``torchrun`` it is one of several data-parallel processes (:mod:`workbench.train.distributed`): the same
    global batches, each process its share of the rows; rank 0 validates and writes.

    Long because it is one training loop read top to bottom: set-up, resume, steps, validation, checkpoints; split,
    it would hide the order that a resumed run must reproduce bit for bit (tested).
    """
    torch.set_num_threads(config.threads)
    with distributed.joined("cpu") as dist:
        return _train_flow(config, dist, progress and dist.main, stop_after)


def _train_flow(config: FlowTrainConfig, dist: distributed.Dist, progress: bool, stop_after: int | None
                ) -> dict[str, Any]:
    """Long because it is the training loop of :func:`train_flow`, read top to bottom (see there)."""
    torch.manual_seed(config.seed)
    out = Path(config.out)
    start = time.perf_counter()
    model = create_pwc(config.variant)
    multiple = 2**model.config.num_levels
    if config.crop[0] % multiple or config.crop[1] % multiple:
        raise InputError(f"--crop {config.crop[0]}x{config.crop[1]}: expected multiples of {multiple}")
    if config.load and not config.resume:
        from workbench.flow.pwc import load_pwc

        start_from = load_pwc(config.load)
        with fitting(Path(config.load), f"weights do not fit a {config.variant!r} network (--variant)"):
            # Same shapes can still mean another network; only the initial flow may differ (a pwc_small's
            # weights are a pwc_dis's starting point: its features and decoders already estimate flow).
            theirs, ours = ({**c.to_dict(), "init_flow": None} for c in (start_from.config, model.config))
            if theirs != ours:
                raise ValueError(f"its config {start_from.config.to_dict()} is not {config.variant!r}'s")
            model.load_state_dict(start_from.state_dict())
            if model.config.init_flow and not start_from.config.init_flow:
                model.reset_heads(std=0.0)  # predicting a residual now: start at the initial flow itself
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 7]))
    step, best, history = 0, math.inf, []
    state_path = _state_path(out)
    if config.resume:
        if not state_path.is_file():
            raise InputError(f"{state_path}: no training state to resume from")
        state = load_torch_file(state_path, "training state", STATE_SCHEMA)
        with fitting(state_path, "training state does not fit this run"):
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            step, best, history = state["step"], state["best"], state["history"]
            rng.bit_generator.state = state["rng"]
            torch.set_rng_state(state["torch_rng"])

    if config.data:
        bank = PairBank.folders(config.data, progress)
    else:
        bank = PairBank.synthetic(config.train_clips, config.frames, config.size, config.seed, progress)
    val = PairBank.synthetic(config.val_clips, config.frames, config.size, config.val_seed, progress)
    dis = create_flow("dis", preset="medium").estimate
    baseline = dist.broadcast(bank_epe(val, dis) if dist.main else None)  # the method to beat
    val_layers = None
    if config.layer_clips:
        layers = PairBank.layered(config.layer_clips, config.layer_frames, config.size, config.seed,
                                  config.max_motion, progress)
        bank = bank.mixed_with(layers, config.layer_share)
        val_layers = PairBank.layered(2 * config.val_clips, config.layer_frames, config.size, config.val_seed,
                                      config.max_motion, progress)
        baseline.update(dist.broadcast({f"{k}_layers": v for k, v in bank_epe(val_layers, dis, stride=1).items()}
                                       if dist.main else None))
    log_path = out.with_name("train_log.csv")
    out.parent.mkdir(parents=True, exist_ok=True)

    def schedule(s: int) -> float:  # cosine decay from lr to lr_min over the run
        return config.lr_min + 0.5 * (config.lr - config.lr_min) * (1 + math.cos(math.pi * s / config.steps))

    refine = None if model.config.init_flow is None else init_estimator(model.config.init_flow)
    model.train()
    trained = dist.wrap(model)  # the training forward pass; checkpoints save model
    bar = tqdm(total=config.steps, initial=step, desc="train flow", unit="step", disable=not progress)
    running = None
    last = config.steps if stop_after is None else min(config.steps, step + stop_after)
    while step < last:
        for group in optimizer.param_groups:
            group["lr"] = schedule(step)
        a, b, flow, init = sample_batch(bank, rng, config.batch_size, config.crop, config.moving_crop_prob,
                                        config.moving_crop_weighting, init=refine)  # the whole global batch
        rows = dist.shard(len(a))  # this process's rows of it
        loss = multiscale_epe_loss(trained(a[rows], b[rows], init=None if init is None else init[rows]), flow[rows],
                                   model.config.flow_scale, total=dist.sum)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{running:.3f}")
        if dist.main and (step % config.validate_every == 0 or step == config.steps):  # rank 0 validates
            metrics = evaluate(model, val)
            if val_layers is not None:
                metrics.update({f"{k}_layers": v for k, v in evaluate(model, val_layers, stride=1).items()})
            history.append({"step": step, "loss": running, **metrics, "lr": schedule(step),
                            "seconds": time.perf_counter() - start})
            bar.write(f"step {step}: val EPE {metrics['epe']:.3f} px (moving {metrics['epe_moving']:.3f}); "
                      f"DIS medium {baseline['epe']:.3f} ({baseline['epe_moving']:.3f})"
                      + (f"; layered scenes {metrics['epe_layers']:.3f} (DIS {baseline['epe_layers']:.3f})"
                         if val_layers is not None else ""))
            if _score(metrics, baseline) < best:
                best = _score(metrics, baseline)
                save_checkpoint(out, model, {**{f"val_{k}": v for k, v in metrics.items()}, "step": step,
                                             **{f"dis_medium_val_{k}": v for k, v in baseline.items()}},
                                extra={"train_config": config.to_dict(), "world_size": dist.world})
            write_csv_atomic(log_path, history)
        if dist.main and (step % config.checkpoint_every == 0 or step in (config.steps, last)):
            with atomic_file(state_path) as tmp:
                torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                            "best": best, "history": history, "rng": rng.bit_generator.state,
                            "torch_rng": torch.get_rng_state(), "config": config.to_dict()}, tmp)
    bar.close()
    chosen = min(history, key=lambda h: _score(h, baseline)) if history else {"epe": math.inf}
    return {"out": str(out), "best_val_epe": chosen["epe"], "best": chosen, "dis_medium_val": baseline, "steps": step,
            "seconds": time.perf_counter() - start, "history": history, "log": str(log_path),
            "pairs": bank.num_pairs(), "world_size": dist.world, "rank": dist.rank}


def _score(metrics: dict, baseline: dict) -> float:
    """What the best checkpoint minimises: the video-call validation EPE or, with layered scenes, the mean of
    both validation EPEs relative to DIS-medium's on the same pairs (closest to DIS on both kinds)."""
    if "epe_layers" not in metrics:
        return float(metrics["epe"])
    return 0.5 * (metrics["epe"] / baseline["epe"] + metrics["epe_layers"] / baseline["epe_layers"])
