"""`train_flow`: a tiny run writes checkpoint, log and state; resuming gives the uninterrupted result."""

from __future__ import annotations

import csv

import numpy as np
import torch

from workbench.flow.pwc import load_pwc
from workbench.train.flow import FlowTrainConfig, PairBank, sample_batch, train_flow


def _config(out, steps, resume=False):
    return FlowTrainConfig(out=str(out), train_clips=2, frames=4, size=(64, 64), val_clips=1, steps=steps,
                           batch_size=2, crop=(64, 64), validate_every=2, checkpoint_every=2, threads=1,
                           resume=resume)


def test_tiny_run_and_resume_equals_uninterrupted(tmp_path):
    straight = train_flow(_config(tmp_path / "a" / "checkpoint.pt", steps=4), progress=False)
    assert straight["steps"] == 4 and (tmp_path / "a" / "checkpoint.pt").is_file()
    rows = list(csv.DictReader(open(tmp_path / "a" / "train_log.csv")))
    assert [int(r["step"]) for r in rows] == [2, 4] and all(float(r["epe"]) >= 0 for r in rows)
    interrupted = train_flow(_config(tmp_path / "b" / "checkpoint.pt", steps=4), progress=False, stop_after=2)
    assert interrupted["steps"] == 2
    resumed = train_flow(_config(tmp_path / "b" / "checkpoint.pt", steps=4, resume=True), progress=False)
    assert resumed["steps"] == 4
    state_a = torch.load(tmp_path / "a" / "checkpoint.pt.state.pt", weights_only=False)["model"]
    state_b = torch.load(tmp_path / "b" / "checkpoint.pt.state.pt", weights_only=False)["model"]
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    assert load_pwc(tmp_path / "a" / "checkpoint.pt").config.width == 0.5


def test_batches_are_augmented_pairs_with_consistent_flow():
    bank = PairBank.synthetic(clips=1, frames=3, size=(96, 64), seed=0, progress=False)
    rng = np.random.default_rng(0)
    a, b, flow, init = sample_batch(bank, rng, batch=4, crop=(64, 64), moving_prob=1.0)
    assert a.shape == b.shape == (4, 3, 64, 64) and flow.shape == (4, 2, 64, 64) and init is None
    assert 0.0 <= a.min() and a.max() <= 1.0 and torch.isfinite(flow).all()


def test_bank_from_clip_folders_matches_in_memory_generation(tmp_path):
    from workbench.data.synthetic import SynthConfig, synthesize

    synthesize(tmp_path / "clips", SynthConfig(clips=1, frames=3, size=(64, 48), seed=4), progress=False)
    disk = PairBank.folders(tmp_path / "clips", progress=False)
    memory = PairBank.synthetic(clips=1, frames=3, size=(64, 48), seed=4, progress=False)
    assert np.array_equal(disk.frames[0], memory.frames[0])
    for t in range(2):
        for reverse in (False, True):
            assert np.array_equal(disk.pair(0, t, reverse)[2], memory.pair(0, t, reverse)[2])
    assert disk.num_pairs() == 2


def test_layered_scenes_mix_validate_and_a_curriculum_stage_loads(tmp_path):
    """--layer-clips adds generic layered scenes at --layer-share of the pairs and a layered validation
    column; --load starts the next stage from a checkpoint; a checkpoint of another variant is refused."""
    import pytest

    from workbench.errors import InputError

    calls = PairBank.synthetic(clips=2, frames=3, size=(64, 64), seed=0, progress=False)
    layers = PairBank.layered(clips=6, frames=2, size=(64, 64), seed=0, max_motion=0.15, progress=False)
    mixed = calls.mixed_with(layers, 0.25)
    rng = np.random.default_rng(0)
    drawn = rng.choice(len(mixed.frames), size=4000, p=mixed.weights)
    assert abs(np.mean(drawn >= 2) - 0.25) < 0.03 and mixed.num_pairs() == 4 + 6
    a, b, flow, _ = sample_batch(mixed, rng, batch=3, crop=(64, 64), moving_prob=1.0)
    assert a.shape == (3, 3, 64, 64) and torch.isfinite(flow).all()

    first = tmp_path / "stage1" / "checkpoint.pt"
    config = _config(first, steps=2)
    config.layer_clips, config.layer_frames = 2, 2
    summary = train_flow(config, progress=False)
    rows = list(csv.DictReader(open(first.with_name("train_log.csv"))))
    assert {"epe_layers", "epe_moving_layers"} <= set(rows[0]) and float(rows[0]["epe_layers"]) > 0
    assert summary["dis_medium_val"]["epe_layers"] > 0 and summary["best"]["epe_layers"] > 0
    second = _config(tmp_path / "stage2" / "checkpoint.pt", steps=1)
    second.load, second.lr = str(first), 1e-12  # a vanishing step: the weights stay those loaded
    train_flow(second, progress=False)
    loaded, start = load_pwc(tmp_path / "stage2" / "checkpoint.pt").state_dict(), load_pwc(first).state_dict()
    assert all(torch.allclose(loaded[k], start[k], atol=1e-3) for k in start)
    wrong = _config(tmp_path / "stage3" / "checkpoint.pt", steps=1)
    wrong.load, wrong.variant = str(first), "pwc"
    with pytest.raises(InputError, match="weights do not fit a 'pwc' network"):
        train_flow(wrong, progress=False)


def test_refining_variant_samples_initial_flow_of_whole_frames_and_starts_at_it(tmp_path):
    """pwc_dis: each crop comes with the initial flow of its whole frames, cropped and mirrored like the ground
    truth (an estimator that returns the ground truth proves the alignment); a pwc_small's weights load into it
    with the flow heads reset, so it starts at the initial flow."""
    from workbench.flow.base import FlowEstimator

    bank = PairBank.synthetic(clips=1, frames=3, size=(96, 64), seed=0, progress=False)

    class Oracle(FlowEstimator):
        def estimate(self, a, b):
            for t in range(len(bank.fwd[0])):
                for reverse in (False, True):
                    fa, fb, flow = bank.pair(0, t, reverse)
                    if np.array_equal(fa, a) and np.array_equal(fb, b):
                        return flow
            raise AssertionError("not a pair of the bank")

    a, b, flow, init = sample_batch(bank, np.random.default_rng(3), batch=6, crop=(64, 32), moving_prob=0.5,
                                    init=Oracle())
    assert init.shape == flow.shape == (6, 2, 32, 64) and torch.equal(init, flow)

    first = tmp_path / "small" / "checkpoint.pt"
    train_flow(_config(first, steps=2), progress=False)
    refine = _config(tmp_path / "dis" / "checkpoint.pt", steps=1)
    refine.load, refine.variant, refine.lr = str(first), "pwc_dis", 1e-12
    summary = train_flow(refine, progress=False)
    model = load_pwc(tmp_path / "dis" / "checkpoint.pt")
    assert model.config.init_flow == "dis_medium"
    heads = [d.predict for d in model.decoders.values()] + [model.context.net[-1]]
    assert all(h.weight.abs().max() < 1e-4 and h.bias.abs().max() < 1e-4 for h in heads)
    # starting at DIS (one vanishing step), the validation EPE is DIS medium's own
    assert abs(summary["best"]["epe"] - summary["dis_medium_val"]["epe"]) < 1e-3
