"""The rows a diff view draws, from one file's hunks (`session.diff_file`).

Two layouts of the same lines: *split* pairs each removed line with the added
line that replaced it (old | new side by side, blank where a side has nothing)
and *unified* lists them in patch order. Syntax tokens (Pygments, lexer by file
name) are computed per hunk and side on first use, and changed words (difflib on
word tokens of a removed/added pair) per pair on first use, so a view pays only
for the lines it shows. Nothing here imports textual.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

# Pygments ships no type information (Textual and Rich depend on it, untyped too).
from pygments.lexer import Lexer  # type: ignore[import-untyped]
from pygments.lexers import get_lexer_for_filename  # type: ignore[import-untyped]
from pygments.token import Token, _TokenType  # type: ignore[import-untyped]
from pygments.util import ClassNotFound  # type: ignore[import-untyped]

from tui.protocol.messages import DiffFileDetail

Layout = Literal["split", "unified"]
TokenRun = tuple[str, str]
"""A piece of a line's text and its syntax class ("" for plain)."""

TAB_SIZE = 4
TOKEN_CHUNK = 100
"""Lines tokenized together: a huge hunk is highlighted a chunk at a time, as shown."""
# Word-level marks help when a line was edited; for a line rewritten wholesale
# the line colour already says it, and marking everything is noise.
MIN_WORD_RATIO = 0.3
_WORDS = re.compile(r"\w+|\s+|[^\w\s]")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# Pygments token types -> the view's syntax classes (most specific first).
_SYNTAX: tuple[tuple[_TokenType, str], ...] = (
    (Token.Comment, "comment"),
    (Token.Literal.String, "string"),
    (Token.Literal.Number, "number"),
    (Token.Keyword.Type, "class"),
    (Token.Keyword, "keyword"),
    (Token.Operator.Word, "keyword"),
    (Token.Name.Builtin, "builtin"),
    (Token.Name.Function, "function"),
    (Token.Name.Decorator, "function"),
    (Token.Name.Class, "class"),
    (Token.Name.Tag, "keyword"),
    (Token.Name.Attribute, "function"),
)
SYNTAX_CLASSES = frozenset(name for _, name in _SYNTAX)


@dataclass(frozen=True, slots=True)
class Side:
    """One line of a hunk as a row shows it."""

    origin: str
    """" " context, "+" added, "-" removed."""
    old_no: int | None
    new_no: int | None
    text: str
    """Display text: tabs expanded, control characters replaced."""
    hunk: int
    line: int
    """Index of the line in its hunk."""
    side: Literal["old", "new"]
    """Which version of the file the line is read from (for syntax tokens)."""

    @property
    def lineno(self) -> int | None:
        """The line number this side shows."""
        return self.old_no if self.side == "old" else self.new_no


@dataclass(frozen=True, slots=True)
class Row:
    """A hunk header, a line (split: old and new side; unified: `left` only) or a note."""

    kind: Literal["hunk", "line", "note"]
    hunk: int = -1
    left: Side | None = None
    right: Side | None = None
    text: str = ""


@dataclass(frozen=True)
class _Hunk:
    header: str
    new_start: int
    lines: tuple[tuple[str, int | None, int | None, str], ...]


def display_text(text: str) -> str:
    """A line as the view shows it: no CR at the end, tabs expanded, controls as U+FFFD."""
    return _CONTROL.sub("\ufffd", text.rstrip("\r").expandtabs(TAB_SIZE))


@lru_cache(maxsize=256)
def lexer_for(path: str) -> Lexer | None:
    """The Pygments lexer for a file name, or None for plain text."""
    try:
        return get_lexer_for_filename(path, stripnl=False, ensurenl=True, tabsize=0)
    except ClassNotFound:
        return None


@lru_cache(maxsize=512)
def syntax_class(ttype: _TokenType) -> str:
    """The view's syntax class for a Pygments token type ("" for none)."""
    for parent, name in _SYNTAX:
        if ttype in parent:
            return name
    return ""


