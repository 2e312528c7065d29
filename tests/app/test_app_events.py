"""Notifications, themes, the empty state and connection failures."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Static

from tests.app.app_harness import (
    SIZE,
    app_config,  # noqa: F401  (fixture)
    app_server,  # noqa: F401  (fixture)
    new_session,
    press,
    record_notes,
    server_call,
    started,
    until,
    write_config,
)
from tests.server.conftest import PTUI, repo, stop_server  # noqa: F401  (fixture)
from tui import paths
from tui.app.app import PtuiApp
from tui.app.screens.disconnected import DisconnectedScreen
from tui.app.themes import ThemeError, load_theme_file
from tui.client import spawn
from tui.errors import PtuiError
from tui.protocol import Method, messages
from tui.protocol.states import LIVE


@pytest.mark.usefixtures("app_server")
async def test_bell_and_waiting_are_announced() -> None:
    write_config({"ui": {"notify": "bell"}})
    shown = new_session("shown", agent="cat")["id"]
    ringer = new_session("ringer", agent="sh")["id"]
    app = PtuiApp(repo=Path.cwd())
    bells: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        app.bell = lambda: bells.append(time.monotonic())  # type: ignore[method-assign]
        notes = record_notes(app)
        await started(pilot, 2)
        sidebar = app.main_screen.session_list
        sidebar.highlight(shown)
        await until(pilot, lambda: app.main_screen.current == shown, "the other session")

        server_call("session.input", id=ringer, text="printf '\\a'\r")
        await until(pilot, lambda: any("ringer rang the bell" in n for n in notes), "the toast")
        assert sidebar.rows[ringer].unseen and bells

        asker = new_session("please ask", agent="asker")["id"]
        await until(pilot, lambda: asker in sidebar.rows, "the new session")
        await until(pilot, lambda: any("please-ask is waiting" in n for n in notes), "waiting")
        assert sidebar.rows[asker].has_class("-waiting")
        # Looking at a session clears its unseen mark.
        sidebar.highlight(ringer)
        await pilot.pause()
        assert not sidebar.rows[ringer].unseen


@pytest.mark.usefixtures("app_server")
async def test_theme_switch_from_the_palette() -> None:
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 0)
        assert app.theme == "ptui-dark"
        assert app.get_css_variables()["session-waiting"] == "#ffd75f"
        app.action_change_theme()
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the theme list")
        await pilot.press(*"ptui-light")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: app.theme == "ptui-light", "the light theme")
        assert app.get_css_variables()["session-waiting"] == "#af8700"
        # Textual's own themes lack ptui's variables: the defaults fill in.
        app.theme = "textual-light"
        await pilot.pause()
        assert app.get_css_variables()["session-busy"] == "#5fafff"


@pytest.mark.usefixtures("app_server")
async def test_bad_theme_file_is_one_warning() -> None:
    themes = paths.user_themes_dir()
    themes.mkdir(parents=True)
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "not a colour"\n')
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#112233"\n')
    write_config({"ui": {"theme": "mine"}})
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        notes = record_notes(app)
        await started(pilot, 0)
        assert app.theme == "mine"
        warnings = [n for n in app._notifications if "broken.toml" in n.message]
        assert len(warnings) == 1 and "not a colour" in warnings[0].message
        assert "\n" not in warnings[0].message
        assert not notes  # nothing else went wrong


def test_theme_file_checks(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    for text, problem in [
        ("name = 'x'\nprimary = 3\n", "must be a colour"),
        ("name = 'x'\n", "needs a primary"),
        ("primary = '#fff'\n", "needs a name"),
        ("name = 'x'\nprimary = '#fff'\nfoo = 1\n", "unknown key 'foo'"),
        ("name = 'x'\nprimary = '#fff'\ndark = 'yes'\n", "dark must be a bool"),
        ("name = 'x'\nprimary = '#fff'\n[variables]\nsession-busy = 'nope'\n", "not a colour"),
        ("name = \n", "invalid TOML"),
    ]:
        path.write_text(text)
        with pytest.raises(ThemeError, match=problem):
            load_theme_file(path)
    path.write_text("name = 'x'\nprimary = '#fff'\n[variables]\ndiff-added = '#000'\n")
    theme = load_theme_file(path)
    assert theme.variables["diff-added"] == "#000" and theme.variables["session-busy"]


@pytest.fixture
def outside_repo(tmp_path: Path, isolated_home: Path) -> Iterator[Path]:
    """A plain directory (no git) as the cwd, the test config, a server stopped afterwards."""
    plain = tmp_path / "plain"
    plain.mkdir()
    os.chdir(plain)
    write_config()
    yield plain
    stop_server()


async def test_outside_a_repository_suggests_the_demo(outside_repo: Path) -> None:
    from tui.cli.app import find_repo

    assert find_repo(outside_repo) is None
    app = PtuiApp(repo=None)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 0)
        empty = app.main_screen.query_one("#empty")
        await until(pilot, lambda: "ptui demo" in str(empty.render()), "the empty state")
        assert not app.main_screen.terminal.display
        notes = record_notes(app)
        await pilot.press("n")
        assert any("ptui demo" in n for n in notes)


async def test_no_server_at_start_exits_with_the_reason(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTUI_SSH", "false")
    app = PtuiApp(host="nowhere")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.exit_error, "the failure")
    assert app.exit_error is not None
    assert app.exit_error.startswith("cannot connect to the ptui server: ")
    assert "\n" not in app.exit_error


def test_ptui_without_a_verb_exits_1_when_it_cannot_connect(
    isolated_home: Path, tmp_path: Path
) -> None:
    import ptyprocess

    env = {**os.environ, "PTUI_SSH": "false", "TERM": "xterm-256color"}
    proc = ptyprocess.PtyProcess.spawn([PTUI, "--host", "nowhere"], cwd=str(tmp_path), env=env)
    output = b""
    while True:
        try:
            output += proc.read(65536)
        except EOFError:
            break
    assert proc.wait() == 1
    assert b"ptui: error: cannot connect to the ptui server" in output


def dialog(app: PtuiApp) -> tuple[str, str]:
    """The disconnect dialog's check result and what it says about the server
    (nothing yet while the dialog is still being composed)."""
    screen = app.screen
    assert isinstance(screen, DisconnectedScreen)
    found = screen.query("#disconnected-server").results(Static)
    text = next(found, None)
    if text is None:
        return "", ""
    return screen.server_state, str(text.content)


async def disconnected(pilot: Pilot[Any], reason: str) -> tuple[str, str]:
    """Wait for the disconnect dialog whose reason starts so, and for its check of the server."""
    app = pilot.app
    assert isinstance(app, PtuiApp)

    def shown() -> bool:
        screen = app.screen
        return isinstance(screen, DisconnectedScreen) and screen.reason.startswith(reason)

    await until(pilot, shown, f"the notice {reason!r}")
    await until(pilot, lambda: dialog(app)[0], "the check of the server")
    return dialog(app)


STOPPED_TEXT = (
    "The ptui server has stopped: its agents were stopped. Your sessions are kept (worktrees "
    "and branches); reconnect starts a server and `R` resumes each agent."
)


@pytest.mark.usefixtures("app_server")
async def test_an_app_the_server_gave_up_on_says_why() -> None:
    """A suspended app (its reading stopped) while its session floods: the server
    disconnects it after a few seconds behind, and the app says the server's reason."""
    sid = new_session("flood", agent="sh")["id"]
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 1)
        await until(pilot, lambda: app.main_screen.terminal.session == sid, "the session on screen")
        # 30 KB clipboard copies (OSC 52) as fast as sh can print them.
        flood = (
            "c=$(head -c 30000 /dev/zero | base64 -w0); "
            "while :; do printf '\\033]52;c;%s\\a' $c; done"
        )
        server_call(Method.SESSION_INPUT, id=sid, text=flood + "\r")
        transport = app.client._writer.transport  # type: ignore[union-attr]  # the real socket
        transport.pause_reading()  # what ctrl-z or a stalled link does to a client
        await pilot.pause(7.0)  # the server's limit is 5 s behind
        transport.resume_reading()
        state = await disconnected(pilot, "the connection to the ptui server closed: ptui: ")
        assert "stopped reading" in app.screen.reason  # type: ignore[attr-defined]
        assert state[0] != "stopped"  # the server is still up: only this client was dropped
        assert spawn.running_pid() is not None


