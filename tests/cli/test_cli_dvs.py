"""`workbench dvs run | labels | sweep` and `workbench train decision` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
from cli_helpers import assert_user_error, run_in_process

from workbench.data.synthetic import SynthConfig, synthesize
from workbench.decision import Decider, DecisionNet, save_decision_checkpoint
from workbench.experiments.sweep import SWEEP_COLUMNS
from workbench.io import read_image, write_image
from workbench.pipeline import RULES
from workbench.runs import list_runs, load_run
from workbench.seg.checkpoint import build_network, save_seg_checkpoint

run = run_in_process


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("dvs")
    torch.manual_seed(0)
    paths = {"seg": folder / "seg.pt", "fast": folder / "fast.pt", "decision": folder / "decision.pt"}
    save_seg_checkpoint(paths["seg"], build_network("unet", {"size": "tiny"}))
    save_seg_checkpoint(paths["fast"], build_network("fastseg"))
    save_decision_checkpoint(paths["decision"], Decider(DecisionNet()))
    synthesize(folder / "clips", SynthConfig(clips=2, frames=6, size=(96, 64), seed=10004), progress=False)
    paths["clips"] = folder / "clips"
    paths["clip"] = folder / "clips" / "clip_0000"
    images = folder / "images"
    images.mkdir()
    for i in range(3):
        write_image(images / f"{i:03d}.png", read_image(paths["clip"] / "frames" / f"{i:06d}.png"))
    paths["images"] = images
    return paths


def models(files) -> list[str]:
    return ["--seg", str(files["seg"]), "--decision", str(files["decision"]), "--threads", "1", "--quiet"]


def test_run_writes_a_record(files, tmp_path):
    result = run("dvs", "run", "--data", str(files["clip"]), "--out", str(tmp_path), "--dynamic", *models(files))
    assert result.returncode == 0, result.stderr
    (path,) = list_runs(tmp_path)
    record = load_run(path)
    assert record.meta["method"] == "adaptive" and record.meta["config"]["dynamic"] is True
    assert record.summary["frames"] == 6 and record.stored and str(path) in result.stdout
    assert "mean IoU" in result.stdout and "fps without I/O" in result.stdout
    assert record.meta["source"]["path"] == str(files["clip"])


def test_run_image_folder_without_ground_truth(files, tmp_path):
    result = run("dvs", "run", "--data", str(files["images"]), "--out", str(tmp_path), "--policy", "fixed",
                 "--no-store", *models(files))
    assert result.returncode == 0, result.stderr
    record = load_run(list_runs(tmp_path)[0])
    assert record.summary["mean_iou"] is None and not record.stored
    assert_user_error(run("dvs", "run", "--data", str(files["images"]), "--out", str(tmp_path), "--eval",
                          *models(files)), "no ground-truth masks")


@pytest.mark.parametrize("extra, fragment", [(["--target", "150"], "--target: '150': expected a number in [0, 100]"),
                                             (["--overlap", "200"], "larger than a region"),
                                             (["--regions", "9x9"], "does not fit"),
                                             (["--decision", "nowhere.pt"], "nowhere.pt")])
def test_run_errors(files, tmp_path, extra, fragment):
    args = models(files)
    if extra[0] == "--decision":
        args = args[:2] + args[4:]
    result = run("dvs", "run", "--data", str(files["clip"]), "--out", str(tmp_path / "runs"), *args, *extra)
    assert_user_error(result, fragment)
    assert not (tmp_path / "runs").exists() or list_runs(tmp_path / "runs") == []


def test_unknown_policy(files):
    result = run("dvs", "run", "--data", str(files["clip"]), "--policy", "sometimes")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_sweep(files, tmp_path):
    out = tmp_path / "sweep"
    result = run("dvs", "sweep", "--data", str(files["clips"]), "--targets", "50,95", "--intervals", "1,3",
                 "--fast", str(files["fast"]), "--out", str(out), *models(files))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "sweep.csv")
    assert list(table.columns) == list(SWEEP_COLUMNS)
    agg = table[table["clip"] == "all"]
    methods = [(m, p) for m, p in zip(agg["method"], agg["param"], strict=True)]
    assert len(agg) == 2 + 2 + 2 + 2 + 1  # per-frame ×2 networks, fixed ×2, adaptive ×2, oracle ×2, flow-only
    assert ("fixed", 3.0) in methods and ("adaptive", 95.0) in methods
    per_clip = table[table["clip"] != "all"]
    assert set(per_clip["clip"]) == {"clip_0000", "clip_0001"} and per_clip["run_id"].notna().all()
    # the aggregate IoU is the frame-weighted mean of the clips'
    fixed3 = per_clip[(per_clip["method"] == "fixed") & (per_clip["param"] == 3)]
    assert agg[(agg["method"] == "fixed") & (agg["param"] == 3)]["mean_iou"].item() == pytest.approx(
        (fixed3["mean_iou"] * fixed3["frames"]).sum() / fixed3["frames"].sum())
    assert agg[(agg["method"] == "fixed") & (agg["param"] == 1)]["key_fraction"].item() == 1.0
    report = json.loads((out / "sweep.json").read_text())
    assert {"reference", "best_adaptive", "pareto", "path_ms", "adaptive_dominates_fixed"} <= set(report)
    assert (out / "iou_vs_fps.png").stat().st_size > 10_000 and (out / "iou_vs_key_fraction.png").is_file()
    assert len(list_runs(out / "runs")) == len(per_clip)
    assert "Reference: per-frame" in result.stdout


def test_sweep_with_a_corrector(files, tmp_path):
    """--correct: every scheduled run is corrected, the reference per-frame run is not, and the two networks'
    per-frame ensemble joins as the corrected curves' key fraction 1."""
    out = tmp_path / "sweep"
    result = run("dvs", "sweep", "--data", str(files["clips"]), "--targets", "90", "--intervals", "2",
                 "--fast", "none", "--no-oracle", "--correct", str(files["fast"]), "--correct-weight", "2",
                 "--out", str(out), *models(files))
    assert result.returncode == 0, result.stderr
    agg = pd.read_csv(out / "sweep.csv").query("clip == 'all'")
    seg = {(m, s) for m, s in zip(agg["method"], agg["seg"], strict=True)}
    assert seg == {("per-frame", "unet"), ("per-frame", "unet+fastseg"), ("fixed", "unet+fastseg"),
                   ("adaptive", "unet+fastseg"), ("flow-only", "unet+fastseg")}
    report = json.loads((out / "sweep.json").read_text())
    assert report["corrector"] == "fastseg" and report["reference"]["seg"] == "unet"
    assert report["scheduled_per_frame"]["seg"] == "unet+fastseg"
    assert report["config"]["pipeline"]["correct_weight"] == 2
    assert "+ 2 × its logits" in (out / "sweep.md").read_text()  # the weight, read from the nested config
    runs = [load_run(p) for p in list_runs(out / "runs")]
    corrected = [r for r in runs if r.meta["config"]["correct"] is not None]
    assert len(corrected) == len(runs) - 2 and all(r.frames["t_fast_ms"].gt(0).all() for r in corrected)
    plain_ids = {r.run_id for r in runs} - {r.run_id for r in corrected}
    assert all("+fastseg" in r.run_id for r in corrected) and not any("+" in i for i in plain_ids)
    assert "corrected by fastseg" in result.stdout