def changed_spans(old: str, new: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Character ranges that differ between a removed line and the line that replaced it."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() < MIN_WORD_RATIO:
        return [], []
    a_at, b_at = _offsets(a), _offsets(b)
    old_spans: list[tuple[int, int]] = []
    new_spans: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            old_spans.append((a_at[i1], a_at[i2]))
        if j2 > j1:
            new_spans.append((b_at[j1], b_at[j2]))
    return old_spans, new_spans


def _offsets(tokens: list[str]) -> list[int]:
    at = [0]
    for token in tokens:
        at.append(at[-1] + len(token))
    return at


def prepare_rows(detail: DiffFileDetail, layout: Layout) -> FileRows:
    """A file's rows in `layout`, lexer found: the slow part, for a worker thread."""
    rows = FileRows(detail)
    rows.rows(layout)
    lexer_for(rows.path)
    return rows


class FileRows:
    """One file's diff laid out for the view; tokens and word marks computed lazily."""

    def __init__(self, detail: DiffFileDetail) -> None:
        self.path = detail["path"]
        self.old_path = detail["old_path"]
        self.status = detail["status"]
        self.binary = detail["binary"]
        self.truncated = detail["truncated"]
        self.added = detail["added"]
        self.removed = detail["removed"]
        self.hunks = [
            _Hunk(
                header=h["header"],
                new_start=h["new_start"],
                lines=tuple(
                    (origin, old, new, display_text(text)) for origin, old, new, text in h["lines"]
                ),
            )
            for h in detail["hunks"]
        ]
        self._layouts: dict[Layout, list[Row]] = {}
        self._partners: list[dict[int, int]] = [self._pair(h) for h in self.hunks]
        self._positions: list[tuple[dict[int, int], dict[int, int]]] = [
            self._side_positions(h) for h in self.hunks
        ]
        self._tokens: dict[tuple[int, str, int], list[list[TokenRun]]] = {}
        self._hunk_rows: dict[Layout, list[int]] = {}
        self._spans: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self.number_width = max(
            [3, *(len(str(n)) for h in self.hunks for _, a, b, _ in h.lines for n in (a, b) if n)]
        )

    # ------------------------------------------------------------- layout
    def rows(self, layout: Layout) -> list[Row]:
        """Every row of the file in `layout` (built once per layout)."""
        rows = self._layouts.get(layout)
        if rows is None:
            rows = self._layouts[layout] = self._build(layout)
        return rows

    def hunk_rows(self, layout: Layout) -> list[int]:
        """Indices of the hunk header rows in `layout`."""
        starts = self._hunk_rows.get(layout)
        if starts is None:
            rows = self.rows(layout)
            starts = self._hunk_rows[layout] = [i for i, r in enumerate(rows) if r.kind == "hunk"]
        return starts

    def find(self, layout: Layout, hunk: int, line: int) -> int:
        """The row in `layout` that shows line `line` of hunk `hunk` (its header for -1)."""
        for index, row in enumerate(self.rows(layout)):
            if row.hunk != hunk:
                continue
            if line < 0 and row.kind == "hunk":
                return index
            if any(s is not None and s.line == line for s in (row.left, row.right)):
                return index
        return 0

    def _build(self, layout: Layout) -> list[Row]:
        rows: list[Row] = []
        if self.binary:
            rows.append(Row("note", text="Binary file: contents not shown"))
        elif not self.hunks and self.old_path:
            rows.append(Row("note", text=f"Renamed from {self.old_path}; contents unchanged"))
        elif not self.hunks:
            rows.append(Row("note", text="No changes to the contents"))
        for number, hunk in enumerate(self.hunks):
            rows.append(Row("hunk", hunk=number, text=display_text(hunk.header)))
            if layout == "unified":
                rows.extend(self._unified(number, hunk))
            else:
                rows.extend(self._split(number, hunk))
        if self.truncated:
            rows.append(Row("note", text="The diff of this file is cut here (too many lines)"))
        return rows

    def _side(self, hunk: int, index: int, side: Literal["old", "new"]) -> Side:
        origin, old, new, text = self.hunks[hunk].lines[index]
        return Side(origin, old, new, text, hunk, index, side)

    def _unified(self, number: int, hunk: _Hunk) -> list[Row]:
        return [
            Row("line", number, self._side(number, i, "old" if origin == "-" else "new"))
            for i, (origin, *_rest) in enumerate(hunk.lines)
        ]

    def _split(self, number: int, hunk: _Hunk) -> list[Row]:
        rows: list[Row] = []
        lines = hunk.lines
        i = 0
        while i < len(lines):
            if lines[i][0] == " ":
                rows.append(
                    Row("line", number, self._side(number, i, "old"), self._side(number, i, "new"))
                )
                i += 1
                continue
            removed, added = [], []
            while i < len(lines) and lines[i][0] == "-":
                removed.append(i)
                i += 1
            while i < len(lines) and lines[i][0] == "+":
                added.append(i)
                i += 1
            for k in range(max(len(removed), len(added))):
                left = self._side(number, removed[k], "old") if k < len(removed) else None
                right = self._side(number, added[k], "new") if k < len(added) else None
                rows.append(Row("line", number, left, right))
        return rows

    @staticmethod
    def _pair(hunk: _Hunk) -> dict[int, int]:
        """Removed line -> the added line that replaced it, and back."""
        partners: dict[int, int] = {}
        lines = hunk.lines
        i = 0
        while i < len(lines):
            if lines[i][0] != "-":
                i += 1
                continue
            removed, added = [], []
            while i < len(lines) and lines[i][0] == "-":
                removed.append(i)
                i += 1
            while i < len(lines) and lines[i][0] == "+":
                added.append(i)
                i += 1
            for old, new in zip(removed, added, strict=False):
                partners[old] = new
                partners[new] = old
        return partners

    @staticmethod
    def _side_positions(hunk: _Hunk) -> tuple[dict[int, int], dict[int, int]]:
        old: dict[int, int] = {}
        new: dict[int, int] = {}
        for i, (origin, *_rest) in enumerate(hunk.lines):
            if origin != "+":
                old[i] = len(old)
            if origin != "-":
                new[i] = len(new)
        return old, new

    # ------------------------------------------------------------ styling
    def tokens(self, side: Side) -> list[TokenRun]:
        """The line's text as runs of one syntax class (tokenizes its chunk of the hunk once)."""
        old, new = self._positions[side.hunk]
        position = (old if side.side == "old" else new).get(side.line)
        if position is None:
            return [(side.text, "")]
        chunk, offset = divmod(position, TOKEN_CHUNK)
        key = (side.hunk, side.side, chunk)
        lines = self._tokens.get(key)
        if lines is None:
            lines = self._tokens[key] = self._tokenize(side.hunk, side.side, chunk)
        return lines[offset] if offset < len(lines) else [(side.text, "")]

    def _tokenize(self, hunk: int, side: str, chunk: int) -> list[list[TokenRun]]:
        old, new = self._positions[hunk]
        indices = list(old if side == "old" else new)
        start = chunk * TOKEN_CHUNK
        texts = [self.hunks[hunk].lines[i][3] for i in indices[start : start + TOKEN_CHUNK]]
        lexer = lexer_for(self.path)
        if lexer is None:
            return [[(text, "")] for text in texts]
        lines: list[list[TokenRun]] = [[]]
        for ttype, value in lexer.get_tokens("\n".join(texts)):
            name = syntax_class(ttype)
            parts = value.split("\n")
            for number, part in enumerate(parts):
                if number:
                    lines.append([])
                if not part:
                    continue
                current = lines[-1]
                if current and current[-1][1] == name:
                    current[-1] = (current[-1][0] + part, name)
                else:
                    current.append((part, name))
        return lines

    def word_spans(self, side: Side) -> list[tuple[int, int]]:
        """Changed character ranges of a removed or added line that has a partner."""
        key = (side.hunk, side.line)
        spans = self._spans.get(key)
        if spans is None:
            partner = self._partners[side.hunk].get(side.line)
            if partner is None or side.origin == " ":
                spans = []
            else:
                other = self.hunks[side.hunk].lines[partner][3]
                old, new = (side.text, other) if side.origin == "-" else (other, side.text)
                old_spans, new_spans = changed_spans(old, new)
                spans = old_spans if side.origin == "-" else new_spans
                other_key = (side.hunk, partner)
                self._spans[other_key] = new_spans if side.origin == "-" else old_spans
            self._spans[key] = spans
        return spans

    def target_line(self, row: Row) -> tuple[int, bool]:
        """(line number, on the new side?) a comment or the editor should use for `row`."""
        side = row.right if row.right is not None else row.left
        if side is None:
            return (self.hunks[row.hunk].new_start if row.hunk >= 0 and self.hunks else 1), True
        if side.origin == "-":
            return side.old_no or 1, False
        return side.new_no or 1, True

    def editor_line(self, row: Row) -> int:
        """The line of the new file closest to `row` (for opening an editor there)."""
        side = row.right if row.right is not None else row.left
        if side is not None and side.new_no:
            return side.new_no
        if row.hunk < 0 or not self.hunks:
            return 1
        hunk = self.hunks[row.hunk]
        start = side.line if side is not None else 0
        for _origin, _old, new, _text in hunk.lines[start:]:
            if new:
                return new
        return max(hunk.new_start, 1)
