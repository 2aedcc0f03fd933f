"""Every dashboard view under ``streamlit.testing.v1.AppTest``: widgets change what is shown, broken run folders
give a message in the page, never an exception."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from workbench.seg.checkpoint import MODELS_DIR

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture()
def app(dashboard_runs, monkeypatch):
    monkeypatch.setenv("WORKBENCH_RUNS", str(dashboard_runs["runs"]))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    assert not [e.value for e in at.error if "could not be shown" in e.value]  # app.py's last guard never needed
    return at


def images(at) -> list:
    return list(at.get("image"))


def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def open_page(at, page: str):
    at.switch_page(f"views/{page}.py")
    at.run()
    assert not at.exception, at.exception
    assert not [e.value for e in at.error if "could not be shown" in e.value]
    return at


def player(at) -> dict:
    """What the explorer sent its frame player (dashboard/player.py): the frame, and the window of drawn frames."""
    (element,) = at.get("bidi_component")
    return json.loads(element.proto.json)


def shown(at) -> list[str]:
    """The captions of the player's pictures at its frame (panels it cannot show are notes: no picture)."""
    data = player(at)
    return [p["caption"] for p in data["views"][str(data["frame"])]["panels"] if p["src"]]


def test_explorer_frame_and_panels(app, dashboard_runs):
    assert app.title[0].value == "Run explorer"
    assert [s.label for s in app.sidebar.selectbox][:2] == ["run", "second run (compare)"]
    app.sidebar.selectbox(key="run").set_value(str(dashboard_runs["adaptive"])).run()
    # input, prediction, errors, regions, flow, key frame (the default panels); on frame 0 every region was
    # segmented, so the flow panel is a note instead of a picture
    data = player(app)
    assert data["frame"] == 0 and data["frames"] == 6 and sorted(data["views"], key=int) == [str(t) for t in range(6)]
    assert len(shown(app)) == 5 and "flow: none this frame" in data["views"]["0"]["panels"][4]["caption"]
    assert "frame <b>0</b> of 6" in data["views"]["0"]["caption"]
    assert all(p["src"].startswith("data:image/jpeg;base64,") for p in data["views"]["3"]["panels"])
    app.session_state["frame"] = 4  # what the player's report does (on_frame_change)
    app.run()
    assert player(app)["frame"] == 4 and "input, frame 4" in shown(app)
    (timeline,) = charts(app)
    assert {shape["x0"] for shape in timeline["layout"]["shapes"]} == {4}  # the marker follows
    # the player's report (on_frame_change) followed by the page's full run: a player mounted anew gets the frame
    app.session_state["frame"], app.session_state["player_seq"], app.session_state["player_reported"] = 5, 3, 5
    app.run()
    assert (player(app)["frame"], player(app)["seq"]) == (5, 3) and "player_reported" not in app.session_state
    app.session_state["frame"] = 4  # a click on the timeline: the player is told to move
    app.run()
    assert (player(app)["frame"], player(app)["seq"]) == (4, 3)
    app.multiselect(key="panels").set_value(["input", "ground truth"]).run()
    assert shown(app) == ["input, frame 4", "ground truth"]
    labels = [b.proto.label for b in app.get("download_button")]
    assert labels == ["panels (PNG)", "run table (CSV)", "video (WebM)"]
    app.checkbox(key="arrows").check().run()
    app.selectbox(key="speed").set_value(4.0).run()
    assert player(app)["speed"] == 4.0
    open_page(app, "timelines")
    open_page(app, "explorer")  # a visit to another page keeps every setting
    assert app.multiselect(key="panels").value == ["input", "ground truth"] and app.checkbox(key="arrows").value
    assert app.selectbox(key="speed").value == 4.0 and len(shown(app)) == 2 and player(app)["frame"] == 4
    (timeline,) = charts(app)
    names = {trace.get("name") for trace in timeline["data"]}
    assert {"target", "region 0", "flow", "seg"} <= names  # scores vs target, stage times


def test_broken_run_is_a_message(app, dashboard_runs):
    app.sidebar.selectbox(key="run").set_value(str(dashboard_runs["broken"])).run()
    assert not app.exception
    assert any("unreadable run.json" in e.value for e in app.error)


