"""Trade-off figures of a sweep (matplotlib): mean IoU against fps or key fraction, one curve per policy.

``table`` is the sweep table (:mod:`workbench.experiments.sweep`); only its aggregate rows (``clip == "all"``) are
drawn. Returns the figure; the caller saves or shows it.
"""

from __future__ import annotations

from typing import Any

STYLE = {"per-frame": ("o", "black"), "fixed": ("s", "tab:blue"), "adaptive": ("D", "tab:red"),
         "oracle": ("^", "tab:green"), "flow-only": ("x", "tab:gray")}
XLABEL = {"fps": "frames per second (no I/O)", "key_fraction": "key fraction (share of region-steps segmented)"}


def curve_name(method: str, rule: str = "threshold") -> str:
    """A sweep curve's name: ``adaptive-cumulative`` as the run ids say it (``PipelineConfig.method``, which
    this layer cannot import) when adaptive or oracle decide by a rule other than DVSNet's threshold."""
    return f"{method}-{rule}" if method in ("adaptive", "oracle") and rule != "threshold" else method


def tradeoff_figure(table: Any, x: str = "fps", reference: str | None = None, highlight: list[str] | None = None,
                    title: str | None = None, rule: str = "threshold"):
    """Mean IoU vs ``x`` (``fps`` | ``key_fraction``); per-frame points are labelled with their network;
    adaptive and oracle curves name their decision ``rule`` when it is not DVSNet's threshold."""
    import matplotlib.pyplot as plt  # the environment's backend: inline in Jupyter, Agg when headless

    if x not in XLABEL:
        raise ValueError(f"x must be one of {', '.join(XLABEL)}, not {x!r}")
    agg = table[table["clip"] == "all"]
    figure, ax = plt.subplots(figsize=(6.4, 4.2))
    for (method, seg), group in agg.groupby(["method", "seg"], sort=False):
        marker, color = STYLE.get(method, ("o", None))
        group = group.sort_values(x)
        if method == "per-frame":
            face = color if seg == reference else "white"
            ax.scatter(group[x], 100 * group["mean_iou"], marker="D" if "+" in seg else marker, s=60,
                       facecolors=face, edgecolors="black",
                       zorder=3, label=f"per-frame {seg}")
            continue
        name = curve_name(method, rule)
        label = name if reference is None or seg == reference else f"{name} ({seg})"
        ax.plot(group[x], 100 * group["mean_iou"], marker=marker, color=color, label=label, lw=1.5, ms=5)
        if method in ("fixed", "adaptive"):
            for _, row in group.iloc[:: max(1, len(group) // 5)].iterrows():
                ax.annotate(f"{row['param']:g}", (row[x], 100 * row["mean_iou"]), textcoords="offset points",
                            xytext=(4, 4), fontsize=7, color=color)
    for run_id in highlight or []:
        rows = table[table["run_id"] == run_id]
        ax.scatter(rows[x], 100 * rows["mean_iou"], s=160, facecolors="none", edgecolors="orange", lw=2, zorder=4)
    if x == "fps":
        ax.set_xscale("log")
    ax.set_xlabel(XLABEL[x])
    ax.set_ylabel("mean IoU (%)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower left" if x == "fps" else "lower right")
    ax.set_title(title or ("Accuracy vs speed" if x == "fps" else "Accuracy vs key fraction"))
    figure.tight_layout()
    return figure


def save_figure(figure, path) -> None:
    """Save a matplotlib figure (PNG at 120 dpi) and release it."""
    import matplotlib.pyplot as plt

    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
