"""End to end: the real `ptui` binary in tmux, driven like a user would.

`ptui demo` outside any repository makes the demo and opens the app; then a new
session from the form, typing into its agent, switching sessions, the diff,
archiving, quitting, and `ptui` again in the demo repository: the sessions that
were not archived are still there and still live. Keys are found by binding id
in the app's own BINDINGS, so a remapped default moves the test with it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import PTUI, repo, stop_server  # noqa: F401  (repo: fixture)
from tui.demo.agent import QUESTION
from tui.demo.repo import DEMO_TASKS, REPO_NAME

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (.ci/run installs it)"),
]

COLS, ROWS = 160, 48
LIVE = {"busy", "waiting", "idle"}
_TMUX_NAMES = {
    "escape": "Escape",
    "enter": "Enter",
    "tab": "Tab",
    "backspace": "BSpace",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "question_mark": "?",
    "slash": "/",
}
_MODIFIERS = {"ctrl": "C-", "alt": "M-", "shift": "S-"}


def binding_key(binding_id: str) -> str:
    """The tmux key for a binding id of the app (its first key)."""
    from textual.binding import Binding

    from tui.app.app import PtuiApp
    from tui.app.screens.archive import ArchiveScreen
    from tui.app.screens.diff import DiffScreen
    from tui.app.screens.main import MainScreen
    from tui.app.screens.new_session import NewSessionScreen
    from tui.app.widgets.session_list import SessionList

    for owner in (MainScreen, SessionList, NewSessionScreen, DiffScreen, ArchiveScreen, PtuiApp):
        for binding in owner.BINDINGS:
            if isinstance(binding, Binding) and binding.id == binding_id:
                *mods, name = binding.key.split(",")[0].split("+")
                return "".join(_MODIFIERS[m] for m in mods) + _TMUX_NAMES.get(name, name)
    raise AssertionError(f"no binding with id {binding_id!r}")


class Tmux:
    """A private tmux server; each ptui runs in a session of its own."""

    def __init__(self, socket: Path) -> None:
        self.socket = str(socket)

    def __call__(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            ["tmux", "-S", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=10,
            # os.environ, not the process's C environment: readline (imported by
            # pytest) exports LINES=24 COLUMNS=80 there, and Textual would believe it.
            env=dict(os.environ),
        )
        if check:
            assert result.returncode == 0, f"tmux {args}: {result.stderr}"
        return result.stdout

    def start(self, name: str, argv: list[str], cwd: Path) -> None:
        command = " ".join(f"'{a}'" for a in argv)
        self("new-session", "-d", "-s", name, "-x", str(COLS), "-y", str(ROWS), "-c", str(cwd),
             command)  # fmt: skip

    def running(self, name: str) -> bool:
        return name in self("list-sessions", "-F", "#{session_name}", check=False).split()

    def screen(self, name: str) -> str:
        return self("capture-pane", "-p", "-t", name, check=False)

    def keys(self, name: str, *keys: str) -> None:
        self("send-keys", "-t", name, *keys)

    def type(self, name: str, text: str) -> None:
        self("send-keys", "-t", name, "-l", text)

    def press(self, name: str, binding_id: str, *, leader: bool = False) -> None:
        """Press a binding by id; `leader` first when the terminal has the keyboard."""
        if leader:
            self.keys(name, binding_key("leader"))
        self.keys(name, binding_key(binding_id))

    def poll(self, name: str, check: Callable[[str], Any], timeout: float) -> str | None:
        """The screen once `check` accepts it, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen(name)
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    def wait(self, name: str, check: Callable[[str], Any], what: str, timeout: float = 15.0) -> str:
        screen = self.poll(name, check, timeout)
        if screen is None:
            size = self(
                "display", "-p", "-t", name, "#{window_width}x#{window_height}", check=False
            )
            raise AssertionError(
                f"timed out waiting for {what}; the screen ({size.strip()}):\n{self.screen(name)}"
            )
        return screen


@pytest.fixture
def tmux(tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tmux]:
    # The tmux server, hence ptui and its session host, inherit this environment.
    monkeypatch.setenv("PTUI_DEMO_SPEED", "0")
    monkeypatch.delenv("TMUX", raising=False)
    server = Tmux(tmp_path / "tmux.sock")
    yield server
    subprocess.run(["tmux", "-S", server.socket, "kill-server"], capture_output=True)
    stop_server()