def test_missing_runs_folder(dashboard_runs, monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_RUNS", str(tmp_path / "nowhere"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("No runs" in i.value for i in at.sidebar.info)


def test_timelines_overlay(app, dashboard_runs):
    open_page(app, "timelines")
    assert app.title[0].value == "Timelines"
    before = len(charts(app)[0]["data"])
    app.multiselect(key="overlay").set_value([str(dashboard_runs["adaptive"])]).run()
    after = charts(app)[0]["data"]
    assert len(after) == before + 1 and any("IoU clip_0000 · adaptive" in (t.get("name") or "") for t in after)
    assert any(m.label == "fps (no I/O)" for m in app.metric)


def test_timelines_of_a_cumulative_run(app, dashboard_runs):
    """Under the cumulative rule the score row also draws the compound score each decision compared."""
    app.sidebar.selectbox(key="run").set_value(str(dashboard_runs["cumulative"])).run()
    open_page(app, "timelines")
    names = [t.get("name") or "" for t in charts(app)[0]["data"]]
    assert "region 0 compound" in names and "target" in names
    labels = app.sidebar.selectbox(key="run").options  # as shown
    assert any("adaptive-cumulative 80" in label for label in labels), labels
    app.sidebar.selectbox(key="run").set_value(str(dashboard_runs["adaptive"])).run()
    assert not any(n.endswith("cumulative") for n in (t.get("name") or "" for t in charts(app)[0]["data"]))


def test_compare_with_sweep(app, dashboard_runs):
    app.sidebar.selectbox(key="run_b").set_value(str(dashboard_runs["adaptive"])).run()
    offered = app.sidebar.selectbox(key="run_b").options
    assert offered and not any("clip_0001" in o for o in offered)  # only runs of the selected run's clip
    open_page(app, "compare")
    assert len(images(app)) == 3  # two predictions and who is right where they differ
    assert "against the ground truth: magenta only" in images(app)[2].proto.imgs[0].caption
    plots = charts(app)
    assert len(plots) == 3  # IoU curves + trade-off vs fps + trade-off vs key fraction (a sweep exists)
    assert any(t.get("marker", {}).get("symbol") == "circle-open" for t in plots[1]["data"])
    # the two runs keep their colours of the page (the IoU curves') on the trade-off curves, named in the legend
    curves = {t["name"]: t["line"]["color"] for t in plots[0]["data"]}
    for plot in plots[1:]:
        marked = {t["name"]: t["marker"]["color"] for t in plot["data"] if t["marker"].get("size") == 18}
        assert marked == curves and all(t["mode"] == "markers" for t in plot["data"] if t["name"] in marked)
    app.slider(key="frame").set_value(2).run()
    assert not app.exception


def test_flow_inspector(app):
    open_page(app, "flow")
    assert any("Frame 0 has no previous frame" in i.value for i in app.info)
    app.slider(key="frame").set_value(2).run()
    app.multiselect(key="flow_methods").set_value(["dis", "farneback"]).run()
    assert not app.exception
    captions = [i.proto.imgs[0].caption for i in images(app)]
    assert any(c.startswith("ground truth") for c in captions) and any(c.startswith("dis") for c in captions)
    assert any("end-point error (px), the same scale" in c for c in captions)
    assert len(app.dataframe) == 1  # EPE / Fl-all per method
    assert len(charts(app)) == 1  # magnitude histogram


def test_worst_frames_open(app, dashboard_runs):
    open_page(app, "worst")
    assert app.title[0].value == "Worst frames"
    assert len(app.dataframe) == 1
    app.radio(key="worst_scope").set_value("every run").run()
    assert not app.exception
    assert len(app.get("image")) >= 1  # the gallery of error thumbnails (runs with stored frames)
    app.button[0].click().run()
    assert app.title[0].value == "Run explorer"


def test_worst_frames_filters_and_gallery(app, dashboard_runs):
    open_page(app, "worst")
    app.radio(key="worst_scope").set_value("every run").run()
    everything = app.dataframe[0].value
    app.radio(key="worst_kind").set_value("warped only").run()
    warped = app.dataframe[0].value if app.dataframe else None
    assert warped is None or (warped["regions re-segmented"] == 0).all()
    app.radio(key="worst_kind").set_value("all").run()
    method = sorted(everything["method"].unique())[0]
    app.multiselect(key="worst_methods").set_value([method]).run()
    assert set(app.dataframe[0].value["method"]) == {method}
    app.multiselect(key="worst_methods").set_value(["per-frame"]).run()
    app.radio(key="worst_kind").set_value("warped only").run()  # every-frame runs never warp
    assert not app.exception and any("No frame passes" in i.value for i in app.info)
    app.radio(key="worst_kind").set_value("all").run()
    app.multiselect(key="worst_methods").set_value([]).run()
    app.button(key="worst_open_0").click().run()  # a thumbnail's own button opens its frame
    assert app.title[0].value == "Run explorer"


@pytest.mark.skipif(not (MODELS_DIR / "unet" / "checkpoint.pt").is_file(), reason="no shipped unet checkpoint")
def test_new_run_appears(app, dashboard_runs):
    open_page(app, "new_run")
    assert app.selectbox(key="new_seg").value == "unet"  # the same default as `workbench dvs run --seg`
    before = len(app.sidebar.selectbox(key="run").options)
    app.selectbox(key="new_source").set_value(str(dashboard_runs["clips"] / "clip_0000"))
    app.selectbox(key="new_policy").set_value("oracle")
    app.selectbox(key="new_rule").set_value("cumulative")
    app.button[0].click().run()  # the form's submit button
    assert not app.exception
    assert any("→" in s.value for s in app.success), [e.value for e in app.error]
    app.run()
    assert len(app.sidebar.selectbox(key="run").options) == before + 1
    (new,) = [p for p in dashboard_runs["runs"].iterdir() if "oracle-cumulative" in p.name]
    assert json.loads((new / "run.json").read_text())["config"]["rule"] == "cumulative"
