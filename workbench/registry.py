"""One registry of networks by name: ``create_model("funet", **overrides)``, ``list_models()``.

Each model file registers its named variants with :func:`register_model`, together with the facts the rest of
the workbench needs about them (:func:`model_facts`): a segmentation network its ``input`` kind (``rgb``,
``funet``, ``funet_flow``: :mod:`workbench.seg.inputs`), a one-line ``description`` (model cards) and the
training ``options`` it takes (fields of ``SegTrainConfig`` passed to its builder). Tests loop over
:func:`list_models` so that a new network is tested for free. Flow *estimators* (which wrap a
network or a classical method behind ``estimate(frame_a, frame_b)``) have their own registry in
:mod:`workbench.flow`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch.nn as nn

from workbench.errors import InputError

_MODELS: dict[str, tuple[Callable[..., nn.Module], str, dict[str, Any]]] = {}
SEG_FACTS = ("input", "description", "options")  # what every segmentation network declares


def register_model(name: str, task: str,
                   **facts: Any) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator for a builder ``f(**overrides) -> nn.Module``; ``task`` is ``"flow"``, ``"seg"`` or
    ``"decision"``; a ``"seg"`` network declares ``input``, ``description`` and ``options`` (module docstring)."""

    def add(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _MODELS:
            raise ValueError(f"model {name!r} registered twice")
        missing = [k for k in SEG_FACTS if k not in facts] if task == "seg" else []
        if missing:
            raise ValueError(f"segmentation model {name!r} must declare {', '.join(missing)}")
        _MODELS[name] = (builder, task, dict(facts))
        return builder

    return add


def create_model(name: str, **overrides: Any) -> nn.Module:
    """Build a registered network by name, with keyword overrides of its config."""
    _import_model_modules()
    if name not in _MODELS:
        raise InputError(f"unknown model {name!r}; expected one of {', '.join(list_models())}")
    return _MODELS[name][0](**overrides)


def model_facts(name: str) -> dict[str, Any]:
    """What a registered network declared at registration (see the module docstring)."""
    _import_model_modules()
    if name not in _MODELS:
        raise InputError(f"unknown model {name!r}; expected one of {', '.join(list_models())}")
    return dict(_MODELS[name][2])


def list_models(task: str | None = None) -> list[str]:
    _import_model_modules()
    return sorted(name for name, (_, t, _) in _MODELS.items() if task is None or t == task)


MODEL_PACKAGES = ("workbench.flow", "workbench.seg", "workbench.decision")


@functools.cache
def _import_model_modules() -> None:
    """Model files register themselves on import; every module of the model packages is imported here, so a
    network in a new file is registered without an import line anywhere else."""
    import importlib
    import pkgutil

    for package in MODEL_PACKAGES:
        for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
            importlib.import_module(f"{package}.{info.name}")
