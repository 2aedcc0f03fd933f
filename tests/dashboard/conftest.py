"""Run records for the dashboard tests: two small runs of one clip (per-frame and adaptive), a sweep, and a
broken run folder — made with untrained tiny networks (the display does not depend on accuracy)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from workbench.data.synthetic import SynthConfig, synthesize
from workbench.decision import Decider, DecisionNet
from workbench.experiments.sweep import SweepConfig, run_sweep
from workbench.io import ClipFolder
from workbench.pipeline import PipelineConfig, VideoSegmenter
from workbench.pipeline.build import Built
from workbench.runs import record_run
from workbench.seg.checkpoint import build_network

ROOT = Path(__file__).resolve().parents[2]


def make_runs(folder: Path, frames: int = 6, size: tuple[int, int] = (96, 64)) -> dict[str, Path]:
    torch.manual_seed(0)
    net = build_network("unet", {"size": "tiny"})
    decider = Decider(DecisionNet())
    clips = folder / "clips"
    synthesize(clips, SynthConfig(clips=2, frames=frames, size=size, seed=10005), progress=False)
    clip = ClipFolder(clips / "clip_0000")
    runs = folder / "runs"
    per_frame = record_run(VideoSegmenter(net, PipelineConfig(policy="per-frame")), clip, runs, progress=False,
                           run_id="a-per-frame")
    adaptive = record_run(VideoSegmenter(net, PipelineConfig(policy="adaptive", target=80, dynamic=True),
                                         decider=decider), clip, runs, progress=False, run_id="b-adaptive")
    cumulative = record_run(VideoSegmenter(net, PipelineConfig(policy="adaptive", target=80, rule="cumulative"),
                                           decider=decider), clip, runs, progress=False, run_id="d-cumulative")
    run_sweep(Built(PipelineConfig(), net, decider), [clip], SweepConfig(targets=(60.0, 90.0), intervals=(1, 3),
                                                                       oracle=False), runs / "sweep", progress=False)
    other = record_run(VideoSegmenter(net, PipelineConfig(policy="per-frame")), ClipFolder(clips / "clip_0001"), runs,
                       progress=False, run_id="e-other-clip")
    broken = runs / "c-broken"
    shutil.copytree(per_frame.path, broken)
    (broken / "run.json").write_text("{ not json")
    return {"runs": runs, "per_frame": per_frame.path, "adaptive": adaptive.path, "broken": broken, "clips": clips,
            "cumulative": cumulative.path, "other_clip": other.path}


@pytest.fixture(scope="session")
def dashboard_runs(tmp_path_factory) -> dict[str, Path]:
    return make_runs(tmp_path_factory.mktemp("dashboard"))
