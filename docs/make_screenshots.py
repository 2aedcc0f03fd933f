"""Screenshots of every dashboard page at a projector's width (1280 px), for docs/screenshots/.

    python docs/make_screenshots.py [--runs data/demo/runs] [--out docs/screenshots]

Starts ``workbench dashboard`` on the runs folder (``make demo`` makes one: three 320×192 clips, five runs and a
sweep with the shipped checkpoints), opens it in headless Chromium (Debian's package, driven by Playwright), picks
the first clip's adaptive run (DVSNet's rule, target 90) when there is one, steps the explorer's frame player to a
frame with warped regions, and saves one JPEG per page. Nothing is downloaded; the dashboard only reads the runs.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = {"Timelines": "timelines", "Compare": "compare", "Flow inspector": "flow", "Worst frames": "worst",
         "New run": "new_run"}


@contextmanager
def served(runs: Path, timeout: float = 90) -> Iterator[str]:
    """``workbench dashboard`` on ``runs`` at a free localhost port, up (its health check answers) while the block
    runs; yields its URL. The browser test serves its runs the same way."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "workbench", "dashboard", "--runs", str(runs), "--port",
                                str(port), "--no-browser"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the dashboard exited: {process.stdout.read()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.read().strip() == b"ok":
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} did not come up in {timeout:.0f} s") from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


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
    with served(runs) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})  # tall: Streamlit scrolls inside
        page.goto(url)
        page.get_by_role("heading", name="Run explorer").wait_for(timeout=60_000)
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        adaptive = page.get_by_role("option").filter(has_text="adaptive 90")  # make demo's DVSNet-rule run
        if adaptive.count():
            adaptive.first.click()
            page.wait_for_timeout(3000)
        else:
            page.keyboard.press("Escape")
        player = page.locator(".wb-player")
        player.locator("img.wb-panel").first.wait_for(timeout=60_000)
        player.locator("input.wb-slider").focus()
        for _ in range(args.frame):
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
    print(f"wrote {len(PAGES) + 1} screenshots to {out}")


if __name__ == "__main__":
    main()
