"""The package's layering: no import cycles (function-level imports included), and the
generic layers reach tasks only through the registry."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for f in SRC.rglob("*.py"):
        parts = list(f.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (f, is_package)
    return found


def _imports() -> dict[str, set[str]]:
    """Module -> the dynamicnet modules it imports anywhere in its body."""
    modules = _modules()
    graph = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rsplit(".", 1)[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                names = [f"{target}.{alias.name}" for alias in node.names]
                targets.update(n if n in modules else target for n in names)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def test_no_import_cycles():
    graph = _imports()
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(node) :] + [node]))
        if node in done:
            return
        for target in sorted(graph[node]):
            visit(target, [*path, node])
        done.add(node)

    for module in sorted(graph):
        visit(module, [])


def test_model_files_and_training_know_no_task():
    """A new task touches its own folder and the registry line, never io/ or training/."""
    graph = _imports()
    for name, targets in graph.items():
        if name.startswith(("dynamicnet.io", "dynamicnet.training", "dynamicnet.core")):
            reaching = {t for t in targets if t.startswith("dynamicnet.tasks")}
            allowed = set() if not name.startswith("dynamicnet.training.trainer") else {"dynamicnet.tasks"}
            assert reaching <= allowed, f"{name} imports {sorted(reaching - allowed)}"


def test_front_ends_name_no_task():
    """cli/ and server/ reach tasks through the registry only: a new task changes neither.
    (``tasks.official`` is not a task: it converts the authors' checkpoints.)"""
    graph = _imports()
    allowed = {"dynamicnet.tasks", "dynamicnet.tasks.official"}
    for name, targets in graph.items():
        if name.startswith(("dynamicnet.cli", "dynamicnet.server")):
            reaching = {t for t in targets if t.startswith("dynamicnet.tasks")}
            assert reaching <= allowed, f"{name} imports {sorted(reaching - allowed)}"


def test_tasks_never_import_their_front_ends():
    """A task's commands and web view import the registry; the task itself must not import them."""
    graph = _imports()
    for name, targets in graph.items():
        if name.startswith("dynamicnet.tasks") and ".commands" not in name and not name.endswith(".web"):
            front = {t for t in targets if ".commands" in t or t.endswith(".web")}
            assert not front, f"{name} imports {sorted(front)}"


def test_each_command_is_a_thin_module():
    """One module per command (under cli/, or a task's commands/), each parsing its options
    and calling the library."""
    paths = [
        *(SRC / "dynamicnet" / "cli").glob("*.py"),
        *(SRC / "dynamicnet" / "tasks").glob("*/commands/*.py"),
    ]
    for path in sorted(paths):
        lines = path.read_text(encoding="utf-8").count("\n")
        assert lines < 200, f"{path.name} has {lines} lines"