def test_sweep_with_the_cumulative_rule(files, tmp_path):
    """--rule cumulative: adaptive and oracle runs decide by it (their records say so), fixed runs do not."""
    out = tmp_path / "sweep"
    result = run("dvs", "sweep", "--data", str(files["clip"]), "--targets", "60", "--intervals", "2", "--fast",
                 "none", "--no-flow-only", "--rule", "cumulative", "--out", str(out), *models(files))
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "sweep.json").read_text())
    assert report["config"]["pipeline"]["rule"] == "cumulative" and "cumulative rule" in result.stdout
    from workbench.experiments.sweep import sweep_rule

    assert sweep_rule(report) == "cumulative"  # what the dashboard's Compare reads
    assert sweep_rule({"config": {"rule": "cumulative"}}) == "cumulative"  # a sweep.json from before the nesting
    assert sweep_rule({"config": [1]}) == sweep_rule({}) == "threshold"
    runs = {load_run(p).meta["method"]: load_run(p) for p in list_runs(out / "runs")}
    assert set(runs) == {"per-frame", "fixed", "adaptive", "oracle"}  # the policy; the rule is in the config
    assert "-adaptive-cumulative60-" in runs["adaptive"].run_id and "-oracle-cumulative60-" in runs["oracle"].run_id
    assert runs["adaptive"].meta["config"]["rule"] == "cumulative" and "-fixed2-" in runs["fixed"].run_id
    assert runs["adaptive"].frames.query("frame > 0")["score_cum"].notna().all()
    assert runs["fixed"].frames["score_cum"].isna().all()
    default = tmp_path / "default"  # without --targets, the rule's own default targets
    assert run("dvs", "sweep", "--data", str(files["clip"]), "--intervals", "2", "--fast", "none", "--no-oracle",
               "--no-flow-only", "--rule", "cumulative", "--max-frames", "3", "--out", str(default),
               *models(files)).returncode == 0
    targets = json.loads((default / "sweep.json").read_text())["config"]["targets"]
    assert targets == [float(t) for t in RULES["cumulative"].default_targets.split(",")] and min(targets) < 50
    bad = run("dvs", "sweep", "--data", str(files["clip"]), "--rule", "greedy", "--out", str(tmp_path / "bad"))
    assert bad.returncode == 2 and "invalid choice: 'greedy'" in bad.stderr and not (tmp_path / "bad").exists()


