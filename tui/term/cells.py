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
        if _needs_cluster_logic(ch, width):
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
        mark = (
            SLOW_MARK if _needs_cluster_logic(ch, width) else (_WIDE_MARK if width == 2 else None)
        )
        if len(self) < 65536:
            self[code] = mark
        return mark


CELL_TABLE = _CellTable()
_WIDTH_TABLE = _WidthTable()


def to_cells(text: str) -> str:
    """Text as cells (wide characters followed by WIDE_TAIL); SLOW_MARK flags clusters."""
    return text if text.isascii() else text.translate(CELL_TABLE)


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
    return len(text) + len(marks)


def run_text_width(pieces: list[str]) -> int | None:
    """Cells the text of a split run takes (see `SGR_SPLIT`), None if clusters are in it."""
    if len(pieces) == 1:
        return text_width(pieces[0])
    return text_width("".join(pieces[0::2]))


def expand_run(sid: str, pieces: list[str], table: StyleTable) -> tuple[str, str, str] | None:
    """Cells, per-cell style ids and the final style of a split run starting in style `sid`.

    None when the text needs cluster logic (the caller draws it piece by piece).
    """
    if len(pieces) == 1:
        text = pieces[0]
        cells = to_cells(text)
        if SLOW_MARK in cells:
            return None
        return cells, sid * len(cells), sid
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
    joined = "".join(parts)
    if SLOW_MARK in joined:
        return None
    return joined, "".join(spans), sid


def end_style(sid: str, pieces: list[str], table: StyleTable) -> str:
    """The style after the SGRs of a split run, starting from `sid`."""
    cache = table._sgr_cache
    for j in range(1, len(pieces), 2):
        body = pieces[j]
        new = cache.get((sid, body))
        sid = new if new is not None else table.sgr(sid, body)
    return sid
