"""Trust a repository's `.ptui.toml`: show its exact text from the base branch first.

The text and its digest come from the server's `trust.show` (read from the base
branch's commit, never a worktree); `y` sends `trust.add` with that digest, which
the server refuses if the file changed since. Dismisses with True once trusted.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.context import AppContext, app_context
from tui.app.widgets.footer import KeyFooter
from tui.errors import PtuiError
from tui.protocol.messages import TrustAdd, TrustShow, TrustShown


class TrustScreen(ModalScreen[bool]):
    """The `.ptui.toml` of `repo` on `base`, verbatim, and the key that trusts it."""

    CSS_PATH = "trust.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "trust", "Trust", id="trust_yes",
                tooltip="Trust exactly this file: its scripts may run in every session"),
        Binding("escape,n", "cancel", "Don't trust", id="trust_no",
                tooltip="Close; nothing from this file runs"),
    ]  # fmt: skip

    def __init__(self, repo: str, base: str) -> None:
        super().__init__()
        self.repo = repo
        self.base = base
        self.shown: TrustShown | None = None
        self.busy = False

    @property
    def context(self) -> AppContext:
        return app_context(self)

    def compose(self) -> ComposeResult:
        with Vertical(id="trust"):
            yield Static(id="trust-title")
            yield Static(
                "Scripts in this file run commands on your machine. Read it; "
                "trust it only if you would run it yourself.",
                id="trust-intro",
            )
            with ScrollableContainer(id="trust-file"):
                yield Static(id="trust-text")
            yield Static(id="trust-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#trust-file").focus()
        self.load()

    @work(exclusive=True, group="trust-show")
    async def load(self) -> None:
        try:
            shown = await self.context.client.request(TrustShow(repo=self.repo, base=self.base))
        except PtuiError as exc:
            self._status(f"Cannot read .ptui.toml: {exc}", error=True)
            return
        self.shown = shown
        self.query_one("#trust-title", Static).update(
            Content.assemble(
                ("Trust ", "bold"),
                (f"{shown['repo']}/.ptui.toml", "bold $text-primary"),
                " on ",
                (str(shown["base"]), "$text-secondary"),
                ("  sha256 " + shown["digest"][:12], "$text-muted"),
            )
        )
        # Content(...) is literal text: nothing in the file is read as markup.
        self.query_one("#trust-text", Static).update(Content(shown["text"]))
        if not shown["digest"]:
            self._status(f"There is no .ptui.toml on {shown['base']}: nothing to trust.")
        elif shown["trusted"]:
            self._status("You already trust this exact file. y continues.")
        else:
            self._status("y trusts this exact file; Escape leaves it untrusted.")

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#trust-status", Static)
        status.update(Content.styled(text, "$text-error" if error else "$text-muted"))

    def action_trust(self) -> None:
        shown = self.shown
        if shown is None or self.busy:
            return
        if shown["trusted"]:
            self.dismiss(True)
            return
        self.busy = True
        self.trust(shown["digest"])

    @work(exclusive=True, group="trust-add")
    async def trust(self, digest: str) -> None:
        try:
            await self.context.client.request(
                TrustAdd(repo=self.repo, base=self.base, digest=digest)
            )
        except PtuiError as exc:
            self.busy = False
            self._status(f"Not trusted: {exc}", error=True)
            self.load()  # the file changed: show the new text
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(False)
