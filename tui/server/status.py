"""The status engine on the event loop: one `StatusTracker` per running agent.

`tui.server.status_engine` decides; this module feeds it and keeps its time:

- output and input from the tab, and the emulator's events (BEL, title, OSC 9,
  777, 9;4, 133), each the moment it happens;
- a *look* `LOOK_DELAY` after output: the rows that changed since the last look
  (`Emulator.take_status_rows`) are matched against the agent's rule books
  (`tui.server.status_rules`) and the engine is told which rules hold;
- one timer for whatever the engine wants next (a look, the end of the quiet
  window, the end of a debounce): when nothing happens, nothing runs.

ptui's own rules, on a few changed rows, are matched right on the loop (they
cost microseconds). The user's patterns, and large changes, go to one worker
thread shared by every session: patterns come from config files, and RE2, linear
as it is, can take seconds on 64 patterns built to defeat its automaton. A match
that took long delays the next one in proportion (`MATCH_BACKOFF`), so a hostile
list costs a session at most a fifth of a core.

The agent's version (`--version`, read once per program file on a worker
thread) picks which shipped rules apply; until it is known, all do.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Final

from tui.patterns import NO_PATTERNS, PatternSet
from tui.protocol import messages
from tui.protocol.states import LIVE as LIVE
from tui.protocol.states import Activity
from tui.server import status_rules as sr
from tui.server.status_engine import (
    ACTIVE_WINDOW as ACTIVE_WINDOW,
)
from tui.server.status_engine import (
    ScreenHit,
    Signal,
    StatusEngine,
)
from tui.term.emulator import Emulator, TermEvent

MATCH_BACKOFF: Final = 4.0
"""After a match that took t seconds, the next starts no sooner than this times t
later."""
INLINE_TEXT: Final = 16_384
"""Characters of changed rows that ptui's own rules match on the event loop; more,
or any user patterns, go to the match thread."""
VERSION_TIMEOUT: Final = 10.0
"""Seconds `agent --version` may take (a node CLI's start-up is slow)."""

log = logging.getLogger("ptui.server")

# One thread for every session's matches: all of them together use at most one
# core, and the default executor stays free for git and the state file.
_MATCH_THREAD: Final = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ptui-status")

_versions: dict[tuple[str, float], str] = {}


def agent_version(program: str, env: Mapping[str, str] | None = None) -> str:
    """`program --version`'s first line, cached per program file ("" if it fails)."""
    path = shutil.which(program, path=(env or os.environ).get("PATH"))
    if path is None:
        return ""
    try:
        key = (path, os.stat(path).st_mtime)
    except OSError:
        return ""
    if key in _versions:
        return _versions[key]
    try:
        done = subprocess.run(
            [path, "--version"],
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        lines = (done.stdout or done.stderr).strip().splitlines()
        version = lines[0][:80] if lines and done.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        version = ""
    _versions[key] = version
    return version


def notification_status(title: str, body: str) -> Activity | None:
    """WAITING for an OSC 9/777 notification that asks for the user's decision."""
    text = f"{title} {body}".lower()
    asks = ("permission", "approve", "approval", "action required", "needs your", "confirm")
    return Activity.WAITING if any(word in text for word in asks) else None


def read_screen(
    text: str, books: Sequence[sr.RuleBook], cursor_row: int | None = None
) -> list[ScreenHit]:
    """The rules that hold on a whole screen `text` (tests); the cursor on its last
    row unless `cursor_row` says otherwise."""
    rows = text.rstrip("\n").split("\n")
    matcher = sr.RowMatcher(books, len(rows))
    matcher.update(0, dict(enumerate(rows)), len(rows))
    return screen_hits(matcher, len(rows) - 1 if cursor_row is None else cursor_row)


def apply_event(engine: StatusEngine, rules: RuleSet, event: TermEvent, now: float) -> bool:
    """Tell the engine of an emulator event; False when it is not a status signal."""
    if event.kind == "bell":
        engine.bell(now)
    elif event.kind == "title":
        title = str(event.value or "")
        rule, status = rules.title(title)
        return engine.title(now, title, rule, status)
    elif event.kind == "notification":
        title, body = event.value
        engine.notification(now, title, body, notification_status(title, body))
    elif event.kind == "progress":
        engine.progress(now, str(event.value))
    elif event.kind == "prompt-mark":
        engine.prompt_mark(now, str(event.value))
    else:
        return False
    return True


def changed_rows(emulator: Emulator, every_row: bool = False) -> tuple[int, dict[int, str]] | None:
    """What a look reads: (rows scrolled, changed row -> text) since the last look,
    every row when `every_row` or the emulator says so; None mid synchronized frame."""
    taken = emulator.take_status_rows()
    if taken is None and not every_row:
        return None
    scrolled, rows = taken if taken is not None else (0, None)
    if rows is None or every_row:
        scrolled, rows = 0, list(range(emulator.rows))
    return scrolled, {y: emulator.row_text(y) for y in rows}


def screen_hits(matcher: sr.RowMatcher, cursor_row: int) -> list[ScreenHit]:
    """The rules that hold on the matcher's screen, as the engine takes them."""
    hits = []
    for fired in matcher.fired(cursor_row):
        rule = fired.rule
        resets = sr.reset_text(rule, fired.text, fired.context)
        hits.append(ScreenHit(fired.layer, rule.name, rule.status, fired.text, resets))
    return hits


def look(
    matcher: sr.RowMatcher, scrolled: int, changed: dict[int, str], rows: int, cursor_row: int
) -> tuple[list[ScreenHit], bool, float]:
    """One look's work, off the loop: the rules that hold, whether the screen shows
    anything, and how long it took."""
    start = time.perf_counter()
    matcher.update(scrolled, changed, rows)
    hits = screen_hits(matcher, cursor_row)
    return hits, matcher.drawn(), time.perf_counter() - start


class RuleSet:
    """What one agent's status is read with: its shipped and its user's rule books,
    and its title rules (shipped ones plus every agent's)."""

    def __init__(
        self,
        agent: str,
        command: Sequence[str] = (),
        *,
        waiting: PatternSet = NO_PATTERNS,
        busy: PatternSet = NO_PATTERNS,
        version: str = "",
    ) -> None:
        self.agent = agent
        self.version = version
        parsed = sr.parse_version(version) if version else None
        shipped = sr.shipped_rules(agent, command)
        self.shipped = shipped.for_version(parsed) if shipped is not None else None
        self.user = sr.user_rules(agent, waiting, busy)
        self.generic = sr.generic_titles()
        self._titles: dict[str, tuple[str, Activity | None]] = {}

    @property
    def books(self) -> list[sr.RuleBook]:
        """Screen rule books, highest confidence (the user's) first."""
        return [b for b in (self.user, self.shipped) if b is not None and b.rules]

    def title(self, title: str) -> tuple[str, Activity | None]:
        """The title rule a window title matches: (its name, its status)."""
        # A spinner cycles through a few titles many times a second: remember them.
        found = self._titles.get(title)
        if found is None:
            found = ("", None)
            for book in (self.shipped, self.generic):
                rule = book.title_status(title) if book is not None else None
                if rule is not None:
                    found = (rule.name, rule.status)
                    break
            if len(self._titles) >= 256:
                self._titles.clear()
            self._titles[title] = found
        return found

    def describe(self) -> str:
        if self.shipped is None:
            return ""
        version = f" (version {self.version})" if self.version else " (version unknown: all)"
        return f"{self.shipped.source}{version}"


class StatusTracker:
    """Live status of one running agent, from its output, events and screen."""

    def __init__(
        self,
        emulator: Emulator,
        on_change: Callable[[Activity], None],
        rules: RuleSet,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._emulator = emulator
        self._on_change = on_change
        self.rules = rules
        self._clock = clock
        self._wall_offset = time.time() - clock()
        self.engine = StatusEngine(clock())
        self._matcher = sr.RowMatcher(rules.books, emulator.rows)
        self._matching = False
        self._again = False  # every row must be read when the match under way ends
        self._not_before = 0.0  # backoff after a slow match
        self._failed = False
        self._closed = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._arm()

    # --------------------------------------------------------------- inputs
    @property
    def status(self) -> Activity:
        return self.engine.status

    @property
    def reason(self) -> str:
        return self.engine.reason

    @property
    def limited_until(self) -> str:
        return self.engine.limited_until

    def input(self) -> None:
        """The user typed into the agent."""
        self.engine.input(self._clock())

    def output(self) -> None:
        """The agent wrote something (called once per parsed chunk)."""
        self.engine.output(self._clock())
        self._arm()

    def event(self, event: TermEvent) -> None:
        """An emulator event of the agent's tab."""
        if apply_event(self.engine, self.rules, event, self._clock()):
            self._evaluate()

    def hook(self, event: str, status: Activity | None, detail: str = "") -> None:
        """The agent's own lifecycle hook `event` fired (`ptui hook`); `status` None:
        evidence only (tui.server.agent_hooks maps events to statuses)."""
        self.engine.hook(self._clock(), event, status, detail)
        self._evaluate()

    def exited(self, code: int | None) -> None:
        self.engine.exited(self._clock(), code)
        self._evaluate()
        self.close()

    def set_rules(self, rules: RuleSet) -> None:
        """Other rules from now on (the agent's version became known): every row
        is read again at the next look."""
        self.rules = rules
        self._matcher = sr.RowMatcher(rules.books, self._emulator.rows)
        self._look(every_row=True)

    def evaluate(self) -> None:
        """Read every row now (tests; the timer reads changed rows otherwise)."""
        self._look(every_row=True)

    def close(self) -> None:
        """Cancel the timer (the program ended); a match under way is ignored."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --------------------------------------------------------------- report
    def report(self, session_id: str, agent: str) -> messages.StatusReport:
        engine = self.engine
        return {
            "id": session_id,
            "status": engine.status,
            "reason": engine.reason,
            "chosen": self._signal(engine.chosen),
            "evidence": [self._signal(s) for s in engine.evidence()],
            "transitions": [
                {**self._signal(t.signal), "at": t.at + self._wall_offset, "status": t.status}
                for t in engine.transitions
            ],
            "limited_until": engine.limited_until,
            "agent": agent,
            "agent_version": self.rules.version,
            "rules": self.rules.describe(),
        }

    def _signal(self, signal: Signal) -> messages.StatusSignal:
        return {
            "at": signal.at + self._wall_offset,
            "layer": signal.layer,
            "rule": signal.rule,
            "detail": signal.detail[:300],
        }

    # ------------------------------------------------------------- running
    def _evaluate(self) -> None:
        if self._closed:
            return
        if self.engine.evaluate(self._clock()):
            self._on_change(self.engine.status)
        self._arm()

    def _arm(self) -> None:
        if self._closed:
            return
        engine = self.engine
        # While a match runs, its end arms the next look; after a slow match the
        # next look waits (MATCH_BACKOFF), the engine's other deadlines do not.
        look = None if self._matching else engine.look_due()
        if look is not None:
            look = max(look, self._not_before)
        times = [t for t in (look, engine.due()) if t is not None]
        if not times:
            return
        when = min(times)
        if self._timer is not None:
            if self._timer_at <= when:
                return
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer_at = when
        self._timer = loop.call_later(max(0.0, when - self._clock()), self._due)

    def _due(self) -> None:
        self._timer = None
        if self._closed:
            return
        due = self.engine.look_due()
        now = self._clock() + 0.001
        if due is not None and due <= now and self._not_before <= now:
            self._look()
        self._evaluate()

    def _look(self, every_row: bool = False) -> None:
        if self._matching:
            self._again = self._again or every_row
            return  # the match under way ends with another look if output came
        emulator = self._emulator
        if not self._matcher.books and self.engine.drawn:
            # No rules to match and the agent has drawn: no row needs reading.
            emulator.take_status_rows()
            self.engine.looked()
            self._evaluate()
            return
        taken = changed_rows(emulator, every_row)
        if taken is None:
            # Mid synchronized frame: the look waits for the frame (or its timeout).
            if self._timer is not None:
                self._timer.cancel()
            self._timer_at = 0.0
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(max(emulator.hold_remaining, 0.01), self._due)
            return
        self.engine.looked()
        scrolled, changed = taken
        if not changed and not scrolled:
            self._evaluate()
            return
        matcher = self._matcher
        cursor_row = emulator.cursor[1]
        if self.rules.user is None and sum(map(len, changed.values())) <= INLINE_TEXT:
            # Only ptui's own rules, on a few rows: microseconds, cheaper than the
            # hand-off to the match thread and back (two wakeups of the loop).
            try:
                hits, drawn, seconds = look(matcher, scrolled, changed, emulator.rows, cursor_row)
            except Exception as error:  # as on the thread: fall back, say why once
                self._match_failed(error)
                hits, drawn, seconds = [], True, 0.0
            self._looked(hits, drawn, seconds)
            return
        self._matching = True
        future = asyncio.get_running_loop().run_in_executor(
            _MATCH_THREAD, look, matcher, scrolled, changed, emulator.rows, cursor_row
        )
        future.add_done_callback(partial(self._match_done, matcher))

    def _match_done(
        self,
        matcher: sr.RowMatcher,
        future: asyncio.Future[tuple[list[ScreenHit], bool, float]],
    ) -> None:
        self._matching = False
        if self._closed or future.cancelled():
            return
        if matcher is not self._matcher or self._again:
            self._again = False
            self._look(every_row=True)
            return
        error = future.exception()
        if error is not None:
            self._match_failed(error)
            hits: list[ScreenHit] = []
            drawn, seconds = True, 0.0
        else:
            hits, drawn, seconds = future.result()
        self._looked(hits, drawn, seconds)

    def _match_failed(self, error: BaseException) -> None:
        # RE2 can fail at match time (its DFA out of memory on a huge screen). The
        # status then comes from the other layers, and the log says why once per
        # tracker, not on every look.
        if not self._failed:
            self._failed = True
            log.warning("screen rules could not be matched: %s", error, exc_info=error)

    def _looked(self, hits: list[ScreenHit], drawn: bool, seconds: float) -> None:
        now = self._clock()
        self._not_before = now + MATCH_BACKOFF * seconds
        self.engine.screen(now, hits, drawn)
        self._evaluate()
