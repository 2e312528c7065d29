"""Start-up: the connection begun before Textual imports (sessions in the first screen,
nothing lost), and garbage collection paused meanwhile."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest

from tests.app.app_harness import (
    SIZE,
    app_config,  # noqa: F401  (fixture)
    app_server,  # noqa: F401  (fixture)
    new_session,
    started,
    until,
)
from tests.server.conftest import repo  # noqa: F401  (fixture)
from tui.app.app import PtuiApp
from tui.client.async_client import AsyncClient
from tui.client.connection import Client, EarlyConnection
from tui.protocol.events import ServerEvent, SessionsEvent
from tui.protocol.messages import SessionList


class MountProbe(PtuiApp):
    """Records which sessions the app knew when it built its main screen."""

    known_at_mount: list[str] | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self.known_at_mount = sorted(self.sessions)  # before any worker could run


@pytest.mark.usefixtures("app_server")
async def test_the_main_screen_is_built_with_the_sessions_already_known() -> None:
    ids = sorted(new_session(f"task {n}")["id"] for n in (1, 2))
    early = EarlyConnection()
    assert early.wait(10) and early.client is not None, early.error
    app = MountProbe(repo=Path.cwd(), early=early)
    async with app.run_test(size=SIZE) as pilot:
        assert app.known_at_mount == ids
        await started(pilot, 2)
        assert app.main_screen.session_list.visible_ids() == ids

    plain = MountProbe(repo=Path.cwd())  # without it: known only once connected
    async with plain.run_test(size=SIZE) as pilot:
        assert plain.known_at_mount == []
        await started(pilot, 2)


@pytest.mark.usefixtures("app_server")
async def test_events_sent_before_the_app_adopts_the_connection_arrive() -> None:
    new_session("before")
    early = EarlyConnection()
    assert early.wait(10) and early.client is not None, early.error
    later = new_session("after the subscription")  # its event waits in the socket
    app = PtuiApp(repo=Path.cwd(), early=early)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 2)
        assert later["id"] in app.main_screen.session_list.visible_ids()


@pytest.mark.usefixtures("app_server")
async def test_adopt_delivers_events_the_blocking_client_had_read_first() -> None:
    client = Client(name="early")
    client.call("events.subscribe")
    made = new_session("while subscribed")
    client.call("session.list")  # reads the sessions-changed event on the way
    assert client.has_events
    got: list[ServerEvent] = []
    adopted = await AsyncClient.adopt(client, on_event=got.append)
    try:
        assert got and isinstance(got[0], SessionsEvent)
        assert made["id"] in [s["id"] for s in got[0].sessions]
        listed = await asyncio.wait_for(adopted.request(SessionList()), 10)  # ids continue
        assert made["id"] in [s["id"] for s in listed]
    finally:
        await adopted.close()
    assert client.closed


async def test_a_failed_early_connection_ends_the_app_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "not-a-dir" / "x"))
    (tmp_path / "not-a-dir").write_text("a file where the runtime dir should be")
    early = EarlyConnection()
    assert early.wait(10) and early.client is None and early.error is not None
    app = PtuiApp(repo=None, early=early)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.exit_error, "the exit error")
    assert app.exit_error is not None
    assert app.exit_error.startswith("cannot connect to the ptui server: ")


@pytest.mark.usefixtures("app_server")
async def test_collection_paused_for_start_up_comes_back_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tui.app.app.STARTUP_GC_PAUSE", 0.05)
    gc.disable()  # as `tui.cli.app.pause_gc_for_startup` does
    try:
        app = PtuiApp(repo=Path.cwd())
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, gc.isenabled, "garbage collection back on")
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()
