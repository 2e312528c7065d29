"""Archive a session: first show exactly what will be saved, then do it on `y`.

The plan comes from `session.archive_plan`: uncommitted files (untracked ones
marked) go into a snapshot commit, ignored files into a tar, empty folders into
the manifest; then the worktree is removed and the branch kept. Dismisses with
True once the server has archived the session, else False.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.context import AppContext, app_context
from tui.app.widgets.footer import KeyFooter
from tui.errors import PtuiError
from tui.protocol import SessionInfo
from tui.protocol.messages import ArchivePlan, SessionArchive, SessionArchivePlan

MAX_LISTED = 200
"""Paths shown per section; the rest is counted."""


def path_section(
    title: str,
    paths: list[str],
    note: str = "",
    marks: dict[str, str] | None = None,
    style: str = "bold",
) -> Content:
    """A titled list of paths (`marks`: a short tag per path) for a dialog."""
    parts: list[Content | str | tuple[str, str]] = [
        (f"{title} ({len(paths)})", style),
        (f"  {note}" if note else "", "$text-muted"),
        "\n",
    ]
    for path in paths[:MAX_LISTED]:
        tag = (marks or {}).get(path, "")
        parts.extend(["  ", path, (f"  {tag}" if tag else "", "$text-muted"), "\n"])
    if len(paths) > MAX_LISTED:
        parts.append((f"  … and {len(paths) - MAX_LISTED} more\n", "$text-muted"))
    return Content.assemble(*parts)


class ArchiveScreen(ModalScreen[bool]):
    """What archiving `session` saves, and the key that archives it."""

    CSS_PATH = "archive.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "archive", "Archive", id="archive_confirm",
                tooltip="Save everything listed, stop the session and remove its worktree"),
        Binding("escape,n", "cancel", "Cancel", id="archive_cancel",
                tooltip="Close without archiving"),
    ]  # fmt: skip

    def __init__(self, session: SessionInfo) -> None:
        super().__init__()
        self.session = session
        self.session_id = session["id"]
        self.plan: ArchivePlan | None = None
        self.busy = False

    @property
    def context(self) -> AppContext:
        return app_context(self)

    def compose(self) -> ComposeResult:
        with Vertical(id="archive"):
            yield Static(
                Content.assemble(("Archive ", "bold"), (self.session_id, "bold $text-primary")),
                id="archive-title",
            )
            yield Static("Reading the worktree…", id="archive-intro")
            with VerticalScroll(id="archive-plan"):
                yield Static(id="archive-lists")
            yield Static(id="archive-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#archive-plan").focus()
        self.load_plan()

    @work(exclusive=True, group="archive-plan")
    async def load_plan(self) -> None:
        try:
            plan = await self.context.client.request(SessionArchivePlan(id=self.session_id))
        except PtuiError as exc:
            self._status(f"Cannot archive: {exc}", error=True)
            self.query_one("#archive-intro", Static).update("")
            return
        self.plan = plan
        self.show_plan(plan)

    def show_plan(self, plan: ArchivePlan) -> None:
        branch = plan["branch"] or self.session["branch"]
        intro = Content.assemble(
            "Everything below is saved, then the agent is stopped and the worktree removed. "
            "The branch ",
            (branch, "$text-secondary"),
            " is kept; restore the session any time from the archived list.",
        )
        self.query_one("#archive-intro", Static).update(intro)
        uncommitted = plan["uncommitted"]
        untracked = set(plan["untracked"])
        sections: list[Content] = []
        if uncommitted:
            marks = {p: "untracked" for p in untracked}
            note = f"→ snapshot {plan['ref_name']}"
            sections.append(path_section("Uncommitted files", uncommitted, note, marks))
        else:
            nothing = "No uncommitted work: the branch has it all.\n"
            sections.append(Content.styled(nothing, "$text-success"))
        if ignored := plan["ignored"]:
            sections.append(path_section("Ignored files", ignored, "→ tar in the archive"))
        if empty := plan["empty_dirs"]:
            sections.append(path_section("Empty folders", empty, "→ in the snapshot"))
        self.query_one("#archive-lists", Static).update(Content("\n").join(sections))
        self._status("Press y to archive, Escape to cancel.")

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#archive-status", Static)
        status.update(Content.styled(text, "$text-error" if error else "$text-muted"))

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(False)

    def action_archive(self) -> None:
        if self.plan is None or self.busy:
            return
        self.busy = True
        self._status("Archiving…")
        self.archive()

    @work(exclusive=True, group="archive")
    async def archive(self) -> None:
        try:
            await self.context.client.request(SessionArchive(id=self.session_id))
        except PtuiError as exc:
            self.busy = False
            self._status(f"Not archived: {exc}", error=True)
            return
        self.dismiss(True)
