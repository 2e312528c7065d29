"""The app context without the app: the session store and a terminal view on its own.

The store's changes post `SessionStore.Changed` (here into a list, as the app's
`post_message` would into its queue). The terminal view runs in a bare Textual app
that gives it only a connection to the real server and a table of screen sinks,
as Toad's `Terminal` runs in whatever app hosts it.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.message import Message

from tests.app.app_harness import (
    app_config,  # noqa: F401  (fixture)
    app_server,  # noqa: F401  (fixture)
    new_session,
    until,
)
from tests.server.conftest import repo  # noqa: F401  (fixture)
from tui.app.context import AppContext, SessionStore
from tui.app.widgets.terminal_view import TerminalView
from tui.client.async_client import AsyncClient
from tui.config import load_config
from tui.protocol import Activity, SessionInfo, messages
from tui.protocol.events import ScreenEvent, ServerEvent


def info(session_id: str, **fields: Any) -> SessionInfo:
    base: dict[str, Any] = {"id": session_id, "name": session_id, "status": "idle",
                            "tabs": ["agent"], "archived": False}  # fmt: skip
    return base | fields  # type: ignore[return-value]


def changed_ids(posted: list[Message]) -> list[tuple[str, ...]]:
    assert all(isinstance(m, SessionStore.Changed) for m in posted), posted
    return [m.ids for m in posted if isinstance(m, SessionStore.Changed)]


def test_a_screens_changes_to_the_store_post_what_changed() -> None:
    posted: list[Message] = []
    store = SessionStore(posted.append)

    # The server's events: the app applies them and redraws in the same handler.
    assert store.replace([info("a"), info("b")]) is True
    assert store.replace([info("a"), info("b")]) is False  # the same list: nothing to redraw
    assert store.set_status("b", Activity.BUSY, None) == "idle"
    assert store["b"]["status"] == "busy"
    assert store.set_status("gone", Activity.BUSY, None) is None  # unknown session
    assert posted == []

    # A screen's: each posts the ids it changed.
    store.put(info("c"), info("a", name="renamed"))
    store.put(info("d"), post=False)  # its caller redraws it itself
    assert store["a"]["name"] == "renamed" and sorted(store) == ["a", "b", "c", "d"]
    store.add_tab("c", "shell")
    store.add_tab("c", "shell")  # already there: no change
    assert store["c"]["tabs"] == ["agent", "shell"]
    assert changed_ids(posted) == [("c", "a"), ("c",)]


def test_key_display_follows_the_keymap() -> None:
    context = AppContext(post=lambda message: None, user_config=load_config(None))
    context.keymap["diff"] = "D,ctrl+d"
    assert context.key_display("diff", "d") == "D, ctrl+d"
    assert context.key_display("unmapped", "x") == "x"


class BareTerminalApp(App[None]):
    """Hosts one TerminalView with nothing of ptui's app: a client and a sink table."""

    def __init__(self, session: str) -> None:
        super().__init__()
        self.session = session
        self.client: AsyncClient | None = None
        self.sinks: dict[tuple[str, str], Any] = {}

    def compose(self) -> ComposeResult:
        yield TerminalView(connection=lambda: self.client, sinks=self.sinks)

    def route(self, event: ServerEvent) -> None:
        if isinstance(event, ScreenEvent) and (sink := self.sinks.get((event.session, event.tab))):
            sink(event.data)

    async def on_mount(self) -> None:
        self.client = await AsyncClient.connect(on_event=self.route, name="test")
        await self.client.request(messages.Subscribe())
        view = self.query_one(TerminalView)
        view.show(self.session)
        view.focus()

    async def on_unmount(self) -> None:
        if self.client is not None:
            await self.client.close()


@pytest.mark.usefixtures("app_server")
async def test_a_terminal_view_runs_in_any_app_given_its_hooks() -> None:
    session = new_session("bare")["id"]
    app = BareTerminalApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(TerminalView)
        await until(pilot, lambda: app.sinks.get((session, "agent")) == view.feed, "the sink")
        await until(pilot, lambda: view.mirror.updates, "the first screen")
        await pilot.press(*"hello", "enter")  # `cat` echoes it back
        await until(pilot, lambda: "hello" in view.mirror.text(), "the echo")
        view.show(None)  # leaving the tab takes its sink out of the table
        assert app.sinks == {}
