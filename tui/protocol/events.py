"""What the server pushes, typed: one dataclass per kind of event, decoded once.

A pushed frame is `{"event": KIND, "data": {...}}` (docs/protocol.md, "Events").
`decode_event` turns one into a `ServerEvent` at the client's edge, or raises
`ProtocolError` (bad-frame) naming what does not fit; past it, mypy sees fields.
A screen event's lines stay as sent: `tui.client.mirror` reads them on the hot
path, and checks them there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NotRequired, TypedDict, cast

from tui.protocol.framing import BAD_FRAME, Event, ProtocolError
from tui.protocol.session_info import SessionInfo, decode_session_info
from tui.protocol.states import Activity


class ScreenModes(TypedDict, total=False):
    """The modes a program set that change what its terminal sends or shows."""

    app_cursor: bool
    app_keypad: bool
    bracketed_paste: bool
    mouse_tracking: int
    """0 off, 9 (X10), 1000, 1002 or 1003."""
    mouse_sgr: bool
    focus_events: bool
    kitty_flags: int
    cursor_visible: bool
    cursor_shape: int
    alt_screen: bool


class ScreenUpdate(TypedDict):
    """A screen event's data: the rows that changed, and what else did."""

    session: str
    tab: str
    cols: int
    rows: int
    cursor: list[int]
    lines: list[tuple[int, list[list[object]]]]
    """`[row, runs]` per changed row (`tui.protocol.decode_runs`)."""
    full: NotRequired[bool]
    """Every row is sent: forget the old ones."""
    scrolled: NotRequired[int]
    """The rows moved up this many first."""
    modes: NotRequired[ScreenModes]
    title: NotRequired[str]
    exit_code: NotRequired[int | None]


@dataclass(frozen=True, slots=True)
class ScreenEvent:
    """Lines of one tab's screen changed (see `tui.client.mirror.ScreenMirror.apply`)."""

    session: str
    tab: str
    data: ScreenUpdate
    """Unchecked here: the screen path is the hot one, and the mirror reads each
    field with a conversion that fails on a wrong one."""


@dataclass(frozen=True, slots=True)
class SessionsEvent:
    """The session list changed: every session, archived ones too."""

    sessions: list[SessionInfo]


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A session's agent changed what it is doing (with its exit code when it exited)."""

    session: str
    status: Activity
    exit_code: int | None
    reason: str = ""
    """Why, in one line (`SessionInfo.reason`)."""
    limited_until: str = ""


@dataclass(frozen=True, slots=True)
class TabEvent:
    """Something a program said through its terminal: a bell, a title, a notification,
    a clipboard copy, its directory, its progress (`kind` says which)."""

    kind: Event
    session: str
    tab: str
    value: object


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """A request sent without an id (a keystroke) failed."""

    code: str
    message: str


ServerEvent = ScreenEvent | SessionsEvent | StatusEvent | TabEvent | ErrorEvent

TAB_EVENTS = frozenset(
    {Event.BELL, Event.TITLE, Event.NOTIFICATION, Event.CLIPBOARD, Event.CWD, Event.PROGRESS}
)


def _str(data: Mapping[str, object], name: str, kind: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise ProtocolError(BAD_FRAME, f"{kind} event: {name} must be a string")
    return value


def decode_event(message: Mapping[str, object]) -> ServerEvent:
    """One pushed frame as its event; ProtocolError (bad-frame) when it does not fit."""
    try:
        kind = Event(str(message.get("event")))
    except ValueError:
        raise ProtocolError(BAD_FRAME, f"unknown event {message.get('event')!r:.40}") from None
    data = message.get("data")
    if not isinstance(data, dict):
        raise ProtocolError(BAD_FRAME, f"{kind} event: data must be an object")
    if kind is Event.SCREEN:
        update = cast(ScreenUpdate, data)
        return ScreenEvent(_str(data, "session", kind), _str(data, "tab", kind), update)
    if kind is Event.SESSIONS_CHANGED:
        sessions = data.get("sessions")
        if not isinstance(sessions, list):
            raise ProtocolError(BAD_FRAME, f"{kind} event: sessions must be a list")
        return SessionsEvent([decode_session_info(info) for info in sessions])
    if kind is Event.STATUS_CHANGED:
        try:
            status = Activity(str(data.get("status")))
        except ValueError:
            raise ProtocolError(BAD_FRAME, f"{kind} event: unknown status") from None
        code = data.get("exit_code")
        if code is not None and (not isinstance(code, int) or isinstance(code, bool)):
            raise ProtocolError(BAD_FRAME, f"{kind} event: exit_code must be an integer")
        reason, until = data.get("reason", ""), data.get("limited_until", "")
        if not isinstance(reason, str) or not isinstance(until, str):
            raise ProtocolError(BAD_FRAME, f"{kind} event: reason must be a string")
        return StatusEvent(_str(data, "session", kind), status, code, reason, until)
    if kind is Event.ERROR:
        return ErrorEvent(_str(data, "code", kind), _str(data, "message", kind))
    return TabEvent(kind, _str(data, "session", kind), _str(data, "tab", kind), data.get("value"))
