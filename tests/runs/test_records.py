"""Run records: the on-disk contract of docs/conventions.md, validation on load, nothing half-written."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from workbench.data.synthetic import SynthConfig, memory_clips
from workbench.pipeline import PipelineConfig, VideoSegmenter
from workbench.runs import COLUMNS, RunError, list_runs, load_run, record_run, write_run_video
from workbench.seg.checkpoint import build_network


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    net = build_network("unet", {"size": "tiny"})
    clip = memory_clips(SynthConfig(clips=1, frames=5, size=(96, 64), seed=10003))[0]
    return net, clip


@pytest.fixture()
def run(setup, tmp_path):
    net, clip = setup
    return record_run(VideoSegmenter(net, PipelineConfig(policy="fixed", interval=2)), clip, tmp_path, progress=False)


def test_contract(run, setup):
    net, clip = setup
    meta = json.loads((run.path / "run.json").read_text())
    for key in ("run_id", "created", "workbench_version", "git_commit", "method", "config", "source", "summary"):
        assert key in meta
    assert meta["method"] == "fixed" and meta["config"]["interval"] == 2 and meta["run_id"] == run.path.name
    assert {"frames", "mean_iou", "fps", "key_fraction"} <= set(meta["summary"])
    frames = pd.read_parquet(run.path / "frames.parquet")
    assert set(COLUMNS) <= set(frames.columns) and len(frames) == 5 * 4
    assert set(frames["decision"]) == {"segment", "warp"}
    assert meta["summary"]["key_fraction"] == pytest.approx((frames["decision"] == "segment").mean())
    # mean_iou is the mean over frames of the frame IoU
    assert meta["summary"]["mean_iou"] == pytest.approx(frames.groupby("frame")["iou"].first().mean())
    data = run.frame_data(1)
    assert data["image"].shape == (64, 96, 3) and np.array_equal(data["image"], clip.frame(1))
    assert data["seg"].shape == (64, 96) and data["flow"].shape == (2, 64, 96)
    assert list(data["key_frame"]) == [0, 0, 0, 0]
    assert "flow" not in run.frame_data(0)  # a key frame everywhere: no flow was estimated, none stored
    assert len(run.per_frame()) == 5 and list(run.per_frame()["keys"]) == [4, 0, 4, 0, 4]


def test_interrupted_run_leaves_nothing(setup, tmp_path):
    net, clip = setup

    class Interrupting(VideoSegmenter):
        def step(self, frame, state=None):
            if state is not None and state.index == 3:
                raise KeyboardInterrupt
            return super().step(frame, state)

    with pytest.raises(KeyboardInterrupt):
        record_run(Interrupting(net, PipelineConfig(policy="per-frame")), clip, tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []
    assert list_runs(tmp_path) == []


@pytest.mark.parametrize("damage, message", [
    (lambda p: (p / "run.json").unlink(), "no run.json"),
    (lambda p: (p / "run.json").write_text("{"), "unreadable run.json"),
    (lambda p: (p / "frames.parquet").unlink(), "partial run record"),
    (lambda p: (p / "frames.parquet").write_bytes(b"garbage"), "unreadable"),
    (lambda p: _edit(p, record_version=0), "version 0"),
    (lambda p: _edit(p, summary={"frames": 5}), "summary.mean_iou"),
    (lambda p: pd.read_parquet(p / "frames.parquet").drop(columns="score_pred").to_parquet(p / "frames.parquet"),
     "missing columns score_pred"),
])
def test_broken_records_give_one_line(run, damage, message):
    damage(run.path)
    with pytest.raises(RunError, match=message) as info:
        load_run(run.path)
    assert "\n" not in str(info.value)


def _edit(path, **changes):
    meta = json.loads((path / "run.json").read_text())
    meta.update(changes)
    (path / "run.json").write_text(json.dumps(meta))


def test_missing_frame_and_unstored_run(run, setup, tmp_path):
    (run.path / "frames" / "000002.npz").unlink()
    with pytest.raises(RunError, match="frame 2 is missing"):
        load_run(run.path).frame_data(2)
    net, clip = setup
    light = record_run(VideoSegmenter(net, PipelineConfig(policy="per-frame")), clip, tmp_path / "light", store=False,
                       progress=False)
    assert not light.stored
    with pytest.raises(RunError, match="stored no frames"):
        light.frame_data(0)


def test_never_overwritten_and_listed(run, setup):
    net, clip = setup
    with pytest.raises(Exception, match="already exists"):
        record_run(VideoSegmenter(net, PipelineConfig(policy="per-frame")), clip, run.path.parent,
                   run_id=run.run_id, progress=False)
    assert list_runs(run.path.parent) == [run.path]


def test_run_video_holds_every_stored_frame(run, setup, tmp_path):
    from workbench.io import VideoSequence

    path = write_run_video(run, tmp_path / "run.webm")
    video = VideoSequence(path)
    assert len(video) == 5 and video.size == (96 * 3, 64)  # input | prediction | errors (ground truth known)
    first = video.frame(0)[:, :96].astype(int)
    assert np.abs(first - run.frame_data(0)["image"]).mean() < 12  # the input on the left (lossy VP8)
    net, clip = setup
    light = record_run(VideoSegmenter(net, PipelineConfig(policy="per-frame")), clip, tmp_path / "light", store=False,
                       progress=False)
    with pytest.raises(RunError, match="stored no frames"):
        write_run_video(light, tmp_path / "light.webm")
    assert not (tmp_path / "light.webm").exists()
