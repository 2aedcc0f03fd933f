"""``workbench dashboard``: start the Streamlit dashboard on a runs folder and open a browser when it is up."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli import types as T
from workbench.errors import InputError

MAX_UPLOAD_MB = 200
"""The largest file the dashboard's New run accepts (Streamlit's ``server.maxUploadSize``)."""


def _check_address(address: str, port: int) -> None:
    """A bad ``--address`` or a busy ``--port`` is a one-line error here, not a traceback from Streamlit."""
    import socket

    try:
        infos = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InputError(f"--address {address!r}: not an address of this machine (e.g. 127.0.0.1 or 0.0.0.0)") from None
    family, kind, proto, _, sockaddr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        try:
            probe.bind(sockaddr)
        except OSError as exc:
            raise InputError(f"--address {address} --port {port}: cannot listen there ({exc.strerror}); pick another "
                             "--port") from None


def _open_browser_when_up(url: str, address: str, port: int, server: object) -> None:
    """Open ``url`` once the server answers — only where a graphical browser can exist (never a text browser
    taking over the terminal, never a prompt)."""
    import os
    import socket
    import threading
    import time
    import webbrowser

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print(f"dashboard: no display here; open {url} in a browser", flush=True)
        return

    def wait_and_open() -> None:
        host = "127.0.0.1" if address in ("0.0.0.0", "::", "") else address
        for _ in range(120):
            if server.poll() is not None:  # type: ignore[attr-defined]
                return
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.25)
        else:
            return
        try:
            webbrowser.open(url)
        except Exception:  # no browser: the URL is printed above
            pass

    threading.Thread(target=wait_and_open, daemon=True).start()


def cmd_dashboard(args: argparse.Namespace) -> int:
    import subprocess

    app = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
    if not app.is_file():
        raise InputError(f"{app}: the dashboard is not there (it runs from a source checkout of the workbench)")
    runs = Path(args.runs).resolve()
    root = Path(args.root).resolve() if args.root else runs
    if runs.exists() and not runs.is_dir():
        raise InputError(f"--runs {args.runs}: a file, expected a folder of run records")
    if root != runs and root not in runs.parents:
        raise InputError(f"--runs {args.runs}: outside --root {args.root}; the dashboard reads and writes only under "
                         "its root")
    _check_address(args.address, args.port)
    # Always headless: Streamlit's first-run e-mail prompt would otherwise wait for a keyboard; we open the browser.
    # No file watcher: it re-scans every imported module's source after each rerun, time a frame change pays.
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", args.address,
               "--server.port", str(args.port), "--server.headless", "true", "--server.fileWatcherType", "none",
               "--server.maxUploadSize", str(MAX_UPLOAD_MB), "--browser.gatherUsageStats", "false",
               "--", "--runs", str(runs), "--root", str(root)]
    url = f"http://{'127.0.0.1' if args.address in ('0.0.0.0', '::') else args.address}:{args.port}"
    print(f"dashboard: {url} over the runs in {args.runs} (Ctrl-C stops it)", flush=True)
    server = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    if not args.no_browser:
        _open_browser_when_up(url, args.address, args.port, server)
    try:
        return server.wait()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop the server too, never leave it running on its own
        return 0
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


def add_dashboard(sub: argparse._SubParsersAction) -> None:
    dash = sub.add_parser("dashboard", help="open the Streamlit dashboard over run records",
                          description="Start the dashboard (Streamlit) on this machine only (127.0.0.1 by default): "
                                      "run explorer, timelines, compare, flow inspector, worst frames, new runs.")
    dash.add_argument("--runs", default="data/runs", help="folder of run records (default data/runs)")
    dash.add_argument("--root", default=None,
                      help="the only folder the dashboard reads runs from and writes uploads under (default: --runs)")
    dash.add_argument("--port", type=T.PORT, default=8501, help="port (default 8501)")
    dash.add_argument("--address", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1; 0.0.0.0 exposes it to the network)")
    dash.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    dash.set_defaults(func=cmd_dashboard)
