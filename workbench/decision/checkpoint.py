"""Decision-network checkpoints and the :class:`Decider` that scores a region pair with one.

A checkpoint is a ``torch.save`` dict: ``format`` (``workbench-decision/1``), ``arch`` (``decision``),
``config`` (:class:`DecisionConfig`), ``state_dict``, ``features`` (``flow`` | ``flow+fast`` | ``flownet``;
``flow+fast`` also names its fast network in ``fast``, loaded with it), ``flow`` (the
flow method its features were computed with), ``score`` (``iou`` | ``accuracy``), ``label`` (``self`` |
``gt``), ``seg`` (the segmentation network its labels came from), ``regions``/``overlap`` of the labels,
``metrics`` and ``workbench_version``. Loading anything else is a one-line :class:`InputError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench import __version__
from workbench.decision.features import FEATURE_KINDS, pair_inputs
from workbench.decision.network import DecisionConfig, DecisionNet
from workbench.errors import InputError
from workbench.io.checkpoints import fitting, read_checkpoint
from workbench.seg.checkpoint import MODELS_DIR, SegNetwork, load_seg_checkpoint, resolve_checkpoint

FORMAT = "workbench-decision/1"


@dataclass
class Decider:
    """A decision network with the facts needed to feed it as in training."""

    model: DecisionNet
    features: str = "flow"  # flow | flow+fast | flownet
    flow: str = "dis"
    score: str = "iou"
    label: str = "self"
    meta: dict[str, Any] = field(default_factory=dict)  # seg, regions, overlap, ...
    metrics: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    fast_net: SegNetwork | None = None  # flow+fast: the fast segmentation network whose output the features read

    @property
    def grid(self) -> tuple[int, int]:
        return tuple(self.model.config.grid)

    def inputs(self, current: torch.Tensor, key: torch.Tensor, flow: torch.Tensor, key_logits: torch.Tensor,
               offset: int, flownet_features: torch.Tensor | None = None, fast_logits: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """The network's input for one pair (tensors ``(1, ...)``, see :mod:`workbench.decision.features`)."""
        if self.features == "flownet" and flownet_features is None:
            raise InputError("this decision network reads the flow network's features: use --flow pwc")
        return pair_inputs(self.features, self.grid, current, key, flow, key_logits, offset, flownet_features,
                           fast_logits)

    @torch.inference_mode()
    def predict(self, grid: torch.Tensor, extra: torch.Tensor) -> np.ndarray:
        """Scores in [0, 100] for a batch of inputs."""
        self.model.eval()
        return self.model(grid, extra).clamp(0.0, 100.0).cpu().numpy()


def save_decision_checkpoint(path: str | Path, decider: Decider, metrics: dict[str, Any] | None = None) -> None:
    from workbench.io.atomic import atomic_file

    payload = {"format": FORMAT, "arch": "decision", "config": decider.model.config.to_dict(),
               "state_dict": {k: v.detach().cpu() for k, v in decider.model.state_dict().items()},
               "features": decider.features, "flow": decider.flow, "score": decider.score, "label": decider.label,
               **{k: v for k, v in decider.meta.items()}, "metrics": metrics if metrics is not None else
               decider.metrics, "workbench_version": __version__}
    with atomic_file(path) as tmp:
        torch.save(payload, tmp)


DECISION_SCHEMA = {"config": dict, "state_dict": dict, "features": str, "flow": str, "score": str, "label": str,
                   "metrics": (dict, type(None)), "fast": (str, type(None))}
"""Required keys of a decision checkpoint and their types."""
_KNOWN = {"format", "arch", "config", "state_dict", "features", "flow", "score", "label", "metrics",
          "workbench_version"}


def load_decision_checkpoint(name_or_path: str | Path, map_location: str | torch.device = "cpu") -> Decider:
    """Load a decision checkpoint (a path or a shipped name such as ``decision``)."""
    path = resolve_checkpoint(name_or_path)
    shipped = sorted(p.parent.name for p in MODELS_DIR.glob("decision*/checkpoint.pt"))
    payload = read_checkpoint(path, "decision checkpoint", DECISION_SCHEMA, lambda p: p.get("format") == FORMAT,
                              f"a decision network ({FORMAT} from `workbench train decision`)",
                              "expected a .pt file from `workbench train decision`"
                              + (f" or a shipped one: {', '.join(shipped)}" if shipped else ""), map_location)
    with fitting(path, "weights do not fit a decision network"):
        model = DecisionNet(DecisionConfig.from_dict(payload["config"]))
        model.load_state_dict(payload["state_dict"])
        if payload["features"] not in FEATURE_KINDS:
            raise ValueError(f"features {payload['features']!r}")
    model.to(map_location).eval()
    fast_net = None
    if payload["features"] == "flow+fast":
        if not payload.get("fast"):
            raise InputError(f"{path}: flow+fast decision network without the name of its fast network")
        fast_net = load_seg_checkpoint(payload["fast"], map_location)
    return Decider(model=model, features=payload["features"], flow=payload["flow"], score=payload["score"],
                   label=payload["label"], meta={k: v for k, v in payload.items() if k not in _KNOWN},
                   metrics=dict(payload.get("metrics") or {}), path=path, fast_net=fast_net)
