"""`workbench data label`: a video or an image folder → a clip folder labelled by a teacher."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from cli_helpers import assert_user_error, run_in_process  # noqa: E402

from workbench.io import open_dataset  # noqa: E402
from workbench.io.images import write_image  # noqa: E402
from workbench.seg.teacher import mediapipe_available  # noqa: E402

needs_mediapipe = pytest.mark.skipif(not mediapipe_available(), reason="MediaPipe teacher not installed")


@pytest.fixture(scope="module")
def call(tmp_path_factory) -> Path:
    """A short 'video call' as a video file: a real portrait animated over a held-out photograph, with the
    animation's exact masks beside it (the teacher's own masks of the portrait, moved)."""
    from workbench.data.animate import AnimatedPortrait
    from workbench.data.photos import load_photo
    from workbench.data.synthetic import SynthConfig
    from workbench.io.video import VideoWriter
    from workbench.seg.teacher import MediaPipeSelfie

    root = tmp_path_factory.mktemp("call")
    image = np.array(load_photo("astronaut"))
    if mediapipe_available():
        alpha = (MediaPipeSelfie(0).segment(image) > 0.5).astype(np.float32)
    else:  # a rough person box is enough for the tests that do not need the teacher
        alpha = np.zeros(image.shape[:2], np.float32)
        alpha[60:, 120:400] = 1
    config = SynthConfig(clips=1, frames=8, size=(160, 96), seed=10_000, difficulty="easy", photo_backgrounds=1.0,
                         photo_split="heldout")
    clip = list(AnimatedPortrait(image, alpha, config, 0, None, {}, framing="person"))
    (root / "truth").mkdir()
    with VideoWriter(root / "call.mp4", 30.0, (160, 96)) as writer:
        for item in clip:
            writer.write(item.frame)
            write_image(root / "truth" / f"{item.index:06d}.png", item.mask * 255)
    return root


@needs_mediapipe
def test_label_video_with_mediapipe(call, tmp_path):
    out = tmp_path / "labelled"
    result = run_in_process("data", "label", str(call / "call.mp4"), "--out", str(out), "--flow", "dis", "--quiet")
    assert result.returncode == 0, result.stderr
    (clip,) = open_dataset(out)
    assert len(clip) == 8 and clip.has_masks and clip.has_flow
    meta = json.loads((out / "meta.json").read_text())
    assert meta["teacher"]["name"] == "mediapipe" and meta["label_config"]["teacher"] == "mediapipe"
    assert meta["num_frames"] == 8 and meta["size"] == [160, 96]
    assert clip.flow_fwd(0).shape == (2, 96, 160) and clip.flow_bwd(0) is None and clip.flow_fwd(7) is None
    from workbench.io.images import read_mask
    from workbench.metrics import foreground_iou

    ious = [foreground_iou(clip.mask(t), read_mask(call / "truth" / f"{t:06d}.png") > 0) for t in range(8)]
    assert set(np.unique(clip.mask(3))) <= {0, 1}
    assert np.mean(ious) > 0.85, ious  # the teacher finds the person it labelled, through H.264/mp4v and motion


def test_label_with_a_checkpoint_resized_and_stepped(call, tmp_path):
    out = tmp_path / "lab"
    result = run_in_process("data", "label", str(call / "call.mp4"), "--teacher", "fastseg", "--out", str(out),
                            "--size", "96x64", "--step", "2", "--max-frames", "3", "--quiet")
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "meta.json").read_text())
    assert meta["num_frames"] == 3 and meta["source_frames"] == [0, 2, 4] and meta["size"] == [96, 64]
    assert meta["teacher"]["kind"] == "network" and meta["teacher"]["name"] == "fastseg"
    assert meta["fps"] == pytest.approx(15.0)
    (clip,) = open_dataset(out)
    assert clip.frame(2).shape == (64, 96, 3) and not clip.has_flow


def test_start_and_chunks_for_fine_tuning(call, tmp_path):
    """The fine-tuning recipe: the call's start cut into clips (split by clip), its end held out."""
    train, heldout = tmp_path / "train", tmp_path / "heldout"
    assert run_in_process("data", "label", str(call / "call.mp4"), "--teacher", "fastseg", "--max-frames", "5",
                          "--chunk", "2", "--out", str(train), "--quiet").returncode == 0
    clips = open_dataset(train)
    assert [c.name for c in clips] == ["call_000", "call_001"] and [len(c) for c in clips] == [2, 2]  # 5th: alone
    assert run_in_process("data", "label", str(call / "call.mp4"), "--teacher", "fastseg", "--start", "5",
                          "--out", str(heldout), "--quiet").returncode == 0
    assert json.loads((heldout / "meta.json").read_text())["source_frames"] == [5, 6, 7]
    assert_user_error(run_in_process("data", "label", str(call / "call.mp4"), "--teacher", "fastseg", "--start", "8",
                                     "--out", str(tmp_path / "none"), "--quiet"), "no frames")
    assert not (tmp_path / "none").exists()


