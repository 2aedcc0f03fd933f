"""Data-parallel training (workbench.train.distributed): global batch normalisation and global losses give the
gradients of one process over the whole batch; ``torchrun --nproc-per-node 2`` trains the checkpoint (and card)
that one process trains with the same global batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from workbench.errors import InputError
from workbench.train.distributed import Dist, GlobalBatchNorm2d, global_batch_norm

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tiny_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 1, 1))


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(5, 3, 8, 8, generator=torch.Generator().manual_seed(1)) * 3 + 1
    return x, torch.randn(5, 1, 8, 8, generator=torch.Generator().manual_seed(2))


def test_shards_cover_the_batch_once():
    shards = [Dist(rank=r, world=3).shard(7) for r in range(3)]
    assert [(s.start, s.stop) for s in shards] == [(0, 2), (2, 5), (5, 7)]
    assert Dist().shard(5) == slice(0, 5)
    with pytest.raises(InputError, match="--batch-size 2"):
        Dist(rank=0, world=3).shard(2)


def test_global_batch_norm_in_one_process_is_batch_norm():
    plain, swapped = tiny_model(), global_batch_norm(tiny_model(), Dist())
    assert isinstance(swapped[1], GlobalBatchNorm2d) and swapped.state_dict().keys() == plain.state_dict().keys()
    x, _ = batch()
    assert torch.equal(plain(x), swapped(x))
    assert torch.equal(plain[1].running_var, swapped[1].running_var)


WORKER = """
import os, sys, torch
from torch import nn
from workbench.train.distributed import setup
torch.set_num_threads(1)
torch.manual_seed(0)
model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 1, 1))
x = torch.randn(5, 3, 8, 8, generator=torch.Generator().manual_seed(1)) * 3 + 1
y = torch.randn(5, 1, 8, 8, generator=torch.Generator().manual_seed(2))
dist = setup("cpu")
try:
    rows = dist.shard(len(x))  # 3 and 2 rows: unequal shares
    wrapped = dist.wrap(model)  # kept until after backward: its hooks average the gradients
    squared = ((wrapped(x[rows]) - y[rows]) ** 2).sum()
    loss = dist.sum(squared) / dist.sum(torch.tensor(float(y[rows].numel())))
    loss.backward()
    if dist.main:
        torch.save({"loss": loss.detach(), "grads": [p.grad for p in model.parameters()],
                    "running_var": model[1].running_var}, sys.argv[1])
finally:
    dist.close()
