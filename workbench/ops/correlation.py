"""PWC-Net correlation (cost volume) with a PyTorch reference and a CuPy CUDA kernel behind one switch.

Semantics (PWC-Net, Sun et al., "PWC-Net: CNNs for Optical Flow Using Pyramid, Warping, and Cost Volume",
arXiv:1709.02371, §3 "cost volume layer"): for features ``f1, f2 (N, C, H, W)`` and maximum
displacement ``d`` (PWC-Net uses 4), stride 1,

    out[n, k, y, x] = mean_c f1[n, c, y, x] · f2[n, c, y + dy, x + dx],   dy = k // (2d+1) − d,  dx = k % (2d+1) − d

and 0 where ``(y + dy, x + dx)`` falls outside the image; the output is ``(N, (2d+1)², H, W)``, so channel
``k = (dy + d)·(2d+1) + (dx + d)`` (row-major over dy then dx; 81 channels for d = 4).

Backends (STYLE.md 10–11):

- ``torch``: the reference and the CPU default; plain differentiable PyTorch ops (see ``_correlation_torch``).
- ``cupy``: forward/backward kernels from ``kernels/correlation.cu``, compiled once per device with
  ``cupy.RawModule`` and launched on torch's current CUDA stream; float32 only (other dtypes use the
  reference). CuPy is imported lazily, here only.

Selection: ``auto`` (cupy for CUDA float32 tensors when CuPy imports, else torch), overridden by the
environment variable ``WORKBENCH_CORR_BACKEND`` (auto|torch|cupy) and, above it, by ``use_backend(...)``.
An explicit ``cupy`` with CPU tensors or without CuPy raises ``RuntimeError``; it never falls back silently.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

BACKENDS = ("auto", "torch", "cupy")
ENV_VAR = "WORKBENCH_CORR_BACKEND"
KERNEL_PATH = Path(__file__).resolve().parents[2] / "kernels" / "correlation.cu"
KERNEL_NAMES = ("correlation_forward", "correlation_backward_f1", "correlation_backward_f2")

# Columns of f1 per matrix product in the torch backend: each product computes TILE × (TILE + 2d) dot
# products of which TILE × (2d+1) are kept, so 16 wastes < 3× for d = 4 while keeping the matmul big enough
# to be efficient (2 CPU cores, C = 32, 80×48: TILE 8 was ≈3× slower than 16; 16, 24 and 32 within noise).
TILE = 16
# CUDA launch shape: 256 threads per block, 1-D grid-stride loop; the grid is capped (the loop covers the rest).
THREADS = 256
MAX_BLOCKS = 65535 * 16

_override: contextvars.ContextVar[str | None] = contextvars.ContextVar("workbench_corr_backend", default=None)


# ---------------------------------------------------------------------------------------------- backend switch


def _check_backend_name(name: str, origin: str) -> str:
    choice = str(name).strip().lower()
    if choice not in BACKENDS:
        raise ValueError(f"{origin}: unknown correlation backend {name!r}; expected one of {', '.join(BACKENDS)}")
    return choice


def get_backend() -> str:
    """The requested backend: ``use_backend``'s if inside one, else ``$WORKBENCH_CORR_BACKEND``, else ``auto``."""
    chosen = _override.get()
    if chosen is not None:
        return chosen
    env = os.environ.get(ENV_VAR, "").strip()
    return _check_backend_name(env, f"${ENV_VAR}") if env else "auto"


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[str]:
    """Context manager: use backend ``name`` (auto|torch|cupy) inside the block; it wins over the env var."""
    token = _override.set(_check_backend_name(name, "use_backend"))
    try:
        yield _override.get()
    finally:
        _override.reset(token)


@functools.cache
def _import_cupy() -> Any:
    """CuPy, or None where it is not installed (STYLE.md 10: only ImportError means 'absent')."""
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def available_backends() -> list[str]:
    """Backends usable in this process: always ``torch``; ``cupy`` when a CUDA device exists and CuPy imports."""
    found = ["torch"]
    if torch.cuda.is_available() and _import_cupy() is not None:
        found.append("cupy")
    return found


def _resolve(f1: torch.Tensor) -> str:
    """The backend that runs for these (already checked) inputs: ``torch`` or ``cupy``."""
    choice = get_backend()
    if choice == "torch":
        return "torch"
    if choice == "auto":
        on_cuda = f1.is_cuda and f1.dtype == torch.float32
        return "cupy" if on_cuda and _import_cupy() is not None else "torch"
    # Explicit cupy: say what is missing instead of quietly running the reference.
    missing = []
    if not f1.is_cuda:
        missing.append(f"CUDA tensors (got device {f1.device})")
    if _import_cupy() is None:
        missing.append("CuPy, which did not import (install the 'gpu' extra: cupy-cuda13x)")
    if missing:
        raise RuntimeError(f"correlation backend 'cupy' was requested but needs {' and '.join(missing)}; "
                           "use backend 'auto' or 'torch' to run the PyTorch reference")
    # The kernels are float32; other float dtypes run the exact reference on the same device.
    return "cupy" if f1.dtype == torch.float32 else "torch"


