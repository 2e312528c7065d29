"""The footer: the screen's keys on one line, drawn by a single widget.

Textual's `Footer` mounts one `FooterKey` widget per binding and recomposes them
all whenever the bindings may have changed. On the main screen that is 14
widgets to mount, style and lay out before the first frame: 20-25 ms of the
~100 ms ptui adds to Textual's own start-up (`ptui bench ui`, with and without).
`KeyFooter` draws the same keys with the same styles (its component classes
carry `FooterKey`'s rules) as one line of text, so a change of bindings costs a
repaint of one line. As in Textual's footer, clicking a key presses it, a key
whose action is unavailable is dimmed, hovering shows the binding's tooltip and
the command palette's key sits at the right edge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.binding import Binding
    from textual.screen import Screen

_SEPARATOR = "▏"  # Textual's `vkey` border, left of the palette key


class FooterEntry(NamedTuple):
    """One key as the footer shows it."""

    key: str
    key_display: str
    description: str
    enabled: bool
    tooltip: str
    palette: bool = False


class _Span(NamedTuple):
    start: int
    end: int
    entry: FooterEntry


class KeyFooter(Widget, can_focus=False):
    """The active bindings with `show=True`, then the command palette's key on the right."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "footer-key--key",
        "footer-key--description",
        "footer-key--item",
        "footer-key--hover",
        "footer-key--separator",
    }
    # The colours of Textual's `FooterKey` and `Footer` rules, as component classes.
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .footer-key--item { background: $footer-item-background; }
        .footer-key--hover { background: $block-hover-background; }
        .footer-key--separator { color: $foreground 20%; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._spans: list[_Span] = []
        self.shown: list[FooterEntry] = []
        """The keys as last drawn (`entries` is what would be drawn now)."""
        self._hover: FooterEntry | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen:
            self.refresh()

    @property
    def entries(self) -> list[FooterEntry]:
        """What the footer shows now, left to right."""
        if not self.is_attached:
            return []
        app = self.app
        bindings = self.screen.active_bindings
        entries: list[FooterEntry] = []
        seen_actions: set[str] = set()
        for _, binding, enabled, tooltip in bindings.values():
            # Like Textual's footer: one key per action, the first bound.
            if not binding.show or binding.action in seen_actions:
                continue
            seen_actions.add(binding.action)
            entries.append(self._entry(binding, enabled, tooltip or binding.tooltip))
        palette = bindings.get(app.COMMAND_PALETTE_BINDING) if app.ENABLE_COMMAND_PALETTE else None
        if palette is not None:
            _, binding, enabled, _ = palette
            tooltip = binding.tooltip or binding.description
            entries.append(self._entry(binding, enabled, tooltip, palette=True))
        return entries

    def _entry(
        self, binding: Binding, enabled: bool, tooltip: str, palette: bool = False
    ) -> FooterEntry:
        display = self.app.get_key_display(binding)
        return FooterEntry(binding.key, display, binding.description, enabled, tooltip, palette)

    def _entry_segments(self, entry: FooterEntry) -> list[Segment]:
        key_style = self.get_component_rich_style("footer-key--key")
        description_style = self.get_component_rich_style("footer-key--description")
        base = self.get_component_rich_style("footer-key--item")
        if entry == self._hover:
            base = self.get_component_rich_style("footer-key--hover")
            on_hover = Style(bgcolor=base.bgcolor)
            key_style, description_style = key_style + on_hover, description_style + on_hover
        if not entry.enabled:
            base += Style(dim=True)
        key_style, description_style = base + key_style, base + description_style
        if entry.palette:  # compact, as Textual draws it: no padding around the key
            return [
                Segment(entry.key_display, key_style),
                Segment(f" {entry.description}", description_style),
                Segment(" ", Style(bgcolor=base.bgcolor)),
            ]
        return [
            Segment(f" {entry.key_display} ", key_style),
            Segment(f"{entry.description} ", description_style),
        ]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        entries = self.entries
        background = Style(bgcolor=self.rich_style.bgcolor)
        palette: list[Segment] = []
        for entry in entries:
            if entry.palette:
                separator = self.get_component_rich_style("footer-key--separator")
                palette = [Segment(_SEPARATOR, separator), *self._entry_segments(entry)]
        room = width - Segment.get_line_length(palette)
        line: list[Segment] = []
        spans: list[_Span] = []
        used = 0
        for entry in entries:
            if entry.palette:
                spans.append(_Span(max(room, 0), width, entry))
                continue
            segments = self._entry_segments(entry)
            length = Segment.get_line_length(segments)
            if used + length > room:  # too narrow: the palette key covers the rest
                segments = list(Strip(segments, length).crop(0, max(0, room - used)))
                length = Segment.get_line_length(segments)
            if length:
                spans.append(_Span(used, used + length, entry))
                line += segments
                used += length
        if room > used:
            line.append(Segment(" " * (room - used), background))
        self._spans = spans
        self.shown = entries
        return Strip([*line, *palette]).crop(0, width).extend_cell_length(width, background)

    def _entry_at(self, x: int) -> FooterEntry | None:
        for span in self._spans:
            if span.start <= x < span.end:
                return span.entry
        return None

    def on_mouse_down(self, event: events.MouseDown) -> None:
        entry = self._entry_at(event.x)
        if entry is None:
            return
        if entry.enabled:
            self.app.simulate_key(entry.key)
        else:
            self.app.bell()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        entry = self._entry_at(event.x)
        if entry != self._hover:
            self._hover = entry
            self.tooltip = entry.tooltip if entry is not None else None
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()
