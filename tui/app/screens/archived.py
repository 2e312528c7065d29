"""Archived sessions: restore one (its worktree and files come back) or delete it.

Deleting drops the session's branch, snapshot and tar for good, so it asks for
the key a second time. The list is read from `session.list` with `all`.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.app.context import AppContext, app_context
from tui.app.widgets.footer import KeyFooter
from tui.errors import PtuiError
from tui.protocol import SessionInfo
from tui.protocol.messages import SessionList, SessionRemove, SessionRequest, SessionRestore


def archived_label(info: SessionInfo) -> Content:
    """One row: id, branch, task (first line)."""
    task = info["task"].strip().splitlines()
    return Content.assemble(
        (info["id"], "bold"),
        "  ",
        (info["branch"], "$text-secondary"),
        "  ",
        (task[0] if task else "", "$text-muted"),
    )


class ArchivedScreen(ModalScreen[None]):
    """The archived sessions, with restore and delete."""

    CSS_PATH = "archived.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "restore", "Restore", id="archived_restore",
                tooltip="Bring the highlighted session back (worktree, files, stopped agent)"),
        Binding("x,delete", "delete", "Delete", id="archived_delete",
                tooltip="Delete the session's branch and archive for good (press twice)"),
        Binding("escape", "close", "Close", id="archived_close", tooltip="Back"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.sessions: list[SessionInfo] = []
        self.loaded = False
        self.busy = False
        self._delete_armed: str | None = None

    @property
    def context(self) -> AppContext:
        return app_context(self)

    @property
    def options(self) -> OptionList:
        return self.query_one("#archived-list", OptionList)

    def compose(self) -> ComposeResult:
        with Vertical(id="archived"):
            yield Static(Content.styled("Archived sessions", "bold"), id="archived-title")
            yield OptionList(id="archived-list")
            yield Static(id="archived-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.options.focus()
        self.load()

    @work(exclusive=True, group="archived-list")
    async def load(self) -> None:
        try:
            sessions = await self.context.client.request(SessionList(all=True))
        except PtuiError as exc:
            self._status(f"Cannot list sessions: {exc}", error=True)
            return
        self.show([s for s in sessions if s["archived"]])

    def show(self, sessions: list[SessionInfo]) -> None:
        current = self.current
        self.sessions = sessions
        self.options.set_options(Option(archived_label(s), id=s["id"]) for s in sessions)
        ids = [s["id"] for s in sessions]
        if sessions:
            keep = current["id"] if current is not None and current["id"] in ids else ids[0]
            self.options.highlighted = ids.index(keep)
            self._status("r restores the highlighted session; x twice deletes it.")
        else:
            self._status("No archived sessions.")
        self.loaded = True

    @property
    def current(self) -> SessionInfo | None:
        index = self.options.highlighted
        return self.sessions[index] if index is not None and index < len(self.sessions) else None

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#archived-status", Static)
        status.update(Content.styled(text, "$text-error" if error else "$text-muted"))

    def on_option_list_option_highlighted(self) -> None:
        self._delete_armed = None

    def action_restore(self) -> None:
        session = self.current
        if session is None or self.busy:
            return
        self.busy = True
        self._status(f"Restoring {session['id']}…")
        self.run_call(SessionRestore(id=session["id"]), "Restored {id}")

    def action_delete(self) -> None:
        session = self.current
        if session is None or self.busy:
            return
        sid = session["id"]
        if self._delete_armed != sid:
            self._delete_armed = sid
            self._status(
                f"Press x again to delete {sid}: its branch, snapshot and saved files go for good.",
                error=True,
            )
            return
        self._delete_armed = None
        self.busy = True
        self._status(f"Deleting {sid}…")
        # Confirmed twice, after being told everything goes: that is --force.
        self.run_call(SessionRemove(id=sid, force=True), "Deleted {id}")

    @work(exclusive=True, group="archived-call")
    async def run_call(self, request: SessionRequest[object], done: str) -> None:
        session_id = request.id
        try:
            await self.context.client.request(request)
        except PtuiError as exc:
            self.busy = False
            self._status(str(exc), error=True)
            return
        self.busy = False
        self.notify(done.format(id=session_id))
        self.load()

    def action_close(self) -> None:
        self.dismiss(None)
