"""Guarded sentences: what a notebook or a report may conclude from two sets of paired measurements.

A computed sentence states a verdict only when the numbers carry one: both methods reach a quality floor (a
comparison of two failures is not a finding) and their paired difference is larger than its noise (twice the
standard error of the mean difference over the shared items — clips, frames or pairs). Otherwise the sentence
says why there is no verdict. Used by the notebooks; tested on constructed cases.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NOISE_SE = 2.0  # a difference counts when it exceeds this many standard errors of the paired mean difference


def _shared(a: Sequence[float], b: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` on the items where both are finite (the only items a paired comparison may use)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired values of different lengths: {a.shape} and {b.shape}")
    keep = np.isfinite(a) & np.isfinite(b)
    return a[keep], b[keep]


def paired_difference(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, int]:
    """``(mean(a − b), standard error of that mean, n)`` over the items where both are finite."""
    a, b = _shared(a, b)
    diff = a - b
    n = int(diff.size)
    if n == 0:
        return float("nan"), float("nan"), 0
    se = float(diff.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    return float(diff.mean()), se, n


def compare_sentence(a: Sequence[float], b: Sequence[float], name_a: str, name_b: str, what: str = "IoU",
                     items: str = "frames", higher_is_better: bool = True, floor: float | None = None,
                     fmt: str = ".3f") -> str:
    """One sentence comparing ``a`` and ``b`` (paired: item i of each measures the same thing), guarded:

    - no verdict when fewer than 2 shared items;
    - no verdict when ``floor`` is given and neither mean reaches it (higher is better) or both exceed it;
    - "the same" when every paired difference is 0;
    - "cannot be told apart" when ``|mean difference| ≤ NOISE_SE × standard error``;
    - otherwise which is better, by how much, ± its standard error, over how many items.
    """
    diff, se, n = paired_difference(a, b)
    shared_a, shared_b = _shared(a, b)  # the means quoted are over the same items as the difference
    mean_a = float(shared_a.mean()) if n else float("nan")
    mean_b = float(shared_b.mean()) if n else float("nan")
    if n < 2:
        return f"Too few {items} ({n}) to compare {name_a} and {name_b}; no verdict."
    if floor is not None:
        fails = (lambda m: m < floor) if higher_is_better else (lambda m: m > floor)
        if fails(mean_a) and fails(mean_b):
            return (f"Neither {name_a} ({format(mean_a, fmt)}) nor {name_b} ({format(mean_b, fmt)}) reaches a {what} "
                    f"of {format(floor, fmt)} here, so comparing them says nothing; no verdict.")
    if diff == 0 and se == 0:
        return f"{name_a} and {name_b} give the same {what} on every one of these {n} {items} ({format(mean_a, fmt)})."
    if abs(diff) <= NOISE_SE * se:
        return (f"{name_a} and {name_b} cannot be told apart on these {n} {items}: {what} {format(mean_a, fmt)} vs "
                f"{format(mean_b, fmt)}, difference {format(diff, '+' + fmt)} ± {format(se, fmt)} (standard error), "
                f"within noise.")
    better_a = diff > 0 if higher_is_better else diff < 0
    best, other = (name_a, name_b) if better_a else (name_b, name_a)
    return (f"{best} is better than {other} on these {n} {items}: {what} {format(mean_a, fmt)} vs "
            f"{format(mean_b, fmt)}, difference {format(diff, '+' + fmt)} ± {format(se, fmt)} (standard error).")


__all__ = ["NOISE_SE", "compare_sentence", "paired_difference"]
