"""tui.app has no import circle, counting TYPE_CHECKING imports and imports in functions.

The screens, the terminal view and the app once closed a circle through
`if TYPE_CHECKING: from tui.app.app import PtuiApp` and imports inside functions.
The "app-inside" layers contract (pyproject.toml) orders tui.app's parts; this test
looks for any cycle at all among tui.app's modules, between two screens too (one
layer of that contract). The graph is grimp's, the one lint-imports checks: it sees
every import statement, wherever it is. Each check runs in a subprocess over a tree
(the real one, or a copy with one import added, to show the check bites).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.test_layers import ROOT, add_import, copy_of_tui

_EDGES = """
import json, grimp
graph = grimp.build_graph("tui", cache_dir=None)
app = sorted(m for m in graph.modules if m.startswith("tui.app"))
print(json.dumps({
    m: sorted(i for i in graph.find_modules_directly_imported_by(m) if i.startswith("tui.app"))
    for m in app
}))
"""

# Where the terminal view may reach inside tui.app: its own helpers and the one door to
# Textual's internals (tui/app/_textual_internals.py).
_TERMINAL_VIEW_MAY_REACH = ("tui.app.widgets", "tui.app._textual_internals")


def app_imports(root: Path) -> dict[str, list[str]]:
    """tui.app's modules, each with the tui.app modules it imports, for the tree at `root`."""
    env = {**os.environ, "PYTHONPATH": str(root)}  # a copy shadows the installed package
    result = subprocess.run(
        [sys.executable, "-c", _EDGES],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    edges: dict[str, list[str]] = json.loads(result.stdout)
    return edges


def find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """One import cycle (its modules, the first repeated at the end), or None."""
    state: dict[str, str] = {}  # "open" while on the path, "done" after
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for imported in edges.get(module, []):
            if state.get(imported) == "open":
                return [*path[path.index(imported) :], imported]
            if imported not in state and (cycle := visit(imported)) is not None:
                return cycle
        path.pop()
        state[module] = "done"
        return None

    for module in sorted(edges):
        if module not in state and (cycle := visit(module)) is not None:
            return cycle
    return None


def reachable(edges: dict[str, list[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for imported in edges.get(todo.pop(), []):
            if imported not in seen:
                seen.add(imported)
                todo.append(imported)
    return seen


def test_tui_app_has_no_import_circle() -> None:
    edges = app_imports(ROOT)
    # The graph sees the imports that once closed the circle: this one is inside a function.
    assert "tui.app.screens.help" in edges["tui.app.screens.main"]
    assert find_cycle(edges) is None


def test_terminal_view_imports_no_app_module() -> None:
    reached = reachable(app_imports(ROOT), "tui.app.widgets.terminal_view")
    assert reached, "the terminal view imports its own helpers at least"
    assert {m for m in reached if not m.startswith(_TERMINAL_VIEW_MAY_REACH)} == set()


def test_an_import_back_inside_a_function_is_a_circle(tmp_path: Path) -> None:
    work = copy_of_tui(tmp_path)
    add_import(
        work / "tui/app/screens/help.py",
        "def _main_screen() -> object:\n    from tui.app.screens import main\n\n    return main",
    )
    cycle = find_cycle(app_imports(work))
    assert cycle is not None
    assert {"tui.app.screens.main", "tui.app.screens.help"} <= set(cycle), cycle


def test_a_type_checking_import_of_the_app_is_a_circle(tmp_path: Path) -> None:
    work = copy_of_tui(tmp_path)
    add_import(
        work / "tui/app/widgets/terminal_view.py",
        "if TYPE_CHECKING:\n    from tui.app.app import PtuiApp",
    )
    edges = app_imports(work)
    cycle = find_cycle(edges)
    assert cycle is not None
    assert {"tui.app.app", "tui.app.widgets.terminal_view"} <= set(cycle), cycle
    assert "tui.app.app" in reachable(edges, "tui.app.widgets.terminal_view")