# ---------------------------------------------------------------------------------------------- torch backend


def _correlation_torch(f1: torch.Tensor, f2: torch.Tensor, d: int) -> torch.Tensor:
    """Reference: per displacement row dy, tiled matrix products over channels, then keep the |dx| ≤ d band.

    For a tile of T columns of f1 and the T + 2d columns of (zero-padded) f2 around it, ``(T, C) @ (C, T+2d)``
    gives every dot product f1[:, y, x] · f2[:, y+dy, x'] with x' − x ∈ [−d, T − 1 + d]; the entries with
    x' − x = dx ∈ [−d, d] are the cost volume. Besides one zero-padded copy of each input, the
    temporaries are O(N·H·W·(T + 2d)) per dy, independent of C; nothing of size (N, C, (2d+1)², H, W) is
    ever built. Plain differentiable ops, so autograd (double backward included) works.
    """
    N, C, H, W = f1.shape
    K = 2 * d + 1
    T = min(TILE, W)
    tiles = -(-W // T)
    Wt = tiles * T  # W rounded up to whole tiles; the extra columns are cut off at the end
    # f1 channels last, contiguous so that every (T, C) tile is a plain row-major matrix for the BLAS.
    a = F.pad(f1, (0, Wt - W)).permute(0, 2, 3, 1).reshape(N, H, tiles, T, C).contiguous()  # (N, H, tiles, T, C)
    # f2 zero-padded by d on every side (zeros make out-of-image displacements contribute 0), channels last.
    b = F.pad(f2, (d, d + Wt - W, d, d)).permute(0, 2, 3, 1)  # (N, H + 2d, Wt + 2d, C)
    # band[t, j] = t + j: column of the product that holds displacement dx = j − d for tile column t.
    band = (torch.arange(T, device=f1.device)[:, None] + torch.arange(K, device=f1.device)).expand(N, H, tiles, T, K)
    rows = []
    for i in range(K):  # dy = i − d
        windows = b[:, i:i + H].unfold(2, T + 2 * d, T)  # (N, H, tiles, C, T + 2d), a view
        products = torch.matmul(a, windows)  # (N, H, tiles, T, T + 2d)
        rows.append(products.gather(-1, band))  # (N, H, tiles, T, K): dx = −d … d
    out = torch.stack(rows, dim=-2)  # (N, H, tiles, T, K(dy), K(dx))
    out = out.reshape(N, H, Wt, K * K)[:, :, :W]  # channel k = (dy + d)·K + (dx + d)
    return (out.permute(0, 3, 1, 2) / C).contiguous()  # (N, K², H, W), mean over channels


def _correlation_plain(f1: torch.Tensor, f2: torch.Tensor, d: int) -> torch.Tensor:
    """The same cost volume as (2d+1)² shifted products, each a channel mean: slower and larger in memory than
    :func:`_correlation_torch`, but made only of pad, slice, multiply and mean — what an ONNX export records
    (``unfold`` on a traced shape does not export)."""
    H, W = f1.shape[-2:]
    b = F.pad(f2, (d, d, d, d))
    K = 2 * d + 1
    return torch.cat([(f1 * b[:, :, i:i + H, j:j + W]).mean(dim=1, keepdim=True) for i in range(K)
                      for j in range(K)], dim=1)


# ---------------------------------------------------------------------------------------------- cupy backend

_modules: dict[int, dict[str, Any]] = {}  # CUDA device index → kernel name → cupy function


def _kernels(device_index: int) -> dict[str, Any]:
    """The compiled kernels for one device, compiled on first use (CuPy also keeps its on-disk cache)."""
    if device_index not in _modules:
        cupy = _import_cupy()
        source = KERNEL_PATH.read_text()
        with cupy.cuda.Device(device_index):
            module = cupy.RawModule(code=source)
            _modules[device_index] = {name: module.get_function(name) for name in KERNEL_NAMES}
    return _modules[device_index]


def _launch(name: str, total: int, device_index: int, *args: Any) -> None:
    """Launch kernel ``name`` over ``total`` elements on torch's current stream of that device."""
    if total == 0:
        return
    cupy = _import_cupy()
    kernel = _kernels(device_index)[name]
    blocks = min(-(-total // THREADS), MAX_BLOCKS)
    # Tensors travel as raw device pointers (Python ints, passed as 64-bit values), sizes as int32.
    values = [a.data_ptr() if isinstance(a, torch.Tensor) else np.int32(a) for a in args]
    stream = torch.cuda.current_stream(device_index).cuda_stream
    with cupy.cuda.Device(device_index), cupy.cuda.ExternalStream(stream):
        kernel((blocks,), (THREADS,), tuple(values))


class _CupyCorrelation(torch.autograd.Function):
    """Correlation through the CUDA kernels; float32 CUDA tensors, made contiguous here."""

    @staticmethod
    def forward(ctx: Any, f1: torch.Tensor, f2: torch.Tensor, d: int) -> torch.Tensor:
        if not (f1.is_cuda and f2.is_cuda) or f1.device != f2.device:
            raise RuntimeError(f"cupy correlation needs both tensors on one CUDA device, got {f1.device}, {f2.device}")
        if f1.dtype != torch.float32 or f2.dtype != torch.float32:
            raise RuntimeError(f"cupy correlation kernels are float32, got {f1.dtype} and {f2.dtype}")
        f1, f2 = f1.detach().contiguous(), f2.detach().contiguous()
        N, C, H, W = f1.shape
        K = 2 * d + 1
        out = torch.empty((N, K * K, H, W), device=f1.device, dtype=torch.float32)  # kernel writes every element
        index = f1.device.index  # CUDA tensors always carry their device index
        _launch("correlation_forward", out.numel(), index, f1, f2, out, N, C, H, W, d)
        ctx.save_for_backward(f1, f2)
        ctx.d, ctx.index = d, index
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, None]:
        f1, f2 = ctx.saved_tensors
        N, C, H, W = f1.shape
        grad_out = grad_out.to(torch.float32).contiguous()
        grad_f1 = grad_f2 = None
        if ctx.needs_input_grad[0]:
            grad_f1 = torch.empty_like(f1)
            _launch("correlation_backward_f1", grad_f1.numel(), ctx.index, grad_out, f2, grad_f1, N, C, H, W, ctx.d)
        if ctx.needs_input_grad[1]:
            grad_f2 = torch.empty_like(f2)
            _launch("correlation_backward_f2", grad_f2.numel(), ctx.index, grad_out, f1, grad_f2, N, C, H, W, ctx.d)
        return grad_f1, grad_f2, None


# ---------------------------------------------------------------------------------------------- public API


def correlation(f1: torch.Tensor, f2: torch.Tensor, max_displacement: int = 4) -> torch.Tensor:
    """PWC-Net cost volume of ``f1, f2 (N, C, H, W)`` → ``(N, (2d+1)², H, W)`` (see the module docstring).

    Runs on the backend ``get_backend()`` selects for these tensors; differentiable in both inputs.
    """
    for name, t in (("f1", f1), ("f2", f2)):
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"correlation: {name} must be a torch.Tensor, got {type(t).__name__}")
    if f1.dim() != 4 or f1.shape != f2.shape:
        raise ValueError(f"correlation expects f1 and f2 of one shape (N, C, H, W), got {tuple(f1.shape)} and "
                         f"{tuple(f2.shape)}")
    if not f1.is_floating_point() or f1.dtype != f2.dtype:
        raise ValueError(f"correlation expects f1 and f2 of one floating dtype, got {f1.dtype} and {f2.dtype}")
    if f1.device != f2.device:
        raise ValueError(f"correlation expects f1 and f2 on one device, got {f1.device} and {f2.device}")
    if isinstance(max_displacement, bool) or not isinstance(max_displacement, int) or max_displacement < 0:
        raise ValueError(f"correlation: max_displacement must be an int >= 0, got {max_displacement!r}")
    if f1.numel() == 0:  # nothing to correlate (N, C, H or W is 0): zeros, still attached to the graph
        N, _, H, W = f1.shape
        return f1.new_zeros(N, (2 * max_displacement + 1) ** 2, H, W) + 0 * (f1.sum() + f2.sum())
    if torch.onnx.is_in_onnx_export():
        return _correlation_plain(f1, f2, max_displacement)
    if _resolve(f1) == "cupy":
        return _CupyCorrelation.apply(f1, f2, max_displacement)
    return _correlation_torch(f1, f2, max_displacement)


class Correlation(nn.Module):
    """``nn.Module`` wrapper of :func:`correlation` (no parameters): ``Correlation(4)(f1, f2)`` → (N, 81, H, W)."""

    def __init__(self, max_displacement: int = 4) -> None:
        super().__init__()
        self.max_displacement = max_displacement

    def forward(self, f1: torch.Tensor, f2: torch.Tensor) -> torch.Tensor:
        return correlation(f1, f2, self.max_displacement)

    def extra_repr(self) -> str:
        return f"max_displacement={self.max_displacement}"


def correlation_flops_bytes(N: int, C: int, H: int, W: int, d: int) -> tuple[int, int]:
    """``(flops, bytes)`` of one forward pass, for reporting achieved throughput and bandwidth.

    flops: a multiply and an add per channel for every one of the N·(2d+1)²·H·W outputs (the dense count:
    out-of-image displacements included, the final division ignored). bytes: the minimal DRAM traffic of
    float32 — read f1 and f2 once (2·N·C·H·W values) and write the output once (N·(2d+1)²·H·W values).
    """
    outputs = N * (2 * d + 1) ** 2 * H * W
    return 2 * C * outputs, 4 * (2 * N * C * H * W + outputs)
