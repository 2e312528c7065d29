"""Scrollback: lines that scrolled off the top, stored compactly as text + style ids.

A screen line is two lists (one `str` per cell, one style-id `str` per cell). When
it scrolls off it is joined into two strings once and never re-rendered: ~2 bytes
of text and style per cell instead of pyte's ~90-byte `Char` per cell. A line
that was printed as runs of text + SGR and never edited (most of an agent's
output) is kept as those runs — a `RawLine` — and expanded only when viewed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from tui.term.cells import SGR_SPLIT, expand_run
from tui.term.style import StyleTable

# One stored line: the joined cell text and the joined style ids. When every cell
# holds exactly one code point (the common case) the text is a `str` aligned
# with the style ids; otherwise (wide characters, combining marks) it is the
# tuple of cell strings, so cells can be rebuilt exactly.
StoredLine = tuple[str | tuple[str, ...], str]


# A line kept as printed: the lazy row itself, [width, blank, style id, run, style
# id, run, ...], runs being text + SGR. A list (never a tuple) so it cannot be confused with
# a StoredLine.
RawLine = list[object]

HistoryLine = StoredLine | RawLine


def stored_cells(line: HistoryLine, table: StyleTable) -> StoredLine:
    """The cells and style ids of a history line (a RawLine is expanded here)."""
    if not isinstance(line, list):
        return line
    parts: list[str | list[str]] = []
    styles: list[str] = []
    for k in range(2, len(line) - 1, 2):
        sid = line[k]
        run = line[k + 1]
        assert isinstance(sid, str) and isinstance(run, str)
        expanded = expand_run(sid, SGR_SPLIT.split(run), table)
        if expanded is not None:
            parts.append(expanded[0])
            styles.append(expanded[1])
    if all(isinstance(part, str) for part in parts):
        return "".join(parts), "".join(styles)  # type: ignore[arg-type]
    # Clusters (VS16) hold several code points in one cell: keep cells apart.
    cells: list[str] = []
    for part in parts:
        cells.extend(part)
    return tuple(cells), "".join(styles)


def compact(chars: list[str], attrs: list[str]) -> StoredLine:
    """Turn a screen line's cell lists into its stored form, trailing blanks trimmed."""
    text = "".join(chars)
    style = "".join(attrs)
    width = len(style)
    # Trim the trailing cells that are blank *and* default-styled. Trailing spaces
    # in the joined text are exactly the trailing blank cells (a wide-char tail
    # always follows a non-blank character), so no per-cell loop is needed.
    end = len(text.rstrip(" ")) - (len(text) - width)
    if style[end:] != _DEFAULT_RUN[: width - end]:
        # Some trailing blanks carry a style (a background colour): keep those.
        end = max(end, len(style.rstrip("\x00")))
    if len(text) == width:
        return text[:end], style[:end]
    return tuple(chars[:end]), style[:end]


_DEFAULT_RUN = "\x00" * 4096


def expand(line: HistoryLine, cols: int, table: StyleTable) -> tuple[list[str], list[str]]:
    """Rebuild a line's cell lists at width `cols` (padding or cutting)."""
    text, style = stored_cells(line, table)
    chars = list(text)
    attrs = list(style)
    if len(chars) < cols:
        chars.extend(" " * (cols - len(chars)))
        attrs.extend("\x00" * (cols - len(attrs)))
    elif len(chars) > cols:
        if chars[cols] == "\x00":
            # A wide character cut in half at the new right edge becomes a blank.
            chars[cols - 1] = " "
        del chars[cols:]
        del attrs[cols:]
    return chars, attrs


def line_width(line: HistoryLine) -> int:
    """How many cells a stored line covers (trailing blanks trimmed)."""
    if isinstance(line, list):
        width = line[0]
        assert isinstance(width, int)
        return width
    return len(line[1])


class Scrollback:
    """A bounded history of stored lines, oldest first.

    Beside each line is whether it was soft-wrapped: autowrap continued it on the
    next line, so a resize can join the two again and wrap them at the new width.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = max(0, limit)
        self._lines: deque[HistoryLine] = deque(maxlen=self.limit)
        self._wraps: deque[bool] = deque(maxlen=self.limit)

    def __len__(self) -> int:
        return len(self._lines)

    def __iter__(self) -> Iterator[HistoryLine]:
        return iter(self._lines)

    def __getitem__(self, index: int) -> HistoryLine:
        return self._lines[index]

    def push(self, chars: list[str], attrs: list[str], wrapped: bool = False) -> None:
        """Append a line that just scrolled off the screen."""
        self._lines.append(compact(chars, attrs))
        self._wraps.append(wrapped)

    def push_raw(self, lazy_row: list[object], wrapped: bool = False) -> None:
        """Append a lazy row ([width, blank, style id, run, ...]) as the runs it came as."""
        self._lines.append(lazy_row)
        self._wraps.append(wrapped)

    def push_stored(self, line: HistoryLine, wrapped: bool) -> None:
        """Append a line already in its stored form."""
        self._lines.append(line)
        self._wraps.append(wrapped)

    def pop(self) -> tuple[HistoryLine, bool] | None:
        """Take back the newest line and whether it was soft-wrapped."""
        if not self._lines:
            return None
        return self._lines.pop(), self._wraps.pop()

    def last_wrapped(self) -> bool:
        """Whether the newest line continues on the screen's first line."""
        return bool(self._wraps) and self._wraps[-1]

    def entries(self) -> Iterator[tuple[HistoryLine, bool]]:
        """Every line, oldest first, with its soft-wrap flag."""
        return zip(self._lines, self._wraps, strict=True)

    def replace(self, entries: list[tuple[HistoryLine, bool]]) -> None:
        """Replace the whole history (after a reflow); the oldest beyond the limit go."""
        self._lines.clear()
        self._wraps.clear()
        for line, wrapped in entries:
            self._lines.append(line)
            self._wraps.append(wrapped)

    def clear(self) -> None:
        """Forget all history (ED 3)."""
        self._lines.clear()
        self._wraps.clear()

    def lines(self, start: int, stop: int) -> list[HistoryLine]:
        """Lines `start..stop` (0 = oldest), clamped to what exists."""
        start = max(0, start)
        stop = min(len(self._lines), stop)
        return [self._lines[i] for i in range(start, stop)]
