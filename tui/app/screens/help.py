"""`?`: every key ptui understands, as remapped by the user, and where it works."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.screens.main import PRIORITY_BINDINGS, SESSION_BINDINGS
from tui.app.widgets.session_list import STATUS_ICONS, SessionList
from tui.app.widgets.terminal_view import COPY_KEYS, TerminalView

if TYPE_CHECKING:
    from tui.app.app import PtuiApp


class HelpScreen(ModalScreen[None]):
    """Key reference, grouped by where the keys work."""

    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help_close",
                tooltip="Close the help"),
    ]  # fmt: skip

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(self._reference(), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-body").border_title = "ptui keys (esc closes)"

    def _reference(self) -> Group:
        app = cast("PtuiApp", self.app)
        parts: list[Text | Table] = []

        def key(binding: BindingType) -> str:
            assert isinstance(binding, Binding)
            return app.key_display(binding.id or "", binding.key)

        def section(title: str) -> Table:
            if parts:
                parts.append(Text(""))
            parts.append(Text(title, style="bold underline"))
            grid = Table.grid(padding=(0, 2))
            grid.add_column(width=16, no_wrap=True)
            grid.add_column()
            parts.append(grid)
            return grid

        leader = app.key_display("leader")
        table = section("Anywhere, also inside a session")
        table.add_row(leader, "leader: then one of the session-list keys below")
        table.add_row(f"{leader} {leader}", "send the leader key itself to the program")
        for binding in PRIORITY_BINDINGS:
            assert isinstance(binding, Binding)
            if binding.id in ("session_prev", "session_next"):
                table.add_row(key(binding), binding.description.lower())
        table.add_row("alt+1 … alt+9", "show session 1 … 9")
        table = section(f"Session list (and after {leader} in a session)")
        for binding in SessionList.BINDINGS:
            assert isinstance(binding, Binding)
            table.add_row(key(binding), binding.tooltip)
        for binding in SESSION_BINDINGS:
            assert isinstance(binding, Binding)
            table.add_row(key(binding), binding.tooltip)
        table.add_row(app.key_display("command_palette", "ctrl+p"), "command palette")
        table.add_row(app.key_display("quit", "ctrl+q"), "quit (sessions keep running)")
        table = section("Inside a session")
        table.add_row("any key", "goes to the program (ctrl+c, ctrl+p, tab, esc too)")
        for binding in TerminalView.BINDINGS:
            assert isinstance(binding, Binding)
            table.add_row(key(binding), binding.tooltip)
        table.add_row("mouse wheel", "history, or the program's if it uses the mouse")
        table = section(f"Copy mode ({leader} [)")
        for keys, what in COPY_KEYS.items():
            table.add_row(keys, what)
        table = section("Status icons")
        for status, icon in STATUS_ICONS.items():
            table.add_row(icon, status)
        table.add_row("•", "output you have not seen")
        table.add_row("⚠N", "changes files that N other sessions also change")
        return Group(*parts)
