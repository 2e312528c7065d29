"""`?`: every key ptui understands, as remapped by the user, and where it works."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.bindings import PRIORITY_BINDINGS, SESSION_BINDINGS
from tui.app.context import app_context
from tui.app.widgets.frozen_view import COPY_KEYS
from tui.app.widgets.session_list import STATUS_ICONS, SessionList
from tui.app.widgets.terminal_view import TerminalView


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
        app = app_context(self)
        parts: list[Text | Table] = []
        table = Table.grid()

        def section(title: str) -> None:
            nonlocal table
            if parts:
                parts.append(Text(""))
            parts.append(Text(title, style="bold underline"))
            table = Table.grid(padding=(0, 2))
            table.add_column(width=16, no_wrap=True)
            table.add_column(ratio=1)
            table.add_column(style="dim", no_wrap=True)
            parts.append(table)

        def row(binding: BindingType, what: str = "") -> None:
            assert isinstance(binding, Binding)
            keys = app.key_display(binding.id or "", binding.key)
            table.add_row(keys, what or binding.tooltip, binding.id or "")

        leader = app.key_display("leader")
        section("Anywhere, also inside a session")
        table.add_row(leader, "leader: then one of the session-list keys below", "leader")
        table.add_row(f"{leader} {leader}", "send the leader key itself to the program", "")
        table.add_row("alt+1 … alt+9", "show session 1 … 9", "session_1 … session_9")
        for binding in PRIORITY_BINDINGS:
            assert isinstance(binding, Binding)
            if binding.id in ("session_prev", "session_next"):
                row(binding)
        section(f"Session list (and after {leader} in a session)")
        for binding in [*SessionList.BINDINGS, *SESSION_BINDINGS]:
            row(binding)
        for binding in type(self.app).BINDINGS:
            row(binding)
        section("Inside a session")
        table.add_row("any key", "goes to the program (ctrl+c, ctrl+p, tab, esc too)", "")
        for binding in TerminalView.BINDINGS:
            row(binding)
        table.add_row("mouse wheel", "history, or the program's if it uses the mouse", "")
        section(f"Copy mode ({leader} [)")
        for keys, what in COPY_KEYS.items():
            table.add_row(keys, what, "")
        section("Status icons")
        for status, icon in STATUS_ICONS.items():
            table.add_row(icon, status, "")
        table.add_row("•", "output you have not seen", "")
        table.add_row("⚠N", "changes files that N other sessions also change", "")
        parts += [Text(""), Text('Remap a key in config.toml: [ui.keys] <id> = "key"', "dim")]
        return Group(*parts)