def ptui_json(*args: str) -> Any:
    result = subprocess.run([PTUI, *args, "--json"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def sidebar(screen: str) -> str:
    """The left column of the main screen (left of its border)."""
    return "\n".join(line.split("▕")[0] for line in screen.splitlines())


def shown_branch(screen: str) -> str | None:
    """The session branch in the header (`ptui/<name> ← main`)."""
    match = re.search(r"ptui/([\w.-]+) ← main", screen)
    return match.group(1) if match else None


def test_a_day_with_ptui(tmux: Tmux, tmp_path: Path) -> None:
    demo_dir = tmp_path / "demo"
    names = [task.name for task in DEMO_TASKS]

    # `ptui demo` from a folder that is no repository: the demo, then the app.
    tmux.start("one", [PTUI, "demo", "--dir", str(demo_dir)], tmp_path)
    tmux.wait("one", lambda s: all(n in s for n in names), "the demo sessions", timeout=30)
    tmux.wait("one", lambda s: QUESTION in s, "the shown agent's question")
    demo_repo = demo_dir / REPO_NAME

    # A new session: the form, a task, create.
    tmux.press("one", "new_session")
    tmux.wait("one", lambda s: "what should the agent do" in s, "the new-session form")
    tmux.type("one", "add sqrt")
    tmux.press("one", "create_session")
    tmux.wait("one", lambda s: shown_branch(s) == "add-sqrt", "the new session shown")
    tmux.wait("one", lambda s: QUESTION in s, "its agent's question")

    # Type into its agent: approve, then a second task at its prompt, refused.
    tmux.type("one", "y")
    tmux.wait("one", lambda s: "✓ done" in s, "the agent's done")
    tmux.type("one", "support negative numbers")
    tmux.keys("one", "Enter")
    tmux.wait("one", lambda s: "Edit calc/" in s and QUESTION in s, "the second question")
    tmux.type("one", "n")
    tmux.wait("one", lambda s: "✗ reverted" in s, "the agent's revert")
    sqrt = next(s for s in ptui_json("ls") if s["id"] == "add-sqrt")
    assert (Path(sqrt["worktree"]) / "notes" / "add-sqrt.md").is_file()
    assert not (Path(sqrt["worktree"]) / "notes" / "support-negative-numbers.md").exists()

    # Switch to another session (alt+digit works while the terminal has the keys).
    def other_shown(screen: str) -> bool:
        return shown_branch(screen) in names and QUESTION in screen

    other = None
    for number in (2, 1):
        tmux.press("one", f"session_{number}")
        if other := tmux.poll("one", other_shown, timeout=3):
            break
    assert other is not None, f"alt+2 / alt+1 showed no other session:\n{tmux.screen('one')}"
    other_name = str(shown_branch(other))

    # Its diff, then back.
    tmux.press("one", "diff", leader=True)
    tmux.wait("one", lambda s: "Split/unified" in s and "CHANGELOG.md" in s, "the diff screen")
    tmux.press("one", "diff_close")
    tmux.wait("one", lambda s: QUESTION in s and "Split/unified" not in s, "the main screen")

    # Archive it.
    tmux.press("one", "archive", leader=True)
    tmux.wait(
        "one",
        lambda s: f"Archive {other_name}" in s and "Uncommitted files" in s,
        "the archive dialog with its plan",
    )
    tmux.press("one", "archive_confirm")
    tmux.wait(
        "one",
        lambda s: other_name not in sidebar(s) and "Uncommitted files" not in s,
        "the archived session gone",
        timeout=30,
    )
    archived = {s["id"]: s["status"] for s in ptui_json("ls", "--all")}
    assert archived[str(other_name)] == "archived"

    # Quit: the sessions keep running without any client.
    tmux.press("one", "quit_sidebar", leader=True)
    deadline = time.monotonic() + 15
    while tmux.running("one"):
        assert time.monotonic() < deadline, f"ptui did not quit:\n{tmux.screen('one')}"
        time.sleep(0.05)
    remaining = {s["id"]: s["status"] for s in ptui_json("ls")}
    assert set(remaining) == {*names, "add-sqrt"} - {other_name}
    assert set(remaining.values()) <= LIVE

    # `ptui` again, in the demo repository: the same sessions, live.
    tmux.start("two", [PTUI], demo_repo)
    screen = tmux.wait("two", lambda s: all(n in sidebar(s) for n in remaining), "the sessions")
    assert other_name not in sidebar(screen)
    for number in (1, 2, 3):
        tmux.press("two", f"session_{number}")
        if tmux.poll("two", lambda s: shown_branch(s) == "add-sqrt", timeout=3):
            break
    tmux.wait("two", lambda s: "✗ reverted" in s, "add-sqrt's screen as it was left")
    tmux.press("two", "session_open")  # from the sidebar into the session's terminal
    time.sleep(0.3)
    tmux.type("two", "write a docstring")
    tmux.keys("two", "Enter")
    tmux.wait("two", lambda s: "notes/write-a-docstring.md" in s, "the agent to work again")


@pytest.mark.usefixtures("repo")  # a repository, the working directory
def test_an_echo_is_drawn_before_the_next_frame(
    tmux: Tmux, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At one frame a second the frame path alone shows an echo up to a second late;
    # the terminal view writes it at once, in the colours the frame then draws.
    monkeypatch.setenv("TEXTUAL_FPS", "1")
    monkeypatch.setenv("SHELL", "/bin/sh")  # the tty echoes what is typed: no prompt tricks
    made = subprocess.run(
        [PTUI, "new", "--agent", "shell", "type here"], capture_output=True, text=True, timeout=30
    )
    assert made.returncode == 0, made.stderr
    tmux.start("keys", [PTUI], Path.cwd())
    tmux.wait("keys", lambda s: shown_branch(s) == "type-here", "the session shown")
    tmux.press("keys", "session_open")
    time.sleep(1.5)  # the focus change is drawn

    def terminal_rows(screen: str) -> list[str]:
        return [line.split("▕", 1)[1] for line in screen.splitlines() if "▕" in line]

    typed = ""
    for char in "zqjxk":
        tmux.type("keys", char)
        typed += char
        # Well inside the frame period: only the direct write can have drawn it.
        seen = tmux.poll("keys", lambda s, t=typed: any(t in r for r in terminal_rows(s)), 0.3)
        assert seen is not None, f"{typed!r} not shown within 0.3 s:\n{tmux.screen('keys')}"
    early = tmux("capture-pane", "-p", "-e", "-t", "keys").splitlines()
    time.sleep(2.5)  # two frames later
    late = tmux("capture-pane", "-p", "-e", "-t", "keys").splitlines()
    row = next(i for i, line in enumerate(early) if typed in line)
    assert early[row] == late[row]  # the same cells, colours and cursor as the frame's
