"""Text runs: lines of output printed in bulk, the parser's fast path.

A *run* is printable text mixed with SGR, CR LF and CR + erase line — lines of
output, most of what agents print. Printed left to right from column 0, a line
stays a lazy row of the runs it came as (`Grid.append_run`); whole lines that
would just scroll the screen go in one `Grid.push_lines`. A spinner redrawing its
line (CR + erase line, frame after frame) shows only its last frame. Anything
that needs more care — a charset, insert mode, grapheme clusters, a pending wrap
— is drawn piece by piece through the screen instead.

`Runs` is a base of `TermStream`.
"""

from __future__ import annotations

import re

from tui.term.cells import (
    CELL_TABLE,
    SGR_SPLIT,
    SLOW_MARK,
    VS16,
    VS_MARK,
    WIDE_TAIL,
    apply_vs16,
    char_width,
    expand_run,
    text_width,
)
from tui.term.modes import DECAWM, IRM
from tui.term.screen import TermScreen

_RESETS = ("", "0")
_SGR_STRIP = re.compile(r"\x1b\[[0-9;:]*m")
_SGR_BODIES = re.compile(r"\x1b\[([0-9;:]*)m")
# CR + EL 0 or 2: back to column 0 and blank the row, inside a run.
_CR_EL = re.compile(r"\r\x1b\[[02]?K")


def _ends_in_reset(run: str) -> bool:
    """Whether the last SGR in `run` (which holds one) resets every attribute."""
    start = run.rfind("\x1b[")
    return run[start + 2 : run.find("m", start)] in _RESETS


def _cell_text(cells: str | list[str]) -> str:
    """The text that draws these cells (wide-character tails dropped)."""
    text = cells if isinstance(cells, str) else "".join(cells)
    return text.replace(WIDE_TAIL, "")


