"""Turning ptui's line model into Textual strips, fast.

A `Line` is runs of `(text, Style)`; each run becomes one Rich `Segment` whose
style comes from a cache keyed by the ptui `Style` (building a Rich style per cell
was measured 25x slower). Palette colours 0-15 stay "standard" colours, so the
outer terminal shows its own palette, and Rich downgrades 256 and truecolour for
terminals that have fewer colours.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.color import Color
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.strip import Strip

from tui.term import style as ts
from tui.term.lines import Line

# DECSCUSR shapes (CSI n SP q): 0-2 block, 3-4 underline, 5-6 bar.
CURSOR_BLOCK = "block"
CURSOR_UNDERLINE = "underline"
CURSOR_BAR = "bar"

_MAX_CACHED_STYLES = 4096
_BLOCK = RichStyle(reverse=True)
_UNDERLINE = RichStyle(underline=True)


def cursor_shape(code: int) -> str:
    """The cursor shape a DECSCUSR code asks for."""
    if code in (3, 4):
        return CURSOR_UNDERLINE
    if code in (5, 6):
        return CURSOR_BAR
    return CURSOR_BLOCK


def rich_color(color: int) -> Color | None:
    """A Rich colour for a ptui colour int (None: the default colour)."""
    if color == ts.DEFAULT:
        return None
    if color & ts.RGB_FLAG:
        return Color.from_rgb((color >> 16) & 0xFF, (color >> 8) & 0xFF, color & 0xFF)
    return Color.from_ansi(color & 0xFF)


def _rich_style(style: ts.Style) -> RichStyle:
    flags = style.flags
    link = style.link if style.link and style.link.startswith(("http://", "https://")) else None
    return RichStyle(
        color=rich_color(style.fg),
        bgcolor=rich_color(style.bg),
        bold=bool(flags & ts.BOLD) or None,
        dim=bool(flags & ts.DIM) or None,
        italic=bool(flags & ts.ITALIC) or None,
        blink=bool(flags & ts.BLINK) or None,
        reverse=bool(flags & ts.REVERSE) or None,
        conceal=bool(flags & ts.HIDDEN) or None,
        strike=bool(flags & ts.STRIKE) or None,
        overline=bool(flags & ts.OVERLINE) or None,
        underline=(style.underline in (ts.UNDERLINE_SINGLE, ts.UNDERLINE_CURLY)) or None,
        underline2=(style.underline == ts.UNDERLINE_DOUBLE) or None,
        link=link,
    )


class StripRenderer:
    """Renders `Line`s to fixed-width strips over a base style (the view's colours)."""

    def __init__(self) -> None:
        self.base = RichStyle()
        self._styles: dict[ts.Style, RichStyle] = {}

    def set_base(self, base: RichStyle) -> bool:
        """Use `base` under every run (theme colours); True if it changed."""
        if base == self.base:
            return False
        self.base = base
        self._styles.clear()
        return True

    def style(self, style: ts.Style) -> RichStyle:
        """The Rich style for a ptui style, on top of the base style (cached)."""
        cached = self._styles.get(style)
        if cached is None:
            if len(self._styles) >= _MAX_CACHED_STYLES:
                self._styles.clear()
            cached = self._styles[style] = self.base + _rich_style(style)
        return cached

    def strip(self, line: Line, width: int) -> Strip:
        """`line` as a strip exactly `width` cells wide (cropped or padded)."""
        # Runs once per changed line per frame: cached styles looked up inline, and
        # the width of ASCII text (most of it) is its length.
        cached = self._styles.get
        segments = []
        length = 0
        for text, run_style in line.runs:
            if text:
                segments.append(Segment(text, cached(run_style) or self.style(run_style)))
                length += len(text) if text.isascii() else cell_len(text)
        strip = Strip(segments, length)
        if length != width:
            strip = strip.adjust_cell_length(width, self.base)
        return strip

    def blank(self, width: int) -> Strip:
        return Strip.blank(width, self.base)


def cell_width_at(line: Line, x: int) -> int:
    """Cells taken by the character at column `x` (2 for a wide one, else 1)."""
    text = line.text
    if text.isascii():
        return 1
    pos = 0
    for char in text:
        width = cell_len(char)
        if pos + width > x:
            return max(1, width)
        pos += width
    return 1


def overlay(strip: Strip, start: int, end: int, style: RichStyle) -> Strip:
    """`strip` with `style` laid over the cells `start..end` (cursor, selection)."""
    width = strip.cell_length
    start, end = max(0, start), min(width, end)
    if start >= end:
        return strip
    # The cursor's case, on every echo: the cells lie in one ASCII segment, which
    # splits by index. Anything else goes through Strip.divide (3-4x slower).
    pos = 0
    segments = list(strip)
    for index, (text, seg_style, control) in enumerate(segments):
        if control:
            continue
        ascii_text = text.isascii()
        after = pos + (len(text) if ascii_text else cell_len(text))
        if after <= start:
            pos = after
            continue
        if after >= end and ascii_text:
            cut = [
                Segment(text[: start - pos], seg_style),
                Segment(text[start - pos : end - pos], (seg_style or RichStyle()) + style),
                Segment(text[end - pos :], seg_style),
            ]
            segments[index : index + 1] = [segment for segment in cut if segment.text]
            return Strip(segments, width)
        break
    before, middle, after_cells = strip.divide([start, end, width])
    styled = Strip(
        [Segment(s.text, (s.style or RichStyle()) + style, s.control) for s in middle],
        middle.cell_length,
    )
    return Strip.join([before, styled, after_cells])


def draw_cursor(strip: Strip, line: Line, x: int, shape: str) -> Strip:
    """Draw the cursor at column `x` in the given shape."""
    if x >= strip.cell_length:
        return strip
    width = cell_width_at(line, x)
    if shape == CURSOR_UNDERLINE:
        return overlay(strip, x, x + width, _UNDERLINE)
    if shape == CURSOR_BAR:
        # A cell cannot show a thin bar between characters: a bar on an empty cell,
        # an underline under text, so the text stays readable.
        index = index_at_cell(line.text, x)
        if index >= len(line.text) or line.text[index] == " ":
            before, _cell, after = strip.divide([x, x + 1, strip.cell_length])
            bar = Strip([Segment("▏", after_style(_cell))], 1)
            return Strip.join([before, bar, after])
        return overlay(strip, x, x + width, _UNDERLINE)
    return overlay(strip, x, x + width, _BLOCK)


def after_style(strip: Strip) -> RichStyle | None:
    """The style of a strip's first segment."""
    for segment in strip:
        return segment.style
    return None


def index_at_cell(text: str, column: int) -> int:
    """The index in `text` of the character covering cell `column` (len(text) past the end)."""
    pos = 0
    for index, char in enumerate(text):
        pos += cell_len(char)
        if pos > column:
            return index
    return len(text)


def text_between(text: str, start_col: int, end_col: int) -> str:
    """The characters of `text` covering cells `start_col..end_col` (end exclusive)."""
    if end_col <= start_col:
        return ""
    end = min(len(text), index_at_cell(text, end_col - 1) + 1)
    return text[index_at_cell(text, start_col) : end]
