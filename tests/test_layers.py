"""The import contracts bite: one forbidden import in a copy of tui/ fails `lint-imports`.

The contracts live in pyproject.toml ([tool.importlinter]); CI runs them over the real
tree (.ci/run). Here they run over a copy, first as it is (kept), then with one import
each contract forbids (broken, naming the contract). The copy shadows the installed
package through PYTHONPATH; the broken runs prove it, since only the copy has the import.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def contract_name(contract_id: str) -> str:
    """The name of the contract with this id in pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["id"] == contract_id:
            return str(contract["name"])
    raise AssertionError(f"pyproject.toml has no import contract with id {contract_id!r}")


def copy_of_tui(tmp_path: Path) -> Path:
    """A directory holding a copy of tui/ and of pyproject.toml (the contracts)."""
    work = tmp_path / "copy"
    shutil.copytree(ROOT / "tui", work / "tui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")
    return work


def lint_imports(work: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS.exists(), "lint-imports is missing: pip install -e '.[test]'"
    env = {
        **os.environ,
        "PYTHONPATH": str(work),  # the copy, ahead of the editable install's path
        "PYTHONIOENCODING": "utf-8",
        "COLUMNS": "200",  # contract names on one line each
    }
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def add_import(module_file: Path, statement: str) -> None:
    text = module_file.read_text(encoding="utf-8")
    module_file.write_text(f"{text}\n{statement}\n", encoding="utf-8")


def broken_contracts(output: str) -> set[str]:
    """Names of the contracts reported BROKEN in lint-imports' summary."""
    # "<name> BROKEN" or "<name> BROKEN (2 ignored imports)"
    summary = re.compile(r"^(?P<name>.+?)\s*BROKEN(?: \(\d+ ignored imports?\))?$")
    return {
        found["name"] for line in output.splitlines() if (found := summary.match(line.rstrip()))
    }


def test_the_copy_as_it_is_keeps_every_contract(tmp_path: Path) -> None:
    result = lint_imports(copy_of_tui(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "statement", "contract_id", "chain"),
    [
        # A headless layer that loads the UI toolkit.
        ("tui/term/__init__.py", "import textual", "headless", "tui.term -> textual"),
        # A lower layer reaching up into the app.
        ("tui/git/diff.py", "from tui.app import app", "layers", "tui.git.diff -> tui.app.app"),
        # A screen naming the app for the type checker only: a circle all the same.
        (
            "tui/app/screens/archive.py",
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from tui.app.app import PtuiApp",
            "app-inside",
            "tui.app.screens.archive -> tui.app.app",
        ),
        # A widget reaching up into a screen from inside a function.
        (
            "tui/app/widgets/session_list.py",
            "def _main() -> object:\n    from tui.app.screens import main\n\n    return main",
            "app-inside",
            "tui.app.widgets.session_list -> tui.app.screens.main",
        ),
        # The terminal view reaching for the app's context instead of being given hooks.
        (
            "tui/app/widgets/terminal_view.py",
            "from tui.app.context import app_context",
            "terminal-view",
            "tui.app.widgets.terminal_view -> tui.app.context",
        ),
        # The app going around the client to the session host.
        (
            "tui/app/themes.py",
            "from tui.server import host",
            "app",
            "tui.app.themes -> tui.server.host",
        ),
        # The client pulling in the host's session manager.
        (
            "tui/client/connection.py",
            "from tui.server import manager",
            "client",
            "tui.client.connection -> tui.server.manager",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, statement: str, contract_id: str, chain: str
) -> None:
    work = copy_of_tui(tmp_path)
    add_import(work / module, statement)
    result = lint_imports(work)
    assert result.returncode != 0, result.stdout + result.stderr
    assert contract_name(contract_id) in broken_contracts(result.stdout), result.stdout
    assert chain in result.stdout, result.stdout
