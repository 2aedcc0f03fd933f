"""Frame-pair datasets and splits by clip (workbench.data.datasets)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from workbench.data.datasets import FramePairDataset, resize_flow, split_by_clip, train_val_datasets
from workbench.errors import InputError
from workbench.io.clips import ClipFolder, ClipWriter

W, H = 16, 12


def make_clip(root: Path, num_frames: int = 4, flow: bool = True, masks: bool = True) -> Path:
    """Frame t is flat with level 10·t + 1; mask t has class t % 3; flow_bwd[t] = (t, −0.5) with one NaN."""
    writer = ClipWriter(root)
    for t in range(num_frames):
        flow_bwd = None
        if flow and t > 0:
            flow_bwd = np.stack([np.full((H, W), t, np.float32), np.full((H, W), -0.5, np.float32)])
            flow_bwd[:, 0, 0] = np.nan
        writer.write(t, np.full((H, W, 3), 10 * t + 1, np.uint8),
                     np.full((H, W), t % 3, np.uint8) if masks else None, flow_bwd=flow_bwd)
    return root


def clip_names(n: int) -> list[str]:
    return [f"clip{i}" for i in range(n)]


def test_split_is_deterministic_and_by_clip():
    names = clip_names(10)
    train, val = split_by_clip(names, 30, seed=1)
    assert (train, val) == split_by_clip(names, 30, seed=1)
    assert (train, val) == tuple(split_by_clip(list(reversed(names)), 30, seed=1)[i][::-1] for i in (0, 1))
    assert len(val) == 3 and len(train) == 7
    assert set(train).isdisjoint(val) and set(train) | set(val) == set(names)
    others = {tuple(split_by_clip(names, 30, seed=s)[1]) for s in range(10)}
    assert len(others) > 1  # the seed matters


def test_split_edge_cases():
    assert split_by_clip(clip_names(2), 1, seed=0)[1] != []   # at least one validation clip
    train, val = split_by_clip(clip_names(3), 99, seed=0)
    assert len(train) == 1 and len(val) == 2                   # never all of them
    assert split_by_clip(["only"], 50, seed=0) == (["only"], [])
    assert split_by_clip(clip_names(5), 0, seed=0) == (clip_names(5), [])
    assert len(split_by_clip(clip_names(10), 25, seed=0)[1]) == 3  # 2.5 rounds up
    with pytest.raises(InputError, match="repeated: a"):
        split_by_clip(["a", "b", "a"], 20, seed=0)
    with pytest.raises(InputError, match="val_percent"):
        split_by_clip(clip_names(4), 100, seed=0)


def test_items_shapes_dtypes_and_values(tmp_path):
    dataset = FramePairDataset(make_clip(tmp_path / "a", 4))
    assert len(dataset) == 3  # t = 1, 2, 3
    frame_prev, frame, mask, flow = dataset[1]  # t = 2
    assert dataset.item_info(1) == ("a", 2)
    assert frame_prev.shape == frame.shape == (3, H, W) and frame.dtype == torch.float32
    assert mask.shape == (H, W) and mask.dtype == torch.int64
    assert flow.shape == (2, H, W) and flow.dtype == torch.float32
    assert frame_prev[0, 0, 0].item() == pytest.approx(11 / 255) and frame.max().item() == pytest.approx(21 / 255)
    assert (mask == 2).all()
    assert flow[0, 5, 5].item() == 2.0 and flow[1, 5, 5].item() == -0.5
    assert flow[:, 0, 0].tolist() == [0.0, 0.0]  # unknown (NaN) → 0
    assert torch.isfinite(flow).all()


def test_resize_scales_flow_vectors(tmp_path):
    dataset = FramePairDataset(make_clip(tmp_path / "a", 3), size=(2 * W, H // 2))
    frame_prev, frame, mask, flow = dataset[0]  # t = 1: flow (1, −0.5)
    assert frame.shape == (3, H // 2, 2 * W) and mask.shape == (H // 2, 2 * W) and flow.shape == (2, H // 2, 2 * W)
    assert flow[0, 3, 10].item() == pytest.approx(2.0)    # dx × 2 (width doubled)
    assert flow[1, 3, 10].item() == pytest.approx(-0.25)  # dy × 0.5 (height halved)
    assert set(mask.unique().tolist()) == {1}              # nearest: no blended class ids
    direct = resize_flow(np.ones((2, 4, 4), np.float32), (12, 2))
    np.testing.assert_allclose(direct[0], 3.0)
    np.testing.assert_allclose(direct[1], 0.5)


def test_flow_fn_and_missing_flow(tmp_path):
    clip = make_clip(tmp_path / "noflow", 3, flow=False)
    with pytest.raises(InputError, match="noflow: no ground-truth backward flow"):
        FramePairDataset(clip)
    calls = []

    def flow_fn(frame, frame_prev):
        calls.append((int(frame[0, 0, 0]), int(frame_prev[0, 0, 0])))
        return np.full((2, *frame.shape[:2]), 3.0, np.float32)

    dataset = FramePairDataset(clip, flow_fn=flow_fn)
    assert dataset[1][3].mean().item() == 3.0
    assert calls == [(21, 11)]  # called as flow_fn(frame_t, frame_prev)

    with pytest.raises(InputError, match="nomask: no masks"):
        FramePairDataset(make_clip(tmp_path / "nomask", 3, masks=False))


def test_train_val_never_split_a_clip(tmp_path):
    for i in range(5):
        make_clip(tmp_path / "set" / f"clip{i}", num_frames=3 + i)
    train, val = train_val_datasets(tmp_path / "set", val_percent=40, seed=3)
    train_clips = {train.item_info(i)[0] for i in range(len(train))}
    val_clips = {val.item_info(i)[0] for i in range(len(val))}
    assert len(val_clips) == 2 and len(train_clips) == 3 and train_clips.isdisjoint(val_clips)
    # every frame of a clip is on one side: item counts equal the clips' t ≥ 1 frames
    sizes = {f"clip{i}": 2 + i for i in range(5)}
    assert len(train) == sum(sizes[c] for c in train_clips) and len(val) == sum(sizes[c] for c in val_clips)
    again = train_val_datasets([ClipFolder(tmp_path / "set" / f"clip{i}") for i in range(5)], 40, seed=3)
    assert {s.name for s in again[1].sequences} == val_clips