class Runs:
    """Printing runs of text + SGR + CR LF on the screen, in bulk where exact."""

    screen: TermScreen

    def _run(self, run: str) -> None:
        """Printable text, SGR and CR LF: lines of output, handled in bulk when possible."""
        if "\r\n" not in run:
            self._run_line(run)
            return
        if "\r\r" in run:
            run = run.replace("\r\r\n", "\r\n")
        lines = run.split("\r\n")
        tail = lines.pop()
        screen = self.screen
        i = 0
        count = len(lines)
        while i < count:
            if screen.can_push_lines() and self._simple_mode():
                i = self._push_lines(lines, i)
                if i >= count:
                    break
            if lines[i]:
                self._run_line(lines[i])
            screen.crlf()
            i += 1
        if tail:
            self._run_line(tail)

    def _simple_mode(self) -> bool:
        screen = self.screen
        return (
            screen.translate is None
            and not screen.single_shift
            and not screen.join_next
            and IRM not in screen.mode
        )

    def _measure(self, run: str, style: str) -> tuple[int, str, str] | None:
        """Width, final style and last character of a run, without expanding it.

        None when it holds characters that need cluster logic.
        """
        if "\x1b" not in run:
            text = run
            end = style
        elif _ends_in_reset(run):
            # Agents reset after each coloured span: only the last SGR counts.
            text = _SGR_STRIP.sub("", run)
            end = self._reset(style)
        else:
            # A row of colour changes (ratatui's): one split gives text and SGRs.
            pieces = SGR_SPLIT.split(run)
            text = "".join(pieces[::2])
            end = self.screen.style_table.after(style, pieces[1::2])
        width = len(text) if text.isascii() else text_width(text)
        if width is None:
            return None
        return width, end, text[-1] if text else ""

    def _style_after(self, run: str, style: str) -> str:
        """The style after the SGRs in `run` (which holds at least one), from `style`."""
        if _ends_in_reset(run):
            return self._reset(style)
        return self.screen.style_table.after(style, _SGR_BODIES.findall(run))

    def _reset(self, style: str) -> str:
        """`style` after SGR 0 (only a hyperlink survives it)."""
        table = self.screen.style_table
        return table.sgr(style, "0")

    def _last_frame(self, frames: list[str], style: str, room: int) -> tuple[str, str] | None:
        """The style before a line's last frame and its text, when drawing it alone is exact.

        `frames` is a line split at CR + erase line: a spinner or progress bar
        redrawing itself. Drawing the earlier frames only to erase them leaves
        nothing but their SGRs behind, provided none reaches the margin (CR then
        returns to the row it started on) and each erase paints default cells.
        `room` is the columns left for the first frame. None when that does not
        hold, or the last frame is empty (its `last_char` would come from an earlier
        one): the caller draws frame by frame.
        """
        last = frames[-1]
        if not last:
            return None
        erase = self.screen.style_table.erase
        for frame in frames[:-1]:
            # A code point takes at most two cells (a VS16 adds one to one cell).
            if len(frame) * 2 > room:
                return None
            if "\x1b" in frame:
                style = self._style_after(frame, style)
            if erase(style) != "\x00":
                return None
            room = self.screen.columns
        return style, last

    def _push_lines(self, lines: list[str], start: int) -> int:
        """Print complete lines from `start` as lazy rows in one scroll; returns where it stops."""
        screen = self.screen
        cols = screen.columns
        style = screen.style
        rows: list[list[object]] = []
        wraps: list[bool] = []
        last_char = screen.last_char
        erase = screen.style_table.erase
        autowrap = DECAWM in screen.mode
        i = start
        for i in range(start, len(lines)):
            run = lines[i]
            begin = style
            if "\r" in run:
                # A line that redraws itself, on a fresh row: only its last frame shows.
                found = self._last_frame(_CR_EL.split(run), style, cols)
                if found is None:
                    break
                begin, run = found
            measured = self._measure(run, begin) if run else (0, begin, "")
            if measured is None:
                break
            width, end, last = measured
            if erase(end) != "\x00":
                # Its CR LF scrolls in a row filled with a background colour (xterm's
                # BCE): not the fresh rows this path makes. Leave it to the slow path.
                break
            if width <= cols:
                rows.append([width, True, begin, run] if run else [0, True])
                wraps.append(False)
            elif not autowrap or "\x1b" in run or not self._wrap_rows(run, begin, rows, wraps):
                break  # a wrapping line with styles, or no autowrap: the slow path
            style = end
            if last:
                last_char = last
        else:
            i = len(lines)
        if rows:
            screen.push_lines(rows, style, last_char, wraps)
        return i

    def _wrap_rows(
        self, text: str, style: str, rows: list[list[object]], wraps: list[bool]
    ) -> bool:
        """Split a line wider than the screen into the rows autowrap makes (lazy rows).

        A wide character that would straddle the margin moves to the next row and
        leaves the last column blank, as drawing it does. False if the text holds
        clusters other than VS16, or a VS16 would widen a character in the last
        column (it stays narrow there: the careful path handles both).
        """
        cols = self.screen.columns
        if cols < 2:
            return False  # no room for a wide character anywhere: the careful path
        cells: str | list[str] = text if text.isascii() else text.translate(CELL_TABLE)
        if SLOW_MARK in cells:
            return False
        if VS_MARK in cells:
            assert isinstance(cells, str)
            joined = apply_vs16(cells, cells)  # the styles it also returns are not needed
            if joined is None:
                return False
            cells = joined[0]
        new_rows: list[list[object]] = []
        start = 0
        end = len(cells)
        while end - start > cols:
            stop = start + cols
            if cells[stop] == WIDE_TAIL:
                head = cells[stop - 1]
                if head[-1:] == VS16 and char_width(head[0]) == 1:
                    return False
                stop -= 1
            new_rows.append([stop - start, True, style, _cell_text(cells[start:stop])])
            start = stop
        new_rows.append([end - start, True, style, _cell_text(cells[start:])])
        rows.extend(new_rows)
        wraps.extend([True] * (len(new_rows) - 1))
        wraps.append(False)
        return True

    def _run_line(self, run: str) -> None:
        """Printable text mixed with SGR: append it lazily, or expand and place it in bulk."""
        screen = self.screen
        if "\r" in run:
            self._redraw_line(_CR_EL.split(run))
            return
        if not self._simple_mode():
            self._run_carefully(SGR_SPLIT.split(run))
            return
        row = screen.lazy[screen.y]
        if not screen.wrap_pending and (screen.x == 0 or (row is not None and row[0] == screen.x)):
            # The common case: a line printed left to right. Measure it and find its
            # final style without expanding it into cells.
            measured = self._measure(run, screen.style)
            if measured is not None and screen.x + measured[0] <= screen.columns:
                width, end, last = measured
                if screen.append_run(run, width, end, last or screen.last_char):
                    return
        pieces = SGR_SPLIT.split(run)
        expanded = expand_run(screen.style, pieces, screen.style_table)
        if expanded is None:
            self._run_carefully(pieces)
            return
        cells, styles, sid = expanded
        if cells:
            screen.draw_styled(cells, styles)
        screen.style = sid

    def _redraw_line(self, frames: list[str]) -> None:
        """A line split at CR + erase line: draw only its last frame when that is exact."""
        screen = self.screen
        found = None
        if self._simple_mode() and not (screen.wrap_pending and frames[0]):
            found = self._last_frame(frames, screen.style, screen.columns - screen.x)
        if found is not None:
            screen.style, last = found
            screen.carriage_return()
            screen.erase_in_line(2)
            self._run_line(last)
            return
        for j, frame in enumerate(frames):
            if j:
                screen.carriage_return()
                screen.erase_in_line(2)
            if frame:
                self._run_line(frame)

    def _run_carefully(self, pieces: list[str]) -> None:
        """A run under a charset, insert mode or with clusters: piece by piece."""
        screen = self.screen
        for j, piece in enumerate(pieces):
            if j % 2:
                screen.style = screen.style_table.sgr(screen.style, piece)
            elif piece:
                screen.draw(piece)
