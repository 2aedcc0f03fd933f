"""One interface for every optical-flow method, and the registry that builds them by name.

Convention (docs/conventions.md): ``estimate(frame_a, frame_b)`` takes two ``uint8`` RGB ``(H, W, 3)`` frames of the
same size and returns ``float32 (2, H, W)`` flow **from a to b** in pixels (channel 0 = dx, +right;
channel 1 = dy, +down), so that ``frame_a(x) ≈ frame_b(x + flow(x))``. Hence ``flow_fwd[t] =
estimate(frame_t, frame_{t+1})`` and ``flow_bwd[t] = estimate(frame_t, frame_{t−1})``, and
``workbench.ops.warp(frame_b, flow)`` predicts ``frame_a``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from workbench.errors import InputError


class FlowEstimator:
    """Base class: subclasses implement :meth:`estimate` (and :meth:`estimate_batch` where batching helps).

    Capabilities, declared as class attributes so that callers ask for them instead of recognising names:
    ``needs_sequence`` — built from a sequence (``create_flow(name, sequence=seq)``) and reads that sequence's
    own ground truth by frame index (``estimate_indices(t, s)``); it cannot estimate new image pairs.
    ``has_features`` — ``estimate_with_features(a, b)`` also returns the network's deepest features of the same
    pass (what DVSNet's ``flownet`` decision features read)."""

    name: str = ""
    needs_sequence: bool = False
    has_features: bool = False

    def estimate(self, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def estimate_batch(self, frames_a: Sequence[np.ndarray], frames_b: Sequence[np.ndarray]) -> np.ndarray:
        """``(N, 2, H, W)`` flow for N pairs; the default loops over :meth:`estimate`."""
        if len(frames_a) != len(frames_b):
            raise ValueError(f"estimate_batch: {len(frames_a)} first frames but {len(frames_b)} second frames")
        return np.stack([self.estimate(a, b) for a, b in zip(frames_a, frames_b, strict=True)])

    def on_backend(self, backend: str) -> FlowEstimator:
        """This method running its network on ``backend`` (``torch`` or ``onnx``, see ``workbench.export``): itself,
        for methods without a network; a learned method returns a copy whose network runs in ONNX Runtime."""
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


_REGISTRY: dict[str, Callable[..., FlowEstimator]] = {}


def register_flow(name: str) -> Callable[[Callable[..., FlowEstimator]], Callable[..., FlowEstimator]]:
    """Decorator: make a factory (a class or a function) available as ``create_flow(name, ...)``."""

    def add(factory: Callable[..., FlowEstimator]) -> Callable[..., FlowEstimator]:
        if name in _REGISTRY:
            raise ValueError(f"flow method {name!r} registered twice")
        _REGISTRY[name] = factory
        return factory

    return add


@functools.cache
def _discover() -> None:
    """Import every module of :mod:`workbench.flow`: a method in a new file registers itself, with no import line
    anywhere else (modules already imported are not re-run)."""
    import importlib
    import pkgutil

    package = importlib.import_module("workbench.flow")
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"workbench.flow.{info.name}")


def create_flow(name: str, **kwargs: Any) -> FlowEstimator:
    """Build a registered flow method by name (e.g. ``create_flow("dis", preset="medium")``)."""
    _discover()
    if name not in _REGISTRY:
        raise InputError(f"unknown flow method {name!r}; expected one of {', '.join(list_flows())}")
    estimator = _REGISTRY[name](**kwargs)
    estimator.name = estimator.name or name
    return estimator


def list_flows(pairs_only: bool = False) -> list[str]:
    """Registered methods; with ``pairs_only``, those that estimate any two images (not ``needs_sequence``)."""
    _discover()
    return sorted(name for name in _REGISTRY if not (pairs_only and flow_capability(name, "needs_sequence")))


def flow_capability(name: str, capability: str) -> bool:
    """A registered method's declared capability (``needs_sequence``, ``has_features``; False if undeclared)."""
    _discover()
    if name not in _REGISTRY:
        raise InputError(f"unknown flow method {name!r}; expected one of {', '.join(list_flows())}")
    return bool(getattr(_REGISTRY[name], capability, False))


def flow_for(name: str, sequence: Any = None) -> FlowEstimator | None:
    """The estimator a pipeline should be given for ``sequence``: one built on that sequence when the method
    ``needs_sequence`` (the ground truth, an ablation), else None (the pipeline builds its own by name)."""
    return create_flow(name, sequence=sequence) if flow_capability(name, "needs_sequence") else None


def check_pair(frame_a: np.ndarray, frame_b: np.ndarray) -> None:
    """Both frames ``uint8 (H, W, 3)`` of one size, or an error that says what arrived."""
    for label, frame in (("first", frame_a), ("second", frame_b)):
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            got = f"{frame.dtype} {frame.shape}" if isinstance(frame, np.ndarray) else type(frame).__name__
            raise InputError(f"flow: the {label} frame must be uint8 RGB (H, W, 3), got {got}")
    if frame_a.shape != frame_b.shape:
        raise InputError(f"flow: frames differ in size: {frame_a.shape[1]}x{frame_a.shape[0]} and "
                         f"{frame_b.shape[1]}x{frame_b.shape[0]}")
