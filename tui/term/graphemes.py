"""Glyph placement: printed text into cells — widths, grapheme clusters, wrapping.

Everything that decides which cells a printed character takes: its width (wide
CJK and emoji take two cells, combining marks none), clusters that join into one
cell (a base and its combining marks, VS16 emoji presentation, ZWJ sequences,
flags, skin-tone modifiers), insert mode, charsets (the translation is applied
by the screen's designation, then placed here), and deferred autowrap at the
right margin (the pending wrap: the cursor stays on the last column until the
next character).

`Glyphs` is a base of `TermScreen`, on the grid it writes into.
"""

from __future__ import annotations

from pyte.charsets import MAPS as CHARSET_MAPS

from tui.term.cells import (
    CELL_TABLE,
    MAX_CLUSTER,
    SLOW_MARK,
    VS16,
    VS_MARK,
    WIDE_TAIL,
    apply_vs16,
    char_width,
    is_emoji_modifier,
    is_regional_indicator,
)
from tui.term.grid import MAX_COUNT, Grid
from tui.term.modes import DECAWM, IRM

_ZWJ = "\u200d"
_VS16 = "\ufe0f"
_VS15 = "\ufe0e"


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


class Glyphs(Grid):
    """Printing: text into cells at the cursor."""

    mode: set[int]
    # Charsets: G0-G3, the one invoked into GL (`charset`) and its translation.
    charset: int
    g0: dict[int, str] | None
    g1: dict[int, str] | None
    g2: dict[int, str] | None
    g3: dict[int, str] | None
    translate: dict[int, str] | None
    single_shift: int
    join_next: bool

    # Terminal behaviour printing relies on, defined by the screen.
    def index(self) -> None:
        """IND: down one row, scrolling at the bottom margin."""
        raise NotImplementedError

    def insert_characters(self, count: int | None = None) -> None:
        """ICH: blanks inserted at the cursor (insert mode makes room this way)."""
        raise NotImplementedError

    def draw(self, data: str) -> None:
        """Print text at the cursor, wrapping and scrolling as the modes say."""
        if self.single_shift and data:
            table = self.g2 if self.single_shift == 2 else self.g3
            self.single_shift = 0
            invoked, self.translate = self.translate, None
            try:
                self.draw(data[0].translate(table) if table is not None else data[0])
            finally:
                self.translate = invoked
            data = data[1:]
            if not data:
                return
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

    # ------------------------------------------------------------- charsets
    def define_charset(self, code: str, mode: str) -> None:
        """SCS: designate G0 (`(`), G1 (`)`), G2 (`*`) or G3 (`+`)."""
        table = _translation(code)
        if mode == "(":
            self.g0 = table
        elif mode == ")":
            self.g1 = table
        elif mode == "*":
            self.g2 = table
        elif mode == "+":
            self.g3 = table
        self.translate = self._invoked()

    def _invoked(self) -> dict[int, str] | None:
        """The set invoked into GL (SI, SO, LS2, LS3): its translation table."""
        return (self.g0, self.g1, self.g2, self.g3)[self.charset]

    def shift_in(self) -> None:
        """SI: select G0."""
        self.charset = 0
        self.translate = self.g0

    def shift_out(self) -> None:
        """SO: select G1."""
        self.charset = 1
        self.translate = self.g1

    def locking_shift(self, charset: int) -> None:
        """LS2 (ESC n) / LS3 (ESC o): invoke G2 / G3 into GL until another shift."""
        self.charset = charset
        self.translate = self._invoked()

    def single_shift_next(self, charset: int) -> None:
        """SS2 (ESC N) / SS3 (ESC O): the next character only comes from G2 / G3."""
        self.single_shift = charset
