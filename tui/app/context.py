"""What the app's screens share: the connection, the sessions, the keymap, the sinks.

`PtuiApp` makes one `AppContext` and keeps it as `app.context`; screens reach it
through `app_context(self)`, which imports nothing of the app, so screens and the
app module import each other in one direction only (a contract in pyproject.toml
says so). Screens never write the session list themselves: they tell the
`SessionStore`, which posts `SessionStore.Changed` for the app to redraw from.

The terminal view does not use the context: it is given a connection getter and
the screen sinks (see `TerminalView`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

from textual.binding import Binding
from textual.dom import DOMNode
from textual.message import Message

from tui.client.async_client import AsyncClient
from tui.client.connection import ConnectionLost
from tui.config import Config, settings_for
from tui.errors import PtuiError
from tui.protocol import Activity, SessionInfo, messages
from tui.protocol.events import ScreenUpdate
from tui.protocol.messages import Request

R = TypeVar("R")

ScreenSink = Callable[[ScreenUpdate], None]
"""Applies the `screen` events of one attached (session, tab)."""


class SessionStore(Mapping[str, SessionInfo]):
    """Every session the server knows (archived too), by id; read like a dict.

    A screen's change (`put`, `add_tab`) posts `SessionStore.Changed` through
    `post` (the app's `post_message`): the screen need not know who shows the
    session. The server's events (`replace`, `set_status`) are applied by the app,
    whose handler redraws at once, as it did before there was a store: a redraw
    deferred to a message reads the store later, and can undo an attach that
    answered in between (the terminal's `alive`, from a status older than it).
    """

    class Changed(Message):
        """A screen changed these sessions (by id)."""

        def __init__(self, ids: tuple[str, ...]) -> None:
            super().__init__()
            self.ids = ids

    def __init__(self, post: Callable[[Message], object]) -> None:
        self._post = post
        self._sessions: dict[str, SessionInfo] = {}

    def __getitem__(self, session_id: str) -> SessionInfo:
        return self._sessions[session_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sessions)

    def __len__(self) -> int:
        return len(self._sessions)

    def replace(self, sessions: list[SessionInfo]) -> bool:
        """Take the server's whole list; True if it differs from the one held."""
        before = self._sessions
        # Each one was checked once, as it arrived (tui.protocol.events, messages).
        self._sessions = {info["id"]: info for info in sessions}
        return self._sessions != before

    def put(self, *infos: SessionInfo, post: bool = True) -> None:
        """Add or replace sessions with what the server answered for them.

        Posts `Changed` with their ids, unless `post` is False: for a caller that
        redraws them itself at once (a second redraw could undo what happened since).
        """
        for info in infos:
            self._sessions[info["id"]] = info
        if infos and post:
            self._post(self.Changed(tuple(info["id"] for info in infos)))

    def set_status(
        self,
        session_id: str,
        status: Activity,
        exit_code: int | None,
        reason: str = "",
        limited_until: str = "",
    ) -> Activity | None:
        """Record what a session's agent does now, and why; the status before (None:
        unknown session)."""
        info = self._sessions.get(session_id)
        if info is None:
            return None
        old = info["status"]
        info["status"] = status
        info["reason"] = reason
        info["limited_until"] = limited_until
        if exit_code is not None:
            info["exit_code"] = exit_code
        return old

    def add_tab(self, session_id: str, tab: str) -> None:
        """A tab opened in a session (the server's next list says so too)."""
        info = self._sessions.get(session_id)
        if info is not None and tab not in info["tabs"]:
            info["tabs"] = [*info["tabs"], tab]
            self._post(self.Changed((session_id,)))


class AppContext:
    """The app's state and server access that screens use, without the app itself."""

    def __init__(
        self,
        *,
        post: Callable[[Message], object],
        user_config: Config,
        host: str | None = None,
        repo: Path | None = None,
        display_key: Callable[[Binding], str] = lambda binding: binding.key,
        reconnect: Callable[[], None] = lambda: None,
    ) -> None:
        self.host = host
        """The ssh destination of the server (`--host`), or None for this machine's."""
        self.repo = repo
        """The git repository ptui was started in (its work tree root), or None."""
        self.user_config = user_config
        """The user's own file: all `[ui]` is read from (a repository may not set it)."""
        self.client_or_none: AsyncClient | None = None
        self.connected = False
        self.sessions = SessionStore(post)
        self.summaries: dict[str, messages.Summary] = {}
        self.keymap: dict[str, str] = {"leader": user_config.ui.leader, **user_config.ui.keys}
        """Binding id -> keys, from `ui.leader` and `[ui.keys]`; given to `set_keymap`."""
        self.screen_sinks: dict[tuple[str, str], ScreenSink] = {}
        """Who applies `screen` events for an attached (session, tab): its terminal view."""
        self.optional_methods: dict[str, bool] = {}
        """Methods newer than the protocol's first version: known present / absent."""
        self._settings: dict[tuple[str, str | None], asyncio.Task[messages.Settings]] = {}
        """`repo.settings` answers (or their requests in flight), by (repo, base)."""
        self._display_key = display_key
        self._reconnect = reconnect

    @property
    def client(self) -> AsyncClient:
        """The server connection (ConnectionLost before it is made)."""
        if self.client_or_none is None:
            raise ConnectionLost("not connected to the ptui server")
        return self.client_or_none

    def key_display(self, binding_id: str, default: str = "") -> str:
        """How a binding's key is shown after the user's remaps (`^]`, `?`)."""
        keys = self.keymap.get(binding_id) or default
        return ", ".join(self._display_key(Binding(k.strip(), "")) for k in keys.split(",") if k)

    def reconnect(self) -> None:
        """Connect to the server again (after the connection was lost)."""
        self._reconnect()

    def forget_settings(self) -> None:
        """A new connection: ask for every repository's settings again."""
        self._settings.clear()

    def repo_settings(self, repo: str, base: str | None = None) -> asyncio.Task[messages.Settings]:
        """What a new session in `repo` would get, as the server says (`repo.settings`:
        its config, the repository's trusted file included); asked once per connection.
        A server too old to say gets the user's own file."""
        key = (repo, base)
        task = self._settings.get(key)
        if task is None or (task.done() and (task.cancelled() or task.exception())):
            task = asyncio.get_running_loop().create_task(self._ask_settings(repo, base))
            self._settings[key] = task
        return task

    def known_settings(self, repo: str) -> messages.Settings:
        """The settings for `repo` if they have arrived, else the user's own file's."""
        task = self._settings.get((repo, None))
        if task is not None and task.done() and not task.cancelled() and not task.exception():
            return task.result()
        return settings_for(self.user_config, repo)

    async def _ask_settings(self, repo: str, base: str | None) -> messages.Settings:
        answer = await self.request_optional(messages.RepoSettings(repo=repo, base=base))
        return answer if answer is not None else settings_for(self.user_config, repo)

    async def request_optional(self, request: Request[R]) -> R | None:
        """Send a request the server may not answer (a newer method); None if it does not.

        The server's `hello` lists its methods, so a method it lacks is never sent
        (an unknown method would cost the connection). A server too old to list
        them is asked only what every server answers.
        """
        client = self.client_or_none
        if client is None:
            return None
        supported = request.METHOD in client.server.get("methods", ())
        self.optional_methods[request.METHOD] = supported
        if not supported:
            return None
        try:
            return await client.request(request)
        except (PtuiError, OSError):
            return None


def app_context(node: DOMNode) -> AppContext:
    """The context of the app `node` runs in (the app keeps it as `app.context`)."""
    context = getattr(node.app, "context", None)
    if not isinstance(context, AppContext):
        raise LookupError(f"{type(node.app).__name__} has no ptui AppContext")
    return context
