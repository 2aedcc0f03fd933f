"""The dashboard over a runs folder holding every kind of damage, and its confinement (issue 15): each page renders
without an exception, each unreadable run is listed with its one-line reason, the good runs stay usable; the
dashboard reads runs and writes (new runs, uploads) only under its root (``--root``)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from workbench.runs import RunError, load_run
from workbench.seg.checkpoint import MODELS_DIR

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(ROOT / "dashboard" / "app.py")
PAGES = ["explorer", "timelines", "compare", "flow", "worst", "new_run"]
BACKSTOP = "could not be shown"  # app.py's last guard: the pages should never need it


def _edit(run: Path, change) -> None:
    meta = json.loads((run / "run.json").read_text())
    change(meta)
    (run / "run.json").write_text(json.dumps(meta))


def _edit_table(run: Path, change) -> None:
    table = pd.read_parquet(run / "frames.parquet")
    change(table)
    table.to_parquet(run / "frames.parquet")


def _resave(run: Path, index: int, **arrays) -> None:
    path = run / "frames" / f"{index:06d}.npz"
    with np.load(path) as data:
        stored = dict(data)
    np.savez_compressed(path, **{**stored, **arrays})


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


#: run folder name → what is done to a copy of a good (adaptive, 2×2 regions) run. load_run refuses all but the
#: "lazy-" ones, whose run.json and table are fine and whose frame files are damaged.
DAMAGE = {
    "string-numbers": lambda p: _edit(p, lambda m: m["summary"].update(mean_iou="high", fps="12")),
    "nan-frames": lambda p: _edit(p, lambda m: m["summary"].update(frames=float("nan"))),
    "missing-summary-key": lambda p: _edit(p, lambda m: m["summary"].pop("key_fraction")),
    "config-a-list": lambda p: _edit(p, lambda m: m.update(config=[1, 2])),
    "stage-times-text": lambda p: _edit(p, lambda m: m["summary"].update(stage_ms={"seg": "slow"})),
    "extra-region-box": lambda p: _edit(p, lambda m: m["config"]["regions_px"].append([0, 0, 8, 8])),
    "invalid-json": lambda p: (p / "run.json").write_text("{ not json"),
    "deep-json": lambda p: (p / "run.json").write_text("[" * 100_000 + "]" * 100_000),
    "missing-run-json": lambda p: (p / "run.json").unlink(),
    "truncated-parquet": lambda p: _truncate(p / "frames.parquet"),
    "text-iou": lambda p: _edit_table(p, lambda t: t.__setitem__("iou", "high")),
    "unknown-decision": lambda p: _edit_table(p, lambda t: t.__setitem__("decision", "maybe")),
    "lazy-truncated-npz": lambda p: _truncate(p / "frames" / "000000.npz"),
    "lazy-wrong-seg-shape": lambda p: _resave(p, 0, seg=np.zeros((3, 3), np.uint8)),
    "lazy-wrong-flow-shape": lambda p: _resave(p, 0, flow=np.zeros((2, 5, 5), np.float16)),
    "lazy-text-image": lambda p: _resave(p, 0, image=np.array(["not", "an", "image"])),
}
REFUSED = [name for name in DAMAGE if not name.startswith("lazy-")]


@pytest.fixture(scope="module")
def zoo(dashboard_runs, tmp_path_factory) -> dict[str, Path]:
    """ROOT/runs: two good runs and one damaged copy of the adaptive run per kind of damage."""
    root = tmp_path_factory.mktemp("zoo")
    runs = root / "runs"
    runs.mkdir()
    shutil.copytree(dashboard_runs["adaptive"], runs / "a-good-adaptive")
    shutil.copytree(dashboard_runs["per_frame"], runs / "b-good-per-frame")
    for name, damage in DAMAGE.items():
        shutil.copytree(dashboard_runs["adaptive"], runs / name)
        _edit(runs / name, lambda m, name=name: m["source"].update(name=name))  # labels tell the copies apart
        damage(runs / name)
    return {"root": root, "runs": runs, "good": runs / "a-good-adaptive", "good_b": runs / "b-good-per-frame"}


def start(monkeypatch, runs: Path, root: Path | None = None) -> AppTest:
    """The app as ``streamlit run app.py -- --runs RUNS [--root ROOT]`` starts it."""
    monkeypatch.setattr(sys, "argv", ["app.py", "--runs", str(runs), *(["--root", str(root)] if root else [])])
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    check(at)
    return at


def check(at: AppTest) -> None:
    """No exception, and no page that needed app.py's last guard."""
    assert not at.exception, at.exception
    assert not [e.value for e in at.error if BACKSTOP in e.value]


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


