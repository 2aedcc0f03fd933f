"""Config dataclasses round-trip through JSON and reject unknown keys."""

from __future__ import annotations

import json

import pytest

from workbench.data.synthetic import SynthConfig
from workbench.errors import InputError


def test_round_trip_through_json():
    config = SynthConfig(clips=2, size=(64, 48), seed=3, camouflage=0.5)
    data = json.loads(json.dumps(config.to_dict()))
    assert data["size"] == [64, 48]
    assert SynthConfig.from_dict(data) == config
    assert "clips" not in config.per_clip() and config.per_clip()["seed"] == 3


def test_unknown_key_is_named():
    with pytest.raises(InputError, match="unknown key.*sise"):
        SynthConfig.from_dict({"sise": [1, 2]})
