"""ONNX: every shipped network's export runs in ONNX Runtime with PyTorch's outputs; `workbench export onnx`; the
onnx backend; an external ONNX model as a segmentation network."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from workbench.decision import load_decision_checkpoint  # noqa: E402
from workbench.errors import InputError  # noqa: E402
from workbench.export import PWCFlowModule, checkpoint_kind, export_onnx, on_backend  # noqa: E402
from workbench.flow.pwc import load_pwc  # noqa: E402
from workbench.ops.correlation import _correlation_plain, _correlation_torch  # noqa: E402
from workbench.ops.onnx_runtime import OnnxModule  # noqa: E402
from workbench.seg.checkpoint import load_seg_checkpoint  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = {"rgb": 3, "funet": 4, "funet_flow": 6}
# Float32 through different kernels: outputs agree to ~1e-5 of their scale (measured: ≤ 1.6e-5 on logits of
# magnitude ~10; 5e-6 on PWC flow of a few pixels); the tolerance leaves a margin of ~10.
TOLERANCE = 2e-4


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return float((a - b).abs().max()) <= TOLERANCE * max(1.0, float(a.abs().max()))


@pytest.mark.parametrize("name", ["unet", "funet", "funet_flow", "fastseg"])
def test_segmentation_networks_match_pytorch(name):
    net = load_seg_checkpoint(name)
    onnx_net = on_backend(net, "onnx")
    assert onnx_net.model is not net.model and net.parameters() == onnx_net.parameters()
    for H, W in ((96, 160), (90, 150)):  # one size a multiple of the strides, one not
        x = torch.rand(1, CHANNELS[net.input], H, W, generator=torch.Generator().manual_seed(H))
        with torch.no_grad():
            assert close(net.model(x), onnx_net.model(x)), (name, H, W)
    assert len(onnx_net.model.sessions) == 2  # one export per input shape


def test_decision_network_and_pwc_match_pytorch():
    decider = load_decision_checkpoint("decision")
    fast = on_backend(decider, "onnx")
    grid = torch.rand(4, decider.model.config.in_channels, *decider.grid)
    extra = torch.rand(4, decider.model.config.extra)
    with torch.no_grad():
        assert close(decider.model(grid, extra), fast.model(grid, extra))
    assert fast.grid == decider.grid  # the rest of the module is the PyTorch one's

    pwc = load_pwc(ROOT / "models" / "pwc_small" / "checkpoint.pt")
    a = torch.rand(1, 3, 64, 128, generator=torch.Generator().manual_seed(0))
    b = torch.roll(a, shifts=3, dims=3)
    with torch.no_grad():
        assert close(pwc.flow(a, b), OnnxModule(PWCFlowModule(pwc), ("frame_a", "frame_b"))(a, b))


def test_pwc_flow_follows_the_backend_in_the_pipeline():
    """``--backend onnx`` runs the pipeline's PWC-Net in ONNX Runtime too (the warp path's flow and a network's
    own flow): the estimator's flows, with and without features, are PyTorch's; DIS stays as it is."""
    from workbench.flow import create_flow
    from workbench.pipeline import PipelineConfig, VideoSegmenter

    torch_pwc = create_flow("pwc", device="cpu")
    onnx_pwc = torch_pwc.on_backend("onnx")
    assert onnx_pwc is not torch_pwc and onnx_pwc.on_backend("onnx") is onnx_pwc and torch_pwc.on_backend("torch") \
        is torch_pwc and create_flow("dis").on_backend("onnx").name == "dis"
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (64, 128, 3), np.uint8)
    b = np.roll(a, 3, axis=1)
    assert close(torch.from_numpy(torch_pwc.estimate(a, b)), torch.from_numpy(onnx_pwc.estimate(a, b)))
    (flow_t, feats_t), (flow_o, feats_o) = torch_pwc.estimate_with_features(a, b), onnx_pwc.estimate_with_features(a, b)
    assert close(torch.from_numpy(flow_t), torch.from_numpy(flow_o)) and close(feats_t, feats_o)
    net = on_backend(load_seg_checkpoint("unet"), "onnx")
    assert net.backend == "onnx" and load_seg_checkpoint("unet").backend == "torch"
    segmenter = VideoSegmenter(net, PipelineConfig(policy="flow-only", flow="pwc", regions=(1, 1)))
    assert type(segmenter.flow.model).__name__ == "_OnnxPWC"
    assert type(VideoSegmenter(load_seg_checkpoint("unet"), PipelineConfig(flow="pwc", policy="flow-only")).flow
                .model).__name__ == "PWCNet"


def test_plain_correlation_is_the_reference():
    f1, f2 = torch.randn(2, 2, 8, 13, 17).unbind(0)
    torch.testing.assert_close(_correlation_plain(f1, f2, 3), _correlation_torch(f1, f2, 3), rtol=1e-5, atol=1e-6)


def test_export_command_writes_a_checked_model(tmp_path):
    out = tmp_path / "fastseg.onnx"
    result = subprocess.run([sys.executable, "-m", "workbench", "export", "onnx", "fastseg", "-o", str(out), "--size",
                             "160x96"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    model = onnx.load(out)
    onnx.checker.check_model(model)
    props = {p.key: p.value for p in model.metadata_props}
    assert (props["workbench.kind"], props["workbench.input"], props["workbench.size"]) == ("seg", "rgb", "160x96")
    assert [i.name for i in model.graph.input] == ["input"]
    again = subprocess.run([sys.executable, "-m", "workbench", "export", "onnx", "fastseg", "-o", str(out)], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "--overwrite" in again.stderr and "Traceback" not in again.stderr
    with pytest.raises(InputError, match="ending in .onnx"):
        export_onnx("fastseg", tmp_path / "x.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError):
        checkpoint_kind(tmp_path / "junk.pt")
    assert checkpoint_kind("decision") == "decision" and checkpoint_kind("pwc_small") == "flow"


def test_an_external_onnx_model_is_a_segmentation_network(tmp_path):
    path = tmp_path / "person.onnx"
    export_onnx("unet", path, size=(160, 96))
    reference = load_seg_checkpoint("unet")
    external = load_seg_checkpoint(f"{path}:size=160x96,output=logit")
    assert external.arch == "onnx" and external.input == "rgb" and external.flow is None
    x = torch.rand(1, 3, 96, 160, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert close(reference.model(x), external.model(x))
        # another frame size: resized to the model's and back; probabilities through logits
        bigger = load_seg_checkpoint(f"{path}:output=prob").model(torch.rand(2, 3, 120, 200))
    assert bigger.shape == (2, 1, 120, 200) and torch.isfinite(bigger).all()
    assert on_backend(external, "onnx") is external  # already ONNX
    for bad, message in ((f"{path}:size=0x5", "size=0x5"), (f"{path}:colour=red", "colour=red"),
                         (f"{path}:std=0", "std=0"), (str(tmp_path / "missing.onnx"), "no such ONNX file")):
        with pytest.raises(InputError, match=message):
            load_seg_checkpoint(bad)


def test_the_onnx_backend_runs_the_pipeline():
    from workbench.data.synthetic import SynthConfig, memory_clips
    from workbench.pipeline import PipelineConfig
    from workbench.pipeline.build import SegmenterSpec, build
    from workbench.pipeline.run import run_video

    clip = memory_clips(SynthConfig(clips=1, frames=4, size=(160, 96), seed=10_000))[0]
    scores = []
    for backend in ("torch", "onnx"):
        built = build(SegmenterSpec(pipeline=PipelineConfig(policy="adaptive", target=80), seg="fastseg",
                                    backend=backend))
        summary = run_video(built.segmenter(clip), clip, progress=False).summary
        scores.append(summary["mean_iou"])
    assert np.isclose(scores[0], scores[1], atol=1e-3)
    with pytest.raises(InputError, match="--backend tensorrt"):
        build(SegmenterSpec(backend="tensorrt"))
