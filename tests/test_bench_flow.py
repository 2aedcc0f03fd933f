"""`workbench bench flow`: a row per method, finite numbers, zero flow scoring the mean true magnitude."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from workbench.data.synthetic import HELD_OUT_SEED, SynthConfig, TalkingHeadClip
from workbench.errors import InputError
from workbench.experiments.bench_flow import bench_flow, format_bench_flow, method_specs, write_bench_flow
from workbench.flow import list_flows

TINY = {"clips": 1, "frames": 3, "size": (64, 48), "repeat": 1, "layers": 2, "timing_sizes": [(64, 48), (96, 64)],
        "timing_pairs": 1}


@pytest.fixture(scope="module")
def result():
    return bench_flow(**TINY)


def _ok_rows(part: dict) -> dict[str, dict]:
    return {row["method"]: row for row in part["rows"] if row["status"] == "ok"}


def test_a_row_per_method(result):
    labels = [label for label, _, _ in method_specs()]
    assert {"dis (ultrafast)", "dis (fast)", "dis (medium)", "farneback", "zero"} <= set(labels)
    assert "gt" not in labels and {name for _, name, _ in method_specs()} == set(list_flows()) - {"gt"}
    for part in ("synthetic", "layers", "motorcycle"):
        assert [row["method"] for row in result[part]["rows"]] == labels
    table = format_bench_flow(result)
    for label in labels:
        assert table.count(f"| {label} |") == 4  # a row in the synthetic, layered, motorcycle and speed tables
    for row in result["synthetic"]["rows"]:  # a method that cannot be built says why (pwc without checkpoint)
        assert row["status"] == "ok" or (row["status"] == "skipped" and row["reason"] and row["reason"] in table)


def test_numbers_are_finite(result):
    synth = result["synthetic"]
    assert synth["pairs"] == 2 and synth["moving_fraction"] == 0
    for name, row in _ok_rows(synth).items():
        for key in ("epe", "fl_all", "ms_per_frame"):
            assert math.isfinite(row[key]) and row[key] >= 0, (name, key)
        assert row["num_valid"] == 2 * 64 * 48
        # at 64x48 the first frames move by less than 0.5 px: no moving pixels, so no moving score
        assert row["num_moving"] == 0 and math.isnan(row["epe_moving"]) and math.isnan(row["fl_all_moving"])
    assert "| — |" in format_bench_flow(result)
    for row in _ok_rows(result["motorcycle"]).values():
        assert math.isfinite(row["epe"]) and math.isfinite(row["ms_per_frame"])
    speed = result["speed"]  # every method timed at each size in the same run
    assert speed["sizes"] == [[64, 48], [96, 64]] and len(speed["rows"]) == len(result["synthetic"]["rows"])
    for row in speed["rows"]:
        assert row["status"] != "ok" or (row["ms_64x48"] >= 0 and row["ms_96x64"] >= 0)
    assert "| method | ms/frame 64x48 | ms/frame 96x64 |" in format_bench_flow(result)
    corr = result["correlation"]
    if corr["status"] == "ok":
        assert {"320x192", "640x384"} <= {row["input"] for row in corr["rows"]}
        for row in corr["rows"]:
            assert row["status"] != "ok" or (row["ms"] > 0 and row["gb_per_s"] > 0)
    machine = result["machine"]
    assert machine["threads"] == 2 and machine["cpu_count"] >= 1 and machine["torch"] and machine["cv2"]


def test_zero_flow_epe_is_the_mean_true_magnitude(result):
    clip = list(TalkingHeadClip(SynthConfig(clips=1, frames=3, size=(64, 48), seed=HELD_OUT_SEED), 0))
    magnitudes = np.concatenate([np.hypot(*item.flow_fwd).ravel() for item in clip[:-1]])
    zero = _ok_rows(result["synthetic"])["zero"]
    assert zero["epe"] == pytest.approx(magnitudes.mean(), rel=1e-6)
    assert zero["epe"] > 0.02  # the clip moves, so this compares something
    assert _ok_rows(result["motorcycle"])["zero"]["epe"] == pytest.approx(34.34, abs=0.01)


def test_layered_scenes_are_held_out_and_scored_like_the_clips(result):
    """The layered part scores held-out scenes (held-out photographs): zero flow = their mean true motion,
    and they move far more than a video call does."""
    from workbench.data.flying import FlyingClip, FlyingConfig

    layers = result["layers"]
    assert layers["clips"] == 2 and layers["pairs"] == 4 and "held-out photographs" in layers["seeds"]
    config = FlyingConfig(clips=2, frames=3, size=(64, 48), seed=HELD_OUT_SEED, photo_split="heldout")
    magnitudes = np.concatenate([np.hypot(*item.flow_fwd).ravel() for i in range(2)
                                 for item in list(FlyingClip(config, i))[:-1]])
    assert _ok_rows(layers)["zero"]["epe"] == pytest.approx(magnitudes.mean(), rel=1e-5)
    assert _ok_rows(layers)["zero"]["epe"] > 10 * _ok_rows(result["synthetic"])["zero"]["epe"]
    assert "## Held-out layered scenes (2 scenes, 4 pairs" in format_bench_flow(result)
    for row in _ok_rows(layers).values():  # two scenes: an interval around the mean
        lo, hi = row["epe_ci"]
        assert lo <= row["epe"] + 1e-9 and row["epe"] <= hi + 1e-9
    assert all(math.isnan(v) for v in _ok_rows(result["synthetic"])["zero"]["epe_ci"])  # one clip: none
    rows = _ok_rows(layers)
    reference = rows["dis (medium)"]
    assert "epe_diff_dis_medium" not in reference
    for name, row in rows.items():  # paired with DIS medium clip by clip: the mean difference of the means
        if name != "dis (medium)":
            assert row["epe_diff_dis_medium"] == pytest.approx(row["epe"] - reference["epe"], abs=1e-6)


def test_clip_interval_of_per_clip_values():
    from workbench.experiments.measure import clip_interval

    assert clip_interval([2.0, 2.0, 2.0]) == (2.0, 2.0)  # clips that agree leave no uncertainty
    lo, hi = clip_interval([1.0, 2.0, 3.0, 4.0])
    assert 1.0 <= lo < 2.5 < hi <= 4.0
    assert clip_interval([1.0, 2.0, 3.0, 4.0]) == (lo, hi)  # deterministic
    assert all(math.isnan(v) for v in clip_interval([3.0]))


def test_moving_pixel_scores(monkeypatch):
    """With a lower "moving" threshold the tiny clip has moving pixels; zero flow scores their mean magnitude."""
    import workbench.experiments.bench_flow

    monkeypatch.setattr(workbench.experiments.bench_flow, "MOVING_PX", 0.1)
    result = bench_flow(motorcycle=False, correlation=False, **TINY)
    assert "motorcycle" not in result and "correlation" not in result
    clip = list(TalkingHeadClip(SynthConfig(clips=1, frames=3, size=(64, 48), seed=HELD_OUT_SEED), 0))
    magnitudes = np.concatenate([np.hypot(*item.flow_fwd).ravel() for item in clip[:-1]])
    rows = _ok_rows(result["synthetic"])
    assert rows["zero"]["num_moving"] == int((magnitudes > 0.1).sum()) > 100
    assert rows["zero"]["epe_moving"] == pytest.approx(magnitudes[magnitudes > 0.1].mean(), rel=1e-6)
    assert rows["zero"]["fl_all_moving"] == 0  # all errors < 3 px
    assert result["synthetic"]["moving_fraction"] == pytest.approx((magnitudes > 0.1).mean())
    for row in rows.values():
        assert math.isfinite(row["epe_moving"]) and row["epe_moving"] >= 0


def test_outputs_are_written(result, tmp_path):
    md, js = write_bench_flow(result, tmp_path / "bench")
    assert md.read_text() == format_bench_flow(result)
    saved = json.loads(js.read_text())
    assert saved["config"]["size"] == [64, 48] and saved["config"]["seed"] == HELD_OUT_SEED
    assert [row["method"] for row in saved["synthetic"]["rows"]] == [r["method"] for r in result["synthetic"]["rows"]]
    assert sorted(p.name for p in (tmp_path / "bench").iterdir()) == ["bench_flow.json", "bench_flow.md"]


def test_training_seeds_are_refused():
    with pytest.raises(InputError, match="held-out seeds >= 10000"):
        bench_flow(seed=42, **TINY)


def test_reference_pairs_are_scored_against_their_flow(tmp_path):
    """--pair A B FLOW scores every method against the given flow (here: the exact flow of a rendered pair,
    so zero flow scores its mean magnitude); frames and flow of different sizes are one clear error."""
    from workbench.io.flo import write_flo
    from workbench.io.images import write_image

    items = list(TalkingHeadClip(SynthConfig(clips=1, frames=2, size=(64, 48), seed=HELD_OUT_SEED + 5), 0))
    write_image(tmp_path / "a.png", items[0].frame)
    write_image(tmp_path / "b.png", items[1].frame)
    write_flo(tmp_path / "ab.flo", items[0].flow_fwd)
    pair = (str(tmp_path / "a.png"), str(tmp_path / "b.png"), str(tmp_path / "ab.flo"))
    result = bench_flow(clips=1, frames=2, size=(64, 48), repeat=1, layers=0, motorcycle=False, correlation=False,
                        pairs=[pair], timing_sizes=[])
    part = result["pairs"][0]
    assert part["size"] == [64, 48] and part["known_fraction"] == 1.0
    zero = _ok_rows(part)["zero"]
    assert zero["epe"] == pytest.approx(np.hypot(*items[0].flow_fwd).mean(), rel=1e-5)
    assert "## Pair `a.png` → `b.png`" in format_bench_flow(result)
    write_flo(tmp_path / "small.flo", items[0].flow_fwd[:, :40])
    with pytest.raises(InputError, match="small.flo: frames 64x48 and 64x48, flow 64x40: expected one size"):
        bench_flow(clips=1, frames=2, size=(64, 48), repeat=1, layers=0, motorcycle=False, correlation=False,
                   pairs=[(pair[0], pair[1], str(tmp_path / "small.flo"))], timing_sizes=[])


def test_flow_card_reports_every_part_of_the_benchmark(tmp_path, result):
    """The model card of a flow checkpoint carries every table of its benchmark, its own row marked, the
    architecture (a refining network says what it refines) and the SHA-256 of the file."""
    import hashlib

    import torch

    from workbench.experiments.cards import flow_card
    from workbench.flow.pwc import create_pwc, save_checkpoint

    torch.manual_seed(0)
    path = tmp_path / "pwc_dis" / "checkpoint.pt"
    save_checkpoint(path, create_pwc("pwc_dis"), {"step": 3},
                    extra={"train_config": {"steps": 5, "layer_clips": 2, "load": "stage1.pt", "threads": 2}})
    card = flow_card(path, {"pairs": 10, "seconds": 60.0}, result, "workbench train flow --variant pwc_dis",
                     label="dis (fast)")
    assert hashlib.sha256(path.read_bytes()).hexdigest() in card
    assert "refining `dis_medium`" in card and "continued from `stage1.pt`" in card
    assert f'create_flow("pwc", checkpoint="{path}")' in card
    for part in ("## Held-out synthetic video calls", "## Held-out layered scenes", "## Real imagery", "## Speed"):
        assert part in card
    assert card.count("| **pwc_dis** (this card) |") == 4  # synthetic, layered, motorcycle, speed
    assert "| dis (medium) |" in card and "workbench train flow --variant pwc_dis" in card


@pytest.mark.slow
def test_scores_on_a_dask_cluster_are_the_serial_ones(result, tmp_path):
    """``--workers 2``: each method's untimed scoring pass runs on a local Dask worker; the scores are the serial
    run's (timings, always taken here, are not compared). Through the command line, in a fresh interpreter: Dask
    starts its workers by re-running ``__main__``, which in this test process may be a dashboard page."""
    pytest.importorskip("dask.distributed")
    out = tmp_path / "farmed"
    run = subprocess.run([sys.executable, "-m", "workbench", "bench", "flow", "--clips", "1", "--frames", "3",
                          "--size", "64x48", "--repeat", "1", "--layers", "2", "--timing-sizes", "--workers", "2",
                          "--out", str(out)], cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    farmed = json.loads((out / "bench_flow.json").read_text())
    _, written = write_bench_flow(result, tmp_path / "serial")  # the serial run, as the same file
    serial = json.loads(written.read_text())
    assert farmed["config"]["workers"] == 2 and serial["config"]["workers"] == 0 and "speed" not in farmed
    for part in ("synthetic", "layers", "motorcycle"):
        for here, there in zip(serial[part]["rows"], farmed[part]["rows"], strict=True):
            assert {k: v for k, v in here.items() if k != "ms_per_frame"} == \
                   {k: v for k, v in there.items() if k != "ms_per_frame"}


def test_a_method_that_cannot_be_built_where_it_is_scored_is_skipped():
    """A farm job builds its method where it runs; if that fails there (a worker without the checkpoint), the
    method is listed as skipped with the reason, like one that cannot be built here."""
    from workbench.experiments.bench_flow import BenchFlowConfig, _bench_methods, _score_method
    from workbench.flow import create_flow

    frame = np.zeros((48, 64, 3), np.uint8)
    pairs = [(frame, frame, np.zeros((2, 48, 64), np.float32))]
    sets = {"synthetic": {"pairs": pairs, "moving": False, "pairs_per_clip": None}}
    scores = _score_method(({"pwc": ("pwc", {"checkpoint": "/nowhere/checkpoint.pt"})}, sets), "pwc")
    assert "could not be built on the worker" in scores["unscored"] and "/nowhere" in scores["unscored"]
    rows = _bench_methods(BenchFlowConfig(repeat=1), {"pwc": (create_flow("zero"), None)}, pairs,
                          {"pwc": scores}, None)
    assert rows == [{"method": "pwc", "status": "skipped", "reason": scores["unscored"]}]
