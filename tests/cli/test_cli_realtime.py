"""`workbench bench realtime`: set-ups end to end over videos, with threaded reading and writing."""

from __future__ import annotations

import json

import pytest
from cli_helpers import assert_user_error, run_process

from workbench.errors import InputError
from workbench.experiments.realtime import Setup


def test_setups_parse():
    setup = Setup.parse("fastseg@onnx/fixed:4/2x3")
    assert (setup.seg, setup.backend, setup.policy, setup.param, setup.regions) == ("fastseg", "onnx", "fixed", 4.0,
                                                                                   (2, 3))
    assert Setup.parse("unet").policy == "per-frame" and Setup.parse("unet").regions == (1, 1)
    assert Setup.parse("unet/fixed:8/fs:0.25").spec().pipeline.flow_scale == 0.25
    pipeline = Setup.parse("unet/fixed:8/ws:0.5/fs:0.2").spec().pipeline
    assert (pipeline.warp_scale, pipeline.flow_scale) == (0.5, 0.2)
    spec = Setup.parse("unet/adaptive:70/2x2").spec()
    assert (spec.pipeline.policy, spec.pipeline.target, spec.pipeline.regions) == ("adaptive", 70.0, (2, 2))
    for bad in ("unet@tensorrt", "unet/fixed", "unet/sometimes:3", "unet/fixed:x", "unet/fs:quarter", "unet/ws:"):
        with pytest.raises(InputError, match="--setups"):
            Setup.parse(bad)


@pytest.mark.slow
def test_bench_realtime_runs_every_setup_end_to_end(tmp_path):
    pytest.importorskip("onnxruntime")
    setups = "unet/per-frame/1x1,fastseg@onnx/per-frame/1x1,unet/fixed:3/2x2"
    result = run_process("bench", "realtime", "--setups", setups, "--clips", "1", "--frames", "6", "--size",
                         "160x96", "--out", str(tmp_path), "--quiet")
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "bench_realtime.json").read_text())
    rows = {r["setup"]: r for r in data["rows"]}
    assert list(rows) == setups.split(",")
    for row in rows.values():
        assert row["frames"] == 6 and 0 < row["iou"] <= 1 and row["fps_end_to_end"] > 0
        assert row["fps_no_io"] >= row["fps_end_to_end"] * 0.9  # the pipeline's time is within the wall time
        assert row["stage_ms"]["read"] > 0 and row["stage_ms"]["write"] > 0
        assert (row["stage_ms"]["seg"] > 0) == (row["policy"] == "per-frame")  # medians: fixed:3 mostly warps
    assert rows["unet/per-frame/1x1"]["iou_vs_reference_points"] == 0
    assert rows["unet/per-frame/1x1"]["key_fraction"] == 1.0
    assert rows["unet/fixed:3/2x2"]["key_fraction"] == pytest.approx(2 / 6)  # frames 0 and 3 of 6
    assert rows["unet/fixed:3/2x2"]["stage_ms"]["flow"] > 0  # the warp path ran
    assert "| fastseg@onnx/per-frame/1x1 |" in (tmp_path / "bench_realtime.md").read_text()
    assert_user_error(run_process("bench", "realtime", "--setups", "unet/fixed", "--out", str(tmp_path / "x")),
                      "--setups unet/fixed")
