"""The screen model: pyte's Screen API over a compact, fast cell store.

`TermScreen` subclasses `pyte.Screen` and keeps its method names and mode
constants (so any pyte `Stream` can drive it), but replaces pyte's buffer — a
dict of `Char` namedtuples per line, rebuilt with `_replace` on every cell —
with two plain lists per line: the cell text and a one-character style id per
cell. Writing a run of ASCII is then two slice assignments.

It also adds what pyte 0.8.2 lacks: the alternate screen (pyte paints `?1049h`
over the main buffer), SU/SD, REP, scroll tracking (pyte marks every line dirty
on each scroll), deferred autowrap, grapheme clusters (VS16, ZWJ and ZWSP cut
pyte's text off: `"⚠️ Warning"` shows `"⚠"`), a compact scrollback (pyte's
`HistoryScreen` holds ~18 KB per 200-column line) and the modes agents rely on.

Conventions: `x`, `y` are 0-based; a wide character occupies its cell plus a
placeholder cell holding `WIDE_TAIL` (NUL, which a program can never print);
a cell style is an id from `StyleTable`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyte
from pyte import modes as mo
from pyte.charsets import MAPS as CHARSET_MAPS

from tui.term.cells import (
    CELL_TABLE,
    MAX_CLUSTER,
    SGR_SPLIT,
    SLOW_MARK,
    VS16,
    VS_MARK,
    WIDE_TAIL,
    apply_vs16,
    char_width,
    expand_run,
    is_emoji_modifier,
    is_regional_indicator,
)
from tui.term.scrollback import HistoryLine, Scrollback, expand
from tui.term.style import StyleTable

# Private (DEC) modes are stored shifted, as pyte does, to keep one mode set.
PRIVATE = 5
DECCKM = 1 << PRIVATE
DECOM = mo.DECOM
DECAWM = mo.DECAWM
DECTCEM = mo.DECTCEM
DECSCNM = mo.DECSCNM
IRM = mo.IRM
LNM = mo.LNM
ALT_47 = 47 << PRIVATE
ALT_1047 = 1047 << PRIVATE
SAVE_1048 = 1048 << PRIVATE
ALT_1049 = 1049 << PRIVATE
MOUSE_X10 = 9 << PRIVATE
MOUSE_NORMAL = 1000 << PRIVATE
MOUSE_BUTTON = 1002 << PRIVATE
MOUSE_ANY = 1003 << PRIVATE
FOCUS_EVENTS = 1004 << PRIVATE
MOUSE_UTF8 = 1005 << PRIVATE
MOUSE_SGR = 1006 << PRIVATE
MOUSE_URXVT = 1015 << PRIVATE
BRACKETED_PASTE = 2004 << PRIVATE
SYNC_OUTPUT = 2026 << PRIVATE
CURSOR_BLINK = 12 << PRIVATE

# Limits that keep the cost of hostile input bounded and linear.
MAX_COUNT = 10_000  # repeat / insert / move counts are clamped to this

_ZWJ = "\u200d"
_VS16 = "\ufe0f"
_VS15 = "\ufe0e"

# A lazy row: [width, blank, style id, run, style id, run, ...] — runs of text +
# SGR printed from column 0 and not yet expanded into cells (see
# `TermScreen.append_run`). They overlay columns 0..width of the row's cell lists;
# `blank` says those lists are blank with the default style (so the runs alone
# are the row).
LazyRow = list[object]


def _translation(code: str) -> dict[int, str] | None:
    """A str.translate table for a designated charset (None for plain ASCII/Latin-1)."""
    mapping = CHARSET_MAPS.get(code)
    if mapping is None or code == "B":
        return None
    table = {i: mapping[i] for i in range(0x20, 0x7F) if mapping[i] != chr(i)}
    if code == "0":
        # pyte maps 0x68 to a shade block; xterm and tmux draw SYMBOL FOR NEWLINE.
        table[0x68] = "\u2424"
    return table


@dataclass
class SavedCursor:
    """What DECSC saves and DECRC restores."""

    x: int = 0
    y: int = 0
    style: str = "\x00"
    origin: bool = False
    wrap_pending: bool = False
    charset: int = 0
    g0: dict[int, str] | None = None
    g1: dict[int, str] | None = None


@dataclass
class ScreenBuffer:
    """One of the two buffers (main, alternate) with its own cursor save slot."""

    chars: list[list[str]]
    attrs: list[list[str]]
    wrapped: list[bool]
    # Per row: None when `chars`/`attrs` hold the row, else a LazyRow (and the
    # lists are blank).
    lazy: list[LazyRow | None]
    saved: SavedCursor = field(default_factory=SavedCursor)


class TermScreen(pyte.Screen):
    """A terminal screen implementing pyte's Screen API on a compact cell store."""

    # pyte.Screen.__init__ is deliberately not called: it builds the per-cell
    # Char buffer this class exists to replace. Every Screen method that touches
    # the buffer is overridden below.
    def __init__(
        self,
        columns: int,
        lines: int,
        *,
        styles: StyleTable | None = None,
        scrollback: Scrollback | None = None,
    ) -> None:
        self.columns = max(1, columns)
        self.lines = max(1, lines)
        self.style_table = styles if styles is not None else StyleTable()
        self.history = scrollback if scrollback is not None else Scrollback()
        self.reset()

    # ----------------------------------------------------------------- state
    def reset(self) -> None:
        """Full reset (RIS): clear both buffers, modes, margins, tabs, charsets."""
        cols, rows = self.columns, self.lines
        self.main = self._blank_buffer(cols, rows)
        self.alt = self._blank_buffer(cols, rows)
        self.active = self.main
        self.chars = self.main.chars
        self.attrs = self.main.attrs
        self.lazy = self.main.lazy
        self.wrapped = self.main.wrapped
        self.in_alt = False
        self.x = 0
        self.y = 0
        self.wrap_pending = False
        self.style = "\x00"
        self.top = 0
        self.bottom = rows - 1
        self.mode: set[int] = {DECAWM, DECTCEM}
        self.tabstops = set(range(8, cols, 8))
        self.charset = 0
        self.g0: dict[int, str] | None = None
        self.g1: dict[int, str] | None = None
        self.translate: dict[int, str] | None = None
        self.last_char = ""
        self.join_next = False
        self.cursor_shape = 0
        self.title = ""
        self.icon_name = ""
        # One flag per row: cheaper than a set to mark and to shift on scroll.
        self.changed: list[bool] = [True] * rows
        self.scrolled = 0
        self.replies: list[str] = []
        self.events: list[tuple[str, Any]] = []

    @staticmethod
    def _blank_buffer(cols: int, rows: int) -> ScreenBuffer:
        return ScreenBuffer(
            [[" "] * cols for _ in range(rows)],
            [["\x00"] * cols for _ in range(rows)],
            [False] * rows,
            [[0, True] for _ in range(rows)],
        )

    @property
    def display(self) -> list[str]:
        """Each line's text, one entry per row (pyte's `display`)."""
        self.materialize_all()
        return ["".join(row).replace(WIDE_TAIL, "") for row in self.chars]

    def _mark_all(self) -> None:
        self.changed = [True] * self.lines

    # ------------------------------------------------------------ lazy rows
    def append_run(self, run: str, width: int, end_sid: str, last_char: str) -> bool:
        """Print a run of text + SGR `width` cells wide without expanding it into cells.

        Possible when it continues a lazy row at its end, or starts a row at
        column 0 (where it overlays what is there), and fits before the margin:
        an agent printing a line, a full-screen app redrawing one. The row is
        expanded only when something reads or edits it; a row that is redrawn
        again first, or scrolls off, never is. Returns False when the caller
        must draw the run normally.
        """
        if self.wrap_pending:
            return False
        x = self.x
        stop = x + width
        cols = self.columns
        if stop > cols:
            return False
        y = self.y
        row = self.lazy[y]
        if row is None:
            if x:
                return False
            row = self.lazy[y] = [0, False]  # overlay the cells already there
        elif row[0] != x:
            if x or stop < row[0]:  # type: ignore[operator]
                return False
            del row[2:]  # the new run hides the old runs entirely
        row[0] = stop
        row.append(self.style)
        row.append(run)
        self.style = end_sid
        self.last_char = last_char
        self.changed[y] = True
        if stop == cols:
            self.x = cols - 1
            self.wrap_pending = True
        else:
            self.x = stop
        return True

    def can_push_lines(self) -> bool:
        """True when whole lines printed now would just scroll the screen up.

        That is: the cursor at column 0 of a fresh bottom row, the scroll region
        the whole screen, no wrap pending — where a stream of output lines lands.
        """
        y = self.y
        row = self.lazy[y]
        return (
            y == self.bottom == self.lines - 1
            and self.top == 0
            and self.x == 0
            and not self.wrap_pending
            and row is not None
            and row[0] == 0
            and len(row) == 2
            and bool(row[1])
        )

    def push_lines(
        self,
        new_rows: list[LazyRow],
        style: str,
        last_char: str,
        wraps: list[bool] | None = None,
    ) -> None:
        """Print whole lines (as lazy rows, each followed by CR LF) in one scroll.

        Equivalent to printing each line on the fresh bottom row and scrolling, one
        by one (see `can_push_lines`): the rows above the cursor, then the new
        lines, then a fresh row, of which the screen keeps the last `lines` and the
        scrollback gets the rest, in order.
        """
        rows = self.lines
        cols = self.columns
        k = len(new_rows)
        blank_attr = self.style_table.erase(style)
        keep = not self.in_alt
        history = self.history
        chars, attrs, lazy, wrapped = self.chars, self.attrs, self.lazy, self.wrapped
        # The stream of rows: old rows above the cursor, the new lines, a fresh row.
        old = rows - 1
        gone = k  # rows that leave the top of the screen
        # Blank cell lists of departing lazy rows, reused for the rows coming in.
        spare: list[tuple[list[str], list[str]]] = []
        for y in range(min(gone, old)):
            row = lazy[y]
            if row is None or not row[1]:
                if row is not None:
                    self._materialize(y)
                if keep:
                    history.push(chars[y], attrs[y])
            else:
                if keep:
                    history.push_raw(row)
                spare.append((chars[y], attrs[y]))
        if keep:
            for row in new_rows[: max(0, gone - old)]:
                history.push_raw(row)
        visible_new = new_rows[max(0, gone - old) :]
        kept = max(0, old - gone)
        fresh: list[LazyRow | None] = [[0, True] if blank_attr == "\x00" else None]
        new_lazy: list[LazyRow | None] = [*visible_new, *fresh]
        # `wraps[i]`: new row i continues on the next row (autowrap), for copy/reflow.
        new_wraps = [*(wraps[max(0, gone - old) :] if wraps else [False] * len(visible_new)), False]
        drop = min(gone, old)
        del chars[:drop]
        del attrs[:drop]
        del lazy[:drop]
        del wrapped[:drop]
        # What is left is `kept` old rows and the cursor row: replace the cursor row.
        del chars[kept:]
        del attrs[kept:]
        del lazy[kept:]
        del wrapped[kept:]
        for row, wrap in zip(new_lazy, new_wraps, strict=True):
            if row is not None and spare:
                row_chars, row_attrs = spare.pop()
                chars.append(row_chars)
                attrs.append(row_attrs)
            else:
                chars.append([" "] * cols)
                attrs.append(["\x00"] * cols if row is not None else [blank_attr] * cols)
            lazy.append(row)
            wrapped.append(wrap)
        # Whole screen moved by k rows; every row from the first new one on changed.
        self.scrolled += k
        changed = self.changed
        if k >= rows:
            changed[:] = [True] * rows
        else:
            del changed[:k]
            changed.extend([True] * k)
            first_new = rows - 1 - k
            changed[first_new:] = [True] * (rows - first_new)
        self.x = 0
        self.wrap_pending = False
        self.style = style
        self.last_char = last_char

    def _materialize(self, y: int) -> None:
        """Expand lazy row `y` into its cell lists."""
        row = self.lazy[y]
        self.lazy[y] = None
        if row is None or len(row) == 2:
            return
        self._expand_lazy(row, self.chars[y], self.attrs[y])

    def _expand_lazy(self, row: LazyRow, chars: list[str], attrs: list[str]) -> None:
        table = self.style_table
        x = 0
        for k in range(2, len(row), 2):
            sid = row[k]
            run = row[k + 1]
            assert isinstance(sid, str) and isinstance(run, str)
            expanded = expand_run(sid, SGR_SPLIT.split(run), table)
            if expanded is None:  # cannot happen: only cluster-free runs are kept lazy
                continue
            cells, styles, _ = expanded
            n = len(cells)
            chars[x : x + n] = cells
            attrs[x : x + n] = styles
            x += n
        if x < len(chars) and chars[x] == WIDE_TAIL:
            chars[x] = " "  # the right half of a wide character the runs overwrote

    def materialize_all(self) -> None:
        """Expand every lazy row of the active buffer (for readers of `chars`/`attrs`)."""
        lazy = self.lazy
        for y in range(len(lazy)):
            if lazy[y] is not None:
                self._materialize(y)

    def _materialize_buffer(self, buf: ScreenBuffer) -> None:
        for y, row in enumerate(buf.lazy):
            if row is not None:
                buf.lazy[y] = None
                if len(row) > 2:
                    self._expand_lazy(row, buf.chars[y], buf.attrs[y])

    def row(self, y: int) -> tuple[list[str], list[str]]:
        """Row `y`'s cell text and style ids (expanding a lazy row first)."""
        if self.lazy[y] is not None:
            self._materialize(y)
        return self.chars[y], self.attrs[y]

    # ----------------------------------------------------------------- text
    def draw(self, data: str) -> None:
        """Print text at the cursor, wrapping and scrolling as the modes say."""
        if self.translate is not None:
            data = data.translate(self.translate)
        if data.isascii() and not self.join_next and IRM not in self.mode:
            self._place(data, None)
        else:
            self._draw_unicode(data)

    def draw_styled(self, cells: str | list[str], styles: str) -> None:
        """Print prepared cells whose style ids are given per cell (`styles`, same length).

        `cells` holds one character per cell, a wide character followed by
        WIDE_TAIL. The stream builds this for runs of text and SGR, so a whole
        coloured line lands with one slice assignment per screen row. The caller
        checks that no charset, insert mode or pending cluster is active.
        """
        self._place(cells, styles)

    def _place(self, cells: str | list[str], styles: str | None) -> None:
        """Write cells at the cursor with autowrap; wide characters never straddle the margin."""
        cols = self.columns
        autowrap = DECAWM in self.mode
        pos = 0
        end = len(cells)
        while pos < end:
            if self.wrap_pending:
                if autowrap:
                    if styles is not None:
                        # The row a wrap scrolls in takes the background of the
                        # character being drawn (BCE), as one-at-a-time drawing does.
                        self.style = styles[pos]
                    self.wrapped[self.y] = True
                    self.x = 0
                    self.index()
                self.wrap_pending = False
            x = self.x
            y = self.y
            if self.lazy[y] is not None:
                self._materialize(y)
            n = end - pos
            cut = False
            skip_tail = False
            if n > cols - x:
                n = cols - x
                if cells[pos + n] == WIDE_TAIL:
                    head = cells[pos + n - 1]
                    if head[-1:] == VS16 and char_width(head[0]) == 1:
                        # Drawn one character at a time, the base lands in the last
                        # column and its VS16 finds no room to widen it: it stays
                        # narrow there. The same here, whatever the read boundaries.
                        skip_tail = True
                    else:
                        n -= 1  # a wide character would straddle the margin: next line
                        cut = True
            chars = self.chars[y]
            attrs = self.attrs[y]
            stop = x + n
            if n:
                if x and chars[x] == WIDE_TAIL:
                    chars[x - 1] = " "  # overwriting the right half of a wide char
                if stop < cols and chars[stop] == WIDE_TAIL:
                    chars[stop] = " "  # overwriting the left half of a wide char
                chars[x:stop] = cells[pos : pos + n]
                attrs[x:stop] = self.style * n if styles is None else styles[pos : pos + n]
                self.changed[y] = True
                pos += n
                if skip_tail:
                    pos += 1
            if cut and cols < 2:
                pos += 2  # a one-column screen has no room for a wide character at all
                continue
            if cut and autowrap:
                chars[cols - 1] = " "  # the column the wide character could not use
                self.changed[y] = True
                self.x = cols - 1
                self.wrap_pending = True
            elif cut or stop >= cols:
                # The margin: a wrap is pending (autowrap) or the next character
                # overwrites the last column (no autowrap) — xterm's do_wrap flag.
                self.x = cols - 1
                reached = stop >= cols
                if not autowrap and pos < end:
                    # What is left overwrites the last column one cell at a time; a
                    # wide character finds no room there and is dropped (but one
                    # made wide only by its VS16 stays, narrow). So the last such
                    # cell left is what stays, and the margin is "reached" only if
                    # the very last character was one.
                    reached = False
                    j = end - 1
                    while j >= pos:
                        cell = cells[j]
                        if cell == WIDE_TAIL:
                            head = cells[j - 1]
                            if not (head[-1:] == VS16 and char_width(head[0]) == 1):
                                j -= 2
                                continue
                            cell = head
                            j -= 1
                        reached = reached or j >= end - 2
                        if chars[cols - 1] == WIDE_TAIL and cols > 1:
                            chars[cols - 2] = " "  # overwriting a wide character's tail
                        chars[cols - 1] = cell
                        attrs[cols - 1] = self.style if styles is None else styles[j]
                        self.changed[y] = True
                        break
                    pos = end
                self.wrap_pending = reached
            else:
                self.x = stop
        if end:
            self.last_char = cells[end - 2] if cells[end - 1] == WIDE_TAIL else cells[end - 1]

    def _draw_unicode(self, data: str) -> None:
        if self.join_next or IRM in self.mode:
            for ch in data:
                self._cluster_char(ch)
            return
        # One C-level pass maps each character to its cells: itself, plus WIDE_TAIL
        # when wide. A character that needs cluster logic (combining mark, joiner,
        # VS16, flag) comes out as SLOW_MARK + itself, so splitting on it leaves
        # plain cells to place in bulk between the few code points handled singly.
        cells = data.translate(CELL_TABLE)
        if SLOW_MARK not in cells:
            if VS_MARK in cells:
                joined = apply_vs16(cells, self.style * len(cells))
                if joined is not None:
                    self._place(joined[0], joined[1])
                    return
                for ch in data:
                    self._cluster_char(ch)
                return
            self._place(cells, None)
            return
        if VS_MARK in cells:
            for ch in data:
                self._cluster_char(ch)
            return
        pieces = cells.split(SLOW_MARK)
        if pieces[0]:
            self._place(pieces[0], None)
        for piece in pieces[1:]:
            self._cluster_char(piece[0])
            rest = piece[1:]
            if rest and self.join_next:
                # A ZWJ joins the next character to this cluster (skip its tail cell).
                self._cluster_char(rest[0])
                rest = rest[2:] if rest[1:2] == WIDE_TAIL else rest[1:]
            if rest:
                self._place(rest, None)
        self.last_char = data[-1]

    def _cluster_char(self, ch: str) -> None:
        """Draw one code point, joining it to the previous cell's cluster when it must."""
        if self.join_next:
            # The previous cell ended with a ZWJ: this code point joins its cluster.
            self.join_next = False
            if self._append_to_previous(ch):
                return
        if ch.isascii():
            self._put(ch, 1)
            return
        width = char_width(ch)
        if width == 0:
            if ch == _ZWJ:
                self.join_next = self._append_to_previous(ch)
            elif ch == _VS16:
                self._append_to_previous(ch)
                self._widen_previous()
            elif ch not in (_VS15, "\u200b"):
                self._append_to_previous(ch)
            return
        if is_emoji_modifier(ch):
            prev = self._previous_cell()
            if prev is not None:
                px, py = prev
                cell = self.chars[py][px]
                if cell and char_width(cell[0]) == 2:
                    # A skin-tone modifier joins the emoji before it (one wide cell).
                    self._append_to_previous(ch)
                    return
        if is_regional_indicator(ch):
            prev = self._previous_cell()
            if prev is not None:
                px, py = prev
                cell = self.chars[py][px]
                if len(cell) == 1 and is_regional_indicator(cell):
                    # The second regional indicator makes a flag with the first.
                    self.chars[py][px] = cell + ch
                    self.changed[py] = True
                    return
        self._put(ch, width)

    def _previous_cell(self) -> tuple[int, int] | None:
        """The cell the last printed character went to (start of a wide char)."""
        x, y = self.x, self.y
        if self.lazy[y] is not None:
            self._materialize(y)
        if not self.wrap_pending:
            x -= 1
        if x < 0:
            return None
        if self.chars[y][x] == WIDE_TAIL and x > 0:
            x -= 1
        return x, y

    def _append_to_previous(self, ch: str) -> bool:
        prev = self._previous_cell()
        if prev is None:
            return False
        x, y = prev
        cell = self.chars[y][x]
        if len(cell) < MAX_CLUSTER:
            self.chars[y][x] = cell + ch
            self.changed[y] = True
        return True

    def _widen_previous(self) -> None:
        """VS16 asks for emoji presentation: a narrow character becomes two cells wide."""
        prev = self._previous_cell()
        if prev is None:
            return
        x, y = prev
        chars = self.chars[y]
        if x + 1 < self.columns and chars[x + 1] != WIDE_TAIL and char_width(chars[x][0]) == 1:
            if self.wrap_pending:
                return  # no room at the right edge: leave it narrow, as xterm does
            chars[x + 1] = WIDE_TAIL
            self.attrs[y][x + 1] = self.attrs[y][x]
            if x + 2 < self.columns and chars[x + 2] == WIDE_TAIL:
                chars[x + 2] = " "  # the tail of a wide character we just overwrote
            self.changed[y] = True
            if self.x == x + 1:
                self.x = x + 2
                if self.x >= self.columns:
                    self.x = self.columns - 1
                    self.wrap_pending = True

    def _put(self, ch: str, width: int) -> None:
        """Print one character of width 1 or 2 at the cursor."""
        cols = self.columns
        if self.wrap_pending:
            if DECAWM in self.mode:
                self.wrapped[self.y] = True
                self.x = 0
                self.index()
            self.wrap_pending = False
        if self.lazy[self.y] is not None:
            self._materialize(self.y)
        if width == 2 and self.x == cols - 1:
            if DECAWM in self.mode and cols > 1:
                # A wide char does not fit in the last column: it goes to the next line.
                self.chars[self.y][self.x] = " "
                self.changed[self.y] = True
                self.wrapped[self.y] = True
                self.x = 0
                self.index()
                if self.lazy[self.y] is not None:
                    self._materialize(self.y)
            else:
                # No autowrap and no room: the wide character is dropped.
                self.x = cols - 1
                return
        x, y = self.x, self.y
        chars = self.chars[y]
        attrs = self.attrs[y]
        if IRM in self.mode:
            self.insert_characters(width)
        if chars[x] == WIDE_TAIL and x:
            chars[x - 1] = " "
        stop = x + width
        if stop < cols and chars[stop] == WIDE_TAIL:
            chars[stop] = " "
        chars[x] = ch
        attrs[x] = self.style
        if width == 2:
            chars[x + 1] = WIDE_TAIL
            attrs[x + 1] = self.style
        self.changed[y] = True
        self.last_char = ch
        if stop >= cols:
            self.x = cols - 1
            self.wrap_pending = True
        else:
            self.x = stop

    def repeat_last(self, count: int) -> None:
        """REP: print the last printed character `count` more times."""
        if self.last_char:
            self.draw(self.last_char * min(max(count, 1), MAX_COUNT))

    # ------------------------------------------------------------ scrolling
    def scroll_up(self, count: int = 1) -> None:
        """Move the lines of the scroll region up, new blank lines at its bottom."""
        top, bottom = self.top, self.bottom
        count = min(max(count, 1), bottom - top + 1)
        chars, attrs, wrapped, lazy = self.chars, self.attrs, self.wrapped, self.lazy
        keep = top == 0 and not self.in_alt
        blank_attr = self.style_table.erase(self.style)
        history = self.history
        cols = self.columns
        for _ in range(count):
            row_chars = chars.pop(top)
            row_attrs = attrs.pop(top)
            row_lazy = lazy.pop(top)
            wrapped.pop(top)
            if row_lazy is not None and not row_lazy[1]:
                # Runs over other content: expand, then store like any row.
                if len(row_lazy) > 2:
                    self._expand_lazy(row_lazy, row_chars, row_attrs)
                row_lazy = None
            if row_lazy is not None:
                if keep:
                    # Never expanded: it goes to the history as the runs it came as.
                    history.push_raw(row_lazy)
                if blank_attr == "\x00":
                    # A blank-based lazy row's cell lists are still blank: reuse them.
                    chars.insert(bottom, row_chars)
                    attrs.insert(bottom, row_attrs)
                    lazy.insert(bottom, [0, True])
                    wrapped.insert(bottom, False)
                    continue
            elif keep:
                history.push(row_chars, row_attrs)
            chars.insert(bottom, [" "] * cols)
            attrs.insert(bottom, [blank_attr] * cols)
            lazy.insert(bottom, [0, True] if blank_attr == "\x00" else None)
            wrapped.insert(bottom, False)
        if top == 0 and bottom == self.lines - 1:
            # Whole screen moved: views shift their cached lines instead of redrawing.
            self.scrolled += count
            dirty = self.changed
            del dirty[:count]
            dirty.extend([True] * count)
        else:
            self.changed[top : bottom + 1] = [True] * (bottom + 1 - top)

    def scroll_down(self, count: int = 1) -> None:
        """Move the lines of the scroll region down, new blank lines at its top."""
        top, bottom = self.top, self.bottom
        count = min(max(count, 1), bottom - top + 1)
        blank_attr = self.style_table.erase(self.style)
        cols = self.columns
        for _ in range(count):
            del self.chars[bottom]
            del self.attrs[bottom]
            del self.lazy[bottom]
            del self.wrapped[bottom]
            self.chars.insert(top, [" "] * cols)
            self.attrs.insert(top, [blank_attr] * cols)
            self.lazy.insert(top, [0, True] if blank_attr == "\x00" else None)
            self.wrapped.insert(top, False)
        self.changed[top : bottom + 1] = [True] * (bottom + 1 - top)

    def index(self) -> None:
        """IND / LF: cursor down one line, scrolling at the bottom margin."""
        if self.y == self.bottom:
            self.scroll_up(1)
        elif self.y < self.lines - 1:
            self.y += 1

    def reverse_index(self) -> None:
        """RI: cursor up one line, scrolling down at the top margin."""
        self.wrap_pending = False
        if self.y == self.top:
            self.scroll_down(1)
        elif self.y > 0:
            self.y -= 1

    def linefeed(self) -> None:
        """LF, VT, FF: index, plus carriage return in newline mode (LNM)."""
        self.wrap_pending = False
        self.index()
        if LNM in self.mode:
            self.x = 0

    def next_line(self) -> None:
        """NEL: carriage return and index."""
        self.wrap_pending = False
        self.index()
        self.x = 0

    def carriage_return(self) -> None:
        """CR."""
        self.x = 0
        self.wrap_pending = False

    def backspace(self) -> None:
        """BS: one column left (stops at the margin)."""
        if self.wrap_pending:
            self.wrap_pending = False
        elif self.x > 0:
            self.x -= 1

    def tab(self, count: int = 1) -> None:
        """HT / CHT: to the next tab stop, or the last column."""
        self.wrap_pending = False
        x = self.x
        for _ in range(min(max(count, 1), self.columns)):
            x = next((t for t in sorted(self.tabstops) if t > x), self.columns - 1)
        self.x = min(x, self.columns - 1)

    def back_tab(self, count: int = 1) -> None:
        """CBT: to the previous tab stop, or the first column."""
        self.wrap_pending = False
        x = self.x
        for _ in range(min(max(count, 1), self.columns)):
            x = max((t for t in self.tabstops if t < x), default=0)
        self.x = x

    def set_tab_stop(self) -> None:
        """HTS."""
        self.tabstops.add(self.x)

    def clear_tab_stop(self, how: int = 0) -> None:
        """TBC: 0 clears the stop at the cursor, 3 clears all."""
        if how == 0:
            self.tabstops.discard(self.x)
        elif how == 3:
            self.tabstops.clear()

    # --------------------------------------------------------------- cursor
    def _clamp_x(self, x: int) -> int:
        return 0 if x < 0 else (self.columns - 1 if x >= self.columns else x)

    def cursor_up(self, count: int | None = None) -> None:
        """CUU: up, stopping at the top margin when inside the region."""
        count = min(max(count or 1, 1), MAX_COUNT)
        floor = self.top if self.y >= self.top else 0
        self.y = max(self.y - count, floor)
        self.wrap_pending = False

    def cursor_down(self, count: int | None = None) -> None:
        """CUD: down, stopping at the bottom margin when inside the region."""
        count = min(max(count or 1, 1), MAX_COUNT)
        ceiling = self.bottom if self.y <= self.bottom else self.lines - 1
        self.y = min(self.y + count, ceiling)
        self.wrap_pending = False

    def cursor_up1(self, count: int | None = None) -> None:
        """CPL: up and to column 0."""
        self.cursor_up(count)
        self.x = 0

    def cursor_down1(self, count: int | None = None) -> None:
        """CNL: down and to column 0."""
        self.cursor_down(count)
        self.x = 0

    def cursor_back(self, count: int | None = None) -> None:
        """CUB."""
        count = min(max(count or 1, 1), MAX_COUNT)
        self.x = max(self.x - count, 0)
        self.wrap_pending = False

    def cursor_forward(self, count: int | None = None) -> None:
        """CUF."""
        count = min(max(count or 1, 1), MAX_COUNT)
        self.x = min(self.x + count, self.columns - 1)
        self.wrap_pending = False

    def cursor_position(self, line: int | None = None, column: int | None = None) -> None:
        """CUP / HVP: 1-based position, relative to the region in origin mode."""
        row = (line or 1) - 1
        col = (column or 1) - 1
        if DECOM in self.mode:
            row = min(row + self.top, self.bottom)
        self.y = min(max(row, 0), self.lines - 1)
        self.x = self._clamp_x(col)
        self.wrap_pending = False

    def cursor_to_column(self, column: int | None = None) -> None:
        """CHA / HPA: 1-based column."""
        self.x = self._clamp_x((column or 1) - 1)
        self.wrap_pending = False

    def cursor_to_line(self, line: int | None = None) -> None:
        """VPA: 1-based line (relative to the region in origin mode)."""
        row = (line or 1) - 1
        if DECOM in self.mode:
            row = min(row + self.top, self.bottom)
        self.y = min(max(row, 0), self.lines - 1)
        self.wrap_pending = False

    def save_cursor(self) -> None:
        """DECSC."""
        self.active.saved = SavedCursor(
            self.x, self.y, self.style, DECOM in self.mode, self.wrap_pending,
            self.charset, self.g0, self.g1,
        )  # fmt: skip

    def restore_cursor(self) -> None:
        """DECRC (home with default attributes when nothing was saved)."""
        saved = self.active.saved
        self.x = min(saved.x, self.columns - 1)
        self.y = min(saved.y, self.lines - 1)
        self.style = saved.style
        self.wrap_pending = saved.wrap_pending
        if saved.origin:
            self.mode.add(DECOM)
        else:
            self.mode.discard(DECOM)
        self.charset, self.g0, self.g1 = saved.charset, saved.g0, saved.g1
        self.translate = self.g1 if self.charset else self.g0

    # ---------------------------------------------------------------- edit
    def _erase_cells(self, y: int, start: int, stop: int) -> None:
        if start >= stop:
            return
        attr = self.style_table.erase(self.style)
        row = self.lazy[y]
        if row is not None:
            width = row[0]
            assert isinstance(width, int)
            if start == 0 and stop >= self.columns:
                # The whole row: blank again (and still lazy when the style is default).
                self.chars[y] = [" "] * self.columns
                self.attrs[y] = [attr] * self.columns
                self.lazy[y] = [0, True] if attr == "\x00" else None
                self.changed[y] = True
                return
            if start < width:
                self._materialize(y)
            elif row[1] and attr == "\x00":
                return  # past the runs everything is blank already
            elif start == width and stop >= self.columns and attr == "\x00":
                # The runs now end the row: blank what is under them too, so the
                # lists are blank and the runs alone are the row again.
                self.chars[y] = [" "] * self.columns
                self.attrs[y] = ["\x00"] * self.columns
                row[1] = True
                self.changed[y] = True
                return
            else:
                row[1] = False  # the cells past the runs are about to differ from blank
        chars = self.chars[y]
        attrs = self.attrs[y]
        if start > 0 and chars[start] == WIDE_TAIL:
            chars[start - 1] = " "
        if stop < self.columns and chars[stop] == WIDE_TAIL:
            chars[stop] = " "
        n = stop - start
        chars[start:stop] = " " * n
        attrs[start:stop] = attr * n
        self.changed[y] = True

    def _erase_rows(self, start: int, stop: int) -> None:
        attr = self.style_table.erase(self.style)
        cols = self.columns
        for y in range(start, stop):
            self.chars[y] = [" "] * cols
            self.attrs[y] = [attr] * cols
            self.lazy[y] = [0, True] if attr == "\x00" else None
            self.wrapped[y] = False
        if start < stop:
            self.changed[start:stop] = [True] * (stop - start)

    def erase_in_line(self, how: int = 0, private: bool = False) -> None:
        """EL: 0 to the end, 1 from the start, 2 the whole line."""
        self.wrap_pending = False
        if how == 0:
            self._erase_cells(self.y, self.x, self.columns)
            self.wrapped[self.y] = False
        elif how == 1:
            self._erase_cells(self.y, 0, self.x + 1)
        elif how == 2:
            self._erase_cells(self.y, 0, self.columns)
            self.wrapped[self.y] = False

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        """ED: 0 below, 1 above, 2 all, 3 the scrollback."""
        self.wrap_pending = False
        if how == 0:
            self._erase_cells(self.y, self.x, self.columns)
            self._erase_rows(self.y + 1, self.lines)
        elif how == 1:
            self._erase_rows(0, self.y)
            self._erase_cells(self.y, 0, self.x + 1)
        elif how == 2:
            self._erase_rows(0, self.lines)
        elif how == 3:
            self.history.clear()
            self.events.append(("scrollback-cleared", None))

    def erase_characters(self, count: int | None = None) -> None:
        """ECH: blank `count` cells from the cursor, cursor stays."""
        count = min(max(count or 1, 1), self.columns)
        self._erase_cells(self.y, self.x, min(self.x + count, self.columns))
        self.wrap_pending = False

    def insert_characters(self, count: int | None = None) -> None:
        """ICH: insert blanks at the cursor, shifting the rest right (lost at the edge)."""
        count = min(max(count or 1, 1), self.columns - self.x)
        chars, attrs = self.row(self.y)
        x = self.x
        if chars[x] == WIDE_TAIL and x:
            chars[x - 1] = " "
            chars[x] = " "
        attr = self.style_table.erase(self.style)
        chars[x:x] = " " * count
        attrs[x:x] = attr * count
        del chars[self.columns :]
        del attrs[self.columns :]
        if chars[-1] != WIDE_TAIL and char_width(chars[-1][:1] or " ") == 2:
            chars[-1] = " "  # its right half was pushed off the edge
        self.changed[self.y] = True
        self.wrap_pending = False

    def delete_characters(self, count: int | None = None) -> None:
        """DCH: delete cells at the cursor, shifting the rest left, blanks at the end."""
        count = min(max(count or 1, 1), self.columns - self.x)
        chars, attrs = self.row(self.y)
        x = self.x
        if chars[x] == WIDE_TAIL and x:
            chars[x - 1] = " "
        del chars[x : x + count]
        del attrs[x : x + count]
        if x < len(chars) and chars[x] == WIDE_TAIL:
            chars[x] = " "
        attr = self.style_table.erase(self.style)
        chars.extend(" " * count)
        attrs.extend(attr * count)
        self.changed[self.y] = True
        self.wrap_pending = False

    def insert_lines(self, count: int | None = None) -> None:
        """IL: insert blank lines at the cursor row (inside the region only)."""
        if not self.top <= self.y <= self.bottom:
            return
        top = self.top
        self.top = self.y
        self.scroll_down(min(max(count or 1, 1), MAX_COUNT))
        self.top = top
        self.x = 0
        self.wrap_pending = False

    def delete_lines(self, count: int | None = None) -> None:
        """DL: delete lines at the cursor row (inside the region only)."""
        if not self.top <= self.y <= self.bottom:
            return
        top, in_alt = self.top, self.in_alt
        self.top = self.y
        # Lines deleted by DL never go to the scrollback.
        self.in_alt = True
        self.scroll_up(min(max(count or 1, 1), MAX_COUNT))
        self.top, self.in_alt = top, in_alt
        self.x = 0
        self.wrap_pending = False

    def alignment_display(self) -> None:
        """DECALN: fill the screen with `E`."""
        cols = self.columns
        for y in range(self.lines):
            self.chars[y] = ["E"] * cols
            self.attrs[y] = ["\x00"] * cols
            self.lazy[y] = None
        self._mark_all()

    # -------------------------------------------------------------- margins
    def set_margins(self, top: int | None = None, bottom: int | None = None) -> None:
        """DECSTBM: 1-based region; an invalid region is ignored; cursor goes home."""
        t = (top or 1) - 1
        b = (bottom or self.lines) - 1
        b = min(b, self.lines - 1)
        if t < 0 or t >= b:
            return
        self.top, self.bottom = t, b
        self.cursor_position()

    # ---------------------------------------------------------------- modes
    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        """SM / DECSET. `private=True` marks DEC private modes (`CSI ? ... h`)."""
        private = bool(kwargs.get("private"))
        for m in modes:
            self._set(m << PRIVATE if private else m, True)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        """RM / DECRST."""
        private = bool(kwargs.get("private"))
        for m in modes:
            self._set(m << PRIVATE if private else m, False)

    def _set(self, mode: int, on: bool) -> None:
        if mode in (ALT_1049, ALT_1047, ALT_47):
            if on and not self.in_alt:
                if mode == ALT_1049:
                    self.save_cursor()
                self._switch_buffer(alt=True)
                if mode != ALT_47:
                    self._erase_rows(0, self.lines)
            elif not on and self.in_alt:
                if mode == ALT_1047:
                    self._erase_rows(0, self.lines)
                self._switch_buffer(alt=False)
                if mode == ALT_1049:
                    self.restore_cursor()
            return
        if mode == SAVE_1048:
            if on:
                self.save_cursor()
            else:
                self.restore_cursor()
            return
        if on:
            self.mode.add(mode)
        else:
            self.mode.discard(mode)
        if mode == DECOM:
            self.cursor_position()
        elif mode == DECSCNM:
            self._mark_all()
        elif mode == SYNC_OUTPUT:
            self.events.append(("sync", on))
        elif mode in (MOUSE_NORMAL, MOUSE_BUTTON, MOUSE_ANY, MOUSE_X10) and on:
            # Tracking modes are exclusive: the last one set wins.
            for other in (MOUSE_NORMAL, MOUSE_BUTTON, MOUSE_ANY, MOUSE_X10):
                if other != mode:
                    self.mode.discard(other)

    def _switch_buffer(self, *, alt: bool) -> None:
        self.active = self.alt if alt else self.main
        self.in_alt = alt
        self.chars = self.active.chars
        self.attrs = self.active.attrs
        self.lazy = self.active.lazy
        self.wrapped = self.active.wrapped
        if alt:
            self.alt.saved = SavedCursor(**vars(self.main.saved))
        self._mark_all()

    def set_cursor_shape(self, shape: int) -> None:
        """DECSCUSR: 0/1 blinking block, 2 block, 3/4 underline, 5/6 bar."""
        self.cursor_shape = min(max(shape, 0), 6)

    # ------------------------------------------------------------- charsets
    def define_charset(self, code: str, mode: str) -> None:
        """SCS: designate G0 (`(`) or G1 (`)`)."""
        table = _translation(code)
        if mode == "(":
            self.g0 = table
        elif mode == ")":
            self.g1 = table
        self.translate = self.g1 if self.charset else self.g0

    def shift_in(self) -> None:
        """SI: select G0."""
        self.charset = 0
        self.translate = self.g0

    def shift_out(self) -> None:
        """SO: select G1."""
        self.charset = 1
        self.translate = self.g1

    # ------------------------------------------------------------- resizing
    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """Change the size keeping content; the cursor is clamped, margins reset."""
        rows = max(1, lines or self.lines)
        cols = max(1, columns or self.columns)
        if rows == self.lines and cols == self.columns:
            return
        for buf in (self.main, self.alt):
            self._materialize_buffer(buf)
            self._resize_buffer(buf, rows, cols, keep_history=buf is self.main)
            buf.lazy[:] = [None] * rows
        self.chars = self.active.chars
        self.attrs = self.active.attrs
        self.lazy = self.active.lazy
        self.wrapped = self.active.wrapped
        self.lines, self.columns = rows, cols
        self.top, self.bottom = 0, rows - 1
        self.tabstops = {t for t in self.tabstops if t < cols} | set(
            range(max(8, (self.columns // 8) * 8), cols, 8)
        )
        self.x = min(self.x, cols - 1)
        self.y = min(self.y, rows - 1)
        self.wrap_pending = False
        self.changed = [True] * rows
        self.scrolled = 0

    def _resize_buffer(
        self, buf: ScreenBuffer, rows: int, cols: int, *, keep_history: bool
    ) -> None:
        old_rows = len(buf.chars)
        # Columns: cut or pad every line (no reflow, like xterm).
        for y in range(old_rows):
            chars, attrs = buf.chars[y], buf.attrs[y]
            if len(chars) > cols:
                if chars[cols] == WIDE_TAIL:
                    chars[cols - 1] = " "
                del chars[cols:]
                del attrs[cols:]
            elif len(chars) < cols:
                chars.extend(" " * (cols - len(chars)))
                attrs.extend("\x00" * (cols - len(attrs)))
        is_active = buf is self.active
        if rows < old_rows:
            # Drop blank lines below the cursor first, then push the top into history.
            excess = old_rows - rows
            # The inactive main buffer's cursor is the one saved on entering the
            # alternate screen: its rows above it are what must stay visible.
            cursor_y = self.y if is_active else min(buf.saved.y, old_rows - 1)
            while excess and len(buf.chars) - 1 > cursor_y and self._is_blank(buf, -1):
                buf.chars.pop()
                buf.attrs.pop()
                buf.wrapped.pop()
                excess -= 1
            for _ in range(excess):
                chars = buf.chars.pop(0)
                attrs = buf.attrs.pop(0)
                buf.wrapped.pop(0)
                if keep_history:
                    self.history.push(chars, attrs)
                if is_active:
                    self.y = max(self.y - 1, 0)
        elif rows > old_rows:
            # Pull lines back from history when growing, as xterm and tmux do.
            grow = rows - old_rows
            pulled: list[HistoryLine] = []
            if keep_history and is_active:
                while len(pulled) < grow:
                    line = self.history.pop()
                    if line is None:
                        break
                    pulled.append(line)
            for line in pulled:
                chars, attrs = expand(line, cols, self.style_table)
                buf.chars.insert(0, chars)
                buf.attrs.insert(0, attrs)
                buf.wrapped.insert(0, False)
                self.y += 1
            for _ in range(grow - len(pulled)):
                buf.chars.append([" "] * cols)
                buf.attrs.append(["\x00"] * cols)
                buf.wrapped.append(False)

    @staticmethod
    def _is_blank(buf: ScreenBuffer, y: int) -> bool:
        return all(c == " " for c in buf.chars[y]) and all(a == "\x00" for a in buf.attrs[y])

    # --------------------------------------------------- pyte API compatibility
    def select_graphic_rendition(self, *attrs: int, **kwargs: Any) -> None:
        """SGR from integer parameters (pyte's signature); the parser uses `sgr`."""
        self.sgr(";".join(str(a) for a in attrs))

    def sgr(self, params: str) -> None:
        """SGR from the raw parameter string (cached per style and string)."""
        self.style = self.style_table.sgr(self.style, params)

    def set_title(self, param: str) -> None:
        """OSC 0/2."""
        self.title = param
        self.events.append(("title", param))

    def set_icon_name(self, param: str) -> None:
        """OSC 1."""
        self.icon_name = param

    def bell(self, *args: Any) -> None:
        """BEL."""
        self.events.append(("bell", None))

    def write_process_input(self, data: str) -> None:
        """Queue a reply for the program (DA, DSR, ...)."""
        self.replies.append(data)

    def report_device_attributes(self, mode: int = 0, **kwargs: bool) -> None:
        """DA1 (`CSI c`) and DA2 (`CSI > c`)."""
        if mode != 0:
            return
        if kwargs.get("private"):
            self.write_process_input("\x1b[>1;10;0c")
        else:
            # VT220 with ANSI colour: what most modern terminals answer.
            self.write_process_input("\x1b[?62;22c")

    def report_device_status(self, mode: int, **kwargs: Any) -> None:
        """DSR 5 (status) and 6 (cursor position, relative to the region in DECOM)."""
        if mode == 5:
            self.write_process_input("\x1b[0n")
        elif mode == 6:
            y = self.y - (self.top if DECOM in self.mode else 0)
            prefix = "?" if kwargs.get("private") else ""
            self.write_process_input(f"\x1b[{prefix}{y + 1};{self.x + 1}R")

    def debug(self, *args: Any, **kwargs: Any) -> None:
        """Unknown sequences are ignored."""

    def ensure_hbounds(self) -> None:
        self.x = self._clamp_x(self.x)

    def ensure_vbounds(self, use_margins: bool | None = None) -> None:
        self.y = min(max(self.y, 0), self.lines - 1)
