"""Cells: how text maps onto terminal cells, and how a run of text + SGR expands.

A wide character takes its cell plus a tail cell holding `WIDE_TAIL` (NUL, which
a program can never print). Characters that need grapheme-cluster logic —
combining marks, joiners, variation selectors, regional indicators — are marked
so callers can send them down the careful path; everything else is mapped in
C by `str.translate`.

A *run* is printable text with SGR sequences in it (`foo\\x1b[31mbar`), what the
stream hands over in bulk; `expand_run` turns one into cells and per-cell
style ids, and `run_width` measures one without expanding it.
"""

from __future__ import annotations

import re

from wcwidth import wcwidth

from tui.term.style import StyleTable

WIDE_TAIL = "\x00"
# Marks a character that needs cluster logic in translated text.
SLOW_MARK = "\x01"
_WIDE_MARK = "\x02"
# Marks VARIATION SELECTOR-16 (emoji presentation: the character before it
# becomes two cells wide), the one cluster rule common enough to do in bulk.
VS_MARK = "\x03"
VS16 = "\ufe0f"
# Code points one cell may hold (combining marks beyond are dropped).
MAX_CLUSTER = 32

_WIDTHS: dict[str, int] = {}

# Inside a run: [text, sgr-params, text, sgr-params, ..., text].
SGR_SPLIT = re.compile(r"\x1b\[([0-9;:]*)m")
_ASCII_TEXT = re.compile(r"[\x20-\x7e]+")


def char_width(ch: str) -> int:
    """Cells a code point takes: 0 (combining), 1 or 2. Cached: it is on the hot path."""
    width = _WIDTHS.get(ch)
    if width is None:
        width = wcwidth(ch)
        if width < 0:
            width = 0
        if len(_WIDTHS) < 65536:
            _WIDTHS[ch] = width
    return width


def is_regional_indicator(ch: str) -> bool:
    """True for the letters that pair up into flags."""
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def is_emoji_modifier(ch: str) -> bool:
    """True for the skin-tone modifiers that join the emoji before them."""
    return "\U0001f3fb" <= ch <= "\U0001f3ff"


def _needs_cluster_logic(ch: str, width: int) -> bool:
    return width == 0 or is_regional_indicator(ch) or is_emoji_modifier(ch)


class _CellTable(dict[int, str]):
    """`str.translate` table: a character -> its cells, learnt on first sight."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        width = char_width(ch)
        if ch == VS16:
            cells = VS_MARK
        elif _needs_cluster_logic(ch, width):
            cells = SLOW_MARK + ch
        elif width == 2:
            cells = ch + WIDE_TAIL
        else:
            cells = ch
        if len(self) < 65536:
            self[code] = cells
        return cells


class _WidthTable(dict[int, str | None]):
    """`str.translate` table for non-ASCII text: wide -> a mark, narrow -> dropped."""

    def __missing__(self, code: int) -> str | None:
        ch = chr(code)
        width = char_width(ch)
        mark: str | None
        if ch == VS16:
            mark = VS_MARK  # `text_width` does the emoji-presentation rule in bulk
        elif _needs_cluster_logic(ch, width):
            mark = SLOW_MARK
        else:
            mark = _WIDE_MARK if width == 2 else None
        if len(self) < 65536:
            self[code] = mark
        return mark


CELL_TABLE = _CellTable()
_WIDTH_TABLE = _WidthTable()


Cells = str | list[str]


def to_cells(text: str) -> str:
    """Text as cells (wide characters followed by WIDE_TAIL); SLOW_MARK flags clusters.

    A VS16 comes out as VS_MARK: see `apply_vs16`.
    """
    return text if text.isascii() else text.translate(CELL_TABLE)


def apply_vs16(cells: str, styles: str) -> tuple[list[str], str] | None:
    """Join each VS_MARK to the cell before it, which becomes two cells wide.

    The cluster keeps the style of its base character. None when a VS16 comes
    first (it belongs to a cell drawn earlier: the careful path handles that).
    """
    out: list[str] = []
    out_styles: list[str] = []
    start = 0
    while True:
        i = cells.find(VS_MARK, start)
        if i < 0:
            out.extend(cells[start:])
            out_styles.extend(styles[start:])
            return out, "".join(out_styles)
        out.extend(cells[start:i])
        out_styles.extend(styles[start:i])
        start = i + 1
        if not out:
            return None
        if out[-1] == WIDE_TAIL:
            if len(out[-2]) < MAX_CLUSTER:
                out[-2] += VS16  # already wide: the selector just joins the cluster
        elif char_width(out[-1][0]) == 1:
            out[-1] += VS16
            out.append(WIDE_TAIL)
            out_styles.append(out_styles[-1])
        elif len(out[-1]) < MAX_CLUSTER:
            out[-1] += VS16


def text_width(text: str) -> int | None:
    """Cells `text` takes, or None when it holds characters that need cluster logic."""
    if text.isascii():
        return len(text)
    # Only the non-ASCII residue is looked up: most of a line is ASCII.
    marks = _ASCII_TEXT.sub("", text).translate(_WIDTH_TABLE)
    if not marks:
        return len(text)
    if SLOW_MARK in marks:
        return None
    width = len(text) + len(marks)
    if VS_MARK in marks:
        # Each VS16 was counted as a code point (1) and a mark (1). It adds one
        # cell to a narrow base (net +1 from the code point alone) and nothing
        # to a wide one or a cluster (net -1).
        width -= marks.count(VS_MARK)
        i = text.find(VS16)
        while i >= 0:
            if i == 0:
                return None
            if text[i - 1] == VS16 or char_width(text[i - 1]) != 1:
                width -= 1
            i = text.find(VS16, i + 1)
    return width


def expand_run(sid: str, pieces: list[str], table: StyleTable) -> tuple[Cells, str, str] | None:
    """Cells, per-cell style ids and the final style of a split run starting in style `sid`.

    None when the text needs cluster logic (the caller draws it piece by piece).
    """
    if len(pieces) == 1:
        text = pieces[0]
        cells = to_cells(text)
        styles = sid * len(cells)
    else:
        cache = table._sgr_cache
        parts: list[str] = []
        spans: list[str] = []
        first = pieces[0]
        if first:
            cells = to_cells(first)
            parts.append(cells)
            spans.append(sid * len(cells))
        for j in range(1, len(pieces), 2):
            body = pieces[j]
            new = cache.get((sid, body))
            sid = new if new is not None else table.sgr(sid, body)
            text = pieces[j + 1]
            if text:
                cells = text if text.isascii() else text.translate(CELL_TABLE)
                parts.append(cells)
                spans.append(sid * len(cells))
        cells = "".join(parts)
        styles = "".join(spans)
    if SLOW_MARK in cells:
        return None
    if VS_MARK in cells:
        joined = apply_vs16(cells, styles)
        if joined is None:
            return None
        return joined[0], joined[1], sid
    return cells, styles, sid
