"""Regenerate the parts of the documentation that are facts about the code, so they cannot go stale.

- the **layout** blocks of ``README.md`` (packages) and ``docs/architecture.md`` (every module), from the
  package and module docstrings' first sentences;
- the **command reference** in ``docs/cli.md``, from the parser's own ``--help`` of every command.

Each generated part sits between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` markers; the text
around it is written by hand. ``python docs/make_docs.py`` rewrites the blocks (``make docs``);
``--check`` exits 1 and names the stale files instead (``tests/test_docs.py`` runs it).
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import re
import sys
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workbench"
WIDTH = 110  # help text width, fixed so the reference does not depend on the terminal
FOLDERS = {  # the top-level folders besides the package, with what they hold
    "kernels/": "CUDA sources for CuPy (correlation), each with an exact PyTorch fallback in workbench/ops",
    "models/": "shipped checkpoints, each with the MODEL_CARD.md its training command wrote",
    "dashboard/": "the Streamlit dashboard over run records (app.py, views/: a page each, player: the frame player)",
    "notebooks/": "the teaching notebooks (00 quickstart … 05 ablations)",
    "docs/": "architecture, results, command line, conventions, promises, screenshots; their generators",
    "tests/": "pytest suite, one folder per package; notebooks and the browser test included",
    "data/": "what commands write by default (git-ignored, except its README)",
}


def first_sentence(path: Path, limit: int = 150) -> str:
    """The first sentence of a module's docstring, on one line (cut at its first colon when it is long)."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    text = re.sub(r":\w+:`(~?)([^`]+)`", lambda m: f"`{m.group(2).split('.')[-1] if m.group(1) else m.group(2)}`",
                  " ".join(doc.split()))
    match = re.match(r"(.+?\.)(\s|$)", text)
    sentence = match.group(1) if match else text
    if len(sentence) > limit and ":" in sentence[:limit]:
        sentence = sentence[:sentence.index(":", 1)]
    return sentence.rstrip(":.").replace("``", "`")


def packages() -> list[tuple[str, str]]:
    """``(name, summary)`` of the package's top-level modules and subpackages, in layer order."""
    from tests.test_layers import LAYERS

    entries = []
    for path in sorted(PACKAGE.iterdir()):
        if path.name.startswith(("_", ".")) and path.name != "__main__.py":
            continue
        if path.is_dir() and (path / "__init__.py").is_file():
            entries.append((path.name + "/", first_sentence(path / "__init__.py"), LAYERS.get(path.name, 9)))
        elif path.suffix == ".py":
            entries.append((path.name, first_sentence(path), LAYERS.get(path.stem, 9)))
    return [(name, text) for name, text, _ in sorted(entries, key=lambda e: (e[2], e[0]))]


def modules(package: str) -> list[tuple[str, str]]:
    folder = PACKAGE / package
    return [(path.name, first_sentence(path)) for path in sorted(folder.glob("*.py")) if path.name != "__init__.py"]


def wrap(prefix: str, text: str, indent: int, width: int = 118) -> list[str]:
    words, lines, line = text.split(), [], prefix.ljust(indent)
    for word in words:
        if len(line) + len(word) + 1 > width and line.strip() != prefix.strip():
            lines.append(line.rstrip())
            line = " " * indent
        line += word + " "
    lines.append(line.rstrip())
    return lines


def readme_layout() -> str:
    lines = ["```", "workbench/        the library (import layers top to bottom: each imports only what is above it)"]
    for name, text in packages():
        lines += wrap(f"  {name}", text, 18)
    for name, text in FOLDERS.items():
        lines += wrap(name, text, 18)
    return "\n".join(lines + ["```"])


def architecture_layout() -> str:
    lines = ["```"]
    for name, text in packages():
        lines += wrap(name, text, 16)
        if name.endswith("/"):
            for module, summary in modules(name.rstrip("/")):
                lines += wrap(f"  {module}", summary, 24)
    return "\n".join(lines + ["```"])


def _subcommands(parser: argparse.ArgumentParser, prefix: list[str]) -> list[tuple[list[str], argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = _subcommands(sub, [*prefix, name])
                found += nested or [([*prefix, name], sub)]
    return found


def cli_reference() -> str:
    os.environ["COLUMNS"] = str(WIDTH)
    from workbench.cli import build_parser

    parts = []
    for words, parser in _subcommands(build_parser(), []):
        out = io.StringIO()
        with redirect_stdout(out):
            text = parser.format_help()
        parts += [f"### `workbench {' '.join(words)}`", "", "```", text.rstrip(), "```", ""]
    return "\n".join(parts).rstrip()


BLOCKS = {
    "README.md": {"layout": readme_layout},
    "docs/architecture.md": {"layout": architecture_layout},
    "docs/cli.md": {"reference": cli_reference},
}


def render(text: str, blocks: dict) -> str:
    for name, make in blocks.items():
        begin, end = f"<!-- generated:{name} -->", f"<!-- /generated:{name} -->"
        if begin not in text or end not in text:
            raise SystemExit(f"missing {begin} … {end}")
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{begin}\n{make()}\n{end}{tail}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale files instead of writing them")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    stale = []
    for name, blocks in BLOCKS.items():
        path = ROOT / name
        text = path.read_text()
        new = render(text, blocks)
        if new != text:
            stale.append(name)
            if not args.check:
                path.write_text(new)
    if args.check and stale:
        print(f"stale: {', '.join(stale)} (run `make docs`)")
        return 1
    print("\n".join(f"wrote {name}" for name in stale) or "up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
