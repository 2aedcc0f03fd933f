"""Training the decision network (``workbench train decision``) on labels from ``workbench dvs labels``.

DVSNet's recipe, scaled to our data: Adam (lr 0.002), the learning rate × 0.99 after every epoch, batch 32,
MSE on the 0–100 score; the validation split is **by clip** (``val_percent`` of the label set's clips); the
checkpoint with the lowest validation MAE is kept. Reported: MAE, RMSE and the Pearson correlation between
predicted and true scores on the validation clips, and on a separate held-out label set (``test``) when given.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.config import Config
from workbench.decision import Decider, DecisionConfig, DecisionNet, save_decision_checkpoint
from workbench.decision.features import FLOW_CHANNELS
from workbench.errors import InputError
from workbench.io.atomic import write_csv_atomic
from workbench.pipeline.labels import LabelConfig, load_labels
from workbench.train import distributed


@dataclass
class DecisionTrainConfig(Config):
    labels: str = "data/decision/labels"
    out: str = "models/decision"
    test: str | None = None  # held-out label set, scored at the end
    epochs: int = 100
    batch_size: int = 32
    lr: float = 0.002
    lr_decay: float = 0.99  # per epoch
    val_percent: float = 10.0
    conv_channels: int = 32
    fc: tuple[int, ...] = (256, 64, 10)
    dropout: float = 0.5
    summaries: bool = True  # whole-region summaries into the FC layers (DecisionConfig.summaries)
    seed: int = 0
    threads: int | None = 2  # torch threads (None: leave as it is)

    def validate(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise InputError("--epochs, --batch-size and --learning-rate must be positive")
        if not 0 < self.val_percent < 100:
            raise InputError(f"-v/--validation {self.val_percent}: expected a percentage between 0 and 100")


def score_metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and Pearson r of predicted vs true scores."""
    pred, true = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    error = pred - true
    r = float(np.corrcoef(pred, true)[0, 1]) if pred.std() > 0 and true.std() > 0 else float("nan")
    return {"mae": float(np.abs(error).mean()), "rmse": float(np.sqrt((error**2).mean())), "pearson": r,
            "pairs": int(len(true))}


@torch.inference_mode()
def predict_scores(model: DecisionNet, grid: np.ndarray, extra: np.ndarray, batch: int = 1024) -> np.ndarray:
    model.eval()
    out = [model(torch.from_numpy(grid[i:i + batch]), torch.from_numpy(extra[i:i + batch])).clamp(0, 100).numpy()
           for i in range(0, len(grid), batch)]
    return np.concatenate(out)


