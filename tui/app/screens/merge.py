"""Merge a session into its base: the strategies that can work, the files, the conflicts.

`session.merge_preview` predicts everything in memory: a fast-forward needs the
base to be behind the session; merge and squash are refused when files would
conflict (the dialog lists them and says why instead of merging). Uncommitted
work is listed too: `session.merge` commits it first. Dismisses with the merge
result, or None.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.app.context import AppContext, app_context
from tui.app.screens.archive import path_section
from tui.app.widgets.footer import KeyFooter
from tui.errors import PtuiError
from tui.protocol import SessionInfo
from tui.protocol.messages import Merged, MergePreview, SessionMerge, SessionMergePreview

STRATEGIES = {
    "merge": "Merge commit — keeps the session's commits",
    "squash": "Squash — one new commit on the base",
    "ff": "Fast-forward — move the base to the session's tip",
}


def _commits(count: int) -> str:
    return f"{count} commit{'' if count == 1 else 's'}"


class MergeScreen(ModalScreen[Merged | None]):
    """Choose a strategy and merge `session` into its base, once nothing conflicts."""

    CSS_PATH = "merge.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "merge", "Merge", id="merge_confirm",
                tooltip="Merge with the highlighted strategy (Enter works too)"),
        Binding("escape", "cancel", "Cancel", id="merge_cancel",
                tooltip="Close without merging"),
    ]  # fmt: skip

    def __init__(self, session: SessionInfo) -> None:
        super().__init__()
        self.session = session
        self.session_id = session["id"]
        self.preview: MergePreview | None = None
        self.busy = False

    @property
    def context(self) -> AppContext:
        return app_context(self)

    @property
    def strategies(self) -> OptionList:
        return self.query_one("#merge-strategy", OptionList)

    def compose(self) -> ComposeResult:
        base = self.session["base"]
        with Vertical(id="merge"):
            yield Static(
                Content.assemble(
                    ("Merge ", "bold"),
                    (self.session_id, "bold $text-primary"),
                    (" into ", "bold"),
                    (base, "bold $text-secondary"),
                ),
                id="merge-title",
            )
            yield Static("Predicting the merge…", id="merge-summary")
            yield OptionList(id="merge-strategy")
            with VerticalScroll(id="merge-plan"):
                yield Static(id="merge-lists")
            yield Static(id="merge-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.strategies.focus()
        self.load_preview()

    @work(exclusive=True, group="merge-preview")
    async def load_preview(self) -> None:
        try:
            preview = await self.context.client.request(SessionMergePreview(id=self.session_id))
        except PtuiError as exc:
            self._status(f"Cannot merge: {exc}", error=True)
            return
        self.preview = preview
        self.show_preview(preview)

    def show_preview(self, preview: MergePreview) -> None:
        base, branch = preview["base"], preview["branch"]
        self.query_one("#merge-summary", Static).update(
            Content.assemble(
                (branch, "$text-secondary"),
                f" is {_commits(preview['ahead'])} ahead of and {_commits(preview['behind'])} "
                "behind ",
                (base, "$text-secondary"),
                ".",
            )
        )
        reasons = preview["strategies"]
        options = []
        for key, label in STRATEGIES.items():
            reason = reasons.get(key)
            prompt = (
                Content(label)
                if reason is None
                else Content.assemble(label, "\n", ("  not possible: " + reason, "$text-warning"))
            )
            options.append(Option(prompt, id=key, disabled=reason is not None))
        self.strategies.set_options(options)
        possible = [i for i, key in enumerate(STRATEGIES) if reasons.get(key) is None]
        self.strategies.highlighted = possible[0] if possible else None
        conflicts = preview["conflicts"]
        sections = []
        if conflicts:
            note = f"changed on {base} too"
            sections.append(path_section("Conflicts", conflicts, note, style="bold $text-error"))
        sections.append(path_section("Files that land", preview["files"]))
        uncommitted = preview["uncommitted"]
        if uncommitted:
            sections.append(path_section("Uncommitted", uncommitted, "committed first"))
        self.query_one("#merge-lists", Static).update(Content("\n").join(sections))
        if preview["merged"]:
            self._status(f"Nothing to merge: {branch} is already in {base}.")
        elif conflicts:
            self._status(
                f"Merging is off: {len(conflicts)} file{'' if len(conflicts) == 1 else 's'} "
                "would conflict. Let the agent "
                f"rebase on {base} or resolve them, then try again.",
                error=True,
            )
        elif not possible:
            self._status("No strategy can merge this session now.", error=True)
        else:
            self._status("Enter or m merges with the highlighted strategy.")

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#merge-status", Static)
        status.update(Content.styled(text, "$text-error" if error else "$text-muted"))

    @property
    def chosen(self) -> str | None:
        """The highlighted strategy, if it is possible."""
        index = self.strategies.highlighted
        if index is None:
            return None
        option = self.strategies.get_option_at_index(index)
        return None if option.disabled else option.id

    @on(OptionList.OptionSelected, "#merge-strategy")
    def action_merge(self) -> None:
        if self.busy or self.preview is None:
            return
        strategy = self.chosen
        if strategy is None:
            reasons = self.preview["strategies"]
            reason = next((r for r in reasons.values() if r), "no strategy is possible")
            self.notify(f"Cannot merge: {reason}", severity="error")
            return
        self.busy = True
        self._status(f"Merging ({strategy})…")
        self.merge(strategy)

    @work(exclusive=True, group="merge")
    async def merge(self, strategy: str) -> None:
        try:
            result = await self.context.client.request(
                SessionMerge(id=self.session_id, strategy=strategy)
            )
        except PtuiError as exc:
            self.busy = False
            self._status(f"Not merged: {exc}", error=True)
            return
        files = len(result["files"])
        self.notify(f"Merged {self.session_id} into {result['base']} ({files} file(s))")
        self.dismiss(result)

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)
