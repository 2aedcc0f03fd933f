"""PWC-Net: CNNs for optical flow using pyramid, warping, and cost volume.

Sun, Yang, Liu, Kautz, CVPR 2018 (arXiv 1709.02371). A feature pyramid is built for both frames; from the
coarsest level down to the output level, the second frame's features are warped by the upsampled flow, a
cost volume (correlation, max displacement 4) compares them with the first frame's features, and a densely
connected CNN decoder predicts the flow; a dilated context network refines the finest estimate.

What we changed:
- ``width`` multiplies every channel count and ``num_levels`` / ``output_level`` set the pyramid, so that a
  CPU-friendly variant exists (the shipped checkpoint is ``pwc_small``: width 0.5, 5 levels);
- ``normalize_features`` correlates unit-length feature vectors (a cosine cost volume). With the raw
  features of a freshly initialised pyramid the cost volume is ~1e-3 of the decoder's other inputs and a short
  CPU schedule never leaves the zero-flow solution (measured: 300 steps on shifted textures, EPE stays at
  |flow|); normalised, the same run learns (EPE 4.7 → 1.8 px in 200 steps). ``pwc_small`` uses it; ``pwc``
  keeps the paper's raw correlation;
- convolutions get MSRA initialisation (as the paper's Caffe models), not PyTorch's default, and the flow
  heads start near zero (a unit is 20 px: random heads warp every level by tens of pixels; measured on shifted
  textures, 200 steps reach 0.94 px EPE with near-zero heads and 3.0 px without);
- inputs of any size are padded (edge replication) to a multiple of ``2**num_levels`` and the output is
  cropped back, so flow is never rescaled;
- the cost volume is :func:`workbench.ops.correlation` (PyTorch on CPU, a CuPy kernel on CUDA) and warping is
  :func:`workbench.ops.warp`; the paper's Caffe code and the public PyTorch port need CUDA.

Units: decoders predict flow in full-resolution pixels divided by ``flow_scale`` = 20 (paper §4); at pyramid
level ``l`` (resolution 1/2^l) that is ``20 / 2^l`` pixels per unit, the per-level warp scales 0.625, 1.25,
2.5, 5.0 for levels 5..2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from workbench import __version__
from workbench.config import Config
from workbench.errors import InputError
from workbench.flow.base import FlowEstimator, check_pair, register_flow
from workbench.io.checkpoints import fitting, read_checkpoint
from workbench.ops import correlation, warp
from workbench.registry import register_model

MODELS = Path(__file__).resolve().parents[2] / "models"
DEFAULT_CHECKPOINT = MODELS / "pwc_small" / "checkpoint.pt"


@dataclass
class PWCConfig(Config):
    width: float = 1.0  # channel multiplier (paper: 1.0)
    num_levels: int = 6  # pyramid levels (paper: 6)
    output_level: int = 2  # finest level predicted (paper: 2, i.e. 1/4 resolution)
    max_displacement: int = 4  # cost volume search range (paper: 4 → 81 channels)
    pyramid_channels: tuple[int, ...] = (16, 32, 64, 96, 128, 196)  # paper Fig. 3
    decoder_channels: tuple[int, ...] = (128, 128, 96, 64, 32)  # paper: DenseNet-style estimator
    context_channels: tuple[int, ...] = (128, 128, 128, 96, 64, 32)  # paper: context network
    context_dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 1)
    flow_scale: float = 20.0  # paper §4: ground truth scaled by 1/20
    normalize_features: bool = False  # cosine cost volume (ours; the paper correlates raw features)
    init_flow: str | None = None  # refine a classical flow ("dis_medium", "dis_fast"): see PWCNet.forward (ours)

    def channels(self, values: tuple[int, ...]) -> list[int]:
        return [max(2, int(round(c * self.width))) for c in values]


def conv(cin: int, cout: int, stride: int = 1, dilation: int = 1, act: bool = True) -> nn.Module:
    layer = nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation)
    return nn.Sequential(layer, nn.LeakyReLU(0.1)) if act else layer  # leaky ReLU 0.1 (paper)


class FeaturePyramid(nn.Module):
    """Per level: a stride-2 conv and two convs. Returns features from level 1 (1/2) to ``num_levels``."""

    def __init__(self, channels: list[int]):
        super().__init__()
        cins = [3] + channels[:-1]
        self.levels = nn.ModuleList(nn.Sequential(conv(cin, c, stride=2), conv(c, c), conv(c, c))
                                    for cin, c in zip(cins, channels, strict=True))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for level in self.levels:
            x = level(x)
            features.append(x)
        return features


class FlowDecoder(nn.Module):
    """Densely connected flow estimator of one level: each conv's output is concatenated to its input."""

    def __init__(self, cin: int, channels: list[int], upsample: bool):
        super().__init__()
        self.convs = nn.ModuleList()
        for c in channels:
            self.convs.append(conv(cin, c))
            cin += c
        self.out_channels = cin
        self.predict = conv(cin, 2, act=False)
        # Coarse → fine: flow and a 2-channel feature summary are upsampled ×2 by transposed convs (paper).
        self.up_flow = nn.ConvTranspose2d(2, 2, 4, 2, 1) if upsample else None
        self.up_feat = nn.ConvTranspose2d(cin, 2, 4, 2, 1) if upsample else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for layer in self.convs:
            x = torch.cat([x, layer(x)], dim=1)
        return self.predict(x), x


