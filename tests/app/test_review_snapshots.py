"""Snapshots of the split diff, the unified diff and the archive dialog.

The content is fixed (the same files, session names and branches every run) and
nothing on these screens depends on the time or on tmp paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.app.app_harness import until
from tests.app.review_harness import (
    SIZE,
    ReviewApp,
    key_for,
    new_session,
    review_server,  # noqa: F401  (the fixture, used by pytestmark)
)
from tests.app.test_diff_screen import make_changes
from tui.app.screens.archive import ArchiveScreen
from tui.app.screens.diff import DiffScreen
from tui.app.widgets.file_list import FileList

pytestmark = pytest.mark.usefixtures("review_server")


async def show_app_py(pilot: Pilot[Any]) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, DiffScreen)
    await until(pilot, lambda: screen.loaded and screen.files, "the first file")
    await pilot.press(key_for(FileList, "files_down"))
    await until(pilot, lambda: "app.py" in screen.files, "app.py")


def test_split_diff(snap_compare: Any) -> None:
    info = make_changes(Path.cwd())
    app = ReviewApp(lambda: DiffScreen(info), Path.cwd())
    assert snap_compare(app, terminal_size=SIZE, run_before=show_app_py)


def test_unified_diff(snap_compare: Any) -> None:
    info = make_changes(Path.cwd())
    app = ReviewApp(lambda: DiffScreen(info), Path.cwd())

    async def unified(pilot: Pilot[Any]) -> None:
        await show_app_py(pilot)
        await pilot.press(key_for(DiffScreen, "diff_layout"))

    assert snap_compare(app, terminal_size=SIZE, run_before=unified)


def test_archive_dialog(snap_compare: Any) -> None:
    info = new_session("archive me")
    worktree = Path(str(info["worktree"]))
    (worktree / "README.md").write_text("edited\n")
    (worktree / "draft.txt").write_text("new\n")
    (worktree / ".env").write_text("SECRET=1\n")
    (worktree / "build").mkdir()
    (worktree / "build" / "out.o").write_bytes(b"\x00")
    (worktree / ".gitignore").write_text(".env\nbuild/\n")
    (worktree / "empty").mkdir()
    app = ReviewApp(lambda: ArchiveScreen(info), Path.cwd())

    async def planned(pilot: Pilot[Any]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, ArchiveScreen)
        await until(pilot, lambda: screen.plan is not None, "the archive plan")

    assert snap_compare(app, terminal_size=SIZE, run_before=planned)
