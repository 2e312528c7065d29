"""A review comment on one line of a diff: the line, then one line of text to send.

Dismisses with the text (Enter) or None (Escape); the diff screen sends it to the
session's agent as `Review comment on path:line: text`.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class CommentScreen(ModalScreen[str | None]):
    """Ask for a comment on `path:line` (showing the line's code)."""

    CSS_PATH = "comment.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="comment_cancel",
                tooltip="Close without sending"),
        Binding("enter", "send", "Send", id="comment_send", show=True,
                tooltip="Send the comment to the session's agent"),
    ]  # fmt: skip

    def __init__(self, path: str, line: int, code: str) -> None:
        super().__init__()
        self.path = path
        self.line = line
        self.code = code

    def compose(self) -> ComposeResult:
        with Vertical(id="comment"):
            yield Static(
                Content.assemble(
                    ("Comment on ", "bold"), (f"{self.path}:{self.line}", "bold $text-primary")
                ),
                id="comment-title",
            )
            yield Static(Content(self.code.strip() or " "), id="comment-code")
            yield Input(placeholder="what should the agent change here?", id="comment-text")
            yield Static("Enter sends it to the agent · Escape cancels", id="comment-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def action_send(self) -> None:
        text = self.query_one(Input).value.strip()
        if not text:
            self.notify("Write a comment first (Escape to cancel)", severity="warning")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