"""


def test_two_processes_give_the_gradient_of_the_global_batch(tmp_path):
    """Two gloo processes started as torchrun would (its environment variables), each a fresh interpreter."""
    out, port = tmp_path / "rank0.pt", free_port()
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(out)], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
                                     "WORLD_SIZE": "2", "RANK": str(rank), "LOCAL_RANK": str(rank)})
               for rank in range(2)]
    for worker in workers:
        _, errors = worker.communicate(timeout=300)
        assert worker.returncode == 0, errors[-2000:]
    got = torch.load(out, weights_only=True)
    model = tiny_model()
    x, y = batch()
    loss = ((model(x) - y) ** 2).mean()  # one process, the whole batch
    loss.backward()
    assert got["loss"].item() == pytest.approx(loss.item(), rel=1e-6)
    for parameter, grad in zip(model.parameters(), got["grads"], strict=True):
        torch.testing.assert_close(grad, parameter.grad, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(got["running_var"], model[1].running_var)


def one_and_two(args: list[str], tmp_path: Path, out: str = "") -> list[subprocess.CompletedProcess]:
    """``workbench ARGS`` in one process (``--out tmp/one/OUT``), then under ``torchrun --nproc-per-node 2``
    (``--out tmp/two/OUT``); both must succeed, and only rank 0 may report."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launchers = {"one": [sys.executable, "-m", "workbench"],
                 "two": [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port",
                         str(free_port()), "-m", "workbench"]}
    done = []
    for name, launcher in launchers.items():
        result = subprocess.run([*launcher, *args, "--out", str(tmp_path / name / out)], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        done.append(result)
    return done


def differences(a: dict, b: dict) -> torch.Tensor:
    return torch.cat([(b[k] - v).abs().flatten() for k, v in a.items() if v.is_floating_point()])


@pytest.mark.slow
def test_torchrun_two_processes_match_one(tmp_path):
    args = ["train", "seg", "--model", "unet", "--size", "tiny", "--batch-norm", "--train-clips", "3", "--frames", "5",
            "--frame-size", "64x48", "--crop", "32x32", "--epochs", "2", "--batch-size", "5", "--validation", "34",
            "--threads", "1", "--eval-clips", "1", "--eval-frames", "3", "--quiet"]
    one, two = one_and_two(args, tmp_path)
    assert two.stdout.count("best validation Dice") == 1  # rank 0 reports, the other process is quiet
    a, b = (torch.load(tmp_path / run / "checkpoint.pt", weights_only=True) for run in ("one", "two"))
    assert (a["world_size"], b["world_size"]) == (1, 2)
    assert any("running_mean" in k for k in a["state_dict"])  # batch normalisation was trained across processes
    # The gradients agree to float precision (the test above; ~4e-6 of their largest value for this U-Net, where
    # the explicit global batch norm's backward replaces PyTorch's fused one). RMSprop's first steps move a weight
    # by up to ~10 × lr = 1e-3 whatever its gradient's size, so a near-zero gradient whose sign such a difference
    # flips moves a weight the other way: a few weights differ by a few 1e-3; on average they agree to ~1e-5.
    difference = differences(a["state_dict"], b["state_dict"])
    assert difference.max() < 5e-3 and difference.mean() < 5e-5
    assert b["metrics"]["val_dice"] == pytest.approx(a["metrics"]["val_dice"], abs=2e-3)
    cards = [(tmp_path / run / "MODEL_CARD.md").read_text() for run in ("one", "two")]
    assert "2 processes" in cards[1] and "2 processes" not in cards[0]
    assert "torchrun --nproc-per-node 2 -m workbench train seg" in cards[1]  # how to reproduce it
    held_out = [json.loads((tmp_path / run / "eval" / "bench_seg.json").read_text())["rows"][0]
                for run in ("one", "two")]
    assert held_out[1]["iou"] == pytest.approx(held_out[0]["iou"], abs=2e-3)


@pytest.mark.slow
def test_torchrun_trains_flow_and_decision(tmp_path):
    flow = ["train", "flow", "--train-clips", "2", "--frames", "4", "--size", "64x64", "--val-clips", "1", "--steps",
            "4", "--batch-size", "3", "--crop", "64x64", "--threads", "1", "--no-card", "--quiet"]
    one_and_two(flow, tmp_path / "flow", "pwc.pt")
    a, b = (torch.load(tmp_path / "flow" / run / "pwc.pt", weights_only=True) for run in ("one", "two"))
    assert (a["world_size"], b["world_size"]) == (1, 2)
    difference = differences(a["state_dict"], b["state_dict"])  # Adam: sign-like first steps, as RMSprop above
    assert difference.max() < 2e-3 and difference.mean() < 1e-5
    assert b["metrics"]["val_epe"] == pytest.approx(a["metrics"]["val_epe"], rel=1e-3)
    # interrupted and resumed under torchrun: the uninterrupted two-process run, bit for bit
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port",
                str(free_port()), "-m", "workbench", *flow, "--out", str(tmp_path / "flow" / "resumed" / "pwc.pt")]
    for extra in (["--stop-after", "2"], ["--resume"]):
        done = subprocess.run(torchrun + extra, cwd=ROOT, capture_output=True, text=True, timeout=600,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
        assert done.returncode == 0, done.stderr[-2000:]
    resumed = torch.load(tmp_path / "flow" / "resumed" / "pwc.pt", weights_only=True)
    assert all(torch.equal(resumed["state_dict"][k], v) for k, v in b["state_dict"].items())

    rng = np.random.default_rng(0)  # labels whose score depends on the features
    grid = rng.normal(size=(600, 11, 4, 8)).astype(np.float32)
    extra = rng.uniform(0.1, 1.2, size=(600, 1)).astype(np.float32)
    score = np.clip(85 - 24 * grid[:, 2].mean(axis=(1, 2)) - 10 * extra[:, 0], 0, 100).astype(np.float32)
    labels = tmp_path / "labels"
    labels.mkdir()
    np.savez(labels / "labels.npz", grid=grid, extra=extra, score=score, clip=np.arange(600) % 10)
    (labels / "labels.json").write_text('{"config": {"features": "flow", "flow": "dis", "score": "iou", '
                                        '"label": "self", "regions": [2, 2], "overlap": 16, "max_offset": 12}}')
    one, two = one_and_two(["train", "decision", "--labels", str(labels), "--validation", "20", "--epochs", "15",
                            "--threads", "1", "--no-card", "--quiet"], tmp_path / "decision")
    assert two.stdout.count("validation (") == 1
    pearson = []
    for run, world in (("one", 1), ("two", 2)):
        checkpoint = torch.load(tmp_path / "decision" / run / "checkpoint.pt", weights_only=True)
        assert checkpoint["world_size"] == world
        pearson.append(checkpoint["metrics"]["val"]["pearson"])
    assert min(pearson) > 0.7 and abs(pearson[0] - pearson[1]) < 0.05, pearson  # dropout: alike in distribution
