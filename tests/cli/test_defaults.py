"""Each default lives once, in its config dataclass: the parser takes it from there (``config_defaults``), and the
help prints it as it is typed."""

from __future__ import annotations

import dataclasses

import pytest

from workbench.cli import build_parser
from workbench.train.decision import DecisionTrainConfig
from workbench.train.flow import FlowTrainConfig
from workbench.train.seg import SegTrainConfig

RENAMED = {"learning_rate": "lr", "validation": "val_percent", "crop_weighting": "moving_crop_weighting"}


@pytest.mark.parametrize("argv, config, own", [
    (["train", "seg"], SegTrainConfig(), {"out"}),  # the CLI's OUT defaults to models/MODEL
    (["train", "flow"], FlowTrainConfig(), set()),
    (["train", "decision"], DecisionTrainConfig(), set()),
])
def test_train_defaults_are_the_dataclass_defaults(argv, config, own):
    args = vars(build_parser().parse_args(argv))
    fields = {f.name for f in dataclasses.fields(config)}
    compared = 0
    for dest, value in args.items():
        name = RENAMED.get(dest, dest)
        if name in fields and dest not in own:
            assert value == getattr(config, name), f"--{dest.replace('_', '-')}: {value!r} != {name} default"
            compared += 1
    assert compared >= 8


def test_help_shows_the_dataclass_defaults(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "seg", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default 10)" in text and "(default 320x192)" in text and "(default 0.0001)" in text


def test_train_options_declare_no_default_of_their_own():
    """Before the parser first parses, no option backed by a dataclass field carries a literal default: it would be
    a second copy of the fact (and silently overridden by the dataclass's). Exempt: the camera options, declared
    once by ``add_camera`` for ``data synth``/``data animate`` too (their values are held equal above)."""
    import argparse

    top = build_parser()
    train = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction)).choices["train"]
    commands = next(a for a in train._actions if isinstance(a, argparse._SubParsersAction)).choices
    for command, config in (("seg", SegTrainConfig()), ("flow", FlowTrainConfig()),
                            ("decision", DecisionTrainConfig())):
        fields = {f.name for f in dataclasses.fields(config)}
        parser = commands[command]
        assert parser.__dict__.get("deferred_defaults"), command  # not yet applied
        for action in parser._actions:
            if RENAMED.get(action.dest, action.dest) in fields and action.dest not in ("camera", "camera_prob"):
                assert action.default in (None, False), f"train {command} --{action.dest}: {action.default!r}"
