"""Shown when the connection to the server ends: say why, offer to reconnect or quit.

Sessions live in the server, so nothing is lost; reconnecting starts a server if
none runs (a restarted server brings sessions back as stopped).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from tui.app.app import PtuiApp


class DisconnectedScreen(ModalScreen[None]):
    """The one-line reason, and the two ways out."""

    CSS_PATH = "disconnected.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r,enter", "reconnect", "Reconnect", id="reconnect",
                tooltip="Connect to the ptui server again"),
        Binding("q,escape", "app.quit", "Quit", id="disconnected_quit", tooltip="Quit ptui"),
    ]  # fmt: skip

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(id="disconnected-box") as box:
            box.border_title = "ptui"
            yield Static(f"Disconnected: {self.reason}", id="disconnected-reason")
            yield Static("Your sessions are safe in the server.\n\nr  reconnect    q  quit")

    def action_reconnect(self) -> None:
        self.dismiss()
        cast("PtuiApp", self.app).reconnect()
