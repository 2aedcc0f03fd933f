"""The import layers (docs/architecture.md, *Layers*), checked on the source: lower layers never import higher
ones, and no modules import one another in a ring, even within one layer (``import_cycles``).

config → io, ops, metrics, viz → data, flow, seg, decision → pipeline, train → runs, experiments → cli.
Also: only ``ops`` imports CuPy; only ``viz`` imports matplotlib/plotly; nothing in ``workbench`` imports
streamlit or ipywidgets; ``dashboard/`` and ``notebooks/`` use only public ``workbench`` names.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workbench"

LAYERS = {
    "__init__": 0, "errors": 0, "config": 0,
    "io": 1, "ops": 1, "metrics": 1, "viz": 1,
    "data": 2, "flow": 2, "seg": 2, "decision": 2, "registry": 2,
    "pipeline": 3, "train": 3, "export": 3,
    "runs": 4, "experiments": 4,
    "cli": 5, "__main__": 5,
}
ONLY_IN = {"cupy": {"ops"}, "matplotlib": {"viz"}, "plotly": {"viz"}}
NEVER = {"streamlit", "ipywidgets"}


def component(parts: tuple[str, ...]) -> str:
    """Component of a module given as parts: ``("workbench", "io", "flo")`` → ``io``."""
    return parts[1] if len(parts) > 1 else "__init__"


def module_parts(path: Path, root: Path) -> tuple[str, ...]:
    parts = path.relative_to(root).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def imports(path: Path, root: Path, runtime_only: bool = False) -> list[tuple[str, int]]:
    """Absolute module names imported by ``path`` (relative imports resolved), with line numbers; with
    ``runtime_only``, without the imports under ``if TYPE_CHECKING:`` (annotations only: never executed)."""
    parts = module_parts(path, root)
    package = parts if path.name == "__init__.py" else parts[:-1]
    tree = ast.parse(path.read_text(), str(path))
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                node.body = [ast.Pass()]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((module, node.lineno))
            if module == "workbench":  # from workbench import data
                found += [(f"workbench.{alias.name}", node.lineno) for alias in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module" and node.args:
            arg = node.args[0]  # importlib.import_module(f"workbench.data.{name}")
            if isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
                found.append((str(arg.values[0].value).rstrip("."), node.lineno))
            elif isinstance(arg, ast.Constant):
                found.append((str(arg.value), node.lineno))
    return found


def layer_violations(root: Path) -> list[str]:
    violations = []
    for path in sorted((root / "workbench").rglob("*.py")):
        own = component(module_parts(path, root))
        for module, line in imports(path, root):
            top = module.split(".")[0]
            if top == "workbench":
                other = component(tuple(module.split(".")))
                if LAYERS.get(other, -1) > LAYERS.get(own, 99):
                    violations.append(f"{path.relative_to(root)}:{line} ({own}) imports {module} ({other})")
            elif top in NEVER or (top in ONLY_IN and own not in ONLY_IN[top]):
                violations.append(f"{path.relative_to(root)}:{line} ({own}) imports {module}")
    return violations


def import_cycles(root: Path) -> list[list[str]]:
    """Groups of workbench modules that import one another, directly or in a ring — at module level or inside
    functions (a cycle within one layer is invisible to the layer order). Importing a submodule runs its parent
    packages first, so an edge to one's own ancestor package does not count; nor do ``TYPE_CHECKING`` imports."""
    modules = {".".join(module_parts(p, root)): p for p in (root / "workbench").rglob("*.py")}

    def resolve(name: str) -> str | None:  # workbench.flow.pwc.load_pwc → workbench.flow.pwc
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in modules.items():
        targets = {resolve(m) for m, _ in imports(path, root, runtime_only=True) if m.startswith("workbench")}
        graph[name] = {t for t in targets if t and t != name and not name.startswith(t + ".")}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def private_name_violations(source: str, origin: str) -> list[str]:
    violations = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("workbench"):
            names = [a.name for a in node.names]
            if any(p.startswith("_") for p in node.module.split(".")) or any(n.startswith("_") for n in names):
                violations.append(f"{origin}: from {node.module} import {', '.join(names)}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id == "workbench":
                violations.append(f"{origin}: uses private workbench name {node.attr}")
    return violations


def test_every_component_has_a_layer():
    package = ROOT / "workbench"
    components = {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    components |= {p.stem for p in package.glob("*.py")}
    assert components <= set(LAYERS), f"add to LAYERS in {__file__}: {sorted(components - set(LAYERS))}"


def test_import_layers():
    violations = layer_violations(ROOT)
    assert not violations, "\n".join(violations)


def test_no_import_cycles():
    cycles = import_cycles(ROOT)
    assert not cycles, "modules that import one another: " + "; ".join(" ↔ ".join(c) for c in cycles)


def test_dashboard_and_notebooks_use_public_names_only():
    violations = []
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        violations += private_name_violations(path.read_text(), str(path.relative_to(ROOT)))
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                lines = "".join(cell["source"]).splitlines()
                source = "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))
                violations += private_name_violations(source, str(path.relative_to(ROOT)))
    assert not violations, "\n".join(violations)


def test_the_checks_can_fail(tmp_path):
    """A fake package with every kind of violation is caught."""
    (tmp_path / "workbench" / "io").mkdir(parents=True)
    (tmp_path / "workbench" / "__init__.py").write_text("")
    (tmp_path / "workbench" / "io" / "__init__.py").write_text("from ..data import synthetic\n")
    (tmp_path / "workbench" / "io" / "x.py").write_text(
        "from workbench.pipeline import run_video\nimport matplotlib.pyplot\nimport streamlit\n")
    found = layer_violations(tmp_path)
    assert any("(io) imports workbench.data (data)" in v for v in found)
    assert any("workbench.pipeline" in v for v in found)
    assert any("matplotlib" in v for v in found) and any("streamlit" in v for v in found)
    (tmp_path / "workbench" / "io" / "y.py").write_text("from workbench.io.z import h\n")
    (tmp_path / "workbench" / "io" / "z.py").write_text("def f():\n    from workbench.io.y import g\n")
    assert import_cycles(tmp_path) == [["workbench.io.y", "workbench.io.z"]]
    assert private_name_violations("from workbench.data.render import _footprint\n", "nb")
    assert private_name_violations("import workbench\nworkbench.data._EXPORTS\n", "nb")


def test_long_functions_say_why():
    """No function of the package runs over ~60 lines without a reason in its docstring ("Long because …")."""
    unexplained = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60:
                if "Long because" not in " ".join((ast.get_docstring(node) or "").split()) and \
                        "Long by" not in (ast.get_docstring(node) or ""):
                    unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not unexplained, unexplained
