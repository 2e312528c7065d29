"""A still picture of a tab for reading history and copying: scrollback plus the screen.

While the user scrolls back or copies, the terminal view shows a `FrozenView`
instead of the live screen (tmux's copy mode does the same): the screen as it was
when scrolling began, with history pages from the server loaded above it on
demand. The live mirror keeps updating underneath and is shown again on exit.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len

from tui.app.widgets.terminal_render import text_between
from tui.term.lines import Line

COPY, LEAVE = "copy", "leave"

# Copy-mode keys (fixed, like tmux's vi copy mode; the help screen lists them).
COPY_KEYS: dict[str, str] = {
    "hjkl, arrows": "move",
    "pgup / pgdn": "page",
    "0 / $": "line start / end",
    "g / G": "top / bottom",
    "v, space": "start or drop the selection",
    "y, enter": "copy to the clipboard and leave",
    "esc, q": "leave copy mode",
}
_MOVES = {
    "h": (0, -1), "left": (0, -1), "l": (0, 1), "right": (0, 1),
    "k": (-1, 0), "up": (-1, 0), "j": (1, 0), "down": (1, 0),
}  # fmt: skip


@dataclass
class Point:
    """A cell in the frozen lines: `row` indexes `FrozenView.lines`, `col` is a cell column."""

    row: int
    col: int


class FrozenView:
    """Lines (history above, screen below), the visible window and a copy cursor."""

    def __init__(self, screen: list[Line], cursor: tuple[int, int], height: int) -> None:
        self.lines: list[Line] = list(screen)
        self.height = max(1, height)
        self.bottom = len(self.lines)
        """Index one past the last visible line; `len(lines)` means "at the live bottom"."""
        self.history_start: int | None = None
        """Server history index of `lines[0]` once history is loaded; 0 = all of it."""
        self.copying = False
        self.cursor = Point(max(0, min(cursor[1], len(self.lines) - 1)), max(0, cursor[0]))
        self.anchor: Point | None = None

    # ------------------------------------------------------------ window
    @property
    def top(self) -> int:
        """Index of the line drawn on the first row (negative: blank rows above)."""
        return self.bottom - self.height

    @property
    def at_bottom(self) -> bool:
        return self.bottom >= len(self.lines)

    @property
    def scrolled_back(self) -> int:
        """Lines between the visible window and the live bottom."""
        return len(self.lines) - self.bottom

    @property
    def needs_history(self) -> bool:
        """True when the window is near the top of what is loaded and more exists."""
        return self.history_start != 0 and self.top < self.height

    def line_at(self, y: int) -> Line | None:
        """The line shown on row `y` of the view, None above the first line."""
        index = self.top + y
        return self.lines[index] if 0 <= index < len(self.lines) else None

    def scroll(self, delta: int) -> None:
        """Move the window by `delta` lines (negative: back into history)."""
        lowest = min(self.height, len(self.lines))
        self.bottom = max(lowest, min(len(self.lines), self.bottom + delta))

    def prepend(self, history: list[Line], start: int) -> None:
        """Add older lines above (`start` = their server history index); nothing moves."""
        self.lines[:0] = history
        self.bottom += len(history)
        self.cursor.row += len(history)
        if self.anchor is not None:
            self.anchor.row += len(history)
        self.history_start = start

    def resize(self, height: int) -> None:
        self.height = max(1, height)
        self.scroll(0)

    # ------------------------------------------------------------- copy
    def move(self, rows: int = 0, cols: int = 0) -> None:
        """Move the copy cursor, scrolling the window to keep it visible."""
        cursor = self.cursor
        cursor.row = max(0, min(len(self.lines) - 1, cursor.row + rows))
        cursor.col = max(0, cursor.col + cols)
        self.keep_cursor_visible()

    def move_to_column(self, where: str) -> None:
        """`start` or `end` of the cursor's line."""
        text = self.lines[self.cursor.row].text if self.lines else ""
        self.cursor.col = 0 if where == "start" else max(0, cell_len(text.rstrip()) - 1)

    def move_to_row(self, row: int) -> None:
        self.cursor.row = max(0, min(len(self.lines) - 1, row))
        self.keep_cursor_visible()

    def keep_cursor_visible(self) -> None:
        row = self.cursor.row
        if row < self.top:
            self.bottom = row + self.height
        elif row >= self.bottom:
            self.bottom = row + 1
        self.scroll(0)

    def copy_key(self, key: str, character: str | None, page: int) -> str:
        """Act on a copy-mode key; `COPY` or `LEAVE` when copy mode should end, else ""."""
        if key in _MOVES:
            self.move(*_MOVES[key])
        elif key in ("pageup", "ctrl+b"):
            self.move(rows=-page)
        elif key in ("pagedown", "ctrl+f"):
            self.move(rows=page)
        elif character in ("0", "^") or key == "home":
            self.move_to_column("start")
        elif character == "$" or key == "end":
            self.move_to_column("end")
        elif character == "g":
            self.move_to_row(0)
        elif character == "G":
            self.move_to_row(len(self.lines) - 1)
        elif character in ("v", " "):
            self.toggle_selection()
        elif character == "y" or key == "enter":
            return COPY
        elif key == "escape" or character == "q":
            return LEAVE
        return ""

    def toggle_selection(self) -> None:
        self.anchor = None if self.anchor else Point(self.cursor.row, self.cursor.col)

    def selection(self) -> tuple[Point, Point] | None:
        """The selection's first and last cell, in reading order."""
        if self.anchor is None:
            return None
        a, b = self.anchor, self.cursor
        return (a, b) if (a.row, a.col) <= (b.row, b.col) else (b, a)

    def selected_columns(self, row: int, width: int) -> tuple[int, int] | None:
        """The cells of `row` inside the selection, as (start, end) with end exclusive."""
        chosen = self.selection()
        if chosen is None:
            return None
        first, last = chosen
        if not first.row <= row <= last.row:
            return None
        start = first.col if row == first.row else 0
        end = last.col + 1 if row == last.row else width
        return start, end

    def selected_text(self) -> str:
        """The selected text (the cursor's line when nothing is selected), lines joined by \\n."""
        chosen = self.selection()
        if chosen is None:
            row = self.cursor.row
            return self.lines[row].text.rstrip() if 0 <= row < len(self.lines) else ""
        first, last = chosen
        out = []
        for row in range(first.row, last.row + 1):
            text = self.lines[row].text
            start = first.col if row == first.row else 0
            end = last.col + 1 if row == last.row else cell_len(text) + 1
            out.append(text_between(text, start, end).rstrip())
        return "\n".join(out)