@pytest.mark.usefixtures("app_server")
async def test_server_gone_reconnect_and_quit() -> None:
    sid = new_session("keep me", agent="cat")["id"]
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 1)
        server_call("server.stop")
        state = await disconnected(pilot, "the connection to the ptui server closed")
        assert state == ("stopped", STOPPED_TEXT)  # not "your sessions are safe"
        assert not app.connected and spawn.running_pid() is None
        await press(pilot, "reconnect")  # starts a new server: the session is back, stopped
        await until(pilot, lambda: app.connected and app.sessions.get(sid), "the session")
        assert app.sessions[sid]["status"] == "stopped"
        await press(pilot, "resume")
        await until(pilot, lambda: app.sessions[sid]["status"] in LIVE, "resumed")
        await press(pilot, "stop")
        await until(pilot, lambda: app.sessions[sid]["status"] == "stopped", "stopped")
        await press(pilot, "quit")
        await until(pilot, lambda: app.return_code is not None, "the exit")
    assert app.return_code == 0 and app.exit_error is None
    assert not isinstance(app.screen_stack[-1] if app.screen_stack else None, DisconnectedScreen)


@pytest.mark.usefixtures("app_server")
async def test_connection_dropped_while_the_server_runs() -> None:
    sid = new_session("keep running", agent="cat")["id"]
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 1)
        pid = spawn.running_pid()
        assert pid and app.server_pid == pid
        # A method the server does not know closes that one connection; the server stays.
        asking = asyncio.ensure_future(app.client.call("session.no_such_method"))
        state = await disconnected(pilot, "the connection to the ptui server closed")
        assert isinstance(asking.exception(), PtuiError)  # unknown-method, or the close
        assert state == (
            "running",
            f"The ptui server is still running (pid {pid}): your sessions and agents are running.",
        )
        assert server_call("session.info", id=sid)["status"] in LIVE
        await press(pilot, "reconnect")
        await until(pilot, lambda: app.connected, "the connection")
        assert spawn.running_pid() == pid and app.sessions[sid]["status"] in LIVE

        # Another server since: the one the app knew has stopped, and says so.
        server_call("server.stop")
        await disconnected(pilot, "the connection to the ptui server closed")
        server_call("server.status")  # starts the next server
        new_pid = spawn.running_pid()
        screen = DisconnectedScreen("the connection to the ptui server closed", None, pid)
        app.push_screen(screen)
        await until(pilot, lambda: screen.server_state, "the check")
        state, text = dialog(app)
        assert state == "restarted"
        assert f"another server runs now (pid {new_pid}): reconnect and `R`" in text


