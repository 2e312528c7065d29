"""The core layers must stay usable without the TUI: importing them loads no textual."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEADLESS = [
    "tui.git",
    "tui.term",
    "tui.server",
    "tui.client",
    "tui.config",
    "tui.state",
    "tui.paths",
    "tui.patterns",
    "tui.protocol",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_import_loads_no_textual(module: str) -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        f"pkg = importlib.import_module({module!r})\n"
        # Import every submodule too: a headless package with one bad module is not headless.
        "for info in pkgutil.walk_packages(getattr(pkg, '__path__', []), pkg.__name__ + '.'):\n"
        "    importlib.import_module(info.name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(len(bad))\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr or f"{module} imported textual"
    assert result.stdout.strip() == "0"


def test_app_start_up_skips_the_emulators_width_tables() -> None:
    # The app renders line models; wcwidth's tables (~20 ms to import) belong to
    # the emulator, which runs in the session host. Start-up is a benchmark target.
    code = "import sys, tui.app.app\nsys.exit(1 if 'wcwidth' in sys.modules else 0)\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr or "importing the app loaded wcwidth"
