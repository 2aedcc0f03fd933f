"""Every notebook runs from top to bottom in quick mode (``WORKBENCH_QUICK=1``) within 90 s, has a widget wired to
library calls, equations, at least three static figures outside widgets and a hint and an answer for every
exercise, is committed without outputs, and reports the same numbers as the command line."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from workbench.seg.checkpoint import MODELS_DIR

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SHIPPED = all((MODELS_DIR / name / "checkpoint.pt").is_file() for name in ("unet", "fastseg", "decision"))

nbformat = pytest.importorskip("nbformat")


def test_there_are_six_and_they_are_stripped():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["00", "01", "02", "03", "04", "05"]
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        for cell in book.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name}: outputs not stripped"
        sources = "\n".join(c.source for c in book.cells)
        assert "import ipywidgets" in sources and "widgets.interact" in sources, f"{path.name}: no widget"
        assert "## Exercises" in sources, f"{path.name}: no exercises"


def execute(path: Path, tmp_path: Path, monkeypatch) -> nbformat.NotebookNode:
    """Run the notebook in quick mode in a fresh kernel; ``book.metadata["seconds"]`` is how long it took. The
    client polls the kernel in short slices (``nbrun``: a lost ZMQ wake-up used to stall a cell for the whole
    timeout on a loaded machine), so no retry is needed."""
    from nbrun import SlicedPollClient

    monkeypatch.setenv("WORKBENCH_QUICK", "1")
    monkeypatch.setenv("WORKBENCH_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("WORKBENCH_NB_RESULTS", str(tmp_path / "results.json"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    book = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    SlicedPollClient(book, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    book.metadata["seconds"] = time.perf_counter() - start
    return book


@pytest.mark.slow
@pytest.mark.skipif(not SHIPPED, reason="the shipped checkpoints (unet, fastseg, decision) are needed")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_quick_mode(path, tmp_path, monkeypatch):
    book = execute(path, tmp_path, monkeypatch)
    outputs = [o for c in book.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name}: no figure"
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs), \
        f"{path.name}: no widget shown"
    check_teaching(book, path.name)
    if path.stem == "04_adaptive_keyframes":
        check_against_cli(json.loads((tmp_path / "results.json").read_text()), tmp_path)


QUICK_BUDGET_S = 90  # each teaching notebook, quick mode, 2 cores


def check_teaching(book: nbformat.NotebookNode, name: str) -> None:
    """Equations in the markdown, at least three static figures outside widgets (they stay in an exported
    notebook), a hint and an answer for every exercise, and the quick-mode time budget."""
    markdown = "\n".join(c.source for c in book.cells if c.cell_type == "markdown")
    assert markdown.count("$$") >= 2, f"{name}: no displayed equation"
    static = [o for c in book.cells if c.cell_type == "code" and "widgets.interact" not in c.source
              for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(static) >= 3, f"{name}: {len(static)} static figures"
    exercises = markdown.split("## Exercises", 1)[1]
    items = re.split(r"\n\d+\. ", "\n" + exercises)[1:]
    assert items and all("<summary>Hint</summary>" in i and "<summary>Answer</summary>" in i for i in items), \
        f"{name}: an exercise without a hint and an answer"
    assert book.metadata["seconds"] <= QUICK_BUDGET_S, f"{name}: {book.metadata['seconds']:.0f} s in quick mode"


def check_against_cli(results: dict, tmp_path: Path) -> None:
    """The notebook's fixed-interval run and `workbench dvs run` on the same clip give the same numbers."""
    from workbench.cli import main
    from workbench.data.synthetic import HELD_OUT_SEED, SynthConfig, synthesize
    from workbench.runs import list_runs, load_run

    synthesize(tmp_path / "clips", SynthConfig(clips=1, frames=results["frames"], size=(320, 192), seed=HELD_OUT_SEED),
               progress=False)
    assert main(["dvs", "run", "--data", str(tmp_path / "clips" / "clip_0000"), "--policy", "fixed", "--interval", "5",
                 "--out", str(tmp_path / "cli"), "--no-store", "--quiet"]) == 0
    summary = load_run(list_runs(tmp_path / "cli")[0]).summary
    assert summary["key_fraction"] == pytest.approx(results["fixed5_key_fraction"])
    assert summary["mean_iou"] == pytest.approx(results["fixed5_mean_iou"], abs=1e-9)
