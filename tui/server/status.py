"""Session status: busy, waiting for input, idle, exited or stopped.

A running agent's status comes from two signals:

- its screen, matched against the profile's `waiting_patterns` (checked first:
  a question on screen wins over a spinner) and `busy_patterns`;
- output activity: output in the last `ACTIVE_WINDOW` seconds means busy,
  except output that only echoes what the user just typed.

`StatusTracker` turns those into a status without any periodic timer: it looks
at the screen at most every `CHECK_DELAY` seconds after output arrived, and arms
one timer to notice the end of activity; when nothing happens, nothing runs.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from typing import Final

BUSY: Final = "busy"
WAITING: Final = "waiting"
IDLE: Final = "idle"
EXITED: Final = "exited"
STOPPED: Final = "stopped"
ARCHIVED: Final = "archived"
STATUSES: Final = (BUSY, WAITING, IDLE, EXITED, STOPPED, ARCHIVED)
LIVE: Final = frozenset({BUSY, WAITING, IDLE})

ACTIVE_WINDOW: Final = 1.5
"""Seconds after the last output during which a session counts as busy."""
ECHO_WINDOW: Final = 0.3
"""Output this soon after user input is taken as its echo, not as work."""
CHECK_DELAY: Final = 0.2
"""Screen patterns are checked at most this often while output flows."""


def classify(
    text: str,
    *,
    waiting: Sequence[re.Pattern[str]],
    busy: Sequence[re.Pattern[str]],
    active: bool,
) -> str:
    """The status a screen shows: WAITING, BUSY or IDLE.

    `text` is the visible screen; `active` whether output arrived recently. A
    waiting pattern wins over everything (the agent asks and nothing moves on
    until answered), then a busy pattern, then activity.
    """
    for pattern in waiting:
        if pattern.search(text):
            return WAITING
    for pattern in busy:
        if pattern.search(text):
            return BUSY
    return BUSY if active else IDLE


class StatusTracker:
    """Live status of one running program, from its output and its screen."""

    def __init__(
        self,
        screen_text: Callable[[], str],
        on_change: Callable[[str], None],
        *,
        waiting: Sequence[re.Pattern[str]] = (),
        busy: Sequence[re.Pattern[str]] = (),
    ) -> None:
        self._screen_text = screen_text
        self._on_change = on_change
        self._waiting = tuple(waiting)
        self._busy = tuple(busy)
        self.status = BUSY  # a program that just started is working until it settles
        self._last_input = 0.0
        self._last_activity = time.monotonic()
        self._check: asyncio.TimerHandle | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._schedule_check(CHECK_DELAY)
        self._arm_idle_timer()

    def input(self) -> None:
        """The user typed into the program."""
        self._last_input = time.monotonic()

    def output(self) -> None:
        """The program wrote something (called once per parsed chunk)."""
        now = time.monotonic()
        if now - self._last_input > ECHO_WINDOW:
            self._last_activity = now
            self._arm_idle_timer()
        self._schedule_check(CHECK_DELAY)

    def evaluate(self) -> str:
        """Classify now and report a change."""
        self._check = None
        active = time.monotonic() - self._last_activity < ACTIVE_WINDOW
        status = classify(
            self._screen_text(), waiting=self._waiting, busy=self._busy, active=active
        )
        if status != self.status:
            self.status = status
            self._on_change(status)
        return status

    def close(self) -> None:
        """Cancel pending timers (the program ended)."""
        for handle in (self._check, self._idle):
            if handle is not None:
                handle.cancel()
        self._check = self._idle = None

    def _schedule_check(self, delay: float) -> None:
        if self._check is None:
            self._check = asyncio.get_running_loop().call_later(delay, self.evaluate)

    def _arm_idle_timer(self) -> None:
        # One timer at the end of the activity window; output meanwhile moves it.
        if self._idle is not None:
            self._idle.cancel()
        self._idle = asyncio.get_running_loop().call_later(ACTIVE_WINDOW + 0.05, self._idle_due)

    def _idle_due(self) -> None:
        self._idle = None
        self.evaluate()
