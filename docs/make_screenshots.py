"""Screenshots of every dashboard page at a projector's width (1280 px), for docs/screenshots/.

    python docs/make_screenshots.py [--runs data/demo/runs] [--out docs/screenshots]

Starts ``workbench dashboard`` on the runs folder (``make demo`` makes one: three 320×192 clips, five runs and a
sweep with the shipped checkpoints), opens it in headless Chromium (Debian's package, driven by Playwright), picks
the adaptive run of the first clip, steps the explorer's frame player to a frame with warped regions, and saves one
JPEG per page. Nothing is downloaded; the dashboard only reads the runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = {"Timelines": "timelines", "Compare": "compare", "Flow inspector": "flow", "Worst frames": "worst",
         "New run": "new_run"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the dashboard exited: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"{url} did not come up in {timeout:.0f} s")


def _adaptive_run(runs: Path) -> Path | None:
    """The first clip's adaptive run under DVSNet's threshold rule, if the folder has one."""
    for run in sorted(runs.iterdir()):
        meta = run / "run.json"
        if meta.is_file():
            record = json.loads(meta.read_text())
            config = record.get("config", {})
            if config.get("policy") == "adaptive" and config.get("rule", "threshold") == "threshold" \
                    and not config.get("correct") and record.get("source", {}).get("name") == "clip_0000":
                return run
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=str(ROOT / "data" / "demo" / "runs"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--frame", type=int, default=12, help="the explorer's frame (default 12)")
    args = parser.parse_args()
    runs, out = Path(args.runs), Path(args.out)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not runs.is_dir() or not Path(chromium).is_file():
        sys.exit(f"need a runs folder ({runs}: run `make demo` first) and Debian's chromium ({chromium})")
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    port = _port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "workbench", "dashboard", "--runs", str(runs), "--port",
                                str(port), "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        _wait(url, process)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1600})  # tall: Streamlit scrolls inside
            page.goto(url)
            page.get_by_role("heading", name="Run explorer").wait_for(timeout=60_000)
            adaptive = _adaptive_run(runs)
            if adaptive is not None:  # pick it in the sidebar's run box
                page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
                page.get_by_role("option").filter(has_text="adaptive 90").first.click()
                page.wait_for_timeout(3000)
            player = page.locator(".wb-player")
            player.locator("img.wb-panel").first.wait_for(timeout=60_000)
            slider = player.locator("input.wb-slider")
            for _ in range(args.frame):
                slider.focus()
                page.keyboard.press("ArrowRight")
            page.locator(f'.wb-player[data-shown="{args.frame}"]').wait_for(timeout=60_000)
            page.wait_for_timeout(2000)
            page.screenshot(path=str(out / "explorer.jpg"), full_page=True, type="jpeg", quality=85)
            for title, name in PAGES.items():
                page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
                page.get_by_role("heading", name=title).wait_for(timeout=60_000)
                page.wait_for_timeout(4000)  # plots and pictures settle
                page.screenshot(path=str(out / f"{name}.jpg"), full_page=True, type="jpeg", quality=85)
            browser.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    print(f"wrote {len(PAGES) + 1} screenshots to {out}")


if __name__ == "__main__":
    main()
