"""The dashboard in a real browser: start ``workbench dashboard`` on a free localhost port over 320×192 runs (as
docs/make_screenshots.py does), open
it in headless Chromium (Debian's package, driven by Playwright through ``executable_path``), move the frame
slider, step and play, switch views, save screenshots and time how long a frame change takes to reach every panel
and the timeline's frame marker.

Screenshots and timings go to ``$WORKBENCH_SCREENSHOTS`` (default: the test's temporary folder). Times are
recorded, not asserted (docs/conventions.md); the closing notes report them.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, make_runs

sys.path.insert(0, str(ROOT / "docs"))
from make_screenshots import FLAGS, served  # noqa: E402  (one way to serve the dashboard and drive Chromium)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.slow

# Whether every frame-marker line of the explorer's timeline is drawn at `frame` (its x in pixels, from the axis)
MARKER_DRAWN = """frame => {
    const plot = document.querySelector('.js-plotly-plot');
    if (!plot || !plot._fullLayout || !plot.layout.shapes.length) return false;
    return plot.layout.shapes.every((shape, i) => {
        const axis = plot._fullLayout[shape.xref.replace('x', 'xaxis')];
        const line = plot.querySelector(`.shapelayer path[data-index="${i}"]`);
        return line && Math.abs(parseFloat(line.getAttribute('d').slice(1)) - axis._offset - axis.l2p(frame)) < 0.5;
    });
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).is_file():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    pytest.importorskip("playwright")
    runs = make_runs(tmp_path_factory.mktemp("browser"), frames=12, size=(320, 192))
    with served(runs["runs"]) as url:
        yield url, runs


def test_dashboard_in_chromium(server, tmp_path):
    from playwright.sync_api import sync_playwright

    url, runs = server
    shots = Path(os.environ.get("WORKBENCH_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(url)
            page.get_by_role("heading", name="Run explorer").wait_for(timeout=60_000)
            player = page.locator(".wb-player")  # the frame player (dashboard/player.js), in a shadow root
            player.locator("img.wb-panel").first.wait_for(timeout=60_000)
            page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            assert player.locator("img.wb-panel:visible").count() == 5  # 6 default panels; no flow on frame 0
            assert "flow: none this frame" in player.inner_text()
            page.screenshot(path=str(shots / "01_explorer.png"), full_page=True)

            # Move the frame with the keyboard on the player's slider; time until the caption and every picture of
            # the new frame are on screen (the player's data-shown), and until the timeline's frame marker is drawn
            # at the frame (the player moves it too). A short pause between presses, as a person stepping makes:
            # the player's report to the server and its answer happen in it.
            slider = player.locator("input.wb-slider")
            timings, marker_timings = [], []
            for frame in range(1, 8):
                slider.focus()
                start = time.perf_counter()
                page.keyboard.press("ArrowRight")
                page.locator(f'.wb-player[data-shown="{frame}"]').wait_for(timeout=20_000)
                timings.append(1000 * (time.perf_counter() - start))
                page.wait_for_function(MARKER_DRAWN, arg=frame, timeout=20_000)
                marker_timings.append(1000 * (time.perf_counter() - start))
                assert f"frame {frame} of" in player.locator(".wb-caption").inner_text()
                page.wait_for_timeout(200)
            page.screenshot(path=str(shots / "02_explorer_frame7.png"), full_page=True)

            # Step and play in the browser; a click on the timeline moves the player (the server's frame).
            player.locator("button.wb-back").click()
            page.locator('.wb-player[data-shown="6"]').wait_for(timeout=20_000)
            player.locator("button.wb-play").click()
            page.locator('.wb-player[data-shown="8"]').wait_for(timeout=20_000)  # 2 frames/s by default
            player.locator("button.wb-play").click()  # pause
            assert "play" in player.locator("button.wb-play").inner_text()
            page.wait_for_timeout(500)
            paused = int(player.get_attribute("data-shown"))
            page.screenshot(path=str(shots / "02b_explorer_played.png"), full_page=True)

            views = {"Timelines": "03_timelines.png", "Compare": "04_compare.png", "Flow inspector": "05_flow.png",
                     "Worst frames": "06_worst.png", "New run": "07_new_run.png"}
            for title, name in views.items():
                page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
                page.get_by_role("heading", name=title).wait_for(timeout=60_000)
                page.wait_for_timeout(1500)  # let plots and pictures settle before the screenshot
                if title in ("Timelines", "Compare", "Flow inspector"):
                    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
                if title in ("Compare", "Flow inspector"):
                    page.locator('[data-testid="stImage"] img').first.wait_for(timeout=60_000)
                if title == "Worst frames":
                    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
                    page.locator('[data-testid="stImage"] img').first.wait_for(timeout=60_000)  # the gallery
                assert "Traceback" not in page.inner_text("body")
                if title == "Timelines":  # the player reported its frame: the other pages' slider has it
                    sidebar_slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
                    assert sidebar_slider.input_value() == str(paused)
                page.screenshot(path=str(shots / name), full_page=True)

            # Back in the explorer with the adaptive run: frame 1 has a flow picture, frame 0 a note in its place —
            # stepping back swaps the picture for the note, and the picture leaves no empty box behind.
            page.locator('[data-testid="stSidebarNav"]').get_by_text("Run explorer", exact=True).click()
            page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
            page.get_by_role("option").filter(has_text="adaptive").first.click()
            player.locator(".wb-caption", has_text="adaptive 80").wait_for(timeout=60_000)  # the new run's frames
            player.locator("input.wb-slider").focus()
            page.keyboard.press("Home")
            page.locator('.wb-player[data-shown="0"]').wait_for(timeout=20_000)
            page.keyboard.press("ArrowRight")
            page.locator('.wb-player[data-shown="1"]').wait_for(timeout=20_000)
            assert player.locator("img.wb-panel:visible").count() == 6 and "flow to the key frame" in \
                player.inner_text()
            player.locator("button.wb-back").click()
            page.locator('.wb-player[data-shown="0"]').wait_for(timeout=20_000)
            assert player.locator("img.wb-panel:visible").count() == 5
            assert player.locator("img.wb-panel[hidden]").bounding_box() is None  # not displayed at all
            page.screenshot(path=str(shots / "08_explorer_adaptive.png"), full_page=True)
        finally:
            browser.close()
    result = {"frame_change_ms": timings, "median_ms": float(np.median(timings)),
              "timeline_marker_ms": marker_timings, "marker_median_ms": float(np.median(marker_timings)),
              "size": "320x192", "views": list(views)}
    (shots / "browser_timings.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
