"""The train → benchmark → card recipe runs from Python, without the command line (a notebook can make a card)."""

from __future__ import annotations

from workbench.experiments.recipes import EVAL_THREADS, seg_recipe
from workbench.seg.checkpoint import load_seg_checkpoint
from workbench.train.seg import SegTrainConfig


def test_seg_recipe_from_python_writes_checkpoint_bench_and_card(tmp_path):
    out = tmp_path / "m"
    config = SegTrainConfig(out=str(out), model="unet", size="tiny", train_clips=3, frames=4, frame_size=(64, 48),
                            crop=(32, 32), epochs=1, batch_size=4, val_percent=34)
    result = seg_recipe(config, eval_clips=1, eval_frames=3, command="recipe test", progress=False)
    assert result.card == out / "MODEL_CARD.md" and result.card.is_file()
    assert {p.name for p in result.files} == {"bench_seg.md", "bench_seg.json"}
    card = result.card.read_text()
    assert "recipe test" in card and "SHA-256" in card
    assert result.bench["machine"]["threads"] == EVAL_THREADS
    net = load_seg_checkpoint(result.summary["out"])
    assert net.arch == "unet"
    # without a card: the checkpoint only
    bare = seg_recipe(SegTrainConfig(**{**config.to_dict(), "out": str(tmp_path / "bare")}), card=False,
                      progress=False)
    assert bare.card is None and bare.bench is None and not (tmp_path / "bare" / "MODEL_CARD.md").exists()
