"""The screen: terminal behaviour on the grid — cursor, erase, scroll, modes, resets.

`TermScreen` is what the parser drives: one method per control function (CUP, ED,
DECSTBM, DECSET, DSR ...), named as pyte named them. On the grid (`tui.term.grid`)
and glyph placement (`tui.term.graphemes`), it keeps the state a terminal keeps
beside its cells (cursor, margins, modes, tab stops, title, kitty keyboard flags,
the colours queries are answered with) and sends the answers.

It also has what pyte 0.8.2 lacks: the alternate screen (pyte paints `?1049h`
over the main buffer), SU/SD, REP, scroll tracking (pyte marks every line dirty
on each scroll), deferred autowrap, grapheme clusters (VS16, ZWJ and ZWSP cut
pyte's text off: `"⚠️ Warning"` shows `"⚠"`), a compact scrollback (pyte's
`HistoryScreen` holds ~18 KB per 200-column line), reflow on resize and the modes
agents rely on. `x`, `y` are 0-based; a cell style is an id from `StyleTable`.
"""

from __future__ import annotations

from typing import Any

from tui.term.cells import WIDE_TAIL, char_width
from tui.term.graphemes import Glyphs
from tui.term.grid import MAX_COUNT, SavedCursor
from tui.term.modes import (
    ALT_47,
    ALT_1047,
    ALT_1049,
    DECAWM,
    DECCKM,
    DECOM,
    DECSCNM,
    DECTCEM,
    IRM,
    KEYPAD_APP,
    LNM,
    MOUSE_ANY,
    MOUSE_BUTTON,
    MOUSE_NORMAL,
    MOUSE_X10,
    PRIVATE,
    SAVE_1048,
    SYNC_OUTPUT,
)
from tui.term.scrollback import Scrollback
from tui.term.style import StyleTable


