"""The package's layers, read from the source (every import statement, function-level ones too;
`if TYPE_CHECKING:` blocks, which never run, aside): the library imports neither the stages nor
the flows, the stages do not import the flows, and the library's modules and subpackages import
each other without cycles (`sds` <-> `priors` and `priors` <-> `baselines` were two)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("inpaint3d_core", "stages", "flows")


def _imports() -> dict[str, set[str]]:
    """Module name -> the project modules it imports."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            tree = ast.parse(path.read_text(), filename=str(path))
            typing_only = {
                id(inner)
                for node in ast.walk(tree)
                if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
                for inner in ast.walk(node)
            }
            names = set()
            for node in ast.walk(tree):
                if id(node) in typing_only:
                    continue
                if isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module)
            graph[module] = {name for name in names if name.partition(".")[0] in PACKAGES}
    return graph


def _unit(module: str) -> str:
    """A library module's layer unit: its top-level module or subpackage (`inpaint3d_core.priors`)."""
    return ".".join(module.split(".")[:2])


def test_the_library_imports_no_stage_or_flow_and_the_stages_no_flow():
    graph = _imports()
    upward = [
        f"{module} imports {name}"
        for module, names in graph.items()
        for name in names
        if (module.startswith("inpaint3d_core") and name.partition(".")[0] in ("stages", "flows"))
        or (module.startswith("stages") and name.partition(".")[0] == "flows")
    ]
    assert not upward


def test_the_library_modules_and_subpackages_import_each_other_without_cycles():
    units: dict[str, set[str]] = {}
    for module, names in _imports().items():
        if module.startswith("inpaint3d_core."):
            units.setdefault(_unit(module), set()).update(
                _unit(n) for n in names if n.startswith("inpaint3d_core.") and _unit(n) != _unit(module)
            )

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            unit = todo.pop()
            if unit == goal:
                return True
            if unit not in seen:
                seen.add(unit)
                todo.extend(units.get(unit, ()))
        return False

    cycles = sorted(f"{a} <-> {b}" for a, targets in units.items() for b in targets if reaches(b, a))
    assert not cycles
