"""The ptui app: a client of the session host, showing and driving its sessions.

The app never touches a PTY, pygit2 or the state file: everything goes through
`AsyncClient`. Pushed events arrive through the client's callback and become
messages (`tui.app.messages`); screen updates go straight to the terminal view
that attached the tab, which repaints once per frame at most. What screens share
(the connection, the sessions, the keymap) is the app's `AppContext`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any, ClassVar, TypeVar

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.css.query import NoMatches
from textual.theme import Theme

from tui.app._textual_internals import FrameHoldingApp
from tui.app.commands import PtuiCommands
from tui.app.context import AppContext, SessionStore
from tui.app.messages import (
    Bell,
    ServerError,
    SessionEvent,
    SessionsChanged,
    StatusChanged,
    SummariesChanged,
)
from tui.app.notify import Notifier
from tui.app.screens.main import MainScreen
from tui.app.themes import DEFAULT_THEME, PTUI_VARIABLES, load_themes
from tui.app.widgets.terminal_view import TerminalView
from tui.client.async_client import AsyncClient
from tui.client.connection import EarlyConnection
from tui.config import Config, load_config
from tui.errors import PtuiError
from tui.protocol import Activity, Event, Method, messages
from tui.protocol.events import (
    ErrorEvent,
    ScreenEvent,
    ServerEvent,
    SessionsEvent,
    StatusEvent,
)
from tui.protocol.messages import Request

SUMMARY_INTERVAL = 3.0
"""Seconds between two `session.summary` polls at most."""
STARTUP_GC_PAUSE = 1.0
"""Seconds after mount that garbage collection stays off, if the CLI paused it."""

R = TypeVar("R")

_STOPPED_WORKING = frozenset({Activity.IDLE, Activity.WAITING, Activity.EXITED})
"""A busy agent that moves to one of these has output the user has not seen."""

__all__ = ["PtuiApp"]


class PtuiApp(FrameHoldingApp, App[None]):
    """Sessions in a sidebar, the focused one's terminal beside it."""

    TITLE = "ptui"
    # Absolute: subclasses live elsewhere. The main screen's rules are read here
    # too (see MainScreen).
    CSS_PATH: ClassVar[list[str | PurePath]] = [
        Path(__file__).with_name("app.tcss"),
        Path(__file__).parent / "screens" / "main.tcss",
    ]
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {PtuiCommands}
    # ctrl+q and ctrl+p are not priority bindings: inside a session the agent gets
    # them (readline's previous-history, ...); leader ctrl+q / leader ctrl+p work there.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", id="quit", tooltip="Quit ptui (sessions keep running)"),
        Binding("ctrl+p", "command_palette", "Palette", id="command_palette", show=False,
                tooltip="Every action and every session, searchable"),
    ]  # fmt: skip

    def __init__(
        self,
        *,
        host: str | None = None,
        ssh_config: str | None = None,
        repo: Path | None = None,
        early: EarlyConnection | None = None,
    ) -> None:
        super().__init__()
        self._early = early
        """A connection begun before Textual was imported (local only), or None."""
        self.ssh_config = ssh_config
        self.user_config: Config = load_config(None)
        """The user's own file: all `[ui]` is read from (a repository may not set it)."""
        self.context = AppContext(
            post=self.post_message,
            user_config=self.user_config,
            host=host,
            repo=repo,
            display_key=self.get_key_display,
            reconnect=self.reconnect,
        )
        """What the screens share; they reach it through `app_context`."""
        self._ever_connected = False
        self.server_pid: int | None = None
        """The pid of the server last connected to (None for --host: another machine's)."""
        self.exit_error: str | None = None
        """Why the app ended early (no server): the CLI prints it and exits 1."""
        self.main_screen: MainScreen
        self._summary_due = False
        self._summary_running = False
        self._last_summary = 0.0
        self._theme_warnings = self._set_up_theme()
        self.notifier = Notifier(
            self,
            self.user_config.ui.notify,
            sessions=self.context.sessions,
            on_screen=self._session_on_screen,
        )
        """Tells the user about sessions that need them (`ui.notify`)."""

    # ------------------------------------------------------------ set up
    @property
    def client(self) -> AsyncClient:
        """The server connection (ConnectionLost before it is made)."""
        return self.context.client

    @property
    def host(self) -> str | None:
        """The ssh destination of the server (`--host`), or None for this machine's."""
        return self.context.host

    @host.setter
    def host(self, host: str | None) -> None:
        self.context.host = host

    @property
    def repo(self) -> Path | None:
        """The git repository ptui was started in (its work tree root), or None."""
        return self.context.repo

    @repo.setter
    def repo(self, repo: Path | None) -> None:
        self.context.repo = repo

    @property
    def client_or_none(self) -> AsyncClient | None:
        return self.context.client_or_none

    @client_or_none.setter
    def client_or_none(self, client: AsyncClient | None) -> None:
        self.context.client_or_none = client

    @property
    def connected(self) -> bool:
        return self.context.connected

    @connected.setter
    def connected(self, connected: bool) -> None:
        self.context.connected = connected

    @property
    def sessions(self) -> SessionStore:
        """Every session the server knows (archived too), by id (read-only here)."""
        return self.context.sessions

    @property
    def summaries(self) -> dict[str, messages.Summary]:
        return self.context.summaries

    @property
    def keymap(self) -> dict[str, str]:
        return self.context.keymap

    @property
    def optional_methods(self) -> dict[str, bool]:
        return self.context.optional_methods

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(PTUI_VARIABLES)

    def _set_up_theme(self) -> list[str]:
        """Register the themes and pick the configured one; the warnings to show.

        Done in `__init__`, before Textual first parses the stylesheet: choosing a
        theme later parses every rule again (~10 ms of start-up).
        """
        themes, warnings = load_themes()
        for theme in themes:
            self.register_theme(theme)
        wanted = self.user_config.ui.theme
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            warnings.append(f"unknown theme {wanted!r}; using {DEFAULT_THEME}")
            self.theme = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else self.theme
        return warnings

    def refresh_css(self, animate: bool = True) -> None:
        if not self.screen_stack:
            # Choosing the theme in `__init__` queues this before anything is styled:
            # reparsing now would parse every source once more (~4 ms before the
            # first frame) for rules the first style pass parses anyway.
            self.stylesheet.set_variables(self.get_css_variables())
            return
        super().refresh_css(animate)

    def on_mount(self) -> None:
        for warning in self._theme_warnings:
            self.notify(warning, title="Theme", severity="warning", timeout=10)
        self.set_keymap(self.keymap)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        early = self._early
        if early is not None and early.done():
            if early.error is not None:  # say why and end, before building a screen
                self._fail_to_connect(early.error)
                return
            # The server answered while Textual was importing: the first frame lists
            # the sessions, instead of a frame without them and another after.
            self.context.sessions.replace(early.subscribed["sessions"])
        self.main_screen = MainScreen()
        self.push_screen(self.main_screen)
        self.connect()
        self.set_interval(SUMMARY_INTERVAL, self.request_summaries)
        if not gc.isenabled():  # paused for start-up by `tui.cli.app`
            self.set_timer(STARTUP_GC_PAUSE, self._resume_gc)

    def _resume_gc(self) -> None:
        """Start-up's objects live as long as the app: freeze them out of every future
        collection (shorter pauses while typing), then collect as usual."""
        gc.freeze()
        gc.enable()

    def key_display(self, binding_id: str, default: str = "") -> str:
        """How a binding's key is shown after the user's remaps (`^]`, `?`)."""
        return self.context.key_display(binding_id, default)

    async def open_client(self) -> AsyncClient:
        """Connect to the server (tests override this to feed canned events)."""
        return await AsyncClient.connect(
            self.host, on_event=self.on_server_event, ssh_config=self.ssh_config, name="app"
        )

    async def open_subscribed(self) -> tuple[AsyncClient, messages.Subscribed]:
        """A connection subscribed to events, and the subscription's answer.

        The first time, that is the connection begun before start-up, if any.
        """
        early, self._early = self._early, None
        if early is not None:
            if not early.done():
                await asyncio.to_thread(early.wait)
            if early.error is not None:
                raise early.error
            if early.client is not None:
                client = await AsyncClient.adopt(early.client, on_event=self.on_server_event)
                return client, early.subscribed
        client = await self.open_client()
        return client, await client.request(messages.Subscribe())

    @work(exclusive=True, group="connect")
    async def connect(self) -> None:
        """Connect, subscribe to events, and show the sessions; watch for the end."""
        try:
            client, answer = await self.open_subscribed()
        except (PtuiError, OSError) as exc:
            message = " ".join(str(exc).split()) or type(exc).__name__
            if self._ever_connected:  # a reconnect that failed: say so, offer again
                from tui.app.screens.disconnected import DisconnectedScreen

                reason = f"cannot reconnect: {message}"
                self.push_screen(DisconnectedScreen(reason, self.host, self.server_pid))
                return
            self._fail_to_connect(message)
            return
        self.client_or_none = client
        self.connected = self._ever_connected = True
        self.send_theme_colors()
        # Asked now so the new-session form has them: this server's, this connection's.
        self.context.forget_settings()
        if self.repo is not None:
            self.context.repo_settings(str(self.repo))
        self.server_pid = client.server["pid"] if self.host is None else None
        self.notifier.connected()  # who already waits is said once, when things settle
        self.post_message(SessionsChanged(answer["sessions"]))
        self.on_main(lambda main: main.terminal.reattach())  # after a reconnect
        await self.wait_closed(client)
        with contextlib.suppress(Exception):
            await client.close()  # reap the ssh of --host; a socket is closed already
        if self.client_or_none is client and self.is_running:
            self.connected = False
            self.client_or_none = None
            from tui.app.screens.disconnected import DisconnectedScreen

            reason = f"the connection to {self.host or 'the ptui server'} closed"
            if client.lost_reason:  # the server said why (a client that stopped reading)
                reason = f"{reason}: {client.lost_reason}"
            self.push_screen(DisconnectedScreen(reason, self.host, self.server_pid))

    def _fail_to_connect(self, reason: PtuiError | OSError | str) -> None:
        """End the app: the CLI prints why (`exit_error`, one line) and exits 1."""
        message = reason if isinstance(reason, str) else str(reason)
        message = " ".join(message.split()) or type(reason).__name__
        self.exit_error = f"cannot connect to the ptui server: {message}"
        self.exit(return_code=1)

    async def wait_closed(self, client: AsyncClient) -> None:
        """Return when the connection ends."""
        # AsyncClient has no public close hook; its reader task ends with the connection.
        task = getattr(client, "_task", None)
        if not isinstance(task, asyncio.Task):
            return
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise  # this worker was cancelled (the app is closing)
        except Exception:
            pass  # the reader ended with an error: the connection is gone all the same

    def reconnect(self) -> None:
        self.connected = False
        self.connect()

    async def action_quit(self) -> None:
        """Detach and disconnect, then exit; the sessions keep running in the server."""
        with contextlib.suppress(NoMatches):
            self.main_screen.terminal.leave()
        client, self.client_or_none = self.client_or_none, None
        self.connected = False
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 2)
        self.exit()

    # ------------------------------------------------------ theme colours
    def theme_colors(self) -> tuple[str, str]:
        """(foreground, background) as `#rrggbb`: the colours a session's text appears
        in, `$foreground` on `$background` (TerminalView's DEFAULT_CSS)."""
        variables = self.get_css_variables()
        ansi = self.ansi_theme
        background = Color.parse(variables["background"])
        if background.ansi is not None:  # the outer terminal's own: Textual's guess at it
            background = Color(*ansi.background_color)
        foreground = Color.parse(variables["foreground"])
        if foreground.ansi is not None:
            foreground = Color(*ansi.foreground_color)
        return _hex(background + foreground), _hex(background)

    def _theme_changed(self, theme: Theme) -> None:
        self.send_theme_colors()

    @work(exclusive=True, group="colors")
    async def send_theme_colors(self) -> None:
        """Tell the server the theme's colours: programs that ask (OSC 10/11) then
        choose a palette that suits them, dark or light."""
        if not self.connected:
            return  # sent once connected
        foreground, background = self.theme_colors()
        try:
            await self.request_optional(
                messages.ClientColors(foreground=foreground, background=background)
            )
        except PtuiError as exc:
            self.log.warning(f"client.colors: {exc}")

    # ---------------------------------------------------------- events
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and self._key_to_terminal(event):
            return
        await super().on_event(event)

    def _key_to_terminal(self, event: events.Key) -> bool:
        """Give a keystroke straight to the focused terminal view, if it takes it
        (`TerminalView.take_key`); True when it did."""
        if event.is_forwarded or not self.app_focus or self.screen.maximized is not None:
            return False
        view = self.focused
        return isinstance(view, TerminalView) and view.take_key(event)

    def on_server_event(self, event: ServerEvent) -> None:
        """The client's callback: one pushed event (decoded), as it arrives."""
        if isinstance(event, ScreenEvent):
            sink = self.context.screen_sinks.get((event.session, event.tab))
            if sink is not None:
                sink(event.data)
        elif isinstance(event, SessionsEvent):
            self.post_message(SessionsChanged(event.sessions))
        elif isinstance(event, StatusEvent):
            self.post_message(
                StatusChanged(
                    event.session, event.status, event.exit_code, event.reason, event.limited_until
                )
            )
        elif isinstance(event, ErrorEvent):
            self.post_message(ServerError(event.code, event.message))
        elif event.kind is Event.BELL:
            self.post_message(Bell(event.session, event.tab))
        else:
            self.post_message(SessionEvent(event.kind, event.session, event.tab, event.value))

    def on_sessions_changed(self, message: SessionsChanged) -> None:
        # The first list after start-up is usually known already (EarlyConnection);
        # an empty one still updates: the empty state said "Connecting…".
        if self.context.sessions.replace(message.sessions) or not message.sessions:
            self.on_main(lambda main: main.update_sessions())
        self.request_summaries(force=True)

    def on_session_store_changed(self, message: SessionStore.Changed) -> None:
        """Show the sessions a screen changed in the store."""

        def update(main: MainScreen) -> None:
            for session_id in message.ids:
                main.update_session(session_id)

        self.on_main(update)

    def on_status_changed(self, message: StatusChanged) -> None:
        old = self.context.sessions.set_status(
            message.session,
            message.status,
            message.exit_code,
            message.reason,
            message.limited_until,
        )
        if old is None:
            return
        self.on_main(lambda main: main.update_session(message.session))
        if old == Activity.BUSY and message.status in _STOPPED_WORKING:
            # It worked and stopped: there is output you have not seen.
            self.on_main(lambda main: main.mark_unseen(message.session))
        if old != message.status:
            self.notifier.status_changed(message.session, old, message.status)
        self.request_summaries(force=True)

    def on_bell(self, message: Bell) -> None:
        if message.session == self._session_on_screen():
            self.bell()  # the session in view rang: the outer terminal rings
            if self.app_focus:
                return
        else:
            self.on_main(lambda main: main.mark_unseen(message.session))
        self.notifier.rang(message.session)

    def on_session_event(self, message: SessionEvent) -> None:
        shown = message.session == self._session_on_screen()
        value = message.value
        if message.kind == "clipboard" and shown and isinstance(value, list) and len(value) == 2:
            self.copy_to_clipboard(str(value[1]))
        elif message.kind == "notification" and isinstance(value, list) and value:
            text = " ".join(str(part) for part in value if part)
            self.notifier.rang(message.session, text or "sent a notification")

    def on_server_error(self, message: ServerError) -> None:
        self.notify(message.message, title="Server", severity="error")

    def on_summaries_changed(self, message: SummariesChanged) -> None:
        self.context.summaries = message.summaries
        self.on_main(lambda main: main.update_summaries())

    def on_main(self, update: Callable[[MainScreen], None]) -> None:
        """Update the main screen, unless it is gone (the app is closing)."""
        if self.main_screen.is_attached:
            with contextlib.suppress(NoMatches):
                update(self.main_screen)

    def _session_on_screen(self) -> str | None:
        """The session the main screen shows (None before it exists)."""
        main = getattr(self, "main_screen", None)
        return main.current if main is not None else None

    # --------------------------------------------------------- summaries
    def request_summaries(self, force: bool = False) -> None:
        """Refresh the sidebar's counts: now if the last poll is old enough, else soon."""
        if not self.connected or self.optional_methods.get(Method.SESSION_SUMMARY) is False:
            return
        if self._summary_running:
            self._summary_due = True
            return
        wait = self._last_summary + SUMMARY_INTERVAL - time.monotonic()
        if wait <= 0:
            self._poll_summaries()
        elif force and not self._summary_due:
            self._summary_due = True
            self.set_timer(wait, self._summary_timer)

    def _summary_timer(self) -> None:
        self._summary_due = False
        self.request_summaries()

    @work(group="summary")
    async def _poll_summaries(self) -> None:
        self._summary_running = True
        self._last_summary = time.monotonic()
        try:
            result = await self.request_optional(messages.SessionSummary())
        finally:
            self._summary_running = False
        if result is not None:
            self.post_message(SummariesChanged(result))
        if self._summary_due:
            self._summary_due = False
            self.request_summaries(force=True)

    async def request_optional(self, request: Request[R]) -> R | None:
        """Send a request the server may not answer (`AppContext.request_optional`)."""
        return await self.context.request_optional(request)


def _hex(color: Color) -> str:
    """`#rrggbb` of an opaque colour."""
    r, g, b = color.rgb
    return f"#{r:02x}{g:02x}{b:02x}"
