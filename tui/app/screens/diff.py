"""The diff screen: a session's changed files beside one file's split or unified diff.

The file list comes from `session.diff_files` (status and counts, no patches);
a file's hunks from `session.diff_file` when it is highlighted, cached until the
scope changes or the diff is reloaded — so the first paint of a 1,000-file
change costs one list and one file. `c` sends a review comment on the line under
the cursor to the session's agent; `e` opens the worktree file in `$EDITOR`.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import OptionList, Static

from tui.app.context import AppContext, app_context
from tui.app.screens.comment import CommentScreen
from tui.app.widgets.diff_rows import FileRows, prepare_rows
from tui.app.widgets.diff_view import DiffView
from tui.app.widgets.file_list import FileList
from tui.app.widgets.footer import KeyFooter
from tui.errors import PtuiError
from tui.protocol import SessionInfo
from tui.protocol.messages import (
    DiffListing,
    SessionDiffFile,
    SessionDiffFiles,
    SessionInput,
    SessionPaste,
)

SCOPES = ("all", "committed", "uncommitted")
_SCOPE_TEXT = {
    "all": "all work",
    "committed": "committed",
    "uncommitted": "uncommitted",
}
# Editors that take `-g file:line` rather than `+line file`.
_GOTO_EDITORS = frozenset({"code", "code-insiders", "codium", "cursor", "subl"})


def editor_command(editor: str, path: Path, line: int) -> list[str]:
    """The argv that opens `path` at `line` in `editor` (a `$EDITOR` value)."""
    argv = shlex.split(editor) or ["vi"]
    if Path(argv[0]).name in _GOTO_EDITORS:
        return [*argv, "-g", f"{path}:{line}"]
    return [*argv, f"+{line}", str(path)]


def review_message(path: str, line: int, new_side: bool, text: str) -> str:
    """The comment as the agent receives it: one line naming the place."""
    where = f"{path}:{line}" if new_side else f"{path}:{line} (old version)"
    return f"Review comment on {where}: {' '.join(text.split())}"


class DiffScreen(Screen[None]):
    """What a session changed, against the merge base with its base branch."""

    CSS_PATH = "diff.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="diff_close",
                tooltip="Back to the sessions"),
        Binding("v", "toggle_layout", "Split/unified", id="diff_layout",
                tooltip="Show old and new side by side, or as one unified list"),
        Binding("s", "cycle_scope", "Scope", id="diff_scope",
                tooltip="Cycle the scope: all work, committed only, uncommitted only"),
        Binding("n,right_square_bracket", "next_hunk", "Next hunk", id="diff_next_hunk",
                tooltip="Jump to the next hunk (on to the next file after the last)"),
        Binding("p,left_square_bracket", "previous_hunk", "Prev hunk", id="diff_prev_hunk",
                tooltip="Jump to the previous hunk (back to the previous file)"),
        Binding("right_curly_bracket", "step_file(1)", "Next file", id="diff_next_file",
                show=False, tooltip="Show the next file"),
        Binding("left_curly_bracket", "step_file(-1)", "Prev file", id="diff_prev_file",
                show=False, tooltip="Show the previous file"),
        Binding("e", "edit", "Edit", id="diff_edit",
                tooltip="Open the file at this line in $EDITOR (the app waits)"),
        Binding("r", "reload", "Reload", id="diff_reload",
                tooltip="Read the diff again (the agent may have changed files)"),
    ]  # fmt: skip

    scope: reactive[str] = reactive("all", init=False)
    """Which changes are shown: all, committed or uncommitted."""

    class FilesLoaded(Message):
        """`session.diff_files` answered (for scope load `generation`)."""

        def __init__(self, result: DiffListing, generation: int) -> None:
            super().__init__()
            self.result = result
            self.generation = generation

    class FileLoaded(Message):
        """`session.diff_file` answered for `path`."""

        def __init__(self, path: str, rows: FileRows | None, error: str, generation: int) -> None:
            super().__init__()
            self.path = path
            self.rows = rows
            self.error = error
            self.generation = generation

    def __init__(self, session: SessionInfo) -> None:
        super().__init__()
        self.session = session
        self.session_id = session["id"]
        self.files: dict[str, FileRows] = {}
        """Files whose hunks have arrived, by path (for this scope and load)."""
        self.generation = 0
        self.loaded = False
        """True once the file list of the current load has been shown."""
        self._at_end = False
        self._summary = ""

    @property
    def context(self) -> AppContext:
        return app_context(self)

    @property
    def view(self) -> DiffView:
        return self.query_one(DiffView)

    @property
    def file_list(self) -> FileList:
        return self.query_one(FileList)

    def compose(self) -> ComposeResult:
        yield Static(id="diff-title")
        with Horizontal(id="diff-body"):
            yield FileList(id="diff-files")
            yield DiffView(id="diff-view")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.view.show_message("Loading the changed files…")
        self._show_title()
        self.file_list.focus()
        self.load_files()

    def _show_title(self) -> None:
        info = self.session
        title = Content.assemble(
            (self.session_id, "bold $text-primary"),
            "  ",
            (info["branch"], "$text-secondary"),
            " vs ",
            (info["base"], "$text-secondary"),
            "  ·  ",
            (_SCOPE_TEXT.get(self.scope, self.scope), "bold"),
            "  ·  ",
            (self._summary, "$text-muted"),
        )
        self.query_one("#diff-title", Static).update(title)

    # ------------------------------------------------------------- loading
    @work(exclusive=True, group="diff-files")
    async def load_files(self) -> None:
        """Ask for the file list of the current scope (a new load: caches dropped)."""
        self.generation += 1
        generation = self.generation
        self.files.clear()
        self.loaded = False
        try:
            result = await self.context.client.request(
                SessionDiffFiles(id=self.session_id, scope=self.scope)
            )
        except PtuiError as exc:
            self.view.show_message(f"Cannot read the diff: {exc}")
            return
        self.post_message(self.FilesLoaded(result, generation))

    def on_diff_screen_files_loaded(self, message: FilesLoaded) -> None:
        if message.generation != self.generation:
            return
        files = message.result["files"]
        self._summary = message.result["summary"]
        self._show_title()
        current = self.file_list.current
        self.file_list.set_files(files, keep=current["path"] if current else None)
        self.loaded = True
        if not files:
            self.view.show_message(f"No changes ({_SCOPE_TEXT.get(self.scope, self.scope)})")

    @on(OptionList.OptionHighlighted, "#diff-files")
    def file_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        file = self.file_list.current
        if file is None:
            return
        at_end, self._at_end = self._at_end, False
        path = file["path"]
        rows = self.files.get(path)
        if rows is not None:
            self.view.show_file(rows, at_end=at_end)
            return
        self.view.show_message(f"Loading {path}…")
        self.load_file(path, at_end)

    @work(exclusive=True, group="diff-file")
    async def load_file(self, path: str, at_end: bool) -> None:
        generation = self.generation
        try:
            detail = await self.context.client.request(
                SessionDiffFile(id=self.session_id, path=path, scope=self.scope)
            )
        except PtuiError as exc:
            self.post_message(self.FileLoaded(path, None, str(exc), generation))
            return
        # Laying out a big file and finding its lexer take a while: not on the UI loop.
        rows = await asyncio.to_thread(prepare_rows, detail, self.view.layout_mode)
        self._at_end = at_end
        self.post_message(self.FileLoaded(path, rows, "", generation))

    def on_diff_screen_file_loaded(self, message: FileLoaded) -> None:
        current = self.file_list.current
        if message.generation != self.generation or current is None:
            return
        if current["path"] != message.path:
            return
        at_end, self._at_end = self._at_end, False
        rows = message.rows
        if rows is None:
            self.view.show_message(f"{message.path}: {message.error}")
            return
        self.files[message.path] = rows
        self.view.show_file(rows, at_end=at_end)

    # -------------------------------------------------------------- actions
    def action_close(self) -> None:
        self.dismiss(None)

    def action_toggle_layout(self) -> None:
        view = self.view
        view.layout_mode = "unified" if view.layout_mode == "split" else "split"

    def action_cycle_scope(self) -> None:
        self.scope = SCOPES[(SCOPES.index(self.scope) + 1) % len(SCOPES)]

    def watch_scope(self) -> None:
        self._summary = ""
        self._show_title()
        self.view.show_message("Loading the changed files…")
        self.load_files()

    def action_reload(self) -> None:
        self.load_files()

    def action_next_hunk(self) -> None:
        self.view.next_hunk()

    def action_previous_hunk(self) -> None:
        self.view.previous_hunk()

    def action_step_file(self, step: int) -> None:
        self.file_list.step(step)

    def on_diff_view_file_chosen(self, message: DiffView.FileChosen) -> None:
        if message.step < 0:
            self._at_end = True
        if not self.file_list.step(message.step):
            self._at_end = False
            self.notify("No more files" if message.step > 0 else "This is the first file")

    # ------------------------------------------------------------- comments
    def on_diff_view_comment_requested(self, message: DiffView.CommentRequested) -> None:
        path, line, new_side = message.path, message.line, message.new_side

        def send(text: str | None) -> None:
            if text and text.strip():
                self.send_comment(review_message(path, line, new_side, text))

        self.app.push_screen(CommentScreen(path, line, message.code), send)

    @work(group="diff-comment")
    async def send_comment(self, text: str) -> None:
        """Paste the comment into the agent and press Enter."""
        client = self.context.client
        try:
            await client.request(SessionPaste(id=self.session_id, text=text))
            await client.request(SessionInput(id=self.session_id, text="\r"))
        except PtuiError as exc:
            self.notify(f"Comment not sent: {exc}", severity="error")
            return
        self.notify(f"Comment sent to {self.session_id}")

    # --------------------------------------------------------------- editor
    def action_edit(self) -> None:
        target = self.view.editor_target()
        if target is None:
            self.notify("Choose a file first", severity="warning")
            return
        path, line = target
        worktree = Path(self.session["worktree"])
        file = worktree / path
        if not file.is_file():
            self.notify(f"{path} is not in the worktree {worktree} (deleted?)", severity="warning")
            return
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        argv = editor_command(editor, file, line)
        try:
            try:
                with self.app.suspend():
                    code = subprocess.run(argv, cwd=worktree, check=False).returncode
            except SuspendNotSupported:
                if not self.app.is_headless:
                    self.notify("This terminal cannot hand over to an editor", severity="error")
                    return
                # Headless (tests, web): there is no terminal to hand over.
                run = subprocess.run(argv, cwd=worktree, check=False, stdin=subprocess.DEVNULL)
                code = run.returncode
        except OSError as exc:
            self.notify(f"Cannot run {argv[0]}: {exc.strerror or exc}", severity="error")
            return
        if code:
            self.notify(f"{argv[0]} exited with status {code}", severity="warning")
        self.load_files()
