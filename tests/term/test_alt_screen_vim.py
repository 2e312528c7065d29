"""Alternate-screen round trip with a real vim on a real PTY.

The user's story: the shell prints something, vim opens full screen, the user
types, quits with `:q!` — and the shell text is back exactly as it was, with no
trace of vim. Then the same bytes, recorded, replayed through a fresh emulator.
"""

from __future__ import annotations

import select
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tui.term.emulator import Emulator
from tui.term.pty import PtyProcess

COLS, ROWS = 80, 24
SHELL_TEXT = "hello-from-the-shell"


@pytest.fixture(scope="session")
def vim() -> str:
    """Path of vim, installing it with apt-get when missing (tests run as root)."""
    path = shutil.which("vim")
    if path is None:
        try:
            subprocess.run(
                ["apt-get", "install", "-y", "-q", "vim"],
                check=True,
                capture_output=True,
                timeout=300,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            pytest.skip(f"vim is not installed and apt-get install vim failed: {exc}")
        path = shutil.which("vim")
    if path is None:
        pytest.skip("vim is not installed and apt-get did not provide it")
    return path


class Terminal:
    """A PTY process driving an Emulator, answering the program's queries like a terminal."""

    def __init__(self, proc: PtyProcess) -> None:
        self.proc = proc
        self.emulator = Emulator(cols=COLS, rows=ROWS)
        self.recorded = bytearray()
        self.marks: dict[str, int] = {}

    def pump(self, timeout: float = 0.05) -> None:
        readable, _, _ = select.select([self.proc.fd], [], [], timeout)
        if readable:
            data = self.proc.read()
            self.recorded += data
            self.emulator.feed(data)
            replies = self.emulator.take_replies()
            if replies:
                self.proc.write(replies)

    def wait_for(self, what: str, condition: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.text()}")
            self.pump()
        self.marks[what] = len(self.recorded)

    def settle(self, quiet: float = 0.3) -> None:
        """Read until the program has been silent for `quiet` seconds."""
        last = len(self.recorded)
        deadline = time.monotonic() + quiet
        while time.monotonic() < deadline:
            self.pump()
            if len(self.recorded) != last:
                last = len(self.recorded)
                deadline = time.monotonic() + quiet

    def type(self, keys: str) -> None:
        self.proc.write(keys.encode())

    def text(self) -> str:
        return self.emulator.render_text()


def test_vim_in_vim_out_shell_text_back(vim: str, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("existing line\n")
    env = {"PS1": "shell$ ", "HOME": str(tmp_path), "ENV": "", "HISTFILE": "/dev/null"}
    proc = PtyProcess.spawn(
        ["bash", "--norc", "--noprofile", "-i"], cwd=tmp_path, env=env, cols=COLS, rows=ROWS
    )
    term = Terminal(proc)
    try:
        term.wait_for("prompt", lambda: "shell$" in term.text())
        term.type(f"echo {SHELL_TEXT}; printf 'second line\\n'\r")
        term.wait_for("shell output", lambda: term.text().count(SHELL_TEXT) >= 2)
        term.settle()
        before = term.text()
        assert not term.emulator.modes.alt_screen

        term.type(f"{vim} -u NONE -N -i NONE notes.txt\r")
        term.wait_for("vim screen", lambda: term.emulator.modes.alt_screen)
        term.wait_for("vim content", lambda: "existing line" in term.text())
        term.type("Otyped in vim\x1b")
        term.wait_for("typed text", lambda: "typed in vim" in term.text())
        term.settle()
        in_vim = term.text()
        assert SHELL_TEXT not in in_vim, "vim's screen must not show the shell's text"
        assert in_vim.count("\n~") >= 5, "vim shows ~ for lines past the end"
        term.marks["in vim"] = len(term.recorded)

        term.type(":q!\r")
        term.wait_for("back to the shell", lambda: not term.emulator.modes.alt_screen)
        term.wait_for("next prompt", lambda: term.text().count("shell$") >= 3)
        term.settle()
        after = term.text()
    finally:
        proc.stop()

    # The shell's text is back where it was; nothing of vim's screen remains.
    assert after.startswith(before.rstrip("\n").rsplit("\n", 1)[0])
    assert after.count(SHELL_TEXT) == 2
    assert "second line" in after
    assert "typed in vim" not in after and "existing line" not in after
    assert "\n~" not in after
    assert "vim -u NONE" in after  # the command line itself stays, as in any terminal
    assert term.emulator.history_size == 0, "vim's screen must not reach the scrollback"
    assert (tmp_path / "notes.txt").read_text() == "existing line\n", ":q! discards"

    # The same through the recorded byte stream, fed in the chunks of a fresh run.
    recorded = bytes(term.recorded)
    replay = Emulator(cols=COLS, rows=ROWS)
    replay.feed(recorded[: term.marks["in vim"]])
    assert replay.modes.alt_screen
    assert replay.render_text() == in_vim
    replay.feed(recorded[term.marks["in vim"] :])
    assert not replay.modes.alt_screen
    assert replay.render_text() == after

    # And one byte at a time: chunk boundaries must not matter.
    bytewise = Emulator(cols=COLS, rows=ROWS)
    for i in range(len(recorded)):
        bytewise.feed(recorded[i : i + 1])
    assert bytewise.render_text() == after


def test_recorded_alt_screen_session_round_trip() -> None:
    """A hand-written vim-like session: what full-screen programs send, byte for byte."""
    shell = b"shell$ ls\r\nREADME.md  src\r\nshell$ vim README.md\r\n"
    enter = b"\x1b[?1049h\x1b[22;0;0t\x1b[?1h\x1b=\x1b[H\x1b[2J"
    body = b"".join(b"~" + b" " * 10 + b"\r\n" for _ in range(ROWS - 2))
    status = b'\x1b[1m"README.md" 0L, 0B\x1b[m\x1b[1;1H# Title\x1b[?25h'
    leave = b"\x1b[?25l\x1b[24;1H\x1b[K\x1b[?1l\x1b>\x1b[?1049l\x1b[23;0;0t\x1b[?25h"
    emulator = Emulator(cols=COLS, rows=ROWS)
    emulator.feed(shell)
    before = emulator.render_text()
    cursor = emulator.cursor
    emulator.feed(enter + body + status)
    assert emulator.modes.alt_screen and emulator.modes.app_cursor and emulator.modes.app_keypad
    assert "shell$ ls" not in emulator.render_text()
    assert emulator.render_text().startswith("# Title")
    emulator.feed(leave)
    assert emulator.render_text() == before
    assert emulator.cursor == cursor
    assert not emulator.modes.alt_screen and not emulator.modes.app_cursor
    assert not emulator.modes.app_keypad
    assert emulator.history_size == 0
    emulator.feed(b"shell$ ")
    assert emulator.render_text().split("\n")[3] == "shell$"