class TermScreen(Glyphs):
    """A terminal screen: cursor, erase, scroll, modes, charsets and replies."""

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
        # What colour queries (OSC 10/11/12) are answered with, as xterm writes them.
        self.foreground = "rgb:d0d0/d0d0/d0d0"
        self.background = "rgb:1c1c/1c1c/1c1c"
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
        self.g2: dict[int, str] | None = None
        self.g3: dict[int, str] | None = None
        # SS2 / SS3: the set the next character is taken from (2 or 3), else 0.
        self.single_shift = 0
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
        # The kitty keyboard protocol's stack of flags (the top one is in force).
        self.kitty_flags: list[int] = [0]

    @property
    def display(self) -> list[str]:
        """Each line's text, one entry per row (pyte's `display`)."""
        self.materialize_all()
        return ["".join(row).replace(WIDE_TAIL, "") for row in self.chars]

    # ------------------------------------------------------------ lazy rows

    # ----------------------------------------------------------------- text

    # ------------------------------------------------------------ scrolling

    def index(self) -> None:
        """IND / LF: cursor down one line, scrolling at the bottom margin."""
        self.wrap_pending = False
        if self.y == self.bottom:
            self.scroll_up(1)
        elif self.y < self.lines - 1:
            self.y += 1

    def crlf(self) -> None:
        """CR LF, as one step (the parser's line-by-line path)."""
        self.x = 0
        self.wrap_pending = False
        y = self.y
        if y == self.bottom:
            self.scroll_up(1)
        elif y < self.lines - 1:
            self.y = y + 1

    def set_hyperlink(self, uri: str | None) -> None:
        """OSC 8: the text printed next links to `uri` (None ends the link)."""
        self.style = self.style_table.with_link(self.style, uri)

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
        """BS: one column left (stops at the margin).

        With a wrap pending the cursor is on the last column, and BS leaves it for
        the one before, as xterm does (esctest2
        BSTests.test_BS_CursorStartsInDoWrapPosition); tmux, whose cursor is then
        past the edge, only cancels the wrap.
        """
        self.wrap_pending = False
        if self.x > 0:
            self.x -= 1

    def tab(self, count: int = 1) -> None:
        """HT / CHT: to the next tab stop, or the last column.

        With a wrap pending the cursor is already on the last column: it stays, and
        so does the pending wrap (xterm's TabToNextStop, tabs.c, moves the column
        and leaves do_wrap).
        """
        if self.wrap_pending:
            return
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

    def cursor_down_absolute(self, count: int | None = None) -> None:
        """VPR: down, ignoring the margins; stops at the last row (xterm)."""
        count = min(max(count or 1, 1), MAX_COUNT)
        self.y = min(self.y + count, self.lines - 1)
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
            self.charset, self.g0, self.g1, self.g2, self.g3,
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
        self.g2, self.g3 = saved.g2, saved.g3
        self.translate = self._invoked()

    # ---------------------------------------------------------------- edit

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
        """DECALN: fill the screen with `E`.

        As xterm does (ctlseqs "ESC # 8"; DEC STD 070): the margins are reset,
        origin mode and the pending wrap are cleared, SGR is reset and the cursor
        goes home; the `E`s are drawn in the default style.
        """
        cols = self.columns
        for y in range(self.lines):
            self.chars[y] = ["E"] * cols
            self.attrs[y] = ["\x00"] * cols
            self.lazy[y] = None
            self.wrapped[y] = False
        self.top, self.bottom = 0, self.lines - 1
        self.mode.discard(DECOM)
        self.style = self.style_table.sgr(self.style, "0")
        self.x = self.y = 0
        self.wrap_pending = False
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

    def soft_reset(self) -> None:
        """DECSTR: modes, margins, charsets and attributes back to defaults; text stays."""
        self.mode -= {IRM, DECOM, DECCKM, KEYPAD_APP, LNM, DECSCNM}
        self.mode |= {DECTCEM, DECAWM}
        self.top, self.bottom = 0, self.lines - 1
        self.style = "\x00"
        self.g0 = self.g1 = self.g2 = self.g3 = self.translate = None
        self.single_shift = 0
        self.charset = 0
        self.wrap_pending = False

    # ------------------------------------------------------- kitty keyboard
    def report_kitty_flags(self) -> None:
        """`CSI ? u`: the flags in force."""
        self.write_process_input(f"\x1b[?{self.kitty_flags[-1]}u")

    def push_kitty_flags(self, flags: int) -> None:
        """`CSI > flags u`: push (the stack is bounded: the oldest pushed go)."""
        if len(self.kitty_flags) >= 16:
            del self.kitty_flags[1]
        self.kitty_flags.append(flags & 0x1F)
        self.events.append(("kitty-flags", self.kitty_flags[-1]))

    def pop_kitty_flags(self, count: int) -> None:
        """`CSI < count u`: pop, never the base entry."""
        for _ in range(min(count, len(self.kitty_flags) - 1)):
            self.kitty_flags.pop()
        self.events.append(("kitty-flags", self.kitty_flags[-1]))

    def set_kitty_flags(self, flags: int, how: int) -> None:
        """`CSI = flags ; how u`: replace (1), add (2) or remove (3) flags in force."""
        flags &= 0x1F
        current = self.kitty_flags[-1]
        if how == 2:
            flags = current | flags
        elif how == 3:
            flags = current & ~flags
        self.kitty_flags[-1] = flags
        self.events.append(("kitty-flags", self.kitty_flags[-1]))

    def report_colour(self, code: str, end: str) -> None:
        """OSC 10 / 11 / 12 query: the colour, ended as the query was (ctlseqs)."""
        colour = self.background if code == "11" else self.foreground
        self.write_process_input(f"\x1b]{code};{colour}{end}")

    # ------------------------------------------------------------- resizing
    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """Change the size (the grid rewraps); tab stops past the old width are the
        default ones, every 8 columns (xterm)."""
        old_cols = self.columns
        super().resize(lines, columns)
        cols = self.columns
        if cols != old_cols:
            self.tabstops = {t for t in self.tabstops if t < cols} | set(
                range((old_cols + 7) // 8 * 8 or 8, cols, 8)
            )

    # ------------------------------------------------------------- resizing

    # --------------------------------------------------- pyte API compatibility

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
            if kwargs.get("private"):
                # DECXCPR answers with the page too: always 1 here (ctlseqs).
                self.write_process_input(f"\x1b[?{y + 1};{self.x + 1};1R")
            else:
                self.write_process_input(f"\x1b[{y + 1};{self.x + 1}R")
