"""KeyFooter: the same keys as Textual's Footer, rebuilt only when they change."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from tui.app.widgets.footer import KeyFooter


class Pane(Widget, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("n", "noop", "New")]

    def action_noop(self) -> None:
        pass


class OtherPane(Widget, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("d", "noop", "Diff")]
    enabled = True

    def action_noop(self) -> None:
        pass

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return True if self.enabled else None  # None: shown, but disabled


class Demo(App[None]):
    def __init__(self, footer: type[Footer]) -> None:
        super().__init__()
        self.footer_type = footer

    def compose(self) -> ComposeResult:
        yield Pane(id="a")
        yield Pane(id="b")
        yield OtherPane(id="c")
        yield self.footer_type()


def shown(app: App[None]) -> list[tuple[str, str, bool, bool]]:
    """Each key the footer draws: key, description, disabled, compact."""
    return [
        (key.key, key.description, key.has_class("-disabled"), key.has_class("-compact"))
        for key in app.screen.query(FooterKey)
    ]


async def focus(app: App[None], pilot: object, selector: str) -> None:
    app.query_one(selector).focus()
    for _ in range(3):
        await pilot.pause()  # type: ignore[attr-defined]


async def test_the_footer_shows_what_textuals_footer_shows() -> None:
    """Same keys, same states, same classes, through focus moves and a disabled action."""
    seen: dict[type[Footer], list[list[tuple[str, str, bool, bool]]]] = {}
    for footer in (Footer, KeyFooter):
        app = Demo(footer)
        states = []
        async with app.run_test() as pilot:
            for selector in ("#a", "#c", "#b"):
                await focus(app, pilot, selector)
                states.append(shown(app))
            app.query_one(OtherPane).enabled = False
            await focus(app, pilot, "#c")
            app.screen.refresh_bindings()
            await focus(app, pilot, "#c")
            states.append(shown(app))
        seen[footer] = states
    assert seen[KeyFooter] == seen[Footer]
    assert ("d", "Diff", True, False) in seen[KeyFooter][-1]  # the disabled state arrived
    assert ("n", "New", False, False) in seen[KeyFooter][0]


async def test_the_keys_are_not_rebuilt_when_they_would_not_change() -> None:
    app = Demo(KeyFooter)
    async with app.run_test() as pilot:
        await focus(app, pilot, "#a")
        before = list(app.screen.query(FooterKey))
        await focus(app, pilot, "#b")  # another widget with the same bindings
        assert list(app.screen.query(FooterKey)) == before
        await focus(app, pilot, "#c")  # different bindings: rebuilt
        after = list(app.screen.query(FooterKey))
        assert after != before and "d" in [key.key for key in after]