class ContextNetwork(nn.Module):
    """Dilated convolutions (1, 2, 4, 8, 16, 1) that refine the finest flow from the decoder's features."""

    def __init__(self, cin: int, channels: list[int], dilations: tuple[int, ...]):
        super().__init__()
        layers = []
        for c, d in zip(channels, dilations, strict=True):
            layers.append(conv(cin, c, dilation=d))
            cin = c
        layers.append(conv(cin, 2, act=False))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class PWCNet(nn.Module):
    """``forward(frame_a, frame_b)`` → list of flows per level (coarse → fine, in pixels / flow_scale);
    :meth:`flow` → ``(N, 2, H, W)`` full-resolution flow in pixels from a to b."""

    def __init__(self, config: PWCConfig | None = None):
        super().__init__()
        self.config = config = config or PWCConfig()
        if not 1 <= config.output_level < config.num_levels <= len(config.pyramid_channels):
            raise ValueError(f"PWCConfig: need 1 <= output_level < num_levels <= {len(config.pyramid_channels)}")
        pyramid = config.channels(config.pyramid_channels)[: config.num_levels]
        self.pyramid = FeaturePyramid(pyramid)
        num_corr = (2 * config.max_displacement + 1) ** 2
        decoders = {}
        for level in range(config.num_levels, config.output_level - 1, -1):
            top = level == config.num_levels
            cin = num_corr if top else num_corr + pyramid[level - 1] + 2 + 2  # cost, f1, up flow, up feat
            decoders[str(level)] = FlowDecoder(cin, config.channels(config.decoder_channels),
                                               upsample=level > config.output_level)
        self.decoders = nn.ModuleDict(decoders)
        self.context = ContextNetwork(decoders[str(config.output_level)].out_channels,
                                      config.channels(config.context_channels), config.context_dilations)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """MSRA (He) initialisation for leaky-ReLU convs, as the paper's Caffe models. PyTorch's default
        init shrinks activations by ~√3 per layer, so after the 18 pyramid convs the coarse features — and
        the cost volumes built from them — are ~1e-4 of the input and the decoders see no signal."""
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(module.weight, a=0.1, nonlinearity="leaky_relu")
                nn.init.zeros_(module.bias)
        self.reset_heads()

    def reset_heads(self, std: float = 1e-3) -> None:
        """Flow heads near zero (weights of standard deviation ``std``, zero bias). From scratch: one unit is
        20 px, so He-initialised heads would start by warping the features by random tens of pixels at every
        level, and the cost volumes would compare unrelated pixels. For a refining network started from a
        non-refining one's weights, ``std=0``: the residual starts at exactly zero, so training starts from the
        initial flow's error (the heads' own gradients are not zero, so they still learn from the first step)."""
        heads = [d.predict for d in self.decoders.values()] + [self.context.net[-1]]
        for head in heads:
            if std:
                nn.init.normal_(head.weight, std=std)
            else:
                nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def forward(self, frame_a: torch.Tensor, frame_b: torch.Tensor, return_features: bool = False,
                init: torch.Tensor | None = None) -> list[torch.Tensor] | tuple[list[torch.Tensor], torch.Tensor]:
        """``frame_*`` float ``(N, 3, H, W)`` in [0, 1] with H, W multiples of 2**num_levels.

        With ``init`` (``(N, 2, H, W)`` pixel flow a → b, e.g. DIS's), the network refines it instead of
        starting from zero: at every level the second frame's features are first warped by ``init``
        (area-averaged to that level) plus the upsampled residual of the coarser levels, and the decoders
        predict the *residual*; the returned flows are ``init`` + residual per level, so the paper's loss
        applies unchanged. A network that learned nothing useful returns ``init``.

        With ``return_features``, also the coarsest decoder's output features (cost volume + dense
        layers) — the "deepest features" DVSNet's decision network reads."""
        cfg = self.config
        N = frame_a.shape[0]
        features = self.pyramid(torch.cat([frame_a, frame_b], dim=0) - 0.5)  # one pass for both frames
        flows = []
        flow = up_flow = up_feat = top = None
        for level in range(cfg.num_levels, cfg.output_level - 1, -1):
            f1, f2 = features[level - 1][:N], features[level - 1][N:]
            base = None if init is None else self.init_at(init, f1.shape[-2:])
            move = up_flow if base is None else base if up_flow is None else base + up_flow
            if move is not None:
                f2, _ = warp(f2, move * (cfg.flow_scale / 2**level))  # units → pixels at this level
            cost = F.leaky_relu(self.cost_volume(f1, f2), 0.1)  # (N, 81, h, w)
            x = cost if up_flow is None else torch.cat([cost, f1, up_flow, up_feat], dim=1)
            decoder = self.decoders[str(level)]
            flow, feat = decoder(x)
            if top is None:
                top = feat
            if level == cfg.output_level:
                flow = flow + self.context(feat)
            else:
                up_flow, up_feat = decoder.up_flow(flow), decoder.up_feat(feat)
            flows.append(flow if base is None else flow + base)
        return (flows, top) if return_features else flows

    def init_at(self, init: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """A full-resolution pixel flow area-averaged to ``size``, in the decoders' units (pixels / flow_scale)."""
        return F.adaptive_avg_pool2d(init, size) / self.config.flow_scale

    def cost_volume(self, f1: torch.Tensor, f2: torch.Tensor) -> torch.Tensor:
        """Correlation of the two feature maps; with ``normalize_features``, of unit-length feature vectors
        (times C, so each entry is a cosine similarity in [−1, 1])."""
        if self.config.normalize_features:
            C = f1.shape[1]
            f1, f2 = F.normalize(f1, dim=1), F.normalize(f2, dim=1)
            return correlation(f1, f2, self.config.max_displacement) * C
        return correlation(f1, f2, self.config.max_displacement)

    def flow(self, frame_a: torch.Tensor, frame_b: torch.Tensor, return_features: bool = False,
             init: torch.Tensor | None = None) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Any-size ``(N, 3, H, W)`` frames in [0, 1] → ``(N, 2, H, W)`` flow in pixels (a → b); with
        ``return_features`` also the coarsest decoder's features (of the padded frames).

        With ``init`` (see :meth:`forward`) the output is ``init`` at full resolution plus the upsampled
        residual, so the initial flow keeps its full-resolution detail where the network does not correct it."""
        N, _, H, W = frame_a.shape
        multiple = 2**self.config.num_levels
        pad_h, pad_w = (-H) % multiple, (-W) % multiple
        if pad_h or pad_w:  # replicate the border rather than resize, so the flow needs no rescaling
            frame_a = F.pad(frame_a, (0, pad_w, 0, pad_h), mode="replicate")
            frame_b = F.pad(frame_b, (0, pad_w, 0, pad_h), mode="replicate")
            if init is not None:
                init = F.pad(init, (0, pad_w, 0, pad_h), mode="replicate")
        flows, top = self(frame_a, frame_b, return_features=True, init=init)
        factor = 2**self.config.output_level
        finest = flows[-1] if init is None else flows[-1] - self.init_at(init, flows[-1].shape[-2:])
        flow = F.interpolate(finest, scale_factor=factor, mode="bilinear", align_corners=False)
        flow = flow * self.config.flow_scale + (0 if init is None else init)
        flow = flow[:, :, :H, :W]
        return (flow, top) if return_features else flow


INIT_FLOWS = {"dis_medium": ("dis", {"preset": "medium"}), "dis_fast": ("dis", {"preset": "fast"})}
"""Classical flows a PWC-Net can refine (``PWCConfig.init_flow``): name → (registry name, options)."""


def init_estimator(name: str) -> FlowEstimator:
    """The classical estimator behind ``PWCConfig.init_flow``."""
    from workbench.flow import create_flow

    if name not in INIT_FLOWS:
        raise InputError(f"unknown initial flow {name!r}; expected one of {', '.join(INIT_FLOWS)}")
    method, options = INIT_FLOWS[name]
    return create_flow(method, **options)


def create_pwc(name: str = "pwc_small", **overrides) -> PWCNet:
    """Named variants: ``pwc`` (the paper's network), ``pwc_small`` (CPU-friendly: width 0.5, 5 levels,
    cosine cost volume — trainable from scratch in minutes on a CPU, see :meth:`PWCNet.cost_volume`) and
    ``pwc_dis`` (``pwc_small`` refining DIS-medium's flow, see :meth:`PWCNet.forward`)."""
    small = {"width": 0.5, "num_levels": 5, "normalize_features": True}
    variants = {"pwc": {}, "pwc_small": small, "pwc_dis": {**small, "init_flow": "dis_medium"}}
    if name not in variants:
        raise InputError(f"unknown PWC-Net variant {name!r}; expected one of {', '.join(variants)}")
    return PWCNet(PWCConfig(**{**variants[name], **overrides}))


LOSS_WEIGHTS = (0.32, 0.08, 0.02, 0.01, 0.005)  # paper §4: α for levels 6, 5, 4, 3, 2


@register_model("pwc", task="flow")
def pwc(**overrides) -> PWCNet:
    return create_pwc("pwc", **overrides)


@register_model("pwc_small", task="flow")
def pwc_small(**overrides) -> PWCNet:
    return create_pwc("pwc_small", **overrides)


@register_model("pwc_dis", task="flow")
def pwc_dis(**overrides) -> PWCNet:
    return create_pwc("pwc_dis", **overrides)


def multiscale_epe_loss(flows: list[torch.Tensor], target: torch.Tensor, flow_scale: float = 20.0,
                        weights: tuple[float, ...] = LOSS_WEIGHTS,
                        valid: torch.Tensor | None = None,
                        total: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """The paper's training loss: Σ_l α_l Σ_x ||flow_l(x) − gt_l(x)||₂, averaged over the batch.

    ``total`` sums over the processes of a distributed run (:meth:`workbench.train.distributed.Dist.sum`): the
    batch's sum and its size are summed before dividing, so each process computes the global batch's loss.

    ``flows`` coarse → fine as returned by :class:`PWCNet` (units pixels/``flow_scale``); ``target`` is
    full-resolution ``(N, 2, H, W)`` pixel flow, scaled by 1/``flow_scale`` and area-downsampled to each level
    (paper §4: magnitudes are not rescaled per level). ``weights`` are α for levels 6..2; with fewer levels,
    the finest ones are used. ``valid (N, 1, H, W)`` masks unknown ground truth.
    """
    target = target / flow_scale
    weights = weights[-len(flows):]
    if valid is None:
        valid = torch.ones_like(target[:, :1])
    target = torch.nan_to_num(target) * valid
    loss = target.new_zeros(())
    for weight, flow in zip(weights, flows, strict=True):
        h, w = flow.shape[-2:]
        gt = F.adaptive_avg_pool2d(target, (h, w))
        mask = F.adaptive_avg_pool2d(valid, (h, w))
        # Pixels whose area is partly unknown: compare against the known part's mean.
        gt = gt / mask.clamp_min(1e-6)
        epe = torch.linalg.vector_norm(flow - gt, dim=1, keepdim=True) * (mask > 0.5)
        loss = loss + weight * epe.sum()
    if total is None:
        return loss / len(target)
    return total(loss) / total(loss.new_tensor(float(len(target))))


def save_checkpoint(path: str | Path, model: PWCNet, metrics: dict, extra: dict | None = None) -> None:
    """Checkpoint dict of docs/conventions.md (``arch``, ``config``, ``state_dict``, ``metrics``, version), atomically.

    For resumable training state (float32 weights, optimiser, step) see :mod:`workbench.train.flow`.
    """
    from workbench.io.atomic import atomic_file

    # Weights are stored as float16 (half the file; loading casts them back into the float32 parameters).
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    payload = {"arch": "pwc", "config": model.config.to_dict(), "state_dict": state,
               "metrics": metrics, "workbench_version": __version__, **(extra or {})}
    with atomic_file(path) as tmp:
        torch.save(payload, tmp)


def load_pwc(path: str | Path = DEFAULT_CHECKPOINT, map_location: str | torch.device = "cpu") -> PWCNet:
    """Load a PWC-Net checkpoint; a missing file or another architecture's checkpoint is a clear error."""
    payload = read_checkpoint(path, "PWC-Net checkpoint", {"config": dict, "state_dict": dict},
                              lambda p: p.get("arch") == "pwc", "'pwc'", "train one with `workbench train flow`",
                              map_location)
    with fitting(path, "weights do not fit a PWC-Net"):
        model = PWCNet(PWCConfig.from_dict(payload["config"]))
        model.load_state_dict(payload["state_dict"])
    return model.eval()


class PWCFlowModule(nn.Module):
    """PWC-Net's ``flow`` as a module's ``forward``, what an ONNX export traces: frames (and, for a network that
    refines a classical flow, that flow) → pixel flow, and with ``features`` the coarsest decoder's features too."""

    def __init__(self, model: nn.Module, features: bool = False):
        super().__init__()
        self.model = model
        self.features = features

    def forward(self, frame_a: torch.Tensor, frame_b: torch.Tensor, init: torch.Tensor | None = None):
        return self.model.flow(frame_a, frame_b, self.features, init=init)


class _OnnxPWC(nn.Module):
    """A PWC-Net whose ``flow`` runs in ONNX Runtime (one export per input shapes, and per call kind: with or
    without features, with or without a classical initial flow); everything else is the PyTorch network's."""

    def __init__(self, model: nn.Module):
        super().__init__()
        from workbench.ops.onnx_runtime import OnnxModule

        self.model = model
        self.runs = nn.ModuleDict({
            f"{'f' if features else 'x'}{'i' if init else 'x'}": OnnxModule(
                PWCFlowModule(model, features), ("frame_a", "frame_b", "init")[:2 + init], outputs=1 + features)
            for features in (False, True) for init in (False, True)})

    @property
    def config(self) -> PWCConfig:
        return self.model.config

    def flow(self, frame_a: torch.Tensor, frame_b: torch.Tensor, return_features: bool = False,
             init: torch.Tensor | None = None):
        run = self.runs[f"{'f' if return_features else 'x'}{'x' if init is None else 'i'}"]
        return run(frame_a, frame_b) if init is None else run(frame_a, frame_b, init)


@register_flow("pwc")
class PWCFlow(FlowEstimator):
    """The PWC-Net estimator (our checkpoint): ``estimate(a, b)`` → ``(2, H, W)`` pixel flow a → b."""

    name = "pwc"
    has_features = True

    def __init__(self, checkpoint: str | Path = DEFAULT_CHECKPOINT, device: str | None = None):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = load_pwc(checkpoint, map_location=self.device).to(self.device)
        self.checkpoint = Path(checkpoint)
        init = self.model.config.init_flow
        self.init = None if init is None else init_estimator(init)  # the classical flow the network refines

    def _tensor(self, frames: list[np.ndarray]) -> torch.Tensor:
        array = np.stack(frames).astype(np.float32) / 255.0
        return torch.from_numpy(array).permute(0, 3, 1, 2).to(self.device)

    def _run(self, frames_a: list[np.ndarray], frames_b: list[np.ndarray], return_features: bool = False):
        for a, b in zip(frames_a, frames_b, strict=True):
            check_pair(a, b)
        init = None
        if self.init is not None:
            init = torch.from_numpy(self.init.estimate_batch(frames_a, frames_b)).to(self.device)
        return self.model.flow(self._tensor(frames_a), self._tensor(frames_b), return_features, init=init)

    @torch.inference_mode()
    def estimate(self, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        return self._run([frame_a], [frame_b])[0].cpu().numpy()

    def on_backend(self, backend: str) -> FlowEstimator:
        """Itself for ``torch``; for ``onnx`` a copy whose network runs in ONNX Runtime (on the CPU)."""
        if backend == "torch" or isinstance(self.model, _OnnxPWC):
            return self
        import copy

        model = self.model if self.device.type == "cpu" else copy.deepcopy(self.model).cpu()
        clone = copy.copy(self)
        clone.model, clone.device = _OnnxPWC(model), torch.device("cpu")
        return clone

    @torch.inference_mode()
    def estimate_with_features(self, frame_a: np.ndarray, frame_b: np.ndarray) -> tuple[np.ndarray, torch.Tensor]:
        """The flow a → b and the coarsest decoder's features ``(1, C, h, w)`` of the same pass."""
        flow, features = self._run([frame_a], [frame_b], return_features=True)
        return flow[0].cpu().numpy(), features

    @torch.inference_mode()
    def estimate_batch(self, frames_a, frames_b) -> np.ndarray:
        return self._run(list(frames_a), list(frames_b)).cpu().numpy()

