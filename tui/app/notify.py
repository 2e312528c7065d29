"""Telling the user that a session needs them, once, through the channels they chose.

What is announced:
- a session that starts waiting for the user, that goes from busy to idle (its turn is
  over), or that hits its usage limit: once per transition;
- a bell or a desktop notification (OSC 9/777) from an agent: at most one per session
  every `RING_INTERVAL` seconds, and none while a transition of that session was just
  announced (agents ring when they start waiting: that is one event, not two).

Nothing is announced for the session on screen while the app has the focus: the user
sees it (its bell still rings the outer terminal, as any terminal's would). While the
app is not focused (focus reporting), that session gets every channel but the toast.

No storm: for `SETTLE_SECONDS` after the app connects (and reconnects), nothing is
announced one by one; then ONE line names the sessions that need the user ("3 sessions
need you: fix-login, docs, api"): those already waiting or at their limit, and those
that rang, sent a notification or started waiting meanwhile (one that went from busy to
idle meanwhile only gets its sidebar mark); it is skipped when that is only the session
on screen.
Announcements that come within `BATCH_SECONDS` of each other are merged the same way.

Channels (`ui.notify`): "toast" (inside ptui), "bell" (BEL to the outer terminal),
"osc9" and "osc777" (desktop notifications through the outer terminal: iTerm2, kitty,
WezTerm, foot, Ghostty, rxvt/VTE for 777), and "desktop" (`notify-send` on the machine
the app runs on, when it is on PATH). A start-up line about states the app found (and
the sidebar shows) is a toast only: the user is at the terminal when the app opens; one
that includes news since then goes to every channel.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from textual.app import App
from textual.timer import Timer

from tui.app._textual_internals import driver_write
from tui.protocol import Activity, SessionInfo

SETTLE_SECONDS = 2.0
"""After connecting: sessions settle (the ones already waiting, their bells) into one line."""
BATCH_SECONDS = 0.4
"""Announcements this close together are one line."""
RING_INTERVAL = 5.0
"""Seconds between two announced bells (or agent notifications) of one session, at least."""
MAX_NAMES = 5
"""Sessions named in one summary line; more are counted."""
_BODY_LIMIT = 200
"""Characters of a notification sent to the outer terminal or the desktop."""

_RANK = {Activity.WAITING: 2, Activity.LIMITED: 2, Activity.IDLE: 0}
"""Which line a session's batch keeps (a bell or an agent's notification ranks 1)."""
NEEDS_YOU = frozenset({Activity.WAITING, Activity.LIMITED})
"""Activities that wait for the user: the start-up summary names them."""


def transition_text(old: Activity, new: Activity, info: SessionInfo | None) -> str | None:
    """What to say about a session going from `old` to `new`, or None if nothing."""
    if new == Activity.WAITING and old != Activity.WAITING:
        return "is waiting for you"
    if new == Activity.IDLE and old == Activity.BUSY:
        return "has finished"
    if new == Activity.LIMITED and old != Activity.LIMITED:
        until = info.get("limited_until", "") if info is not None else ""
        return f"reached its usage limit, resets at {until}" if until else "reached its usage limit"
    return None


def _clean(text: str) -> str:
    """Printable, one line, no `;` (a field separator in OSC 777, a number's in OSC 9)."""
    body = "".join(ch if ch.isprintable() and ch != ";" else " " for ch in text)
    return " ".join(body.split())[:_BODY_LIMIT]


class Notifier:
    """The app's announcements: decides what to say, when, and says it on each channel."""

    def __init__(
        self,
        app: App[Any],
        channels: tuple[str, ...],
        *,
        sessions: Mapping[str, SessionInfo],
        on_screen: Callable[[], str | None],
    ) -> None:
        self.app = app
        self.channels = frozenset(channels)
        """The `ui.notify` channels: toast, bell, osc9, osc777, desktop."""
        self._sessions = sessions
        self._on_screen = on_screen
        self._settling = True  # until SETTLE_SECONDS after the connection
        self._settle_timer: Timer | None = None
        self._batch: dict[str, str] = {}  # session id -> what it says, in arrival order
        self._rank: dict[str, int] = {}  # session id -> how much its batched line says
        self._batch_timer: Timer | None = None
        self._last: dict[str, float] = {}  # session id -> when it was last announced

    # ----------------------------------------------------------- inputs
    def connected(self) -> None:
        """The app (re)connected: settle, then one line for whoever needs the user."""
        self._settling = True
        self._batch.clear()
        self._rank.clear()
        for timer in (self._settle_timer, self._batch_timer):
            if timer is not None:
                timer.stop()
        self._batch_timer = None
        self._settle_timer = self.app.set_timer(SETTLE_SECONDS, self._settled)

    def status_changed(self, session_id: str, old: Activity, new: Activity) -> None:
        """A session's activity changed: announce it once if it needs the user."""
        info = self._info(session_id)
        text = transition_text(old, new, info)
        if text is None or self._seen(session_id):
            return
        self._add(session_id, text, _RANK.get(new, 0))

    def rang(self, session_id: str, text: str = "rang the bell") -> None:
        """A program in a session rang the bell or sent a notification."""
        if self._seen(session_id):
            return
        if time.monotonic() - self._last.get(session_id, -RING_INTERVAL) < RING_INTERVAL:
            return  # it was just announced (two bells of one question, a ringing loop)
        self._add(session_id, text, 1)

    # -------------------------------------------------------- deciding
    def _info(self, session_id: str) -> SessionInfo | None:
        return self._sessions.get(session_id)

    def _name(self, session_id: str) -> str:
        info = self._info(session_id)
        return info["name"] if info is not None else session_id

    def _shown(self, session_id: str) -> bool:
        return self._on_screen() == session_id

    def _seen(self, session_id: str) -> bool:
        """The user is looking at it: on screen, in the focused app."""
        return self._shown(session_id) and bool(self.app.app_focus)

    def _add(self, session_id: str, text: str, rank: int) -> None:
        """Batch what a session says; of two things in one batch, the one that says more
        (waiting over a bell over "finished") is kept: one line per session."""
        if rank < self._rank.get(session_id, -1):
            return
        self._rank[session_id] = rank
        self._batch[session_id] = text
        if self._batch_timer is None and not self._settling:  # settling: all in one line
            self._batch_timer = self.app.set_timer(BATCH_SECONDS, self._flush)

    def _flush(self) -> None:
        self._batch_timer = None
        batch, self._batch = self._batch, {}
        self._rank.clear()
        batch = {sid: text for sid, text in batch.items() if not self._seen(sid)}
        if not batch:
            return
        self._said(batch)
        if len(batch) == 1:
            [(session_id, text)] = batch.items()
            line = f"{self._name(session_id)} {text}"
        else:
            line = self._summary(list(batch))
        # A toast the user would see over the very session it is about says nothing new.
        toast = not all(self._shown(sid) for sid in batch)
        self.say(line, toast=toast)

    def _settled(self) -> None:
        """The start-up line: who was waiting already, and what happened meanwhile."""
        self._settle_timer = None
        self._settling = False
        batch, self._batch = self._batch, {}
        rank, self._rank = self._rank, {}
        # A session that merely finished starting up ("has finished") is not news yet:
        # the sidebar marks it. Bells, notifications and waiting are.
        happened = {
            sid: text for sid, text in batch.items() if rank[sid] > 0 and not self._seen(sid)
        }
        lines = {
            sid: transition_text(Activity.BUSY, info["status"], info) or "needs you"
            for sid, info in self._sessions.items()
            if info["status"] in NEEDS_YOU and sid not in happened
        }
        lines.update(happened)
        if not lines or list(lines) == [self._on_screen()]:
            return
        if len(lines) == 1:
            [(session_id, text)] = lines.items()
            line = f"{self._name(session_id)} {text}"
        else:
            line = self._summary(list(lines))
        self._said(lines)
        if happened:  # news since the app opened: said like any announcement
            self.say(line, toast=not all(self._shown(sid) for sid in lines))
        elif "toast" in self.channels:  # only what the sidebar shows already: a toast
            self.app.notify(line, title="ptui", timeout=8)

    def _said(self, session_ids: Iterable[str]) -> None:
        """These sessions were just announced: their bells wait `RING_INTERVAL`."""
        now = time.monotonic()
        for session_id in session_ids:
            self._last[session_id] = now

    def _summary(self, session_ids: list[str]) -> str:
        names = [self._name(sid) for sid in session_ids]
        shown = ", ".join(names[:MAX_NAMES])
        if len(names) > MAX_NAMES:
            shown += f" and {len(names) - MAX_NAMES} more"
        return f"{len(names)} sessions need you: {shown}"

    # ---------------------------------------------------------- saying
    def say(self, line: str, *, toast: bool = True) -> None:
        """Say `line` on every configured channel (`toast=False`: all but the toast)."""
        channels = self.channels
        if toast and "toast" in channels:
            self.app.notify(line, title="ptui", timeout=6)
        body = _clean(line)
        if "osc9" in channels:
            driver_write(self.app, f"\x1b]9;ptui: {body}\x07")
        if "osc777" in channels:
            driver_write(self.app, f"\x1b]777;notify;ptui;{body}\x07")
        if "bell" in channels:
            self.app.bell()
        if "desktop" in channels:
            self._desktop(body)

    def _desktop(self, body: str) -> None:
        """`notify-send` in the background, if there is one; its failures are logged."""
        program = shutil.which("notify-send")
        if program is None:
            return
        # An argument list, never a shell: the body holds a session's (agent's) words.
        argv = [program, "--app-name=ptui", "ptui", body]
        self.app.run_worker(self._run_desktop(argv), group="desktop-notify", exit_on_error=False)

    async def _run_desktop(self, argv: list[str]) -> None:
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            self.app.log.warning(f"notify-send: {exc!r}")
            return
        try:
            _out, err = await asyncio.wait_for(proc.communicate(), 10)
        except TimeoutError:
            proc.kill()  # a desktop without a notification daemon can hang it
            await proc.wait()
            self.app.log.warning("notify-send took more than 10 s; stopped it")
            return
        if proc.returncode:
            why = err.decode(errors="replace").strip()[:200]
            self.app.log.warning(f"notify-send exited with {proc.returncode}: {why}")
