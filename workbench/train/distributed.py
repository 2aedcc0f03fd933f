"""Data-parallel training with PyTorch's own engine: ``torchrun`` starts the processes,
``DistributedDataParallel`` (DDP) averages the gradients — gloo on CPU, NCCL on GPU.

    torchrun --nproc-per-node 2 -m workbench train seg --threads 1 ...

How the trainers use it, and why N processes give the result of one process with the same global batch (up to
the order of floating-point sums; ``tests/train/test_distributed.py`` checks it):

* **Batches.** Every process draws the whole global batch from the same seeded random stream, exactly as one
  process does, and trains on its share of the rows (:meth:`Dist.shard`, contiguous, sizes differing by at most
  one). Drawing is cheap — crops and jitter of frames held in memory — and the expensive part, the network's
  forward and backward pass, is split. (``torch.utils.data.DistributedSampler`` splits indices instead; our
  augmentations come from one sequential stream, so splitting indices would change what each item is drawn
  with, and the result would depend on the number of processes.)
* **Losses** are sums over the global batch divided by global counts (:meth:`Dist.sum`, an all-reduce that
  autograd differentiates through). Each process therefore holds the global loss; its backward pass gives
  ``world ×`` its own rows' share of the gradient, and DDP's averaging over ``world`` processes leaves the
  global gradient — also when the shares differ in size (the last batch of an epoch).
* **Batch normalisation** uses the statistics of the global batch (:class:`GlobalBatchNorm2d`; PyTorch's
  ``SyncBatchNorm`` runs on GPUs only). In evaluation mode it uses its running statistics and communicates
  nothing, so processes may evaluate different numbers of frames.
* **Rank 0** logs, validates (and sends the validation score to the others, whose learning-rate schedules
  follow it), writes checkpoints, training state, logs and the model card. Checkpoints record ``world_size``.
* **Resume** works as in one process: every process reads the same training state.

Several machines: run the same ``torchrun`` on each with ``--nnodes M --node-rank I`` and a rendezvous
(``--rdzv-backend c10d --rdzv-endpoint HOST:PORT``); see the README's scale-out section.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from workbench.errors import InputError


@dataclass(frozen=True)
class Dist:
    """This process's place in a distributed run (``world == 1``: a plain single-process run)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    started_here: bool = False  # whether this object initialised the process group (and so tears it down)

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        """Whether this process logs and writes (rank 0)."""
        return self.rank == 0

    def shard(self, rows: int) -> slice:
        """The rows of a global batch of ``rows`` that this process trains on."""
        if rows < self.world:
            raise InputError(f"--batch-size {rows}: smaller than the {self.world} processes; each needs a row")
        bounds = np.linspace(0, rows, self.world + 1).round().astype(int)
        return slice(int(bounds[self.rank]), int(bounds[self.rank + 1]))

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` summed over the processes, differentiably (the identity in a single process)."""
        return _AllReduceSum.apply(tensor) if self.active else tensor

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value`` in every process (any picklable value)."""
        if not self.active:
            return value
        box = [value]
        torch.distributed.broadcast_object_list(box, src=0)
        return box[0]

    def wrap(self, model: nn.Module) -> nn.Module:
        """``model`` for the training forward pass: wrapped in DDP when distributed (its batch normalisation
        replaced by :class:`GlobalBatchNorm2d` first), else itself. Checkpoints keep saving ``model``."""
        if not self.active:
            return model
        global_batch_norm(model, self)
        device_ids = [model_device(model).index] if model_device(model).type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)

    def close(self) -> None:
        """End the process group if :func:`setup` started it."""
        if self.started_here and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


class _AllReduceSum(torch.autograd.Function):
    """Sum over the processes; the gradient of each process's input is the sum of the processes' output
    gradients (every process used the sum)."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:  # noqa: D102
        total = tensor.clone()
        torch.distributed.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: D102
        total = grad.clone()
        torch.distributed.all_reduce(total)
        return total


def model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def setup(device: str) -> Dist:
    """Join the process group ``torchrun`` describes (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK`` and the rendezvous
    variables), with NCCL when ``device`` is a GPU and gloo otherwise; a plain :class:`Dist` without torchrun.
    On a GPU each process takes the GPU of its local rank."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device != "cpu"
    if cuda:
        torch.cuda.set_device(local_rank)
    started = False
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend="nccl" if cuda else "gloo")
        started = True
    return Dist(rank=rank, world=world, local_rank=local_rank, started_here=started)


@contextlib.contextmanager
def joined(device: str) -> Iterator[Dist]:
    """``with joined(device) as dist:`` — :func:`setup`, and the process group ended when the block ends (also on
    an error): how each trainer runs its loop."""
    dist = setup(device)
    try:
        yield dist
    finally:
        dist.close()


def local_device(device: str, dist: Dist) -> str:
    """The device of this process: ``cuda:<local rank>`` for a GPU run under torchrun, else ``device``."""
    return f"cuda:{dist.local_rank}" if dist.active and device != "cpu" else device


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """``BatchNorm2d`` whose training statistics are those of the global batch across the processes of
    ``dist`` (two differentiable all-reduces: the mean, then the variance about it). Evaluation, and a single
    process, are ``BatchNorm2d`` exactly. Running statistics are updated as ``BatchNorm2d`` does (unbiased
    variance), so every process keeps the same ones."""

    def __init__(self, source: nn.BatchNorm2d, dist: Dist):
        super().__init__(source.num_features, source.eps, source.momentum, source.affine, source.track_running_stats)
        # the very same parameters and buffers: an optimizer made before the swap keeps training them
        self.weight, self.bias = source.weight, source.bias
        self.running_mean, self.running_var = source.running_mean, source.running_var
        self.num_batches_tracked = source.num_batches_tracked
        self.training = source.training
        self.dist = dist

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and self.dist.active):
            return super().forward(x)
        channels = x.shape[1]
        count = self.dist.sum(x.new_tensor([x.numel() / channels]))
        mean = self.dist.sum(x.sum(dim=(0, 2, 3))) / count
        centred = x - mean[None, :, None, None]
        var = self.dist.sum((centred * centred).sum(dim=(0, 2, 3))) / count
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                unbiased = var * count / (count - 1).clamp(min=1)
                self.running_mean.mul_(1 - momentum).add_(momentum * mean)
                self.running_var.mul_(1 - momentum).add_(momentum * unbiased)
        out = centred * torch.rsqrt(var + self.eps)[None, :, None, None]
        if self.affine:
            out = out * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        return out


def global_batch_norm(model: nn.Module, dist: Dist) -> nn.Module:
    """Replace every ``BatchNorm2d`` of ``model`` (in place) by a :class:`GlobalBatchNorm2d` holding the same
    parameter and buffer objects (state-dict keys unchanged); returns ``model``."""
    for name, child in list(model.named_children()):
        if isinstance(child, nn.BatchNorm2d) and not isinstance(child, GlobalBatchNorm2d):
            setattr(model, name, GlobalBatchNorm2d(child, dist))
        else:
            global_batch_norm(child, dist)
    return model


__all__ = ["Dist", "GlobalBatchNorm2d", "global_batch_norm", "joined", "local_device", "setup"]
