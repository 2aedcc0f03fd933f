"""Live input (workbench.io.live): a video file played as a live source — newest frames first when the consumer is
behind, drops counted — through `predict` and `dvs run`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from workbench.data.synthetic import SynthConfig, memory_clips
from workbench.errors import InputError
from workbench.io import VideoWriter, open_dataset
from workbench.io.live import LiveSequence, is_live

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """Two seconds at 30 fps, each frame's index written into its top-left pixels (to check the order)."""
    path = tmp_path_factory.mktemp("live") / "call.avi"
    seq = memory_clips(SynthConfig(clips=1, frames=60, size=(160, 96), seed=10_002))[0]
    with VideoWriter(path, 30, (160, 96)) as writer:
        for t in range(len(seq)):
            frame = seq.frame(t).copy()
            frame[:16, :16] = 4 * t  # MJPG keeps the inside of a flat 16×16 block to within a level or two
            writer.write(frame)
    return path


def index_of(frame: np.ndarray) -> int:
    return round(float(frame[4:12, 4:12].mean()) / 4)


def test_names():
    assert all(is_live(n) for n in ("0", "camera:1", "live:call.mp4", "rtsp://host/stream", "HTTP://x"))
    assert not any(is_live(n) for n in ("call.mp4", "clips/", "data/0a"))


def test_a_slow_consumer_gets_the_newest_frames_and_drops_are_counted(video):
    seq = LiveSequence(f"live:{video}")
    assert seq.size == (160, 96) and seq.fps == pytest.approx(30) and seq.name == "call"
    indices = []
    for frame in seq.frames():
        indices.append(index_of(frame))
        time.sleep(0.1)  # a pipeline at 10 fps behind a 30 fps source
    assert indices == sorted(indices) and indices[0] == 0
    assert 10 <= len(indices) <= 40 and max(np.diff(indices)) >= 2  # frames were skipped, newest taken
    assert seq.received == 60 and seq.delivered == len(indices) and seq.dropped == 60 - len(indices)
    assert "dropped" in seq.report()


def test_a_fast_consumer_misses_nothing(video):
    seq = LiveSequence(f"live:{video}")
    frames = list(seq.frames())
    assert len(frames) == 60 and seq.dropped == 0
    assert [index_of(f) for f in frames] == list(range(60))


def test_errors(video, tmp_path):
    with pytest.raises(InputError, match="no such video file"):
        LiveSequence(f"live:{tmp_path / 'none.avi'}")
    with pytest.raises(InputError, match="cannot open this live source"):
        LiveSequence("camera:97")
    seq = LiveSequence(f"live:{video}")
    with pytest.raises(InputError, match="read once, in order"):
        seq.frame(3)
    assert isinstance(open_dataset(f"live:{video}")[0], LiveSequence)


def workbench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_predict_and_dvs_run_take_a_live_source(video, tmp_path):
    result = workbench("predict", "-i", f"live:{video}", "-m", "fastseg", "--output", str(tmp_path / "p"), "--quiet")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert summary["source_frames"] == 60 and summary["frames"] + summary["dropped"] == 60
    assert "dropped while busy" in result.stdout
    assert (tmp_path / "p" / "composite.webm").stat().st_size > 0  # a live source's outputs are videos
    run = workbench("dvs", "run", "--data", f"live:{video}", "--seg", "fastseg", "--policy", "per-frame", "--frames",
                    "10", "--out", str(tmp_path / "runs"), "--quiet")
    assert run.returncode == 0, run.stderr
    assert "call: " in run.stdout and "dropped" in run.stdout
