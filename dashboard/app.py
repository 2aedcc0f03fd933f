"""The workbench dashboard: ``workbench dashboard [--runs DIR] [--port N]`` (or ``streamlit run dashboard/app.py
-- --runs DIR [--root DIR]``). It only displays what the library computed: run records (docs/conventions.md) and sweeps;
it reads runs and writes only under ``--root`` (default: the ``--runs`` folder)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402  (the dashboard's shared sidebar and cached loaders)

st.set_page_config(page_title="Flow-guided video segmentation workbench", page_icon=":material/movie:",
                   layout="wide")

PAGES = [
    st.Page("views/explorer.py", title="Run explorer", icon=":material/movie:", default=True),
    st.Page("views/timelines.py", title="Timelines", icon=":material/timeline:"),
    st.Page("views/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("views/flow.py", title="Flow inspector", icon=":material/air:"),
    st.Page("views/worst.py", title="Worst frames", icon=":material/warning:"),
    st.Page("views/new_run.py", title="New run", icon=":material/play_circle:"),
]

page = st.navigation(PAGES)
# the explorer draws its frame slider in the page, so that a frame change redraws only the frame
common.guarded(lambda: common.sidebar(with_frame=page.title != "Run explorer"), "The sidebar")
common.guarded(page.run, f"The {page.title} page")
