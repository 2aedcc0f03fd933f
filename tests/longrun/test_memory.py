"""Memory does not grow with video length: ``dvs run`` and ``predict`` over a 3000-frame video.

Each command runs in this process on a 96×64 mp4 (and its mask video) of 3000 frames, with the resident memory
sampled every 50 frames read (``memory_probe``). A short warm-up run of the same command first pays the
one-time costs (imports, pyarrow's first parquet file, allocator arenas), so that what is measured is growth.
The peak resident memory from frame 300 to the end of the command (its files written) may exceed the value at
frame 300 by at most 50 MB, and the fitted slope after frame 300 must stay under 4 MB per 1000 frames: keeping
one 96×64 label map per frame would already cost 6 MB per 1000 frames. The curve is saved as a CSV under the
test's tmp folder and summarised on one line (``pytest -s`` shows it). ``docs/memory_curves.py`` draws it.
"""

from __future__ import annotations

import json

import memory_probe as probe
import pytest

FRAMES = 3000
BASELINE = 300
LIMIT_MB = 50.0
SLOPE_LIMIT = 4.0  # MB per 1000 frames

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not probe.memory_available(), reason="no /proc/self/status and no psutil")]


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """(long video, its masks), (short video, its masks)."""
    folder = tmp_path_factory.mktemp("longrun")
    (folder / "short").mkdir()
    return probe.write_long_video(folder, FRAMES), probe.write_long_video(folder / "short", 40)


def check(curve: probe.MemoryCurve, tmp_path) -> None:
    path = curve.write_csv(tmp_path / f"memory_{curve.command.replace(' ', '_')}.csv")
    print(f"\n{curve.summary()} → {path}")
    assert curve.frames == FRAMES
    assert curve.growth_mb <= LIMIT_MB, curve.summary()
    assert curve.slope_mb_per_1000() <= SLOPE_LIMIT, curve.summary()


def test_dvs_run_memory_is_flat(videos, tmp_path):
    (video, masks), _ = videos
    probe.run_quietly(probe.dvs_run_argv(video, masks, tmp_path / "warm-up") + ["--frames", "40"])
    curve = probe.measure("dvs run", probe.dvs_run_argv(video, masks, tmp_path / "runs"), baseline_frame=BASELINE)
    check(curve, tmp_path)
    (record,) = (tmp_path / "runs").iterdir()
    summary = json.loads((record / "run.json").read_text())["summary"]
    assert summary["frames"] == FRAMES and summary["mean_iou"] > 0.5 and summary["flicker"] is not None
    assert len(list((record / "frames").iterdir())) == FRAMES


def test_predict_memory_is_flat(videos, tmp_path):
    (video, masks), (short, short_masks) = videos
    probe.run_quietly(probe.predict_argv(short, short_masks, tmp_path / "warm-up"))
    curve = probe.measure("predict", probe.predict_argv(video, masks, tmp_path / "out"), baseline_frame=BASELINE)
    check(curve, tmp_path)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["frames"] == FRAMES and summary["mean_iou"] > 0.5 and summary["flicker"] >= 0
    assert (tmp_path / "out" / "metrics.csv").read_text().count("\n") == FRAMES + 1
