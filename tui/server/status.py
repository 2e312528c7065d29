"""Session status: busy, waiting for input, idle, exited or stopped.

A running agent's status comes from two signals:

- its screen, matched against the profile's `waiting_patterns` (checked first:
  a question on screen wins over a spinner) and `busy_patterns`;
- output activity: output in the last `ACTIVE_WINDOW` seconds means busy,
  except output that only echoes what the user just typed.

`StatusTracker` turns those into a status without any periodic timer: it looks
at the screen at most every `CHECK_DELAY` seconds after output arrived, and arms
one timer to notice the end of activity; when nothing happens, nothing runs.

The patterns come from config files, so they are compiled by `tui.patterns`
(RE2: linear in the screen, whatever the pattern). Linear is still not cheap
enough for the event loop: 64 patterns built to defeat RE2's automaton take
seconds over a 300x100 screen of random text. So the loop only takes the screen
text; the match runs on one worker thread shared by every session (RE2 releases
the GIL while it matches), a screen already matched is not matched again, and a
match that took long delays the next one in proportion.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Final

from tui.patterns import PatternSet, compile_patterns
from tui.protocol.states import LIVE as LIVE
from tui.protocol.states import Activity

ACTIVE_WINDOW: Final = 1.5
"""Seconds after the last output during which a session counts as busy."""
ECHO_WINDOW: Final = 0.3
"""Output this soon after user input is taken as its echo, not as work."""
CHECK_DELAY: Final = 0.2
"""Screen patterns are checked at most this often while output flows."""
MATCH_BACKOFF: Final = 4.0
"""After a match that took t seconds, the next starts no sooner than this times t
later: a hostile pattern list costs a session at most a fifth of a core."""

log = logging.getLogger("ptui.server")

# One thread for every session's matches: all of them together use at most one
# core, and the default executor stays free for git and the state file. Its
# thread starts at the first match.
_MATCH_THREAD: Final = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ptui-status")


def screen_status(text: str, *, waiting: PatternSet, busy: PatternSet) -> Activity | None:
    """WAITING or BUSY if the screen says so, else None (output activity decides).

    Linear in `text`, but may take long: call it off the event loop.
    """
    if waiting.search(text) is not None:
        return Activity.WAITING
    if busy.search(text) is not None:
        return Activity.BUSY
    return None


def classify(text: str, *, waiting: PatternSet, busy: PatternSet, active: bool) -> Activity:
    """The status a screen shows: WAITING, BUSY or IDLE.

    `text` is the visible screen; `active` whether output arrived recently. A
    waiting pattern wins over everything (the agent asks and nothing moves on
    until answered), then a busy pattern, then activity.
    """
    return screen_status(text, waiting=waiting, busy=busy) or (
        Activity.BUSY if active else Activity.IDLE
    )


def _timed_screen_status(
    text: str, waiting: PatternSet, busy: PatternSet
) -> tuple[Activity | None, float]:
    start = time.perf_counter()
    status = screen_status(text, waiting=waiting, busy=busy)
    return status, time.perf_counter() - start


def _compiled(patterns: PatternSet | Sequence[str]) -> PatternSet:
    if isinstance(patterns, PatternSet):
        return patterns
    return compile_patterns(patterns)


class StatusTracker:
    """Live status of one running program, from its output and its screen.

    `waiting` and `busy` are the profile's compiled patterns (plain strings are
    compiled, for callers without a profile).
    """

    def __init__(
        self,
        screen_text: Callable[[], str],
        on_change: Callable[[Activity], None],
        *,
        waiting: PatternSet | Sequence[str] = (),
        busy: PatternSet | Sequence[str] = (),
    ) -> None:
        self._screen_text = screen_text
        self._on_change = on_change
        self._waiting = _compiled(waiting)
        self._busy = _compiled(busy)
        self.status: Activity = (
            Activity.BUSY
        )  # a program that just started is working until it settles
        self._last_input = 0.0
        self._last_activity = time.monotonic()
        self._matched: tuple[str, Activity | None] | None = None  # last screen matched, its status
        self._matching = False  # a match of this tracker's is on the worker thread
        self._recheck = False  # the screen may have changed since that match began
        self._not_before = 0.0  # backoff after a slow match (time.monotonic)
        self._closed = False
        self._failed = False  # a match raised (logged once)
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

    def evaluate(self) -> None:
        """Look at the screen now; a change reaches `on_change`.

        Without patterns, or on a screen already matched, that happens at once;
        otherwise when the match on the worker thread is done.
        """
        if self._check is not None:
            self._check.cancel()
            self._check = None
        if self._closed:
            return
        if not (self._waiting or self._busy):
            self._settle(None)
            return
        if self._matching:
            self._recheck = True
            return
        text = self._screen_text()
        if self._matched is not None and self._matched[0] == text:
            self._settle(self._matched[1])
            return
        if (wait := self._not_before - time.monotonic()) > 0:
            self._schedule_check(wait)
            return
        self._matching = True
        future = asyncio.get_running_loop().run_in_executor(
            _MATCH_THREAD, _timed_screen_status, text, self._waiting, self._busy
        )
        future.add_done_callback(partial(self._match_done, text))

    def close(self) -> None:
        """Cancel pending timers (the program ended); a match under way is ignored."""
        self._closed = True
        for handle in (self._check, self._idle):
            if handle is not None:
                handle.cancel()
        self._check = self._idle = None

    def _match_done(self, text: str, future: asyncio.Future[tuple[Activity | None, float]]) -> None:
        self._matching = False
        if self._closed or future.cancelled():
            return
        error = future.exception()
        if error is not None:
            # RE2 can fail at match time (its DFA out of memory on a huge screen).
            # The status then comes from output activity, as with no patterns, and
            # the log says why once per tracker, not on every look.
            if not self._failed:
                self._failed = True
                log.warning("screen patterns could not be matched: %s", error, exc_info=error)
            status, seconds = None, 0.0
        else:
            status, seconds = future.result()
        self._matched = (text, status)
        self._not_before = time.monotonic() + MATCH_BACKOFF * seconds
        self._settle(status)
        if self._recheck:
            self._recheck = False
            self._schedule_check(CHECK_DELAY)

    def _settle(self, screen: Activity | None) -> None:
        active = time.monotonic() - self._last_activity < ACTIVE_WINDOW
        status = screen or (Activity.BUSY if active else Activity.IDLE)
        if status != self.status:
            self.status = status
            self._on_change(status)

    def _schedule_check(self, delay: float) -> None:
        if self._check is None and not self._closed:
            delay = max(delay, self._not_before - time.monotonic())
            self._check = asyncio.get_running_loop().call_later(delay, self.evaluate)

    def _arm_idle_timer(self) -> None:
        # One timer at the end of the activity window; output meanwhile moves it.
        if self._idle is not None:
            self._idle.cancel()
        self._idle = asyncio.get_running_loop().call_later(ACTIVE_WINDOW + 0.05, self._idle_due)

    def _idle_due(self) -> None:
        self._idle = None
        self.evaluate()
