"""`ptui` asks Textual for 240 frames a second before Textual is first imported; a
user's own TEXTUAL_FPS wins, importing `tui.app` on its own sets nothing, and
`ptui bench ui` times the app at the rate `ptui` runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tui.cli.app import FRAME_RATE

# Prints TEXTUAL_FPS at the moment anything first imports textual (when
# `textual.constants` reads it), then ends the process there: the app never runs.
WATCH_FIRST_TEXTUAL_IMPORT = """
import os, sys

class FirstTextualImport:
    def find_spec(self, name, path=None, target=None):
        if name == "textual":
            print("TEXTUAL_FPS=" + str(os.environ.get("TEXTUAL_FPS")), flush=True)
            raise SystemExit(0)
        return None

sys.meta_path.insert(0, FirstTextualImport())
"""
# The real entry point of the `ptui` script, with no verb: the terminal UI. With
# --host nothing connects before Textual is imported (no local server starts).
THROUGH_PTUI = "from tui.cli import main\nmain(['--host', 'nowhere.invalid'])\n"


def fps_at_textual_import(program: str, fps: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    if fps is not None:
        env["TEXTUAL_FPS"] = fps
    done = subprocess.run(
        [sys.executable, "-c", WATCH_FIRST_TEXTUAL_IMPORT + program],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("TEXTUAL_FPS=")]
    assert len(lines) == 1, f"textual was never imported:\n{done.stdout}{done.stderr}"
    return lines[0].removeprefix("TEXTUAL_FPS=")


def test_ptui_sets_the_frame_rate_before_textual_is_imported() -> None:
    assert FRAME_RATE == "240"
    assert fps_at_textual_import(THROUGH_PTUI) == FRAME_RATE


def test_the_users_own_frame_rate_wins() -> None:
    assert fps_at_textual_import(THROUGH_PTUI, fps="30") == "30"


def test_importing_the_app_sets_no_frame_rate() -> None:
    """No import side effect: a program that embeds the app keeps Textual's default."""
    assert fps_at_textual_import("import tui.app.app\n") == "None"


def test_the_ui_benchmark_times_the_app_at_ptuis_frame_rate(tmp_path: Path) -> None:
    """The probe wraps Textual's classes before `ptui` runs: it imports textual first."""
    log = tmp_path / "probe.log"
    probe = f"from tui.bench.ui_probe import install\ninstall({str(log)!r})\n"
    assert fps_at_textual_import(probe) == FRAME_RATE


def test_the_frame_rate_is_not_passed_on_to_the_server_and_agents() -> None:
    """Textual runs at 240, but a server the app starts, and its agents, see no
    TEXTUAL_FPS of ptui's: the variable is set only while Textual reads it."""
    program = (
        "import os\nfrom tui.cli.app import set_frame_rate\nset_frame_rate()\n"
        "import textual.constants\n"
        "print(textual.constants.MAX_FPS, os.environ.get('TEXTUAL_FPS'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [FRAME_RATE, "None"]
