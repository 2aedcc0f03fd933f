"""`workbench flow` as a user runs it: a .flo of the right size, the picture, one-line errors, nothing left over."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from cli_helpers import assert_user_error, run_in_process, run_process

from workbench.io import read_flo, read_image, write_image


def run(*args: str) -> subprocess.CompletedProcess:
    """In this process; ``test_as_a_separate_process`` checks the real command once."""
    return run_in_process(*args)


@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    """Two 80×60 PNGs; b is a shifted 4 px right of a, so the flow a → b is about (+4, 0)."""
    rng = np.random.default_rng(1)
    big = cv2.GaussianBlur(rng.uniform(0, 255, (60, 100, 3)).astype(np.float32), (0, 0), 2.0)
    big = np.clip(big * 3 - 255, 0, 255).astype(np.uint8)
    write_image(tmp_path / "a.png", np.ascontiguousarray(big[:, 10:90]))
    write_image(tmp_path / "b.png", np.ascontiguousarray(big[:, 6:86]))
    return tmp_path / "a.png", tmp_path / "b.png"


def test_flow_writes_flo_and_picture(pair, tmp_path):
    a, b = pair
    out, viz = tmp_path / "out" / "ab.flo", tmp_path / "ab.png"
    result = run("flow", str(a), str(b), "-o", str(out), "--viz", str(viz))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out} (80x60, dis (medium))" in result.stdout
    assert " ms" in result.stdout and "max |flow|" in result.stdout
    flow = read_flo(out)
    assert flow.shape == (2, 60, 80)
    assert np.median(flow[0, 10:-10, 10:-10]) == pytest.approx(4.0, abs=0.3)  # a → b, +right
    assert abs(np.median(flow[1])) < 0.3
    picture = read_image(viz)
    assert picture.shape == (60, 80, 3) and picture.std() > 0


@pytest.mark.parametrize("method, extra", [("farneback", []), ("zero", []), ("dis", ["--preset", "ultrafast"])])
def test_flow_methods(pair, tmp_path, method, extra):
    a, b = pair
    out = tmp_path / f"{method}.flo"
    result = run("flow", str(a), str(b), "-o", str(out), "--method", method, *extra)
    assert result.returncode == 0, result.stderr
    flow = read_flo(out)
    assert flow.shape == (2, 60, 80)
    assert (not flow.any()) if method == "zero" else np.median(flow[0]) == pytest.approx(4.0, abs=0.5)


def test_grayscale_frames_are_accepted(pair, tmp_path):
    """Documented choice: a grayscale file is expanded to RGB by the io layer, like everywhere else."""
    a, b = pair
    for path in (a, b):
        cv2.imwrite(str(path.with_suffix(".gray.png")), cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2GRAY))
    out = tmp_path / "gray.flo"
    result = run("flow", str(a.with_suffix(".gray.png")), str(b.with_suffix(".gray.png")), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert np.median(read_flo(out)[0]) == pytest.approx(4.0, abs=0.5)


def _only_inputs_left(tmp_path: Path, inputs: set[str]) -> None:
    assert {p.name for p in tmp_path.iterdir()} == inputs, list(tmp_path.iterdir())


def test_frames_of_different_sizes(pair, tmp_path):
    a, _ = pair
    write_image(tmp_path / "small.png", np.zeros((50, 80, 3), np.uint8))
    result = run("flow", str(a), str(tmp_path / "small.png"), "-o", str(tmp_path / "x.flo"), "--viz",
                 str(tmp_path / "x.png"))
    assert_user_error(result, "small.png", "80x50", "expected 80x60")
    _only_inputs_left(tmp_path, {"a.png", "b.png", "small.png"})


@pytest.mark.parametrize("content, fragments", [
    (b"", ["bad.png", "0 bytes"]),
    (b"this is a text file, not a picture\n", ["bad.png", "cannot decode"]),
])
def test_unreadable_frames(pair, tmp_path, content, fragments):
    a, _ = pair
    (tmp_path / "bad.png").write_bytes(content)
    for args in ((str(a), str(tmp_path / "bad.png")), (str(tmp_path / "bad.png"), str(a))):
        result = run("flow", *args, "-o", str(tmp_path / "x.flo"), "--viz", str(tmp_path / "x.png"))
        assert_user_error(result, *fragments)
        _only_inputs_left(tmp_path, {"a.png", "b.png", "bad.png"})


def test_missing_frame_and_bad_options(pair, tmp_path):
    a, b = pair
    assert_user_error(run("flow", str(a), str(tmp_path / "nope.png"), "-o", str(tmp_path / "x.flo")),
                      "nope.png", "not found")
    assert_user_error(run("flow", str(a), str(b), "-o", str(tmp_path / "x.png")), "x.png", ".flo")
    assert_user_error(run("flow", str(a), str(b), "-o", str(tmp_path / "x.flo"), "--viz", str(tmp_path / "v.txt")),
                      "v.txt", "--viz")
    assert_user_error(run("flow", str(a), str(b), "-o", str(tmp_path / "x.flo"), "--method", "zero",
                          "--preset", "fast"), "--preset")
    result = run("flow", str(a), str(b), "-o", str(tmp_path / "x.flo"), "--method", "gt")
    assert result.returncode == 2 and "invalid choice: 'gt'" in result.stderr and "dis" in result.stderr
    _only_inputs_left(tmp_path, {"a.png", "b.png"})


def test_as_a_separate_process(pair, tmp_path):
    """The real command: the entry point, its exit status and its one stderr line (one start-up is enough)."""
    a, _ = pair
    (tmp_path / "empty.png").write_bytes(b"")
    assert_user_error(run_process("flow", str(a), str(tmp_path / "empty.png"), "-o", str(tmp_path / "x.flo")),
                      "empty.png", "0 bytes")
    assert not (tmp_path / "x.flo").exists()


def test_bench_flow_command(tmp_path):
    out = tmp_path / "bench"
    result = run("bench", "flow", "--clips", "1", "--frames", "2", "--size", "64x48", "--repeat", "1",
                 "--threads", "1", "--timing-sizes", "64x48", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "| dis (medium) |" in result.stdout and "**1 threads**" in result.stdout
    assert "| method | ms/frame 64x48 |" in result.stdout
    assert f"wrote {out / 'bench_flow.md'}" in result.stdout
    assert (out / "bench_flow.md").read_text() in result.stdout
    assert json.loads((out / "bench_flow.json").read_text())["machine"]["threads"] == 1
    assert_user_error(run("bench", "flow", "--seed", "7", "--out", str(tmp_path / "other")), "--seed 7", "10000")
    assert not (tmp_path / "other").exists()
