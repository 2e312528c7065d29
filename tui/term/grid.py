"""The grid: the cells of the two screen buffers, lazy rows, scrolling, resize.

Storage only, no terminal semantics beyond where rows go. A buffer is two plain
lists per row — the cell text and a one-character style id per cell (`StyleTable`)
— plus a soft-wrap flag per row. A wide character occupies its cell plus a
placeholder cell holding `WIDE_TAIL` (NUL, which a program can never print).

A row printed left to right from column 0 can stay a *lazy row*: the runs of text +
SGR it came as, expanded into cells only when something reads or edits it (most
rows of agent output never are: they scroll off first and go to the scrollback as
they came). `push_lines` prints whole lines that way in one scroll.

Resizing rewraps the main buffer and the scrollback (`tui.term.reflow`).

`Grid` is the base of `TermScreen`; the attributes declared below are set by it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tui.term import reflow
from tui.term.cells import SGR_SPLIT, WIDE_TAIL, expand_run
from tui.term.scrollback import HistoryLine, Scrollback, expand
from tui.term.style import StyleTable

# Limits that keep the cost of hostile input bounded and linear.
MAX_COUNT = 10_000  # repeat / insert / move counts are clamped to this

# A lazy row: [width, blank, style id, run, style id, run, ...] — runs of text +
# SGR printed from column 0 and not yet expanded into cells (see
# `Grid.append_run`). They overlay columns 0..width of the row's cell lists;
# `blank` says those lists are blank with the default style (so the runs alone
# are the row).
LazyRow = list[object]


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
    g2: dict[int, str] | None = None
    g3: dict[int, str] | None = None


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


class Grid:
    """The cells of the main and alternate buffers, and the moves of whole rows."""

    # Size, buffers and the active buffer's lists (aliases of `active`'s).
    lines: int
    columns: int
    main: ScreenBuffer
    alt: ScreenBuffer
    active: ScreenBuffer
    in_alt: bool
    chars: list[list[str]]
    attrs: list[list[str]]
    lazy: list[LazyRow | None]
    wrapped: list[bool]
    history: Scrollback
    style_table: StyleTable
    # The cursor and pen, which rows move with.
    x: int
    y: int
    wrap_pending: bool
    style: str
    last_char: str
    top: int
    bottom: int
    # What changed since the last look: one flag per row, and whole-screen scrolls.
    changed: list[bool]
    scrolled: int

    @staticmethod
    def _blank_buffer(cols: int, rows: int) -> ScreenBuffer:
        return ScreenBuffer(
            [[" "] * cols for _ in range(rows)],
            [["\x00"] * cols for _ in range(rows)],
            [False] * rows,
            [[0, True] for _ in range(rows)],
        )

    def _mark_all(self) -> None:
        self.changed = [True] * self.lines

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
                    history.push(chars[y], attrs[y], wrapped[y])
            else:
                if keep:
                    history.push_raw(row, wrapped[y])
                spare.append((chars[y], attrs[y]))
        if keep:
            for i, row in enumerate(new_rows[: max(0, gone - old)]):
                history.push_raw(row, bool(wraps and wraps[i]))
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

    def row_text(self, y: int) -> str:
        """Row `y` as plain text, trailing blanks dropped, without expanding a lazy
        row: its runs are the text once their SGR is taken out (a lazy run holds
        no clusters, and a wide character is one character of text)."""
        chars = self.chars[y]
        row = self.lazy[y]
        if row is not None and len(row) > 2:
            runs = "".join(SGR_SPLIT.sub("", str(run)) for run in row[3::2])
            width = row[0]
            assert isinstance(width, int)
            rest = chars[width:]
            if rest and rest[0] == WIDE_TAIL:
                rest = [" ", *rest[1:]]  # the half of a wide character the runs overwrote
            return (runs + "".join(rest)).replace(WIDE_TAIL, "").rstrip()
        return "".join(chars).replace(WIDE_TAIL, "").rstrip()

    def row(self, y: int) -> tuple[list[str], list[str]]:
        """Row `y`'s cell text and style ids (expanding a lazy row first)."""
        if self.lazy[y] is not None:
            self._materialize(y)
        return self.chars[y], self.attrs[y]

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
            was_wrapped = wrapped.pop(top)
            if row_lazy is not None and not row_lazy[1]:
                # Runs over other content: expand, then store like any row.
                if len(row_lazy) > 2:
                    self._expand_lazy(row_lazy, row_chars, row_attrs)
                row_lazy = None
            if row_lazy is not None:
                if keep:
                    # Never expanded: it goes to the history as the runs it came as.
                    history.push_raw(row_lazy, was_wrapped)
                if blank_attr == "\x00":
                    # A blank-based lazy row's cell lists are still blank: reuse them.
                    chars.insert(bottom, row_chars)
                    attrs.insert(bottom, row_attrs)
                    lazy.insert(bottom, [0, True])
                    wrapped.insert(bottom, False)
                    continue
            elif keep:
                history.push(row_chars, row_attrs, was_wrapped)
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

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """Change the size keeping content; the cursor is clamped, margins reset."""
        rows = max(1, lines or self.lines)
        cols = max(1, columns or self.columns)
        if rows == self.lines and cols == self.columns:
            return
        for buf in (self.main, self.alt):
            self._materialize_buffer(buf)
            if buf is self.main and cols != self.columns:
                self._reflow_main(cols)
            self._resize_buffer(buf, rows, cols, keep_history=buf is self.main)
            buf.lazy[:] = [None] * rows
        self.chars = self.active.chars
        self.attrs = self.active.attrs
        self.lazy = self.active.lazy
        self.wrapped = self.active.wrapped
        self.lines, self.columns = rows, cols
        self.top, self.bottom = 0, rows - 1
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
                was_wrapped = buf.wrapped.pop(0)
                if keep_history:
                    self.history.push(chars, attrs, was_wrapped)
                if is_active:
                    self.y = max(self.y - 1, 0)
        elif rows > old_rows:
            # Pull lines back from history when growing, as xterm and tmux do.
            grow = rows - old_rows
            pulled: list[tuple[HistoryLine, bool]] = []
            if keep_history and is_active:
                while len(pulled) < grow:
                    entry = self.history.pop()
                    if entry is None:
                        break
                    pulled.append(entry)
            for line, was_wrapped in pulled:
                chars, attrs = expand(line, cols, self.style_table)
                buf.chars.insert(0, chars)
                buf.attrs.insert(0, attrs)
                buf.wrapped.insert(0, was_wrapped)
                self.y += 1
            for _ in range(grow - len(pulled)):
                buf.chars.append([" "] * cols)
                buf.attrs.append(["\x00"] * cols)
                buf.wrapped.append(False)

    def _reflow_main(self, cols: int) -> None:
        """Rewrap the main buffer and the scrollback at `cols` (tui.term.reflow).

        The buffer keeps its number of rows: when rewrapping makes more, the top
        rows go to the scrollback (blank rows below the cursor stay, as in tmux);
        when it makes fewer, rows come back from the scrollback, then blank rows
        fill the bottom. The cursor stays on its character.
        """
        buf = self.main
        history = self.history
        table = self.style_table
        old_cols = self.columns
        active = buf is self.active
        x, y = (self.x, self.y) if active else (buf.saved.x, buf.saved.y)
        rows: list[reflow.Row] = list(zip(buf.chars, buf.attrs, strict=True))
        wrapped = list(buf.wrapped)
        # A logical line that began in the scrollback continues on the first row:
        # take its rows back so it is rewrapped whole.
        while history.last_wrapped():
            entry = history.pop()
            assert entry is not None
            line, was_wrapped = entry
            rows.insert(0, expand(line, old_cols, table))
            wrapped.insert(0, was_wrapped)
            y += 1
        reflow.reflow_history(history, old_cols, cols, table)
        new_rows, new_wrapped, (x, y) = reflow.reflow_rows(rows, wrapped, (x, y), old_cols, cols)
        height = len(buf.chars)
        excess = len(new_rows) - height
        for _ in range(max(0, excess)):
            row_chars, row_attrs = new_rows.pop(0)
            history.push(row_chars, row_attrs, new_wrapped.pop(0))
            y -= 1
        if y < 0:
            x = y = 0  # its row went to the scrollback: top left, as tmux does
        while len(new_rows) < height:
            entry = history.pop()
            if entry is None:
                break
            line, was_wrapped = entry
            new_rows.insert(0, expand(line, cols, table))
            new_wrapped.insert(0, was_wrapped)
            y += 1
        while len(new_rows) < height:
            new_rows.append(([" "] * cols, ["\x00"] * cols))
            new_wrapped.append(False)
        buf.chars[:] = [row[0] for row in new_rows]
        buf.attrs[:] = [row[1] for row in new_rows]
        buf.wrapped[:] = new_wrapped
        y = max(0, min(y, height - 1))
        if active:
            self.x, self.y = x, y
        else:
            buf.saved.x, buf.saved.y = x, y

    @staticmethod
    def _is_blank(buf: ScreenBuffer, y: int) -> bool:
        return all(c == " " for c in buf.chars[y]) and all(a == "\x00" for a in buf.attrs[y])
