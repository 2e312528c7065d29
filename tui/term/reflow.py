"""Reflow: soft-wrapped lines joined again and wrapped at a new width, as tmux does.

A line that autowrap continued on the next row is one *logical* line split by the
width it was printed at. When the width changes, each logical line — on the main
screen and in the scrollback — is rebuilt from its rows and split at the new
width, so a 110-character line shown at 60 columns and then at 120 is whole again.
The alternate screen is not reflowed (full-screen programs redraw on SIGWINCH).

A wrapped row is full to the old width, except where a wide character did not fit
in its last column: that blank is padding, dropped when the rows are joined.
Trailing blanks of a logical line (default style) are not content and are
dropped. The cursor stays on its character; past the end of its line, it stays on
the line's last row.
"""

from __future__ import annotations

from tui.term.cells import WIDE_TAIL
from tui.term.scrollback import HistoryLine, Scrollback, compact, line_width, stored_cells
from tui.term.style import StyleTable

Row = tuple[list[str], list[str]]
"""One row's cell text and style ids."""


def _cells(line: HistoryLine, table: StyleTable) -> Row:
    text, style = stored_cells(line, table)
    return list(text), list(style)


def join(rows: list[Row], cols: int) -> tuple[list[str], list[str], list[int]]:
    """The logical line of `rows`, all but the last soft-wrapped at width `cols`.

    Also returns where each row starts in it (for the cursor).
    """
    chars: list[str] = []
    attrs: list[str] = []
    starts: list[int] = []
    last = len(rows) - 1
    for i, (row_chars, row_attrs) in enumerate(rows):
        starts.append(len(chars))
        if i == last:
            chars.extend(row_chars)
            attrs.extend(row_attrs)
            break
        # A stored row lost its trailing blanks: pad it back to the width it
        # wrapped at, as it was on the screen.
        take_chars = row_chars[:cols] + [" "] * (cols - len(row_chars))
        take_attrs = row_attrs[:cols] + ["\x00"] * (cols - len(row_attrs))
        following = rows[i + 1][0]
        if (
            take_chars[-1] == " "
            and take_attrs[-1] == "\x00"
            and len(following) > 1
            and following[1] == WIDE_TAIL
        ):
            # The wide character that did not fit left its column blank: padding.
            del take_chars[-1]
            del take_attrs[-1]
        chars.extend(take_chars)
        attrs.extend(take_attrs)
    return chars, attrs, starts


def trim(chars: list[str], attrs: list[str]) -> None:
    """Drop trailing blank default-style cells."""
    end = len(chars)
    while end > 0 and chars[end - 1] == " " and attrs[end - 1] == "\x00":
        end -= 1
    del chars[end:]
    del attrs[end:]


def split(chars: list[str], attrs: list[str], cols: int) -> list[tuple[Row, int]]:
    """A logical line cut into rows of at most `cols` cells, each with its start.

    A wide character that would straddle the edge moves to the next row and
    leaves a blank, as printing it does.
    """
    rows: list[tuple[Row, int]] = []
    start = 0
    end = len(chars)
    while end - start > cols:
        stop = start + cols
        if chars[stop] == WIDE_TAIL and stop - 1 > start:
            stop -= 1
            rows.append((([*chars[start:stop], " "], [*attrs[start:stop], "\x00"]), start))
        else:
            row_chars = chars[start:stop]
            if row_chars[-1:] and chars[stop] == WIDE_TAIL:
                row_chars[-1] = " "  # one column: a wide character cannot fit at all
            rows.append(((row_chars, attrs[start:stop]), start))
        start = stop
    rows.append(((chars[start:], attrs[start:]), start))
    return rows


def reflow_history(history: Scrollback, old_cols: int, cols: int, table: StyleTable) -> None:
    """Rewrap the scrollback at `cols`; a line that fits and did not wrap is kept as is."""
    out: list[tuple[HistoryLine, bool]] = []
    group: list[HistoryLine] = []
    changed = False
    for line, wrapped in history.entries():
        group.append(line)
        if wrapped:
            continue
        if len(group) == 1 and line_width(line) <= cols:
            out.append((line, False))
        else:
            changed = True
            _rewrap(group, old_cols, cols, table, out, last_wrapped=False)
        group = []
    if group:
        changed = True
        _rewrap(group, old_cols, cols, table, out, last_wrapped=True)
    if changed:
        history.replace(out)


def _rewrap(
    group: list[HistoryLine],
    old_cols: int,
    cols: int,
    table: StyleTable,
    out: list[tuple[HistoryLine, bool]],
    *,
    last_wrapped: bool,
) -> None:
    chars, attrs, _ = join([_cells(line, table) for line in group], old_cols)
    trim(chars, attrs)
    pieces = split(chars, attrs, cols)
    last = len(pieces) - 1
    for i, ((row_chars, row_attrs), _start) in enumerate(pieces):
        out.append((compact(row_chars, row_attrs), i < last or last_wrapped))


def reflow_rows(
    rows: list[Row],
    wrapped: list[bool],
    cursor: tuple[int, int],
    old_cols: int,
    cols: int,
) -> tuple[list[Row], list[bool], tuple[int, int]]:
    """Screen rows rewrapped at `cols` (each padded to it), and the cursor moved along."""
    cursor_x, cursor_y = cursor
    new_rows: list[Row] = []
    new_wrapped: list[bool] = []
    new_cursor = (min(cursor_x, cols - 1), cursor_y)
    first = 0
    count = len(rows)
    while first < count:
        last = first
        while last < count - 1 and wrapped[last]:
            last += 1
        group = rows[first : last + 1]
        chars, attrs, starts = join(group, old_cols)
        offset = -1
        if first <= cursor_y <= last:
            offset = starts[cursor_y - first] + cursor_x
        # The cursor past the end of its line does not lengthen it: it stays on
        # the line's last row, at most in the last column (tmux's rule).
        trim(chars, attrs)
        pieces = split(chars, attrs, cols)
        top = len(new_rows)
        for i, ((row_chars, row_attrs), start) in enumerate(pieces):
            pad = cols - len(row_chars)
            if pad > 0:
                row_chars = row_chars + [" "] * pad
                row_attrs = row_attrs + ["\x00"] * pad
            new_rows.append((row_chars, row_attrs))
            new_wrapped.append(i < len(pieces) - 1 or (last == count - 1 and wrapped[last]))
            if offset >= start and (i == len(pieces) - 1 or offset < pieces[i + 1][1]):
                new_cursor = (min(offset - start, cols - 1), top + i)
        first = last + 1
    return new_rows, new_wrapped, new_cursor
