"""`DiffView`: one file's diff, split (old | new) or unified, drawn line by line.

A Line API widget: `render_line` builds one row's `Strip` from the rows of
`FileRows` (tui.app.widgets.diff_rows), which tokenizes a hunk for syntax
colours and computes changed words only when one of its rows is drawn. Strips
are cached per row, width and horizontal offset, so scrolling a long file costs
the rows that come into view. All colours come from component classes that read
theme variables (`$diff-added`, `$diff-removed`, ...).
"""

from __future__ import annotations

import itertools
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.app.widgets.diff_rows import SYNTAX_CLASSES, FileRows, Layout, Row, Side

_STYLE_NAMES = (
    "gutter",
    "hunk",
    "note",
    "cursor",
    "filler",
    "divider",
    "added",
    "removed",
    "added-word",
    "removed-word",
    *sorted(SYNTAX_CLASSES),
)
_MARKERS = {"+": "+", "-": "-", " ": " "}
_KIND = {"+": "added", "-": "removed", " ": ""}


class DiffView(ScrollView, can_focus=True):
    """A file's hunks with line numbers, syntax colours and changed words marked."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "move(1)", "Down", id="diff_line_down", show=False,
                tooltip="Move the line cursor down"),
        Binding("up,k", "move(-1)", "Up", id="diff_line_up", show=False,
                tooltip="Move the line cursor up"),
        Binding("pagedown,space", "page(1)", "Page down", id="diff_page_down", show=False,
                tooltip="Move a page down"),
        Binding("pageup", "page(-1)", "Page up", id="diff_page_up", show=False,
                tooltip="Move a page up"),
        Binding("home,g", "edge(-1)", "Top", id="diff_top", show=False,
                tooltip="Go to the first line of the file"),
        Binding("end,G", "edge(1)", "Bottom", id="diff_bottom", show=False,
                tooltip="Go to the last line of the file"),
        Binding("right,l", "shift(8)", "Right", id="diff_scroll_right", show=False,
                tooltip="Scroll long lines to the right"),
        Binding("left,h", "shift(-8)", "Left", id="diff_scroll_left", show=False,
                tooltip="Scroll long lines back to the left"),
        Binding("c", "comment", "Comment", id="diff_comment",
                tooltip="Send a review comment on this line to the session's agent"),
    ]  # fmt: skip
    COMPONENT_CLASSES: ClassVar[set[str]] = {f"diff-view--{name}" for name in _STYLE_NAMES}
    DEFAULT_CSS = """
    DiffView {
        background: $background;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
    }
    DiffView > .diff-view--gutter { color: $text-muted; }
    DiffView > .diff-view--hunk { color: $primary; background: $boost; }
    DiffView > .diff-view--note { color: $text-muted; text-style: italic; }
    DiffView > .diff-view--cursor { color: $background; background: $accent; }
    DiffView > .diff-view--filler { background: $surface; }
    DiffView > .diff-view--divider { color: $panel; }
    DiffView > .diff-view--added { background: $diff-added; }
    DiffView > .diff-view--removed { background: $diff-removed; }
    DiffView > .diff-view--added-word { background: $success 45%; }
    DiffView > .diff-view--removed-word { background: $error 45%; }
    DiffView > .diff-view--keyword { color: $accent; }
    DiffView > .diff-view--string { color: $success; }
    DiffView > .diff-view--number { color: $warning; }
    DiffView > .diff-view--comment { color: $text-muted; text-style: italic; }
    DiffView > .diff-view--function { color: $primary; }
    DiffView > .diff-view--class { color: $secondary; }
    DiffView > .diff-view--builtin { color: $secondary; }
    """

    layout_mode: reactive[Layout] = reactive[Layout]("split")
    """`split` (old | new side by side) or `unified`."""
    cursor: reactive[int] = reactive(0)
    """The row the line cursor is on (what `c` comments on)."""

    class FileChosen(Message):
        """Hunk navigation went past the file's end (`step` 1) or start (-1)."""

        def __init__(self, view: DiffView, step: int) -> None:
            super().__init__()
            self.view = view
            self.step = step

        @property
        def control(self) -> DiffView:
            return self.view

    class CommentRequested(Message):
        """The user asked to comment on `path` at `line` (of the new file if `new_side`)."""

        def __init__(self, view: DiffView, path: str, line: int, new_side: bool, code: str) -> None:
            super().__init__()
            self.view = view
            self.path = path
            self.line = line
            self.new_side = new_side
            self.code = code

        @property
        def control(self) -> DiffView:
            return self.view

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.file: FileRows | None = None
        self.message = "No file selected"
        """Shown when there is no file (loading, an error, nothing changed)."""
        self.hscroll = 0
        self._strips: LRUCache[tuple[object, ...], Strip] = LRUCache(2048)
        self._styles: dict[str, Style] = {}
        self._composed: dict[tuple[str, str, bool], Style] = {}

    # ---------------------------------------------------------------- content
    @property
    def rows(self) -> list[Row]:
        """The rows drawn now."""
        if self.file is None:
            return [Row("note", text=self.message)]
        return self.file.rows(self.layout_mode)

    def show_file(self, file: FileRows | None, *, at_end: bool = False) -> None:
        """Show `file` with the cursor on its first hunk (its last with `at_end`)."""
        self.file = file
        self.hscroll = 0
        self._strips.clear()
        starts = file.hunk_rows(self.layout_mode) if file is not None else []
        row = (starts[-1] if at_end else starts[0]) if starts else 0
        self._update_size()
        self.set_reactive(DiffView.cursor, row)
        self.scroll_to(y=row if at_end else 0, animate=False, immediate=True)
        self.refresh()

    def show_message(self, text: str) -> None:
        """Show one line of text instead of a file (loading, errors)."""
        self.message = text
        self.show_file(None)

    def _update_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.rows))

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        self._update_size()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._composed.clear()
        self._strips.clear()

    def watch_layout_mode(self, old: Layout, new: Layout) -> None:
        if self.file is None:
            return
        # Keep the cursor on the same line of the file in the other layout.
        rows = self.file.rows(old)
        anchor = rows[self.cursor] if 0 <= self.cursor < len(rows) else None
        row = 0
        if anchor is not None and anchor.hunk >= 0:
            side = anchor.left or anchor.right
            row = self.file.find(new, anchor.hunk, side.line if side is not None else -1)
        self._strips.clear()
        self._update_size()
        self.set_reactive(DiffView.cursor, row)
        self._reveal(row)
        self.refresh()

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old)
        self.refresh_line(new)
        self._reveal(new)

    def _reveal(self, row: int) -> None:
        height = max(1, self.scrollable_content_region.height)
        top = round(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    # ------------------------------------------------------------- navigation
    def action_move(self, delta: int) -> None:
        self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.scrollable_content_region.height - 1))

    def action_edge(self, direction: int) -> None:
        self.cursor = 0 if direction < 0 else len(self.rows) - 1

    def action_shift(self, delta: int) -> None:
        self.hscroll = max(0, self.hscroll + delta)
        self.refresh()

    def next_hunk(self) -> None:
        """Move to the next hunk's header; past the last one ask for the next file."""
        starts = self.file.hunk_rows(self.layout_mode) if self.file else []
        later = [row for row in starts if row > self.cursor]
        if later:
            self._go_hunk(later[0])
        else:
            self.post_message(self.FileChosen(self, 1))

    def previous_hunk(self) -> None:
        """Move to the previous hunk's header; before the first ask for the previous file."""
        starts = self.file.hunk_rows(self.layout_mode) if self.file else []
        earlier = [row for row in starts if row < self.cursor]
        if earlier:
            self._go_hunk(earlier[-1])
        else:
            self.post_message(self.FileChosen(self, -1))

    def _go_hunk(self, row: int) -> None:
        self.set_reactive(DiffView.cursor, row)
        self.scroll_to(y=row, animate=False, immediate=True)
        self.refresh()

    def editor_target(self) -> tuple[str, int] | None:
        """(path, line) of the new file at the cursor, for opening an editor there."""
        if self.file is None:
            return None
        rows = self.rows
        row = rows[self.cursor] if 0 <= self.cursor < len(rows) else Row("note")
        return self.file.path, self.file.editor_line(row)

    def action_comment(self) -> None:
        rows = self.rows
        if self.file is None or not 0 <= self.cursor < len(rows):
            return
        row = rows[self.cursor]
        if row.kind != "line":
            self.notify("Move the cursor to a line to comment on it", severity="warning")
            return
        line, new_side = self.file.target_line(row)
        side = row.right if new_side and row.right is not None else row.left
        code = side.text if side is not None else ""
        path = self.file.path if new_side or not self.file.old_path else self.file.old_path
        self.post_message(self.CommentRequested(self, path, line, new_side, code))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None:
            self.cursor = max(0, min(len(self.rows) - 1, round(self.scroll_y) + offset.y))

    # -------------------------------------------------------------- rendering
    def _style(self, name: str) -> Style:
        if not self._styles:
            for key in _STYLE_NAMES:
                self._styles[key] = self.get_component_rich_style(f"diff-view--{key}")
        return self._styles[name]

    def _text_style(self, kind: str, syntax: str, word: bool) -> Style:
        """Base style, line background, syntax colour, changed-word background."""
        key = (kind, syntax, word)
        style = self._composed.get(key)
        if style is None:
            style = self.rich_style
            if kind:
                style += Style(bgcolor=self._style(kind).bgcolor)
            if syntax:
                colour = self._style(syntax)
                style += Style(color=colour.color, bold=colour.bold, italic=colour.italic)
            if word and kind:
                style += Style(bgcolor=self._style(f"{kind}-word").bgcolor)
            self._composed[key] = style
        return style

    def render_line(self, y: int) -> Strip:
        index = round(self.scroll_y) + y
        width = self.scrollable_content_region.width
        rows = self.rows
        if not 0 <= index < len(rows):
            return Strip.blank(width, self.rich_style)
        selected = index == self.cursor
        key = (id(self.file), self.layout_mode, index, width, self.hscroll, selected)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._render_row(rows[index], width, selected)
            self._strips[key] = strip
        return strip

    def _gutter_width(self) -> int:
        number = self.file.number_width if self.file else 3
        return 2 * number + 4 if self.layout_mode == "unified" else number + 3

    def _render_row(self, row: Row, width: int, selected: bool) -> Strip:
        if row.kind != "line":
            gutter = self._gutter_width()
            style = self._style("hunk" if row.kind == "hunk" else "note")
            head = Segment(" " * gutter, self._style("cursor") if selected else style)
            text = Strip([Segment(row.text, style)]).crop_extend(
                self.hscroll, self.hscroll + max(0, width - gutter), style
            )
            return Strip.join([Strip([head], gutter), text]).crop(0, width)
        if self.layout_mode == "unified":
            return self._unified_row(row, width, selected)
        left_width = (width - 1) // 2
        right_width = width - 1 - left_width
        divider = Strip([Segment("│", self._style("divider"))], 1)
        return Strip.join(
            [
                self._split_half(row.left, left_width, selected),
                divider,
                self._split_half(row.right, right_width, selected),
            ]
        )

    def _split_half(self, side: Side | None, width: int, selected: bool) -> Strip:
        if side is None:
            return Strip.blank(width, self._style("filler"))
        number_width = self.file.number_width if self.file else 3
        number = side.lineno
        gutter = f"{number if number else '':>{number_width}} {_MARKERS[side.origin]} "
        return self._line(side, gutter, width, selected)

    def _unified_row(self, row: Row, width: int, selected: bool) -> Strip:
        side = row.left
        assert side is not None
        number_width = self.file.number_width if self.file else 3
        old = side.old_no if side.origin != "+" else None
        new = side.new_no if side.origin != "-" else None
        gutter = (
            f"{old if old else '':>{number_width}} {new if new else '':>{number_width}} "
            f"{_MARKERS[side.origin]} "
        )
        return self._line(side, gutter, width, selected)

    def _line(self, side: Side, gutter: str, width: int, selected: bool) -> Strip:
        kind = _KIND[side.origin]
        gutter_style = self._style("cursor") if selected else self._text_style(kind, "", False)
        if not selected:
            gutter_style += Style(color=self._style("gutter").color)
        head = Strip([Segment(gutter, gutter_style)], len(gutter)).crop(0, width)
        text_width = width - head.cell_length
        if text_width <= 0:
            return head
        segments = self._text_segments(side, kind)
        body = Strip(segments).crop_extend(
            self.hscroll, self.hscroll + text_width, self._text_style(kind, "", False)
        )
        return Strip.join([head, body])

    def _text_segments(self, side: Side, kind: str) -> list[Segment]:
        assert self.file is not None
        runs = self.file.tokens(side)
        spans = self.file.word_spans(side) if kind else []
        if not spans:
            return [Segment(text, self._text_style(kind, syntax, False)) for text, syntax in runs]
        # Cut the syntax runs at the changed-word boundaries.
        segments: list[Segment] = []
        at = 0
        for text, syntax in runs:
            start, end = at, at + len(text)
            cuts = sorted({start, end, *(p for span in spans for p in span if start < p < end)})
            for a, b in itertools.pairwise(cuts):
                changed = any(s <= a and b <= e for s, e in spans)
                segments.append(
                    Segment(text[a - start : b - start], self._text_style(kind, syntax, changed))
                )
            at = end
        return segments