@pytest.mark.parametrize("name", list(DAMAGE))
def test_damage_is_one_line_run_error(zoo, name):
    """load_run (or, for damaged frame files, frame_data) raises RunError with one line naming the file."""
    folder = zoo["runs"] / name
    with pytest.raises(RunError) as info:
        load_run(folder).frame_data(0)
    message = str(info.value)
    assert "\n" not in message and str(folder) in message
    assert (name in REFUSED) == (not message.startswith(f"{folder / 'frames'}/"))


def test_broken_runs_listed_with_reasons(zoo, monkeypatch):
    at = start(monkeypatch, zoo["runs"], zoo["root"])
    listed = [t.value for t in at.sidebar.text]
    assert len(listed) == len(REFUSED)
    for name in REFUSED:
        assert any(name in line for line in listed), name
    assert any("summary.mean_iou is 'high', expected a number or null" in line for line in listed)
    options = at.sidebar.selectbox(key="run").options  # as shown: the broken ones flagged
    assert sum(o.startswith("⚠") for o in options) == len(REFUSED)
    assert at.sidebar.selectbox(key="run").value == str(zoo["good"])  # a readable run is picked first
    (player,) = at.get("bidi_component")  # the explorer's frame player, with the good run's pictures
    assert sum(p["src"] is not None for p in json.loads(player.proto.json)["views"]["0"]["panels"]) >= 4


@pytest.mark.parametrize("page", PAGES)
def test_every_page_survives_the_zoo(zoo, monkeypatch, page):
    """Each page with a good run, a refused run and each run whose frame files are damaged selected."""
    at = start(monkeypatch, zoo["runs"], zoo["root"])
    picks = ["a-good-adaptive", "string-numbers", "invalid-json", "missing-run-json",
             *(n for n in DAMAGE if n.startswith("lazy-"))]
    for name in picks:
        path = str(zoo["runs"] / name)
        at.sidebar.selectbox(key="run").set_value(path).run()
        check(at)
        if page == "compare" and name == "a-good-adaptive":  # the copies count as other clips: no second run
            at.sidebar.selectbox(key="run_b").set_value(str(zoo["good_b"]))
        at.switch_page(f"views/{page}.py")
        at.run()
        check(at)
        if page in ("flow", "compare", "timelines") and name not in REFUSED:
            at.sidebar.slider(key="frame").set_value(1).run()  # the flow page needs frame 0 too: damaged in lazy-*
            check(at)
        shown = errors(at)
        if name == "a-good-adaptive":
            assert not shown, shown
        elif page in ("explorer", "timelines", "flow") and (name in REFUSED or page != "timelines"):
            assert name in shown, (page, name, shown)  # the reason, naming the run's folder or file
        at.switch_page("views/explorer.py")


def test_runs_folder_outside_the_root_is_refused(zoo, monkeypatch, tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "runs").mkdir(parents=True)
    (root / "empty").mkdir()
    shutil.copytree(zoo["good"], root / "runs" / "a-good")
    shutil.copytree(zoo["good"], outside / "a-secret")
    (root / "escape").symlink_to(outside)
    at = start(monkeypatch, root / "runs", root)
    field = at.sidebar.text_input(key="runs_root_input")
    for typed in (str(outside), str(root / ".." / "outside"), str(root / "escape"), "/"):
        field.input(typed).run()
        check(at)
        assert "outside the dashboard's root" in errors(at), typed
        assert at.sidebar.text_input(key="runs_root_input").value == str(root / "runs")  # the field shows it again
        assert f"1 runs in `{root / 'runs'}`" in [c.value for c in at.sidebar.caption]  # still the runs there
        field = at.sidebar.text_input(key="runs_root_input")
    field.input(str(root / "empty")).run()  # inside: taken
    check(at)
    assert not at.error and any("No runs in" in i.value for i in at.sidebar.info)


def test_runs_argument_outside_the_root(zoo, monkeypatch, tmp_path):
    (tmp_path / "root").mkdir()
    at = start(monkeypatch, zoo["runs"], tmp_path / "root")
    assert "is outside the dashboard's root" in errors(at)
    assert any("No runs in" in i.value for i in at.sidebar.info)  # the (empty) root is shown instead


