"""A client-side copy of a tab's screen, kept current from `screen` events.

The app's terminal view and `ptui attach` keep one per attached tab; tests use
it to check that the stream of line updates rebuilds exactly the server's screen.
"""

from __future__ import annotations

from tui.protocol import decode_runs
from tui.protocol.events import ScreenModes, ScreenUpdate
from tui.term.lines import EMPTY_LINE, Line


class ScreenMirror:
    """Rows of `Line`s, cursor, modes and title, updated by `apply`."""

    def __init__(self, cols: int = 80, rows: int = 24) -> None:
        self.cols = cols
        self.rows = rows
        self.lines: list[Line] = [EMPTY_LINE] * rows
        self.cursor = (0, 0)
        self.modes: ScreenModes = {}
        self.title = ""
        self.exit_code: int | None = None
        self.updates = 0

    def apply(self, data: ScreenUpdate) -> set[int]:
        """Apply one screen event's data; returns the rows that changed (all on scroll)."""
        self.updates += 1
        cols, rows = int(data.get("cols", self.cols)), int(data.get("rows", self.rows))
        changed: set[int]
        if data.get("full") or rows != self.rows:
            self.cols, self.rows = cols, rows
            self.lines = [EMPTY_LINE] * rows
            changed = set(range(rows))
        else:
            self.cols = cols
            changed = set()
        scrolled = int(data.get("scrolled", 0))
        if scrolled:
            shift = min(scrolled, self.rows)
            self.lines = self.lines[shift:] + [EMPTY_LINE] * shift
            changed = set(range(self.rows))
        for y, runs in data.get("lines", []):
            if 0 <= y < self.rows:
                self.lines[y] = decode_runs(runs)
                changed.add(y)
        cursor = data.get("cursor")
        if cursor:
            self.cursor = (int(cursor[0]), int(cursor[1]))
        if "modes" in data:
            self.modes = data["modes"].copy()
        if "title" in data:
            self.title = str(data["title"])
        if "exit_code" in data:
            self.exit_code = data["exit_code"]
        return changed

    def text(self) -> str:
        """The screen as plain text, one row per line (like `Emulator.render_text`)."""
        return "".join(line.text.rstrip() + "\n" for line in self.lines)
