"""A small Textual app for the corpus: a few widgets, exits by itself.

Recorded at 120x40 with ``COLORTERM=truecolor`` by ``record.py``. Nothing animates
(no clock, no blinking cursor, a determinate progress bar), so the screen goes
quiet before the exit timer fires.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Footer, Header, Label, ProgressBar


class CorpusApp(App[None]):
    """Header, buttons, a table, a checkbox, a progress bar and a footer."""

    CSS = """
    Label.warn { color: $warning; text-style: bold italic; }
    Label.cjk { background: $boost; text-style: underline; }
    DataTable { height: 8; }
    """
    BINDINGS: ClassVar = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        yield Header()
        with Vertical():
            yield Label("Warning ⚠ something happened", classes="warn")
            yield Label("中文 テキスト 한국어 and emoji 🎉", classes="cjk")
            with Horizontal():
                yield Button("Primary", variant="primary")
                yield Button("Error", variant="error")
                yield Button.success("Success")
            yield Checkbox("A checkbox", value=True)
            bar = ProgressBar(total=100, show_eta=False)
            bar.progress = 40
            yield bar
            yield DataTable()
        yield Footer()

    def on_mount(self) -> None:
        """Fill the table and schedule the exit."""
        table = self.query_one(DataTable)
        table.add_columns("name", "state", "lines")
        for i in range(6):
            table.add_row(f"session-{i}", "busy" if i % 2 else "idle", str(i * 37))
        self.set_timer(2.5, self.exit)


if __name__ == "__main__":
    CorpusApp().run()