def test_bad_inputs_write_nothing(call, tmp_path):
    out = tmp_path / "out"
    cases = [
        (["--teacher", "models/pwc_small/checkpoint.pt"], "expected a segmentation network"),
        (["--teacher", "decision"], "expected a segmentation network"),
        (["--teacher", "no_such_model"], "checkpoint not found"),
        (["--threshold", "1.5"], "--threshold"),
        (["--teacher", "fastseg", "--key-color", "0,255,0"], "--key-color applies to --teacher chroma"),
    ]
    for extra, message in cases:
        assert_user_error(run_in_process("data", "label", str(call / "call.mp4"), "--out", str(out), "--quiet",
                                         *extra), message)
        assert not out.exists()
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert_user_error(run_in_process("data", "label", str(empty), "--teacher", "fastseg", "--out", str(out)),
                      "empty.mp4")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    assert_user_error(run_in_process("data", "label", str(broken), "--teacher", "fastseg", "--out", str(out)),
                      "broken.mp4")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    write_image(mixed / "a.png", np.zeros((40, 60, 3), np.uint8))
    write_image(mixed / "b.png", np.zeros((50, 60, 3), np.uint8))
    assert_user_error(run_in_process("data", "label", str(mixed), "--teacher", "fastseg", "--out", str(out),
                                     "--quiet"), "b.png")
    assert not out.exists() and not list(tmp_path.glob(".out*"))
    # The input is never the output, nor inside it, nor a folder that holds it.
    assert_user_error(run_in_process("data", "label", str(mixed), "--teacher", "fastseg", "--out", str(mixed),
                                     "--overwrite"), "the output is the input")
    assert_user_error(run_in_process("data", "label", str(mixed), "--teacher", "fastseg", "--out", str(tmp_path),
                                     "--overwrite"), "the output contains the input")
    assert sorted(p.name for p in mixed.iterdir()) == ["a.png", "b.png"]


def test_existing_output_needs_overwrite(call, tmp_path):
    out = tmp_path / "lab"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    args = ["data", "label", str(call / "call.mp4"), "--teacher", "fastseg", "--out", str(out), "--max-frames", "2",
            "--quiet"]
    assert_user_error(run_in_process(*args), "already exists")
    assert (out / "keep.txt").read_text() == "mine"
    assert run_in_process(*args, "--overwrite").returncode == 0
    assert not (out / "keep.txt").exists() and (out / "meta.json").is_file()


def test_chroma_teacher_on_a_green_screen_clip(tmp_path):
    """`data label --teacher chroma` on a green-screen clip with known masks: IoU >= 0.95 (issue 14).

    The clip is our generator's person in front of an unevenly lit green backdrop (workbench.data.chroma),
    seed 3 (the first seed whose two clips have no green shirt; the keyer's defaults were chosen on seeds 100+).
    """
    from workbench.data.chroma import green_screen_backdrop
    from workbench.data.synthetic import SynthConfig, synthesize
    from workbench.metrics import foreground_iou

    backdrops = tmp_path / "backdrops"
    backdrops.mkdir()
    write_image(backdrops / "green.png", green_screen_backdrop(np.random.default_rng(3), (420, 252)))
    synthesize(tmp_path / "clips", SynthConfig(clips=1, frames=10, size=(320, 192), seed=3, difficulty="medium"),
               backgrounds=backdrops, progress=False)
    clip = tmp_path / "clips" / "clip_0000"
    out = tmp_path / "keyed"
    result = run_in_process("data", "label", str(clip / "frames"), "--teacher", "chroma", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    (truth,), (keyed,) = open_dataset(clip), open_dataset(out)
    ious = [foreground_iou(keyed.mask(t), truth.mask(t)) for t in range(10)]
    assert np.mean(ious) >= 0.95, ious
    meta = json.loads((out / "meta.json").read_text())
    assert meta["teacher"]["kind"] == "chroma" and len(meta["teacher"]["key_color"]) == 3
    # Frames with no screen behind the person: one line naming the option that helps, nothing written.
    noise = tmp_path / "noise"
    noise.mkdir()
    write_image(noise / "a.png", np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8))
    assert_user_error(run_in_process("data", "label", str(noise), "--teacher", "chroma", "--out", str(tmp_path / "x"),
                                     "--quiet"), "--key-color")
    assert not (tmp_path / "x").exists()
