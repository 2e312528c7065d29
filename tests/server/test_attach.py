"""`ptui attach` in a real terminal: draw, type, resize, detach, modes restored."""

from __future__ import annotations

import select
import time
from pathlib import Path

from tests.server.conftest import PTUI, Runner, wait_for
from tui.term.emulator import Emulator
from tui.term.pty import PtyProcess


class Terminal:
    """`ptui attach` running on a PTY, its output drawn by ptui's own emulator."""

    def __init__(self, args: list[str], cwd: Path, cols: int = 70, rows: int = 20) -> None:
        self.proc = PtyProcess.spawn([PTUI, *args], cwd=cwd, cols=cols, rows=rows)
        self.emulator = Emulator(cols=cols, rows=rows)
        self.output = b""

    def pump(self) -> None:
        select.select([self.proc.fd], [], [], 0.05)
        data = self.proc.read()
        self.output += data
        self.emulator.feed(data)

    def wait_text(self, text: str) -> None:
        def seen() -> bool:
            self.pump()
            return text in self.emulator.render_text()

        wait_for(seen, what=f"{text!r} on the attached screen")


def test_attach_draws_types_and_detaches_cleanly(ptui: Runner, repo: Path) -> None:
    ptui("new", "attached", "--agent", "sh")
    ptui("send", "attached", "printf '\\033[?2004h\\033[?1h'; echo ready-$((6*7))", "--enter")
    term = Terminal(["attach", "attached"], repo)
    try:
        term.wait_text("ready-42")
        # The program's modes reach the outer terminal while attached.
        modes = term.emulator.modes
        assert modes.alt_screen and modes.bracketed_paste and modes.app_cursor
        term.proc.write(b"echo typed-$((1+1))\r")
        term.wait_text("typed-2")
        # The session took the attached terminal's size.
        term.proc.write(b"stty size\r")
        term.wait_text("20 70")
        term.proc.write(b"\x1d")  # ctrl+]: detach
        deadline = time.monotonic() + 10
        while term.proc.poll() is None and time.monotonic() < deadline:
            term.pump()
        term.pump()
        assert term.proc.poll() == 0
        assert b"[detached from attached]" in term.output
        # Every mode the program turned on was turned off again.
        modes = term.emulator.modes
        assert not modes.alt_screen and not modes.bracketed_paste and not modes.app_cursor
        assert modes.cursor_visible
    finally:
        term.proc.stop(grace=0.2)
    # The session lives on after the client left.
    assert "typed-2" in ptui("show", "attached").stdout


def test_attach_refuses_without_a_terminal(ptui: Runner, repo: Path) -> None:
    ptui("new", "noterm", "--agent", "cat")
    result = ptui("attach", "noterm", check=False, stdin=None)
    assert result.returncode == 1 and "needs a terminal" in result.stderr
    bad = ptui("attach", "noterm", "--detach-key", "q", check=False)
    assert bad.returncode == 2 and "detach key" in bad.stderr
