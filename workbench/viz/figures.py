"""Static (matplotlib) figures for notebooks and reports: a run's timeline, calibration of the decision
network, training curves, frames side by side. Each returns the figure; callers show or save it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def _plt():
    """pyplot, with whatever backend the environment chose (inline in Jupyter, Agg on a headless machine)."""
    import matplotlib.pyplot as plt

    return plt


def run_timeline_figure(frames, title: str = "", others: Mapping[str, object] | None = None):
    """Three rows over frames: predicted score per region with the target (dotted: the compound score the
    cumulative rule compares with it), key-frame raster, IoU
    (``frames``: a run's frames table; ``others``: label → frames table of runs to overlay on the IoU row)."""
    plt = _plt()
    figure, axes = plt.subplots(3, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1.3, 2]})
    regions = sorted(frames["region"].unique())
    for r in regions:
        rows = frames[frames["region"] == r].sort_values("frame")
        if rows["score_pred"].notna().any():
            (line,) = axes[0].plot(rows["frame"], rows["score_pred"], ".-", lw=1, label=f"region {r}")
            if "score_cum" in rows and rows["score_cum"].notna().any():  # the cumulative rule's compared score
                axes[0].plot(rows["frame"], rows["score_cum"], ":", lw=1, color=line.get_color())
        keys = rows[rows["decision"] == "segment"]["frame"]
        axes[1].scatter(keys, [r] * len(keys), marker="|", s=120)
    first = frames[frames["region"] == regions[0]].sort_values("frame")
    if first["target"].notna().any():
        axes[0].step(first["frame"], first["target"], "k--", where="post", label="target")
    axes[0].set_ylabel("predicted score")
    axes[0].set_ylim(0, 101)
    if axes[0].lines:
        axes[0].legend(fontsize=7, ncol=5, loc="lower left")
    axes[1].set_ylabel("region\n(segment)")
    axes[1].set_yticks(regions)
    per_frame = frames.groupby("frame")["iou"].first()
    axes[2].plot(per_frame.index, per_frame.values, "k.-", label="this run")
    for name, other in (others or {}).items():
        series = other.groupby("frame")["iou"].first()
        axes[2].plot(series.index, series.values, ".-", lw=1, label=name)
    axes[2].set_ylabel("IoU")
    axes[2].set_xlabel("frame")
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    if title:
        axes[0].set_title(title)
    figure.tight_layout()
    return figure


def calibration_bins(pred: np.ndarray, true: np.ndarray, bins: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean predicted, mean true, count)`` per bin of equal *count* (quantiles of the predictions): scores
    crowd near 100, so fixed-width bins would put almost every point in one."""
    pred, true = np.asarray(pred, float), np.asarray(true, float)
    edges = np.unique(np.quantile(pred, np.linspace(0, 1, bins + 1)))
    which = np.clip(np.searchsorted(edges, pred, side="right") - 1, 0, max(len(edges) - 2, 0))
    keep = [i for i in range(max(len(edges) - 1, 1)) if (which == i).any()]
    return (np.array([pred[which == i].mean() for i in keep]), np.array([true[which == i].mean() for i in keep]),
            np.array([int((which == i).sum()) for i in keep]))


def calibration_figure(pred: np.ndarray, true: np.ndarray, title: str = "decision network calibration",
                       bins: int = 8):
    """Predicted vs true confidence scores (with the diagonal), and the mean true score per bin of equal count
    (:func:`calibration_bins`); the axes span the data, not 0–100."""
    plt = _plt()
    pred, true = np.asarray(pred, float), np.asarray(true, float)
    figure, ax = plt.subplots(figsize=(4.8, 4.4))
    ax.scatter(pred, true, s=4, alpha=0.3)
    mean_pred, mean_true, count = calibration_bins(pred, true, bins)
    ax.plot(mean_pred, mean_true, "ro-", label=f"mean true score per bin ({len(count)} bins of ~{int(count.mean())})")
    low = float(min(pred.min(), true.min())) if pred.size else 0.0
    low = max(0.0, low - 0.05 * (100 - low))
    ax.plot([low, 100], [low, 100], "k--", lw=1, label="perfect")
    ax.set_xlim(low, 100.5)
    ax.set_ylim(low, 100.5)
    r = np.corrcoef(pred, true)[0, 1] if pred.std() > 0 and true.std() > 0 else float("nan")
    ax.set_xlabel("predicted score")
    ax.set_ylabel("true score")
    ax.set_title(f"{title} (r = {r:.3f})")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def curves_figure(histories: Mapping[str, Sequence[dict]], keys: Sequence[str] = ("train_loss", "val_iou")):
    """Training curves (one line per model) of the given history keys, one panel per key."""
    plt = _plt()
    figure, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.2))
    axes = np.atleast_1d(axes)
    for ax, key in zip(axes, keys, strict=True):
        for name, history in histories.items():
            ax.plot([h["epoch"] for h in history], [h[key] for h in history], "o-", label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    figure.tight_layout()
    return figure


def pictures_figure(pictures: Sequence[tuple[str, np.ndarray]], columns: int = 4, width: float = 3.2):
    """Images side by side with titles (``uint8`` RGB or single-channel arrays)."""
    plt = _plt()
    rows = (len(pictures) + columns - 1) // columns
    cols = min(columns, len(pictures))
    first = pictures[0][1]
    aspect = first.shape[0] / first.shape[1]
    figure, axes = plt.subplots(rows, cols, figsize=(width * cols, width * aspect * rows + 0.4 * rows),
                                squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (title, picture) in zip(axes.ravel(), pictures, strict=False):
        ax.imshow(picture, cmap=None if picture.ndim == 3 else "viridis")
        ax.set_title(title, fontsize=8)
    figure.tight_layout()
    return figure
