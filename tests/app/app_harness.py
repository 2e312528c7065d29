"""Helpers for the main app's tests: the real app on a real server, keys by binding id.

Fixtures come from tests/server/conftest.py (a repository, a config with test
agents, a server stopped after the test); `app_config` adds agents that ring the
bell, ask a question and print a long history. Keys are pressed by binding id
(`press(pilot, "new_session")`), so a remapped default never breaks a test.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from textual.binding import Binding
from textual.pilot import Pilot

from tests.server.conftest import AGENTS, stop_server
from tui.app.app import PtuiApp
from tui.app.screens.disconnected import DisconnectedScreen
from tui.app.screens.help import HelpScreen
from tui.app.screens.main import MainScreen
from tui.app.screens.new_session import NewSessionScreen
from tui.app.widgets.session_list import SessionList
from tui.app.widgets.terminal_view import TerminalView
from tui.client.connection import Client

SIZE = (120, 36)

APP_AGENTS: dict[str, dict[str, Any]] = {
    **AGENTS,
    # Prints a numbered history longer than any screen, then echoes.
    "history": {"command": ["sh", "-c", "for i in $(seq 1 300); do echo line $i; done; exec cat"]},
    # Asks for permission after a moment: the waiting pattern matches.
    # Resumes one exact conversation, whose id it never reports: resume falls back.
    "forgetful": {
        "command": ["cat"],
        "resume": ["cat"],
        "resume_session": ["cat", "{session}"],
    },
    "asker": {
        "command": ["sh", "-c", "sleep 1; echo 'Do you want to proceed? Allow once'; exec cat"],
        "waiting_patterns": ["Allow once"],
    },
}

BINDING_OWNERS: tuple[type[Any], ...] = (
    MainScreen, SessionList, TerminalView, NewSessionScreen, HelpScreen, DisconnectedScreen,
    PtuiApp,
)  # fmt: skip


def write_config(extra: dict[str, Any] | None = None) -> Path:
    """The test config (default agent `cat`) in this test's XDG config dir."""
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "ptui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    agents = {name: {"prompt": "none", **table} for name, table in APP_AGENTS.items()}
    path.write_text(tomli_w.dumps({"default_agent": "cat", "agents": agents, **(extra or {})}))
    return path


@pytest.fixture
def app_config(isolated_home: Path) -> Path:
    return write_config()


@pytest.fixture
def app_server(repo: Path, app_config: Path) -> Iterator[Path]:
    """A repository (the cwd), the app test config, and the server stopped afterwards."""
    yield repo
    stop_server()


def key_for(binding_id: str) -> str:
    """The first default key of the binding with this id, on any of ptui's classes."""
    for owner in BINDING_OWNERS:
        for binding in owner.BINDINGS:
            if isinstance(binding, Binding) and binding.id == binding_id:
                return binding.key.split(",")[0].strip()
    raise AssertionError(f"no binding {binding_id!r}")


async def press(pilot: Pilot[Any], *binding_ids: str) -> None:
    """Press the keys of these bindings, in order."""
    for binding_id in binding_ids:
        await pilot.press(key_for(binding_id))


def new_session(task: str, agent: str = "cat", **params: Any) -> dict[str, Any]:
    """Create a session through the blocking client (before or while the app runs)."""
    with Client() as client:
        infos = client.call(
            "session.create", task=task, agent=agent, repo=str(Path.cwd()), **params
        )
    return dict(infos[0])


def server_call(method: str, **params: Any) -> Any:
    with Client() as client:
        return client.call(method, **params)


async def until(
    pilot: Pilot[Any], predicate: Callable[[], Any], what: str, timeout: float = 10
) -> Any:
    """Let the app run until `predicate()` is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)
        await asyncio.sleep(0.01)


def main_screen(app: PtuiApp) -> MainScreen:
    return app.main_screen


def terminal(app: PtuiApp) -> TerminalView:
    return app.main_screen.terminal


def screen_text(app: PtuiApp) -> str:
    """What the terminal view's mirror holds (the server's screen of the shown tab)."""
    return terminal(app).mirror.text()


def shown_text(app: PtuiApp) -> str:
    """What the terminal view draws right now (live screen, or history / copy view)."""
    view = terminal(app)
    return "\n".join(view.render_line(y).text.rstrip() for y in range(view.size.height))


async def started(pilot: Pilot[Any], sessions: int) -> PtuiApp:
    """Wait for the connection and `sessions` rows in the sidebar."""
    app = pilot.app
    assert isinstance(app, PtuiApp)
    await until(pilot, lambda: app.connected, "the connection")
    await until(
        pilot, lambda: len(app.main_screen.session_list.rows) == sessions, f"{sessions} sessions"
    )
    sidebar = app.main_screen.session_list
    await until(pilot, lambda: terminal(app).session == sidebar.highlighted, "the first session")
    return app


def record_notes(app: PtuiApp) -> list[str]:
    """Every toast's text, as the app raises it."""
    notes: list[str] = []
    original = app.notify

    def notify(message: str, **kwargs: Any) -> None:
        notes.append(message)
        original(message, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return notes
