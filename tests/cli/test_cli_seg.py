"""`workbench train seg` and `workbench predict` as a user runs them: files named after frames, 0/255 masks,
video in → mp4 out of the same size and length, scores that match the written masks, one-line errors and
nothing half-written."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from cli_helpers import assert_user_error, run_in_process, run_process

from workbench.io import ClipFolder, VideoSequence, VideoWriter, read_mask, write_image, write_mask
from workbench.metrics import dice, foreground_iou
from workbench.seg.checkpoint import build_network, save_seg_checkpoint


def run(*args: str) -> subprocess.CompletedProcess:
    return run_in_process(*args)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """Untrained tiny networks (the I/O contract does not depend on accuracy)."""
    folder = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    paths = {}
    for arch in ("unet", "funet_flow"):
        net = build_network(arch, {"size": "tiny"}, flow="dis")
        paths[arch] = folder / f"{arch}.pt"
        save_seg_checkpoint(paths[arch], net)
    return paths


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    from workbench.data.synthetic import SynthConfig, synthesize

    out = tmp_path_factory.mktemp("clips") / "c"
    synthesize(out, SynthConfig(clips=1, frames=5, size=(96, 64), seed=3), progress=False)
    return next(out.iterdir())


@pytest.fixture(scope="module")
def video(tmp_path_factory, clip) -> Path:
    path = tmp_path_factory.mktemp("video") / "call.mp4"
    seq = ClipFolder(clip)
    with VideoWriter(path, 25, seq.size) as writer:
        for frame in seq.frames():
            writer.write(frame)
    return path


def test_predict_on_a_clip_writes_named_masks_and_true_scores(tmp_path, checkpoints, clip):
    out = tmp_path / "out"
    result = run("predict", "-m", str(checkpoints["funet_flow"]), "--img", str(clip), "-o", str(out),
                 "--background", "#00ff00", "--quiet")
    assert result.returncode == 0, result.stderr
    seq = ClipFolder(clip)
    names = [p.stem for p in seq.frame_files]
    assert sorted(p.stem for p in (out / "masks").iterdir()) == names
    assert sorted(p.stem for p in (out / "composite").iterdir()) == names
    viz = cv2.imread(str(out / "viz" / f"{names[0]}.png"))
    assert viz.shape == (64, 96 * 4, 3)  # input | prediction | composite | errors (ground truth known)
    summary = json.loads((out / "summary.json").read_text())
    ious, dices = [], []
    for i, name in enumerate(names):
        mask = read_mask(out / "masks" / f"{name}.png")
        assert set(np.unique(mask)) <= {0, 255}
        gt = (seq.mask(i) > 0).astype(np.uint8)
        ious.append(foreground_iou(mask > 0, gt))
        dices.append(dice(mask > 0, gt))
    assert summary["mean_iou"] == pytest.approx(np.mean(ious)) and summary["mean_dice"] == pytest.approx(np.mean(dices))
    assert summary["frames"] == 5 and summary["flow"] == "dis" and summary["fps"] > 0
    assert f"mean iou {np.mean(ious):.4f}" in result.stdout
    comp = cv2.imread(str(out / "composite" / f"{names[0]}.png"))
    background = read_mask(out / "masks" / f"{names[0]}.png") == 0
    if background.any():  # green where the network says background (feathered edges aside)
        inner = cv2.erode(background.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        assert np.abs(comp[inner].astype(int) - [0, 255, 0]).max() <= 1


def test_predict_video_gives_videos_of_same_length_and_size(tmp_path, checkpoints, video):
    """A video input: a WebM (VP8: browsers play it) composite and viz by default, mp4 on request."""
    out = tmp_path / "out"
    result = run("predict", "-m", str(checkpoints["unet"]), "--img", str(video), "-o", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert "OpenCV" not in result.stderr  # FFmpeg's codec-tag warning for WebM is silenced
    original, composite = VideoSequence(video), VideoSequence(out / "composite.webm")
    assert len(composite) == len(original) == 5 and composite.size == original.size
    assert (out / "composite.webm").read_bytes()[:4] == b"\x1a\x45\xdf\xa3"  # Matroska / WebM
    assert VideoSequence(out / "viz.webm").size == (96 * 3, 64)
    assert sorted(p.name for p in (out / "masks").iterdir()) == [f"{i:06d}.png" for i in range(5)]
    mp4 = tmp_path / "mp4"
    assert run("predict", "-m", str(checkpoints["unet"]), "--img", str(video), "-o", str(mp4), "--quiet",
               "--video-format", "mp4", "--no-viz").returncode == 0
    assert len(VideoSequence(mp4 / "composite.mp4")) == 5 and not (mp4 / "viz.mp4").exists()


def test_predict_image_folder_with_masks_and_flags(tmp_path, checkpoints, clip):
    seq = ClipFolder(clip)
    frames, masks = tmp_path / "frames", tmp_path / "masks"
    for i in range(len(seq)):
        write_image(frames / f"shot{i + 1}.jpg", seq.frame(i))
        write_mask(masks / f"shot{i + 1}.png", (seq.mask(i) > 0).astype(np.uint8) * 255)
    out = tmp_path / "out"
    result = run("predict", "-m", str(checkpoints["unet"]), "--img", str(frames), "--mask", str(masks), "-o",
                 str(out), "--no-viz", "-t", "0.3", "--quiet")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (out / "masks").iterdir()) == [f"shot{i}.png" for i in range(1, 6)]
    assert not (out / "viz").exists() and json.loads((out / "summary.json").read_text())["threshold"] == 0.3
    nothing = run("predict", "-m", str(checkpoints["unet"]), "--img", str(frames), "--no-save", "--no-viz",
                  "--no-eval", "-o", str(tmp_path / "none"), "--quiet")
    assert nothing.returncode == 0 and not (tmp_path / "none").exists()
    (masks / "shot5.png").unlink()
    assert_user_error(run("predict", "-m", str(checkpoints["unet"]), "--img", str(frames), "--mask", str(masks),
                          "-o", str(tmp_path / "x")), "shot5", "no mask named")
    assert not (tmp_path / "x").exists()


def test_predict_errors(tmp_path, checkpoints, clip, video):
    ck = str(checkpoints["unet"])
    assert_user_error(run("predict", "-m", str(tmp_path / "none.pt"), "--img", str(clip)), "none.pt",
                      "checkpoint not found")
    torch.save({"arch": "pwc", "config": {}, "state_dict": {}}, tmp_path / "pwc.pt")
    assert_user_error(run("predict", "-m", str(tmp_path / "pwc.pt"), "--img", str(clip)), "architecture 'pwc'")
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    assert_user_error(run("predict", "-m", ck, "--img", str(tmp_path / "broken.mp4"), "-o", str(tmp_path / "o1")),
                      "broken.mp4")
    assert not (tmp_path / "o1").exists()
    few = tmp_path / "few"
    for i in range(3):
        write_mask(few / f"{i}.png", np.zeros((64, 96), np.uint8))
    assert_user_error(run("predict", "-m", ck, "--img", str(video), "--mask", str(few), "-o", str(tmp_path / "o2")),
                      "3 masks for the 5 frames")
    assert not (tmp_path / "o2").exists()
    assert_user_error(run("predict", "-m", ck, "--img", str(clip), "--background", "mauve"), "--background 'mauve'")
    assert_user_error(run("predict", "-m", ck, "--img", str(clip), "-t", "1.5"), "--mask-threshold: '1.5'")
    existing = tmp_path / "exists"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    assert_user_error(run("predict", "-m", ck, "--img", str(clip), "-o", str(existing)), "already exists")
    assert (existing / "keep.txt").read_text() == "mine"


def test_train_seg_cli_writes_checkpoint_card_and_logs(tmp_path):
    out = tmp_path / "m"
    result = run("train", "seg", "--model", "unet", "--size", "tiny", "--train-clips", "3", "--frames", "4",
                 "--frame-size", "64x48", "--crop", "32x32", "-e", "1", "-b", "4", "-v", "34", "--out", str(out),
                 "--eval-clips", "1", "--eval-frames", "3", "--quiet")
    assert result.returncode == 0, result.stderr
    assert {"checkpoint.pt", "MODEL_CARD.md", "train_log.csv", "epochs", "eval", "tensorboard"} <= \
        {p.name for p in out.iterdir()}
    card = (out / "MODEL_CARD.md").read_text()
    assert "SHA-256" in card and "workbench train seg --model unet" in card and "ms/frame 640x360" in card
    from workbench.seg.checkpoint import load_seg_checkpoint

    learnable = load_seg_checkpoint(out / "checkpoint.pt").parameters()  # what bench seg counts, not the buffers
    assert f"- Parameters: {learnable:,} learnable" in card
    # a continued run (unet -> funet) with scale augmentation: the card says where it starts and how it zoomed
    result = run("train", "seg", "--model", "funet", "--size", "tiny", "--train-clips", "3", "--frames", "4",
                 "--frame-size", "64x48", "--crop", "32x32", "--zoom", "1:1.5", "-e", "1", "-b", "4", "-v", "34",
                 "--load", str(out / "checkpoint.pt"), "--out", str(tmp_path / "f"), "--eval-clips", "1",
                 "--eval-frames", "3", "--quiet")
    assert result.returncode == 0, result.stderr
    card = (tmp_path / "f" / "MODEL_CARD.md").read_text()
    assert f"it starts from `{out / 'checkpoint.pt'}`" in card and "32x32 crops zoomed ×1–1.5" in card
    assert_user_error(run("train", "seg", "--zoom", "0.1:2", "--out", str(tmp_path / "z")), "--zoom")
    assert_user_error(run("train", "seg", "--model", "unet", "-v", "0", "--out", str(tmp_path / "v")), "--validation")
    assert_user_error(run("train", "seg", "--model", "unet", "--resume", "--out", str(tmp_path / "r")),
                      "no training state")


def test_as_a_separate_process(tmp_path, checkpoints, clip):
    result = run_process("predict", "-m", str(checkpoints["unet"]), "--img", str(clip), "-o", str(tmp_path / "o"),
                         "--quiet", "--no-viz")
    assert result.returncode == 0, result.stderr
    assert "fps without I/O" in result.stdout


def test_bench_seg_writes_table_and_json(tmp_path, checkpoints):
    result = run("bench", "seg", str(checkpoints["unet"]), str(checkpoints["funet_flow"]), "--clips", "1",
                 "--frames", "3", "--repeat", "1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "bench_seg.json").read_text())
    assert [r["model"] for r in data["rows"]] == ["unet", "funet_flow"]
    for row in data["rows"]:
        assert 0 <= row["iou"] <= 1 and row["frames"] == 3 and row["ms_320x192"] > 0 and row["ms_640x360"] > 0
        assert row["clip_iou"] == [pytest.approx(row["iou"])]  # one clip: its mean is the mean
    assert "| unet | rgb |" in (tmp_path / "bench_seg.md").read_text()
    # --flow: the flow-reading network runs with another method (an ablation); the RGB network is untouched
    zero = run("bench", "seg", str(checkpoints["unet"]), str(checkpoints["funet_flow"]), "--clips", "1",
               "--frames", "3", "--repeat", "1", "--flow", "zero", "--out", str(tmp_path / "zero"))
    assert zero.returncode == 0, zero.stderr
    ablated = json.loads((tmp_path / "zero" / "bench_seg.json").read_text())
    assert ablated["config"]["flow"] == "zero" and [r["flow"] for r in ablated["rows"]] == [None, "zero"]
    assert ablated["rows"][0]["iou"] == data["rows"][0]["iou"]
    assert_user_error(run("bench", "seg", str(checkpoints["unet"]), "--seed", "5", "--out", str(tmp_path / "b")),
                      "held-out seeds")
    # on a local Dask cluster: the networks are scored on the workers, the same scores
    pytest.importorskip("dask.distributed")
    farmed = run("bench", "seg", str(checkpoints["unet"]), str(checkpoints["funet_flow"]), "--clips", "1",
                 "--frames", "3", "--repeat", "1", "--workers", "2", "--out", str(tmp_path / "farmed"))
    assert farmed.returncode == 0, farmed.stderr
    rows = json.loads((tmp_path / "farmed" / "bench_seg.json").read_text())["rows"]
    for a, b in zip(data["rows"], rows, strict=True):
        assert {k: v for k, v in a.items() if not k.startswith("ms_")} == {k: v for k, v in b.items()
                                                                           if not k.startswith("ms_")}


def test_bench_seg_on_real_material_marks_the_teacher(tmp_path, checkpoints, clip):
    """--real: scores against a labelled clip's masks; the teacher named in meta.json gets its row marked and
    every network's speed as a ratio to it. Here the 'teacher' is a network we have, labelling the clip."""
    labelled = tmp_path / "real"
    assert run("data", "label", str(clip / "frames"), "--teacher", str(checkpoints["unet"]), "--out", str(labelled),
               "--quiet").returncode == 0
    result = run("bench", "seg", str(checkpoints["unet"]), str(checkpoints["funet_flow"]), "--real", str(labelled),
                 "--clips", "0", "--repeat", "1", "--out", str(tmp_path / "b"))
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "b" / "bench_seg.json").read_text())
    (real,) = data["real"]
    assert real["frames"] == 5 and real["teachers"] == ["unet"] and real["path"] == str(labelled)
    unet, funet_flow = data["rows"]
    assert unet["teacher"] and not funet_flow["teacher"]
    assert unet["real"][0]["iou"] == pytest.approx(1.0)  # the teacher agrees with its own labels
    assert 0 <= funet_flow["real"][0]["iou"] <= 1 and "iou" not in unet  # --clips 0: no synthetic scoring
    assert unet["ms_160x120"] > 0
    md = (tmp_path / "b" / "bench_seg.md").read_text()
    assert unet["real"][0]["clip_iou"] == [pytest.approx(1.0)]
    assert "## Real material" in md and "| unet (teacher) | 1.0000 | 1.000 |" in md and "× teacher 160x120" in md
    unlabelled = tmp_path / "frames_only"
    unlabelled.mkdir()
    for f in sorted((clip / "frames").iterdir())[:3]:
        (unlabelled / f.name).write_bytes(f.read_bytes())
    assert_user_error(run("bench", "seg", str(checkpoints["unet"]), "--real", str(unlabelled), "--clips", "0",
                          "--out", str(tmp_path / "c")), "no masks")
    assert_user_error(run("bench", "seg", str(checkpoints["unet"]), "--clips", "0", "--out", str(tmp_path / "c")),
                      "--real")
    assert not (tmp_path / "c").exists()
