"""The emulator: bytes in; screen, line changes, replies and events out.

`Emulator` is what the session host holds per PTY. `feed()` parses a chunk and
returns what changed since the last call — the lines that differ and how far
the screen scrolled — so a view shifts its cached lines and renders only the
new ones. It never raises on any input.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from tui.term.lines import EMPTY_LINE, Line, build_line, line_to_ansi
from tui.term.modes import (
    BRACKETED_PASTE,
    DECCKM,
    DECTCEM,
    FOCUS_EVENTS,
    KEYPAD_APP,
    MOUSE_ANY,
    MOUSE_BUTTON,
    MOUSE_NORMAL,
    MOUSE_SGR,
    MOUSE_X10,
    SYNC_OUTPUT,
)
from tui.term.screen import TermScreen
from tui.term.scrollback import Scrollback, stored_cells
from tui.term.stream import TermStream
from tui.term.style import StyleTable

# Events the emulator consumes itself rather than passing on.
_INTERNAL_EVENTS = {"sync", "kitty-flags"}
_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def check_hex_color(value: object, name: str = "colour") -> str:
    """`value` if it is a colour written `#rrggbb` (lower-cased); ValueError otherwise."""
    if not isinstance(value, str) or not _HEX_COLOR.fullmatch(value):
        raise ValueError(f"{name} must be a colour written #rrggbb, not {value!r:.40}")
    return value.lower()


def xterm_rgb(color: str) -> str:
    """`#rrggbb` as xterm answers a colour query (OSC 10/11): `rgb:rrrr/gggg/bbbb`."""
    color = check_hex_color(color)
    return "rgb:" + "/".join(color[i : i + 2] * 2 for i in (1, 3, 5))


@dataclass(frozen=True)
class TermModes:
    """The modes a program set that the keyboard, mouse and view must honour."""

    app_cursor: bool = False
    app_keypad: bool = False
    bracketed_paste: bool = False
    mouse_tracking: int = 0  # 0 off, 9 (X10), 1000, 1002 or 1003
    mouse_sgr: bool = False
    focus_events: bool = False
    kitty_flags: int = 0
    cursor_visible: bool = True
    cursor_shape: int = 0
    alt_screen: bool = False


@dataclass
class Changes:
    """What changed since the previous report.

    Apply in order: shift the cached lines up by `scrolled` (when `scrolled` >=
    the number of rows, everything is new), then replace the lines in `lines`.
    `full` means every line is included (resize, buffer switch).
    """

    lines: dict[int, Line]
    scrolled: int = 0
    cursor: tuple[int, int] = (0, 0)
    full: bool = False


@dataclass(frozen=True)
class TermEvent:
    """Something a program asked for that is not drawing: title, bell, clipboard ..."""

    kind: str
    value: Any = None


@dataclass
class _SyncState:
    started: float = 0.0
    active: bool = False


@dataclass
class Emulator:
    """A terminal emulator for one PTY: pyte's Screen API on ptui's fast screen."""

    cols: int = 80
    rows: int = 24
    scrollback: int = 10_000
    sync_timeout: float = 0.15
    styles: StyleTable = field(default_factory=StyleTable)

    def __post_init__(self) -> None:
        self.cols = max(1, min(self.cols, 2000))
        self.rows = max(1, min(self.rows, 1000))
        self.history = Scrollback(self.scrollback)
        self.screen = TermScreen(self.cols, self.rows, styles=self.styles, scrollback=self.history)
        self.stream = TermStream(self.screen)
        self._cache: list[Line | None] = [None] * self.rows
        self._sync = _SyncState()
        self._full = True
        self._events: list[TermEvent] = []
        # Two readers of what changed: the viewers (take_changes) and the status
        # engine (take_status_rows). The screen's own flags are drained into one
        # (scrolled, flags) pair per reader, so each sees every change once.
        self._view_scrolled = 0
        self._view_flags = [False] * self.rows
        self._status_scrolled = 0
        self._status_flags = [False] * self.rows
        self._status_full = True

    # ---------------------------------------------------------------- input
    def feed(self, data: bytes) -> Changes | None:
        """Parse program output; return the changes since the last report, if any."""
        self.parse(data)
        return self.take_changes()

    def parse(self, data: bytes) -> None:
        """Parse program output without building line updates.

        A host parses every read but builds updates only at its frame rate (and not
        at all while nobody views the session): `take_changes()` then reports
        everything since the previous report.
        """
        self.stream.feed(data)
        if self.screen.events:
            self._collect_events()

    def feed_text(self, text: str) -> Changes | None:
        """Like `feed` for already decoded text."""
        self.stream.feed_text(text)
        self._collect_events()
        return self.take_changes()

    def resize(self, cols: int, rows: int) -> None:
        """Resize keeping content; the cursor is clamped."""
        cols = max(1, min(cols, 2000))
        rows = max(1, min(rows, 1000))
        if (cols, rows) == (self.cols, self.rows):
            return
        self.screen.resize(rows, cols)
        self.cols, self.rows = cols, rows
        self._cache = [None] * rows
        self._full = True
        self._view_scrolled = self._status_scrolled = 0
        self._view_flags = [False] * rows
        self._status_flags = [False] * rows
        self._status_full = True

    def set_colors(self, foreground: str, background: str) -> None:
        """The default colours the program's text appears in (`#rrggbb`): what OSC 10
        and 11 queries are answered with, so an agent picks a palette that suits them."""
        fg, bg = xterm_rgb(foreground), xterm_rgb(background)
        self.screen.foreground, self.screen.background = fg, bg

    def _collect_events(self) -> None:
        screen = self.screen
        if not screen.events:
            return
        for kind, value in screen.events:
            if kind == "sync":
                self._sync.active = bool(value)
                self._sync.started = time.monotonic()
            elif kind not in _INTERNAL_EVENTS:
                self._events.append(TermEvent(kind, value))
        screen.events.clear()

    # --------------------------------------------------------------- output
    def take_replies(self) -> bytes:
        """Bytes the program asked for (DA, DSR, colour queries ...): write them to the PTY."""
        replies = self.screen.replies
        if not replies:
            return b""
        data = "".join(replies).encode()
        replies.clear()
        return data

    def take_events(self) -> list[TermEvent]:
        """Events since the last call: title, bell, notification, clipboard, cwd ..."""
        events, self._events = self._events, []
        return events

    @property
    def holding_frame(self) -> bool:
        """True while synchronized output (mode 2026) holds the frame back."""
        return self.hold_remaining > 0

    @property
    def hold_remaining(self) -> float:
        """Seconds until a frame held by synchronized output is drawn anyway (0: not held)."""
        sync = self._sync
        if not sync.active or SYNC_OUTPUT not in self.screen.mode:
            return 0.0
        return max(0.0, sync.started + self.sync_timeout - time.monotonic())

    def take_changes(self, force: bool = False) -> Changes | None:
        """Changes since the last report, or None when nothing changed or the frame is held."""
        screen = self.screen
        if not force and self.holding_frame:
            return None
        cursor = (screen.x, screen.y)
        self._drain()
        if not self._view_scrolled and not self._full and True not in self._view_flags:
            return None
        scrolled = self._view_scrolled
        cache = self._cache
        rows = self.rows
        if scrolled:
            if scrolled >= rows:
                cache[:] = [None] * rows
            else:
                del cache[:scrolled]
                cache.extend([None] * scrolled)
        flags = self._view_flags
        dirty = range(rows) if self._full else [y for y in range(rows) if flags[y]]
        styles = self.styles
        lines: dict[int, Line] = {}
        for y in dirty:
            chars, attrs = screen.row(y)
            line = build_line(chars, "".join(attrs), styles)
            cache[y] = line
            lines[y] = line
        changes = Changes(lines, scrolled, cursor, self._full)
        self._view_flags = [False] * rows
        self._view_scrolled = 0
        self._full = False
        return changes

    def _drain(self) -> None:
        """Move the screen's change flags into both readers' pairs, and clear them."""
        screen = self.screen
        k, changed = screen.scrolled, screen.changed
        if not k and True not in changed:
            return
        rows = self.rows
        for flags in (self._view_flags, self._status_flags):
            if k >= rows:
                flags[:] = [True] * rows
            elif k:
                # The screen moved up by k: a reader's unread row y is now row y - k.
                del flags[:k]
                flags.extend([True] * k)
            for y, flag in enumerate(changed):
                if flag:
                    flags[y] = True
        self._view_scrolled += k
        self._status_scrolled += k
        screen.changed = [False] * rows
        screen.scrolled = 0

    def take_status_rows(self) -> tuple[int, list[int] | None] | None:
        """What changed since the status engine last asked: (rows the screen scrolled
        up by, the visible rows that changed), `(0, None)` when every row must be
        read (first look, resize), or None while synchronized output holds a frame
        (the program is mid-draw: ask again later).

        The engine reads only these rows, even while nobody views the tab.
        """
        if self.holding_frame:
            return None
        self._drain()
        rows = self.rows
        if self._status_full:
            result: tuple[int, list[int] | None] = (0, None)
        else:
            flags = self._status_flags
            result = (self._status_scrolled, [y for y in range(rows) if flags[y]])
        self._status_full = False
        self._status_scrolled = 0
        self._status_flags = [False] * rows
        return result

    def row_text(self, y: int) -> str:
        """Visible row `y` as plain text, trailing blanks dropped (a lazy row stays
        lazy: the status engine reads rows that viewers may never ask for)."""
        return self.screen.row_text(y)

    # ---------------------------------------------------------------- state
    def line(self, y: int) -> Line:
        """The line model of visible row `y` (cached)."""
        if not 0 <= y < self.rows:
            return EMPTY_LINE
        self._drain()
        line = self._cache[y]
        if line is None or self._view_flags[y] or self._view_scrolled or self._full:
            chars, attrs = self.screen.row(y)
            line = build_line(chars, "".join(attrs), self.styles)
            if not self._view_scrolled and not self._full:
                self._cache[y] = line
        return line

    def visible_lines(self) -> list[Line]:
        """Every visible row's line model."""
        return [self.line(y) for y in range(self.rows)]

    def history_lines(self, start: int, stop: int) -> list[Line]:
        """Scrollback lines `start..stop` (0 = oldest) as line models."""
        styles = self.styles
        lines = []
        for stored in self.history.lines(start, stop):
            text, attrs = stored_cells(stored, styles)
            lines.append(build_line(text, attrs, styles))
        return lines

    @property
    def history_size(self) -> int:
        """Lines in the scrollback."""
        return len(self.history)

    @property
    def cursor(self) -> tuple[int, int]:
        """Cursor (x, y), 0-based."""
        return self.screen.x, self.screen.y

    @property
    def title(self) -> str:
        """Window title the program set (OSC 0/2)."""
        return self.screen.title

    @property
    def modes(self) -> TermModes:
        """Modes that matter outside the emulator."""
        mode = self.screen.mode
        tracking = 0
        for flag, number in ((MOUSE_ANY, 1003), (MOUSE_BUTTON, 1002), (MOUSE_NORMAL, 1000),
                             (MOUSE_X10, 9)):  # fmt: skip
            if flag in mode:
                tracking = number
                break
        return TermModes(
            app_cursor=DECCKM in mode,
            app_keypad=KEYPAD_APP in mode,
            bracketed_paste=BRACKETED_PASTE in mode,
            mouse_tracking=tracking,
            mouse_sgr=MOUSE_SGR in mode,
            focus_events=FOCUS_EVENTS in mode,
            kitty_flags=self.screen.kitty_flags[-1],
            cursor_visible=DECTCEM in mode,
            cursor_shape=self.screen.cursor_shape,
            alt_screen=self.screen.in_alt,
        )

    # ------------------------------------------------------------ rendering
    def render_text(self) -> str:
        """The screen as plain text, like `tmux capture-pane -p`."""
        self.screen.materialize_all()
        rows = self.screen.chars
        return "".join("".join(row).replace("\x00", "").rstrip() + "\n" for row in rows)

    def render_ansi(self) -> str:
        """The screen as text with SGR codes that reproduce its colours when printed."""
        out: list[str] = []
        for y in range(self.rows):
            out.append(line_to_ansi(self.line(y)))
            out.append("\n")
        return "".join(out)