def test_run_with_a_corrector_errors(files, tmp_path):
    assert_user_error(run("dvs", "run", "--data", str(files["clip"]), "--out", str(tmp_path), "--correct",
                          str(tmp_path / "none.pt"), *models(files)), "none.pt")
    assert_user_error(run("dvs", "run", "--data", str(files["clip"]), "--out", str(tmp_path), "--correct",
                          str(files["fast"]), "--correct-weight", "-1", *models(files)), "correct-weight")


def test_labels_and_training(files, tmp_path):
    labels = tmp_path / "labels"
    result = run("dvs", "labels", "--seg", str(files["seg"]), "--clips", "2", "--frames", "4", "--size", "96x64",
                 "--max-offset", "2", "--out", str(labels), "--threads", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "labelled pairs" in result.stdout and (labels / "labels.npz").is_file()
    out = tmp_path / "decision"
    result = run("train", "decision", "--labels", str(labels), "--out", str(out), "-e", "2", "-v", "50",
                 "--threads", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    card = (out / "MODEL_CARD.md").read_text()
    assert "SHA-256" in card and "workbench dvs labels" in card and "workbench train decision" in card
    (tmp_path / "not_labels").mkdir()
    assert_user_error(run("train", "decision", "--labels", str(tmp_path / "not_labels"), "--out", str(out),
                          "--overwrite"),
                      "not a decision-label folder")


def test_dvs_defaults_come_from_the_pipeline_config():
    """One place for each default: the dvs commands' pipeline options default to PipelineConfig's fields."""
    from workbench.cli import build_parser
    from workbench.pipeline import PipelineConfig

    defaults = PipelineConfig()
    for command in (["dvs", "run", "--data", "x"], ["dvs", "sweep"]):
        args = build_parser().parse_args(command)
        for name in ("regions", "overlap", "rule", "correct_weight"):
            assert getattr(args, name) == getattr(defaults, name), (command[1], name)
    run = build_parser().parse_args(["dvs", "run", "--data", "x"])
    for name in ("policy", "target", "interval", "dynamic_down", "dynamic_up"):
        assert getattr(run, name) == getattr(defaults, name), name


@pytest.mark.slow
def test_sweep_on_a_local_dask_cluster_equals_the_serial_sweep(files, tmp_path):
    pytest.importorskip("dask.distributed")
    args = ["dvs", "sweep", "--data", str(files["clips"]), "--targets", "60,90", "--intervals", "2", "--fast",
            "none", "--no-oracle", "--no-flow-only", "--threads", "1", *models(files)]
    serial = run(*args, "--out", str(tmp_path / "serial"))
    farmed = run(*args, "--workers", "2", "--out", str(tmp_path / "farmed"))
    assert serial.returncode == 0 and farmed.returncode == 0, farmed.stderr
    same = ["method", "param", "seg", "clip", "frames", "mean_iou", "key_fraction", "min_iou"]
    a, b = (pd.read_csv(tmp_path / name / "sweep.csv") for name in ("serial", "farmed"))
    pd.testing.assert_frame_equal(a[same], b[same])  # value for value, in the same order
    assert len(list_runs(tmp_path / "farmed" / "runs")) == len(b[b["clip"] != "all"])
    assert "Runs farmed out to 2 local workers" in (tmp_path / "farmed" / "sweep.md").read_text()
    assert json.loads((tmp_path / "farmed" / "sweep.json").read_text())["farm"]["workers"] == 2


def test_farm_errors(files, tmp_path):
    both = run("dvs", "sweep", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "x"))
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    pytest.importorskip("dask.distributed")
    nowhere = run("dvs", "sweep", "--data", str(files["clip"]), "--intervals", "2", "--targets", "60", "--fast",
                  "none", "--scheduler", "tcp://127.0.0.1:9", *models(files), "--out", str(tmp_path / "y"))
    assert nowhere.returncode == 2 and "--scheduler tcp://127.0.0.1:9: cannot reach it" in nowhere.stderr
    assert "Traceback" not in nowhere.stderr and not (tmp_path / "y").exists()
