"""The `workbench data` commands as a user runs them: output, exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import assert_user_error, run_process

from workbench.io import ClipWriter, write_flo


def run(*args: str) -> subprocess.CompletedProcess:
    return run_process(*args)


def test_synth_and_info(tmp_path):
    out = tmp_path / "clips"
    result = run("data", "synth", "--out", str(out), "--clips", "2", "--frames", "4", "--size", "64x48",
                 "--seed", "7", "--classes", "parts", "--difficulty", "medium", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "wrote 2 clips (8 frames, 64x48)" in result.stdout and "frames/s" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["clip_0000", "clip_0001"]
    info = run("data", "info", str(out), "--json")
    assert info.returncode == 0, info.stderr
    summary = json.loads(info.stdout)
    assert summary["num_sequences"] == 2 and summary["num_frames"] == 8
    assert summary["classes"] == ["background", "head", "torso", "arm"]
    text = run("data", "info", str(out)).stdout
    assert "clip_0001" in text and "64x48" in text and "medium" in text


def test_version():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("workbench ")


def test_missing_backgrounds_folder_leaves_nothing(tmp_path):
    result = run("data", "synth", "--out", str(tmp_path / "out"), "--clips", "1", "--frames", "2",
                 "--backgrounds", str(tmp_path / "nope"))
    assert_user_error(result, "nope", "folder not found")
    assert list(tmp_path.iterdir()) == []


def test_unreadable_background_leaves_nothing(tmp_path):
    (tmp_path / "bg").mkdir()
    (tmp_path / "bg" / "empty.jpg").write_bytes(b"")
    result = run("data", "synth", "--out", str(tmp_path / "out"), "--clips", "1", "--frames", "2",
                 "--backgrounds", str(tmp_path / "bg"))
    assert_user_error(result, "empty.jpg", "0 bytes")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bg"]


def test_bad_size_argument():
    result = run("data", "synth", "--out", "x", "--size", "big")
    assert result.returncode == 2 and "expected WIDTHxHEIGHT" in result.stderr
    assert "Traceback" not in result.stderr


def _clip(root: Path, frames: int = 3, size=(8, 6)) -> None:
    writer = ClipWriter(root)
    W, H = size
    for t in range(frames):
        flow = np.zeros((2, H, W), np.float32) if t < frames - 1 else None
        writer.write(t, np.zeros((H, W, 3), np.uint8), np.zeros((H, W), np.uint8), flow_fwd=flow)
    writer.write_meta({"size": [W, H], "num_frames": frames, "fps": 30, "classes": ["background", "person"]})


@pytest.mark.parametrize("damage, fragments", [
    (lambda root: (root / "flow_fwd" / "000001.flo").write_bytes(b"ABCD" + b"\0" * 8 + b"\0" * 384),
     ["000001.flo", "wrong .flo tag"]),
    (lambda root: (root / "flow_fwd" / "000000.flo").write_bytes(
        (root / "flow_fwd" / "000000.flo").read_bytes()[:100]), ["000000.flo", "truncated"]),
    (lambda root: write_flo(root / "flow_fwd" / "000000.flo", np.zeros((2, 5, 5), np.float32)),
     ["000000.flo", "expected 8x6"]),
    (lambda root: (root / "masks" / "000002.png").write_bytes(b""), ["000002.png", "0 bytes"]),
])
def test_info_names_the_damaged_file(tmp_path, damage, fragments):
    _clip(tmp_path / "clip")
    damage(tmp_path / "clip")
    assert_user_error(run("data", "info", str(tmp_path / "clip")), *fragments)


def test_info_on_missing_and_empty(tmp_path):
    assert_user_error(run("data", "info", str(tmp_path / "missing")), "missing", "not found")
    (tmp_path / "empty").mkdir()
    assert_user_error(run("data", "info", str(tmp_path / "empty")), "empty")


def test_animate_mismatched_mask(tmp_path):
    import cv2

    for sub in ("img", "mask"):
        (tmp_path / sub).mkdir()
    cv2.imwrite(str(tmp_path / "img" / "a.png"), np.zeros((40, 30, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "mask" / "a.png"), np.zeros((41, 30), np.uint8))
    result = run("data", "animate", "--images", str(tmp_path / "img"), "--masks", str(tmp_path / "mask"),
                 "--out", str(tmp_path / "out"))
    assert_user_error(result, "a.png", "30x41", "expected the same size")
    assert not (tmp_path / "out").exists()


def test_corrupt_video_is_one_line(tmp_path):
    (tmp_path / "call.mp4").write_bytes(b"not a video at all" * 10)
    assert_user_error(run("data", "info", str(tmp_path / "call.mp4")), "call.mp4", "cannot decode video")