@pytest.mark.usefixtures("app_server")
async def test_a_failed_reconnect_checks_again() -> None:
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 0)
        server_call("server.stop")
        state, _ = await disconnected(pilot, "the connection to the ptui server closed")
        assert state == "stopped"
        runtime = paths.runtime_dir()
        runtime.chmod(0o755)  # refused as a socket directory: the reconnect fails
        try:
            await press(pilot, "reconnect")
            state, text = await disconnected(pilot, "cannot reconnect: ")
            assert state == "unknown"
            assert text.startswith("Cannot tell whether the ptui server runs: ")
            assert "open to others" in text
        finally:
            runtime.chmod(0o700)
        await press(pilot, "reconnect")
        await until(pilot, lambda: app.connected, "the connection")


@pytest.mark.usefixtures("app_server")
async def test_remote_disconnect_says_what_it_cannot_know(monkeypatch: pytest.MonkeyPatch) -> None:
    # An "ssh" that runs the remote command here: the app speaks --host's protocol
    # through a real `ptui proxy`, to this test's server.
    monkeypatch.setenv("PTUI_SSH", "sh -c 'eval \"exec $8\"' ssh")
    monkeypatch.setenv("PTUI_REMOTE_PTUI", PTUI)
    remote = ("remote", "Sessions there keep running unless that server stopped.")
    app = PtuiApp(host="box", repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 0)
        assert app.server_pid is None
        await until(pilot, lambda: "session.summary" in app.optional_methods, "a summary")
        server_call("server.stop")
        assert await disconnected(pilot, "the connection to box closed") == remote
        monkeypatch.setenv("PTUI_SSH", "false")  # the host is unreachable now
        await press(pilot, "reconnect")
        assert await disconnected(pilot, "cannot reconnect: ") == remote


@pytest.mark.usefixtures("app_server")
async def test_a_method_the_server_lacks_never_costs_the_connection() -> None:
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 0)
        main_client = app.client
        # hello listed the server's methods: a present one is asked on the app's own
        # connection, no probe connection is opened.
        assert set(app.client.server["methods"]) == set(Method)
        assert await app.request_optional(messages.SessionList()) == []
        assert app.optional_methods["session.list"] is True
        # A server without one (an older release) is never asked it: asking an unknown
        # method would close the connection.
        app.client.server["methods"] = [m for m in Method if m != Method.SESSION_SUMMARY]
        assert await app.request_optional(messages.SessionSummary()) is None
        assert app.optional_methods["session.summary"] is False
        assert await app.client.request(messages.SessionList()) == []  # connection is fine
        assert app.client is main_client


def test_every_binding_has_an_id_and_a_tooltip() -> None:
    from textual.binding import Binding

    from tests.app.app_harness import BINDING_OWNERS

    ids: list[str] = []
    for owner in BINDING_OWNERS:
        for binding in owner.BINDINGS:
            assert isinstance(binding, Binding), owner
            assert binding.id and binding.tooltip, (owner.__name__, binding)
            ids.append(binding.id)
    assert len(ids) == len(set(ids)), "binding ids must be unique"


@pytest.mark.usefixtures("app_server")
@pytest.mark.config_key("ui.notify")
async def test_osc9_notification_to_the_outer_terminal() -> None:
    write_config({"ui": {"notify": "osc9"}})
    ringer = new_session("ringer", agent="sh")["id"]
    new_session("zz other", agent="cat")
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 2)
        written: list[str] = []
        driver = app._driver
        assert driver is not None
        original = driver.write
        driver.write = lambda data: (written.append(data), original(data))[1]  # type: ignore[method-assign]
        app.main_screen.session_list.highlight("zz-other")
        await until(pilot, lambda: app.main_screen.current == "zz-other", "the other session")
        server_call("session.input", id=ringer, text="printf '\\a'\r")
        osc9 = "\x1b]9;ptui: ringer rang the bell\x07"
        await until(pilot, lambda: any(osc9 in w for w in written), "the OSC 9 sequence")
