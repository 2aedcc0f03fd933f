"""One registry of networks by name: ``create_model("funet", **overrides)``, ``list_models()``.

Each model file registers its named variants with :func:`register_model`; tests loop over
:func:`list_models` so that a new network is tested for free (STYLE.md 3). Flow *estimators* (which wrap a
network or a classical method behind ``estimate(frame_a, frame_b)``) have their own registry in
:mod:`workbench.flow`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch.nn as nn

from workbench.errors import InputError

_MODELS: dict[str, tuple[Callable[..., nn.Module], str]] = {}


def register_model(name: str, task: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator for a builder ``f(**overrides) -> nn.Module``; ``task`` is ``"flow"`` or ``"seg"``."""

    def add(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _MODELS:
            raise ValueError(f"model {name!r} registered twice")
        _MODELS[name] = (builder, task)
        return builder

    return add


def create_model(name: str, **overrides: Any) -> nn.Module:
    """Build a registered network by name, with keyword overrides of its config."""
    _import_model_modules()
    if name not in _MODELS:
        raise InputError(f"unknown model {name!r}; expected one of {', '.join(list_models())}")
    return _MODELS[name][0](**overrides)


def list_models(task: str | None = None) -> list[str]:
    _import_model_modules()
    return sorted(name for name, (_, t) in _MODELS.items() if task is None or t == task)


def _import_model_modules() -> None:
    """Model files register themselves on import; importing them here keeps the registry complete."""
    import importlib

    for module in ("workbench.flow.pwc", "workbench.seg", "workbench.decision"):
        importlib.import_module(module)
