"""Packaging: pins agree between constraints.txt, environment.yml and pyproject.toml; the layout exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python ≥ 3.11

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^\s*(?:-\s+)?([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)\s*$")


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.split("#")[0])
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


TEACHER_ONLY = {"mediapipe"}  # installed with --no-deps from requirements-teacher.txt, never by the resolver


def test_constraints_and_environment_agree():
    constraints, environment = pins(ROOT / "constraints.txt"), pins(ROOT / "environment.yml")
    assert constraints["torch"] == "2.13.0"
    assert {k: v for k, v in constraints.items() if k not in TEACHER_ONLY} == environment
    assert "requirements-teacher.txt" in (ROOT / "environment.yml").read_text()


def test_teacher_pins():
    """The teacher's pins agree with constraints.txt; protobuf stays at major 6 (TensorBoard's generated code
    needs it; mediapipe 0.10.21 runs with it although its metadata asks for <5)."""
    teacher, constraints = pins(ROOT / "requirements-teacher.txt"), pins(ROOT / "constraints.txt")
    assert teacher["mediapipe"] == constraints["mediapipe"] == "0.10.21"
    assert set(teacher) == {"mediapipe", "absl-py", "protobuf", "flatbuffers", "attrs"}
    assert teacher["protobuf"].split(".")[0] == "6"
    assert "--no-deps -r requirements-teacher.txt" in (ROOT / "Makefile").read_text()


def test_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.10"
    assert project["scripts"]["workbench"] == "workbench.cli:main"
    assert "torch==2.13.0" in project["dependencies"]
    assert not any(d.startswith(("torchvision", "opencv-python>", "opencv-python=")) for d in project["dependencies"])
    assert any(d.startswith("opencv-python-headless") for d in project["dependencies"])
    extras = project["optional-dependencies"]
    assert any(d.startswith("cupy-cuda13x") for d in extras["gpu"])
    assert {"pytest", "ruff", "nbclient", "playwright"} <= {re.split("[<>=]", d)[0] for d in extras["dev"]}
    # Every runtime dependency pinned in constraints.txt is one the project declares.
    declared = {re.split("[<>=]", d)[0].lower() for d in project["dependencies"] + extras["teacher"] + extras["dist"]
                + extras["onnx"]}
    assert set(pins(ROOT / "constraints.txt")) <= declared
    assert "dist,onnx" in (ROOT / "Makefile").read_text()  # make test installs the extras its tests exercise


def test_top_level_folders_have_a_readme():
    for folder in ("workbench", "kernels", "models", "dashboard", "notebooks", "data", "tests", "docs"):
        assert (ROOT / folder).is_dir(), folder
        if folder != "workbench":
            assert (ROOT / folder / "README.md").read_text().strip(), folder


def test_readme_starts_with_the_two_commands():
    head = (ROOT / "README.md").read_text()[:1500]
    assert "make demo" in head and "make test" in head
    assert "make test" in (ROOT / ".ci" / "run").read_text()
