"""`ptui` with no verb: the terminal UI, in the current repository.

Outside a git repository it still starts (and suggests `ptui demo`); with
`--host` it talks to that machine's server through ssh.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
from pathlib import Path

from tui.errors import UsageError

FRAME_RATE = "240"
"""TEXTUAL_FPS for the app when the user sets none (see `set_frame_rate`)."""


def find_repo(cwd: Path | None = None) -> Path | None:
    """The work tree root of the git repository around `cwd`, or None."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=cwd, capture_output=True, text=True, timeout=10,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    top = result.stdout.strip()
    return Path(top) if result.returncode == 0 and top else None


def pause_gc_for_startup() -> None:
    """Hold cyclic garbage collection while Textual imports and builds the first screen.

    Start-up allocates some 300,000 long-lived objects, and the collector would
    walk them over and over: about 45 ms before the first frame here. The app
    freezes what start-up made and turns collection back on (`PtuiApp.on_mount`).
    """
    gc.disable()


def set_frame_rate() -> None:
    """Have Textual draw up to FRAME_RATE frames a second, unless the user chose.

    Textual draws on a fixed frame grid (1/TEXTUAL_FPS s, read when textual is first
    imported): a keystroke's echo or a session switch that lands just after a frame
    waits for the next one. At 60 that wait was most of a switch (`ptui bench ui`:
    median 30 ms at 60, 20 ms at 240). The frame *rate* stays bounded by what
    changes: the server sends a tab's screen at most 60 times a second. A user's
    own TEXTUAL_FPS wins. Call it before anything imports textual.

    The variable is set only while Textual reads it: a server this process starts,
    and the agents it runs, would otherwise inherit ptui's frame rate as their own.
    """
    if "TEXTUAL_FPS" in os.environ:
        return
    os.environ["TEXTUAL_FPS"] = FRAME_RATE
    try:
        import textual.constants  # noqa: F401  (reads TEXTUAL_FPS, once, here)
    finally:
        del os.environ["TEXTUAL_FPS"]


def run_app(args: argparse.Namespace) -> int:
    """Start the app; 1 with a one-line message when the server cannot be reached."""
    from tui.client.connection import EarlyConnection

    set_frame_rate()
    host = getattr(args, "host", None)
    ssh_config = getattr(args, "ssh_config", None)
    if ssh_config and not host:
        raise UsageError("--ssh-config needs --host")
    # The server works on its answer while this process imports Textual.
    early = None if host else EarlyConnection()
    pause_gc_for_startup()
    from tui.app.app import PtuiApp

    repo = None if host else find_repo()
    app = PtuiApp(host=host, ssh_config=ssh_config, repo=repo, early=early)
    app.run()
    if app.exit_error:
        print(f"ptui: error: {app.exit_error}", file=sys.stderr)
        return 1
    return app.return_code or 0
