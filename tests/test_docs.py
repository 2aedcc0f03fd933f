"""The documentation that states facts about the code is generated from it and cannot go stale."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_generated_documentation_is_current():
    """The layout blocks (README, docs/architecture.md) and the command reference (docs/cli.md) are what
    ``make docs`` writes from the docstrings and the parser today (a fresh interpreter: nothing registered by
    other tests)."""
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "make_docs.py"), "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_documentation_links_resolve():
    """Every relative link of the README and docs/ points at a file of the repository."""
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        prose = re.sub(r"```.*?```|`[^`\n]*`", "", page.read_text(), flags=re.S)  # code is not links
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", prose):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)}: broken link {target}"


def test_readme_is_a_front_door():
    text = (ROOT / "README.md").read_text()
    assert 120 <= len(text.splitlines()) <= 220  # what it is, the two commands, a tour, where things live
    for page in ("docs/architecture.md", "docs/results.md", "docs/cli.md"):
        assert page in text
    assert "DESIGN.md" not in text and "../shared" not in text
