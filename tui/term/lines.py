"""The line model a view renders: each line as text plus runs of one style.

`Line.runs` is a tuple of `(text, Style)` pieces in order; wide characters are
one code point in the text (renderers measure cell widths; the screen's
wide-character tail cells are dropped here), clusters (emoji
with VS16 or ZWJ, flags, combining marks) stay together. Trailing blank cells
with the default style are trimmed, so an empty line is `Line(())`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from tui.term.style import DEFAULT_STYLE, Style, StyleTable, style_to_sgr

_RUNS = re.compile(r"(.)\1*", re.DOTALL)
# tui.term.cells.WIDE_TAIL, not imported: the app renders lines without cells'
# wcwidth tables (~20 ms of start-up).
WIDE_TAIL = "\x00"


class Line(NamedTuple):
    """One rendered line: runs of (text, style)."""

    runs: tuple[tuple[str, Style], ...]

    @property
    def text(self) -> str:
        """The line's text without styles."""
        return "".join(text for text, _ in self.runs)


EMPTY_LINE = Line(())


def build_line(chars: list[str] | tuple[str, ...] | str, attrs: str, styles: StyleTable) -> Line:
    """Turn a line's cells (`chars`, one style id per cell in `attrs`) into a `Line`."""
    end = len(attrs)
    if not isinstance(chars, str):
        joined = "".join(chars)
        if len(joined) == end:
            chars = joined  # one code point per cell: slice the string, not the list
    # Trim trailing default blanks: most lines are short, most of a 200-column
    # screen is empty, and an empty run costs the renderer a segment.
    if isinstance(chars, str) and len(chars) == end:
        # A cell is trimmed when it is a space *and* default-styled: the trailing
        # run of those ends at the later of the last non-space and the last style.
        end = max(len(chars.rstrip(" ")), len(attrs.rstrip("\x00")))
    else:
        while end and attrs[end - 1] == "\x00" and chars[end - 1] == " ":
            end -= 1
    if not end:
        return EMPTY_LINE
    runs: list[tuple[str, Style]] = []
    by_id = styles.by_id
    if isinstance(chars, str):
        # Each run ends where its style id stops repeating: `lstrip` finds that in
        # C (a regex with a back-reference steps through every cell).
        tails = WIDE_TAIL in chars
        start = 0
        while start < end:
            sid = attrs[start]
            stop = end - len(attrs[start:end].lstrip(sid))
            text = chars[start:stop]
            runs.append((text.replace(WIDE_TAIL, "") if tails else text, by_id[sid]))
            start = stop
    else:
        join = "".join
        for m in _RUNS.finditer(attrs, 0, end):
            start, stop = m.span()
            runs.append((join(chars[start:stop]).replace(WIDE_TAIL, ""), by_id[attrs[start]]))
    return Line(tuple(runs))


__all__ = ["DEFAULT_STYLE", "EMPTY_LINE", "Line", "build_line"]


def line_to_ansi(line: Line) -> str:
    """One line with SGR codes; ends with a reset when it set any style."""
    parts: list[str] = []
    current: Style = DEFAULT_STYLE
    for text, style in line.runs:
        if style != current:
            parts.append(style_to_sgr(style))
            current = style
        parts.append(text)
    if current != DEFAULT_STYLE:
        parts.append("\x1b[0m")
    return "".join(parts)
