"""Recipes: train a network, benchmark it on held-out material, write its model card — from Python or the CLI.

``workbench train flow | seg | decision`` are these functions with their arguments parsed; a notebook or a
script gets the same checkpoint, ``eval/bench_*.md`` and ``MODEL_CARD.md`` by calling them::

    from workbench.experiments.recipes import seg_recipe
    from workbench.train.seg import SegTrainConfig
    result = seg_recipe(SegTrainConfig(out="data/train/my_unet", epochs=2), eval_clips=2, eval_frames=8)
    result.card  # Path of MODEL_CARD.md

The card's numbers are always measured on held-out clips (seeds from 10 000, never drawn by training) with
``EVAL_THREADS`` threads, so cards of different machines' runs compare like with like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.io.atomic import write_json_atomic

EVAL_THREADS = 2  # every card's benchmark runs with this many threads


@dataclass
class RecipeResult:
    """What a recipe produced: the training summary, the held-out benchmark result (``None`` without a card)
    and the card's path (``None`` without a card)."""

    summary: dict[str, Any]
    bench: dict[str, Any] | None = None
    card: Path | None = None
    files: list[Path] = field(default_factory=list)


def flow_recipe(config: Any, card: bool = True, eval_clips: int = 6, eval_frames: int = 31,
                command: str = "(python) workbench.experiments.recipes.flow_recipe", progress: bool = True,
                stop_after: int | None = None) -> RecipeResult:
    """Train PWC-Net (:class:`workbench.train.flow.FlowTrainConfig`), then with ``card`` benchmark the best
    checkpoint (``workbench bench flow`` on ``eval_clips`` held-out clips, no correlation part) into
    ``<out folder>/eval/`` and write ``MODEL_CARD.md`` next to the checkpoint."""
    from workbench.experiments.bench_flow import bench_flow, write_bench_flow
    from workbench.experiments.cards import write_flow_card
    from workbench.train.flow import train_flow

    summary = train_flow(config, progress=progress, stop_after=stop_after)
    if not card or summary["rank"]:  # under torchrun, rank 0 benchmarks and writes the card
        return RecipeResult(summary)
    result = bench_flow(clips=eval_clips, frames=eval_frames, threads=EVAL_THREADS, repeat=3, correlation=False,
                        pwc_checkpoint=summary["out"])
    files = list(write_bench_flow(result, Path(summary["out"]).parent / "eval"))
    path = write_flow_card(summary["out"], summary, result, command)
    return RecipeResult(summary, result, path, files)


def seg_recipe(config: Any, card: bool = True, eval_clips: int = 8, eval_frames: int = 40,
               eval_real: list[str] | None = None, command: str = "(python) workbench.experiments.recipes.seg_recipe",
               progress: bool = True, bench_progress: Callable[[str], None] | None = None) -> RecipeResult:
    """Train a segmentation network (:class:`workbench.train.seg.SegTrainConfig`), then with ``card`` run
    ``workbench bench seg`` on it (held-out synthetic clips and any labelled real clip folders ``eval_real``)
    into ``OUT/eval/`` and write ``OUT/MODEL_CARD.md``."""
    from workbench.experiments.bench_seg import bench_seg, write_bench_seg
    from workbench.experiments.cards import write_seg_card
    from workbench.train.seg import train_seg

    summary = train_seg(config, progress=progress)
    if not card or summary["rank"]:  # under torchrun, rank 0 benchmarks and writes the card
        return RecipeResult(summary)
    result = bench_seg({config.model: summary["out"]}, clips=eval_clips, frames=eval_frames, threads=EVAL_THREADS,
                       real=eval_real, progress=bench_progress)
    files = list(write_bench_seg(result, Path(config.out) / "eval"))
    path = write_seg_card(summary["out"], summary, result, command)
    return RecipeResult(summary, result, path, files)


def decision_recipe(config: Any, card: bool = True,
                    command: str = "(python) workbench.experiments.recipes.decision_recipe",
                    progress: bool = True) -> RecipeResult:
    """Train the decision network (:class:`workbench.train.decision.DecisionTrainConfig`) on labels from
    ``workbench dvs labels``; with ``card``, write ``OUT/MODEL_CARD.md`` (its held-out numbers are the
    ``test`` labels' scores); always ``OUT/metrics.json``."""
    from workbench.experiments.cards import write_decision_card
    from workbench.train.decision import train_decision

    summary = train_decision(config, progress=progress)
    if summary["rank"]:  # under torchrun, rank 0 writes the card and the metrics
        return RecipeResult(summary)
    path = write_decision_card(Path(config.out), summary, command) if card else None
    metrics = Path(config.out) / "metrics.json"
    write_json_atomic(metrics, {k: v for k, v in summary.items() if k != "history"})
    return RecipeResult(summary, None, path, [metrics])


__all__ = ["EVAL_THREADS", "RecipeResult", "decision_recipe", "flow_recipe", "seg_recipe"]
