"""Writing a keystroke's echo to the terminal at once, ahead of Textual's next frame.

Textual's frame path (idle, timer, compositor) adds ~1.5 ms to every echo. The
rows an echo changed are the same strips, filters and colours the frame draws a
moment later, so `EchoWriter` writes them straight to the driver, only where
nothing can cover them: the view's screen on top, no batch in progress, and no
other widget at the row's ends or middle. Textual has no public call for that
write (`tui.app._textual_internals` holds the private one): where a Textual lacks
it, the echo waits for the frame.

What that check needs (the view's region, which rows are covered, the view's
line filters) only changes with the layout or the styles, so it is kept until
the screen lays out again (`screen_layout_refresh_signal`) or the view restyles:
walking the DOM for it cost more than the write itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from textual.errors import NoWidget

from tui.app._textual_internals import batch_depth, driver_write

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.color import Color
    from textual.filter import LineFilter
    from textual.geometry import Region
    from textual.screen import Screen
    from textual.strip import Strip


class EchoSource(Protocol):
    """The view whose rows are written: a Textual widget with the Line API."""

    @property
    def content_region(self) -> Region: ...

    @property
    def background_colors(self) -> tuple[Color, Color]: ...

    def get_line_filters(self) -> Sequence[LineFilter]: ...

    def render_line(self, y: int) -> Strip: ...


class EchoWriter:
    """Writes a view's rows to the outer terminal now; see the module docstring."""

    def __init__(self, screen: Screen[object], view: EchoSource) -> None:
        self._screen = screen
        self._view = view
        self._region: Region | None = None
        self._covered: dict[int, bool] = {}  # screen row -> another widget over it
        self._filters: tuple[Sequence[LineFilter], Color] | None = None

    def forget_layout(self, *_: object) -> None:
        """The screen laid out again: positions and overlays may have changed."""
        self._region = None
        self._covered.clear()

    def forget_styles(self) -> None:
        """The view restyled: its line filters or background may have changed."""
        self._filters = None

    def write(self, rows: list[int]) -> bool:
        """Write `rows` (of the view) to the terminal; False if it cannot be done now."""
        screen = self._screen
        app = screen.app
        if (
            app.is_inline
            or app.is_headless
            or batch_depth(app) != 0  # a batch draws nothing; None: cannot tell
            or app.screen is not screen
        ):
            return False
        region = self._region
        if region is None:
            region = self._region = self._view.content_region
        if self._filters is None:
            self._filters = (self._view.get_line_filters(), self._view.background_colors[1])
        filters, background = self._filters
        console = app.console
        parts = ["\x1b7"]  # DECSC: the frame after this one expects the cursor where it was
        for y in rows:
            if not 0 <= y < region.height:
                return False
            row = region.y + y
            if self.covered(row):
                return False
            strip = self._view.render_line(y)
            for line_filter in filters:
                strip = strip.apply_filter(line_filter, background)
            parts.append(f"\x1b[{row + 1};{region.x + 1}H{strip.render(console)}")
        parts.append("\x1b8")
        return driver_write(app, "".join(parts))

    def covered(self, row: int) -> bool:
        """Whether another widget (toast, tooltip, menu) lies over screen `row` of the view."""
        covered = self._covered.get(row)
        if covered is None:
            region = self._region
            if region is None:
                region = self._region = self._view.content_region
            covered = False
            for x in (region.x, region.x + region.width // 2, region.right - 1):
                try:
                    widget, _ = self._screen.get_widget_at(x, row)
                except NoWidget:
                    covered = True
                    break
                if widget is not self._view:
                    covered = True  # a toast, tooltip or menu over the row
                    break
            self._covered[row] = covered
        return covered
