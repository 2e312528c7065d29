"""Server events as Textual messages.

The client's reader calls `PtuiApp` back for every pushed event; the app turns
each into one of these and posts it, so handlers run like any other message.
Screen updates are the exception: the terminal view applies them to its mirror
as they arrive and marks the changed rows itself (the screen draws at most once
a frame), so they never queue as messages.
"""

from __future__ import annotations

from textual.message import Message

from tui.protocol import Activity, Event, SessionInfo
from tui.protocol.messages import Summary


class SessionsChanged(Message):
    """The server's list of sessions changed (created, removed, renamed, ...)."""

    def __init__(self, sessions: list[SessionInfo]) -> None:
        super().__init__()
        self.sessions = sessions


class StatusChanged(Message):
    """One session's agent changed what it is doing."""

    def __init__(
        self,
        session: str,
        status: Activity,
        exit_code: int | None,
        reason: str = "",
        limited_until: str = "",
    ) -> None:
        super().__init__()
        self.session = session
        self.status = status
        self.exit_code = exit_code
        self.reason = reason
        self.limited_until = limited_until


class Bell(Message):
    """A program in a session rang the bell."""

    def __init__(self, session: str, tab: str) -> None:
        super().__init__()
        self.session = session
        self.tab = tab


class SessionEvent(Message):
    """A less frequent per-tab event: title, notification, clipboard, cwd, progress."""

    def __init__(self, kind: Event, session: str, tab: str, value: object) -> None:
        super().__init__()
        self.kind = kind
        self.session = session
        self.tab = tab
        self.value = value


class ServerError(Message):
    """A notification (keystroke, resize) failed on the server."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__()
        self.code = code
        self.message = message


class SummariesChanged(Message):
    """Fresh `session.summary` results: counts, ahead/behind, overlaps, per session id."""

    def __init__(self, summaries: dict[str, Summary]) -> None:
        super().__init__()
        self.summaries = summaries
