"""KeyFooter: one widget that draws what Textual's Footer draws, keys that work."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Footer

from tui.app.widgets.footer import KeyFooter

FOOTER_CSS = "Footer, KeyFooter { background: $panel; }"  # as app.tcss sets it


class Pane(Widget, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "count('n')", "New", tooltip="Start something"),
        Binding("x", "count('x')", "Hidden", show=False),
    ]
    presses: ClassVar[list[str]] = []

    def action_count(self, key: str) -> None:
        self.presses.append(key)


class OtherPane(Pane):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "count('d')", "Diff", tooltip="What changed"),
        Binding("ctrl+d", "count('d')", "Diff too"),  # same action: one key shown
    ]
    enabled = True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return True if self.enabled else None  # None: shown, but disabled


class Demo(App[None]):
    CSS = FOOTER_CSS

    def __init__(self, footer: type[Widget]) -> None:
        super().__init__()
        self.footer_type = footer

    def compose(self) -> ComposeResult:
        yield Pane(id="a")
        yield OtherPane(id="c")
        yield self.footer_type()


def footer_row(app: App[None]) -> list[tuple[str, object]]:
    """The bottom row as drawn: runs of (text, style), merged where styles match."""
    strips = app.screen._compositor.render_strips()
    segments = Segment.simplify(strips[-1])
    return [(segment.text, str(segment.style.clear_meta_and_links())) for segment in segments]  # type: ignore[union-attr]


async def settle(pilot: object) -> None:
    for _ in range(3):
        await pilot.pause()  # type: ignore[attr-defined]


async def test_the_footer_draws_what_textuals_footer_draws() -> None:
    """Same text and styles cell for cell: through a focus move, a disabled key, a theme."""
    drawn: dict[type[Widget], list[list[tuple[str, object]]]] = {}
    for footer in (Footer, KeyFooter):
        app = Demo(footer)
        rows = []
        async with app.run_test(size=(70, 5)) as pilot:
            for selector in ("#a", "#c"):
                app.query_one(selector).focus()
                await settle(pilot)
                rows.append(footer_row(app))
            app.query_one(OtherPane).enabled = False
            app.screen.refresh_bindings()
            await settle(pilot)
            rows.append(footer_row(app))
            app.theme = "textual-light"
            await settle(pilot)
            rows.append(footer_row(app))
        drawn[footer] = rows
    assert drawn[KeyFooter] == drawn[Footer]
    texts = ["".join(text for text, _ in row) for row in drawn[KeyFooter]]
    assert texts[0].startswith(" n New ") and texts[0].rstrip().lower().endswith("^p palette")
    assert texts[1].startswith(" n New  d Diff ") and "Diff too" not in texts[1]
    assert drawn[KeyFooter][1] != drawn[KeyFooter][2]  # the disabled key is drawn dim


async def test_clicking_a_key_presses_it_and_hovering_shows_its_tooltip() -> None:
    Pane.presses.clear()
    app = Demo(KeyFooter)
    async with app.run_test(size=(70, 5)) as pilot:
        app.query_one("#c").focus()
        await settle(pilot)
        footer = app.query_one(KeyFooter)
        assert [entry.key for entry in footer.entries] == ["n", "d", "ctrl+p"]
        await pilot.click(KeyFooter, offset=(9, 0))  # " n New  d Diff "
        await settle(pilot)
        assert Pane.presses == ["d"]
        await pilot.hover(KeyFooter, offset=(10, 0))
        await settle(pilot)
        assert footer.tooltip == "What changed"
        app.query_one(OtherPane).enabled = False
        app.screen.refresh_bindings()
        await settle(pilot)
        await pilot.click(KeyFooter, offset=(9, 0))  # disabled: nothing runs
        await settle(pilot)
        assert Pane.presses == ["d"]
        await pilot.click(KeyFooter, offset=(footer.size.width - 3, 0))  # the palette key
        await settle(pilot)
        assert app.screen.id == "--command-palette" or "CommandPalette" in type(app.screen).__name__
