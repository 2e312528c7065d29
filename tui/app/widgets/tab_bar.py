"""The focused session's tabs: its agent, the scripts it runs, its shells.

A one-line bar; the active tab is highlighted. Clicking a tab (or the `t`
binding on the main screen) switches the terminal view to it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget


class TabBar(Widget):
    """Tab names in a row; `TabBar.Activated` when one is clicked."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"tab-bar--active", "tab-bar--tab"}
    DEFAULT_CSS = """
    TabBar { height: 1; background: $panel; }
    TabBar > .tab-bar--tab { color: $foreground 70%; }
    TabBar > .tab-bar--active { background: $primary; color: $background; text-style: bold; }
    """

    class Activated(Message):
        """The user picked a tab."""

        def __init__(self, tab_bar: TabBar, tab: str) -> None:
            super().__init__()
            self.tab_bar = tab_bar
            self.tab = tab

        @property
        def control(self) -> TabBar:
            return self.tab_bar

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tabs: list[str] = []
        self.active = "agent"

    def set_tabs(self, tabs: list[str], active: str) -> None:
        if tabs != self.tabs or active != self.active:
            self.tabs, self.active = list(tabs), active
            self.refresh()

    def _labels(self) -> list[tuple[str, str]]:
        return [(tab, f" {tab} ") for tab in self.tabs]

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        for tab, label in self._labels():
            kind = "tab-bar--active" if tab == self.active else "tab-bar--tab"
            text.append(label, self.get_component_rich_style(kind))
            text.append(" ")
        return text

    def on_click(self, event: events.Click) -> None:
        x = 0
        for tab, label in self._labels():
            width = cell_len(label)
            if x <= event.x < x + width:
                self.post_message(self.Activated(self, tab))
                return
            x += width + 1