def test_run_folder_linking_out_of_the_root_is_not_read(zoo, monkeypatch, tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "runs").mkdir(parents=True)
    shutil.copytree(zoo["good"], outside / "a-secret")
    (root / "runs" / "a-link").symlink_to(outside / "a-secret")
    at = start(monkeypatch, root / "runs", root)
    assert any("leads outside the dashboard's root" in t.value for t in at.sidebar.text)
    assert "leads outside" in errors(at)  # the only run, so it is selected: its reason in the page


def new_run(monkeypatch, zoo, tmp_path, upload: tuple[str, bytes]) -> tuple[AppTest, Path]:
    """Submit the New run form with ``upload`` (name, content) over ROOT/runs; returns the app and ROOT."""
    root = tmp_path / "root"
    shutil.copytree(zoo["good"], root / "runs" / "a-good")
    at = start(monkeypatch, root / "runs", root)
    at.switch_page("views/new_run.py")
    at.run()
    check(at)
    at.selectbox(key="new_policy").set_value("per-frame")
    at.file_uploader(key="new_upload").set_value((*upload, "video/mp4"))
    at.button[0].click().run()  # the form's submit button
    check(at)
    return at, root


def uploads(root: Path) -> list[Path]:
    return sorted(p for p in (root / ".uploads").rglob("*") if p.is_file())


def test_upload_over_the_cap_is_refused(zoo, monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(ROOT / "dashboard"))  # the module the app imports (app.py puts it first too)
    import common

    monkeypatch.setattr(common, "MAX_UPLOAD_MB", 0.001)
    at, root = new_run(monkeypatch, zoo, tmp_path, ("clip.mp4", bytes(4096)))
    assert "MB is more than the dashboard takes (0.001 MB)" in errors(at)
    assert uploads(root) == [] and not at.success


def video(tmp_path: Path) -> bytes:
    """A 4-frame 96×64 mp4."""
    from workbench.io import VideoWriter

    path = tmp_path / "made.mp4"
    rng = np.random.default_rng(0)
    with VideoWriter(path, 10, (96, 64)) as writer:
        for _ in range(4):
            writer.write(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8))
    return path.read_bytes()


def test_failed_run_leaves_no_upload(zoo, monkeypatch, tmp_path):
    at, root = new_run(monkeypatch, zoo, tmp_path, ("broken clip.mp4", b"not a video" * 100))
    assert "broken_clip.mp4: cannot decode video" in errors(at) and not at.success
    assert uploads(root) == []
    assert [p.name for p in (root / "runs").iterdir()] == ["a-good"]  # no partial run record either


def test_crashed_run_leaves_no_upload(zoo, monkeypatch, tmp_path):
    """An unexpected exception during the run: one line in the page, the upload removed."""
    import workbench.runs

    def crash(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(workbench.runs, "record_run", crash)  # the page imports it from there on every run
    at, root = new_run(monkeypatch, zoo, tmp_path, ("clip.mp4", video(tmp_path)))
    assert errors(at) and "second line" not in errors(at) and not at.success
    assert uploads(root) == []


@pytest.mark.skipif(not (MODELS_DIR / "unet" / "checkpoint.pt").is_file(), reason="no shipped unet checkpoint")
def test_uploaded_video_run_is_named_after_the_file(zoo, monkeypatch, tmp_path):
    at, root = new_run(monkeypatch, zoo, tmp_path, ("../My clip (1).mp4", video(tmp_path)))
    assert at.success, errors(at)
    (kept,) = uploads(root)
    assert kept.name == "My_clip__1_.mp4"  # under ROOT/.uploads, named after the upload, not a temporary file
    (made,) = [p.name for p in (root / "runs").iterdir() if p.name != "a-good"]
    assert "-My_clip__1_-per-frame-" in made


def test_compare_reads_the_rule_of_a_nested_sweep_json(tmp_path, monkeypatch):
    """The trade-off curves are labelled by the sweep's rule, read from ``config.pipeline.rule`` (and from the
    flat ``config.rule`` of older sweeps)."""
    import json

    monkeypatch.syspath_prepend(str(ROOT / "dashboard"))
    import common

    for name, config in (("nested", {"pipeline": {"rule": "cumulative"}}), ("flat", {"rule": "cumulative"})):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "sweep.csv").write_text("clip,method,seg,param,mean_iou,fps,key_fraction\n"
                                          "all,fixed,unet,2,0.9,10,0.5\n")
        (folder / "sweep.json").write_text(json.dumps({"config": config}))
        assert common.read_sweep(folder)[1] == "cumulative", name