def split_clips(clips: np.ndarray, val_percent: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean train/val masks over pairs, split by clip (at least one clip each way)."""
    names = np.unique(clips)
    if len(names) < 2:
        raise InputError("decision labels come from one clip; the validation split is by clip and needs two or more")
    rng = np.random.default_rng(seed)
    order = rng.permutation(names)
    num_val = min(len(names) - 1, max(1, round(len(names) * val_percent / 100)))
    val = np.isin(clips, order[:num_val])
    return ~val, val


def train_decision(config: DecisionTrainConfig, progress: bool = True) -> dict[str, Any]:
    """Train the decision network on ``config.labels``; returns the summary (validation and held-out MAE and
    Pearson r, the baseline of predicting the mean, history, labels info).

    Under ``torchrun`` it is one of several data-parallel processes (:mod:`workbench.train.distributed`): the
    same global batches, each process its share of the rows; every process validates (cheap, and the same),
    rank 0 writes. Dropout masks are drawn per process, so with dropout the result matches one process's in
    distribution, not value by value.
    """
    config.validate()
    if config.threads:
        torch.set_num_threads(config.threads)
    with distributed.joined("cpu") as dist:
        return _train_decision(config, dist, progress and dist.main)


def _train_decision(config: DecisionTrainConfig, dist: distributed.Dist, progress: bool) -> dict[str, Any]:
    """Long because it is the training loop of :func:`train_decision`, read top to bottom (see there)."""
    from tqdm import tqdm

    torch.manual_seed(config.seed)
    arrays, info = load_labels(config.labels)
    label_config = LabelConfig.from_dict(info["config"])
    pipeline = label_config.pipeline
    grid, extra, score = arrays["grid"], arrays["extra"], arrays["score"]
    train, val = split_clips(arrays["clip"], config.val_percent, config.seed)
    flow_kind = label_config.features in ("flow", "flow+fast")
    model = DecisionNet(DecisionConfig(in_channels=grid.shape[1], grid=tuple(grid.shape[2:]), extra=extra.shape[1],
                                       conv_channels=config.conv_channels, fc=tuple(config.fc),
                                       dropout=config.dropout, summaries=config.summaries,
                                       area_channel=FLOW_CHANNELS.index("key_prob") if flow_kind else None))
    model.set_normalization(torch.from_numpy(grid[train]))
    with torch.no_grad():
        model.head[-1].bias.fill_(float(score[train].mean()))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_decay)
    decider = Decider(model, features=label_config.features, flow=pipeline.flow, score=pipeline.score,
                      label=label_config.label,
                      meta={"seg": info.get("seg"), "regions": list(pipeline.regions),
                            "flow_scale": pipeline.flow_scale, "overlap": pipeline.overlap,
                            "max_offset": label_config.max_offset,
                            **({"fast": label_config.fast} if label_config.fast else {}),
                            "train_config": config.to_dict()})
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    trained = dist.wrap(model)  # the training forward pass; the checkpoint saves model
    tensors = [torch.from_numpy(a[train]) for a in (grid, extra, score)]
    generator = torch.Generator().manual_seed(config.seed)
    history, best, best_state = [], None, None
    start = time.perf_counter()
    bar = tqdm(range(1, config.epochs + 1), desc="decision network", unit="epoch", disable=not progress)
    for epoch in bar:
        model.train()
        order = torch.randperm(len(tensors[0]), generator=generator)
        losses = []
        for i in range(0, len(order), config.batch_size):
            idx = order[i:i + config.batch_size]  # the global batch
            idx = idx[dist.shard(len(idx))]  # this process's rows of it
            squared = torch.nn.functional.mse_loss(trained(tensors[0][idx], tensors[1][idx]), tensors[2][idx],
                                                   reduction="sum")
            loss = dist.sum(squared) / dist.sum(squared.new_tensor(float(len(idx))))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
        metrics = score_metrics(predict_scores(model, grid[val], extra[val]), score[val])
        history.append({"epoch": epoch, "train_mse": float(np.mean(losses)), "val_mae": metrics["mae"],
                        "val_pearson": metrics["pearson"], "lr": optimizer.param_groups[0]["lr"],
                        "seconds": time.perf_counter() - start})
        bar.set_postfix(mae=f"{metrics['mae']:.2f}", r=f"{metrics['pearson']:.3f}")
        if best is None or metrics["mae"] < best["mae"]:
            best = {**metrics, "epoch": epoch}
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    result: dict[str, Any] = {"val": best, "train_pairs": int(train.sum()), "val_pairs": int(val.sum()),
                              "seconds": time.perf_counter() - start, "history": history, "labels": info,
                              "baseline_val_mae": float(np.abs(score[val] - score[train].mean()).mean())}
    if config.test:
        test_arrays, test_info = load_labels(config.test)
        if test_arrays["grid"].shape[1:] != grid.shape[1:]:
            raise InputError(f"{config.test}: features of shape {test_arrays['grid'].shape[1:]}, the training labels "
                             f"have {grid.shape[1:]}")
        result["test"] = score_metrics(predict_scores(model, test_arrays["grid"], test_arrays["extra"]),
                                       test_arrays["score"])
        result["test_labels"] = test_info
    result.update(world_size=dist.world, rank=dist.rank)
    if dist.main:
        decider.meta["world_size"] = dist.world
        save_decision_checkpoint(out / "checkpoint.pt", decider, metrics={k: result[k] for k in ("val", "test")
                                                                         if k in result})
        write_csv_atomic(out / "train_log.csv", history)
    return result
