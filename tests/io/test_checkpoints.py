"""The one loader of PyTorch files: weights only, schema-checked, the file named in every error."""

from __future__ import annotations

import pytest
import torch

import workbench.io.checkpoints as checkpoints
from workbench.errors import InputError
from workbench.io.checkpoints import check_schema, load_torch_file


class Planted:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_planted_pickle_is_refused_unread(tmp_path):
    marker = tmp_path / "ran"
    torch.save({"state_dict": {}, "x": Planted(marker)}, tmp_path / "evil.pt")
    with pytest.raises(InputError, match=r"evil.pt: not a readable PyTorch checkpoint \(it would import code"):
        load_torch_file(tmp_path / "evil.pt", "segmentation checkpoint")
    assert not marker.exists()


def test_good_file_round_trips_with_rng_states(tmp_path):
    import numpy as np

    rng = np.random.default_rng(1)
    payload = {"model": {"w": torch.ones(2)}, "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
               "epoch": 3, "best": 0.5, "history": [{"loss": 1.0}], "config": {"size": (320, 192)}}
    torch.save(payload, tmp_path / "state.pt")
    loaded = load_torch_file(tmp_path / "state.pt", "training state",
                             {"model": dict, "rng": dict, "torch_rng": torch.Tensor, "epoch": int})
    assert loaded["rng"] == rng.bit_generator.state and torch.equal(loaded["model"]["w"], torch.ones(2))


@pytest.mark.parametrize("content, fragment", [
    (b"", "not a readable PyTorch checkpoint"),
    (b"not a checkpoint", "not a readable PyTorch checkpoint"),
])
def test_junk_files(tmp_path, content, fragment):
    (tmp_path / "junk.pt").write_bytes(content)
    with pytest.raises(InputError, match=f"junk.pt: {fragment}"):
        load_torch_file(tmp_path / "junk.pt", "checkpoint")


def test_not_a_dict_missing_folder_and_too_large(tmp_path, monkeypatch):
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(InputError, match="list.pt: not a checkpoint \\(a list"):
        load_torch_file(tmp_path / "list.pt", "checkpoint")
    with pytest.raises(InputError, match="missing.pt: checkpoint not found"):
        load_torch_file(tmp_path / "missing.pt", "checkpoint")
    with pytest.raises(InputError, match="it is a folder"):
        load_torch_file(tmp_path, "checkpoint")
    torch.save({"a": torch.zeros(100)}, tmp_path / "big.pt")
    monkeypatch.setattr(checkpoints, "MAX_CHECKPOINT_BYTES", 100)
    with pytest.raises(InputError, match="big.pt: .* larger than any checkpoint"):
        load_torch_file(tmp_path / "big.pt", "checkpoint")


def test_schema_names_the_key_and_types():
    schema = {"options": dict, "scale": (int, float), "flow": (str, type(None))}
    check_schema({"options": {}, "scale": 1}, schema, "c.pt", "checkpoint")  # flow may be missing (None allowed)
    with pytest.raises(InputError, match="c.pt: checkpoint with 'options' of type list, expected dict"):
        check_schema({"options": [], "scale": 1.0}, schema, "c.pt", "checkpoint")
    with pytest.raises(InputError, match="'scale' of type bool"):
        check_schema({"options": {}, "scale": True}, schema, "c.pt", "checkpoint")
    with pytest.raises(InputError, match="checkpoint without 'scale'"):
        check_schema({"options": {}}, schema, "c.pt", "checkpoint")


def test_crafted_seg_checkpoint_is_an_error_naming_the_key(tmp_path):
    from workbench.seg.checkpoint import load_seg_checkpoint

    torch.save({"arch": "unet", "options": "size=deep", "config": {}, "state_dict": {}, "input": "rgb", "flow": None,
                "scale": 1.0, "classes": ["b", "p"], "threshold": 0.5}, tmp_path / "c.pt")
    with pytest.raises(InputError, match="c.pt: segmentation checkpoint with 'options' of type str"):
        load_seg_checkpoint(tmp_path / "c.pt")


def test_planted_training_states_never_run(tmp_path):
    """``train seg --resume`` and ``train flow --resume`` read their states through the loader."""
    from workbench.train.flow import FlowTrainConfig, train_flow
    from workbench.train.seg import SegTrainConfig, train_seg

    marker = tmp_path / "ran"
    out = tmp_path / "seg"
    (out / "epochs").mkdir(parents=True)
    torch.save({"model": Planted(marker)}, out / "epochs" / "state.pt")
    config = SegTrainConfig(out=str(out), model="unet", size="tiny", train_clips=2, frames=3, frame_size=(64, 48),
                            crop=(32, 32), epochs=1, resume=True, val_percent=50)
    with pytest.raises(InputError, match="state.pt: not a readable PyTorch checkpoint"):
        train_seg(config, progress=False)
    torch.save({"model": Planted(marker)}, tmp_path / "f.pt.state.pt")
    flow_config = FlowTrainConfig(out=str(tmp_path / "f.pt"), train_clips=1, frames=3, size=(64, 48), val_clips=1,
                                  steps=1, crop=(32, 32), resume=True)
    with pytest.raises(InputError, match="f.pt.state.pt: not a readable PyTorch checkpoint"):
        train_flow(flow_config, progress=False)
    assert not marker.exists()
