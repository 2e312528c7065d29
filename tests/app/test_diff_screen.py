"""The diff screen against a real server: a session changed files in its worktree."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.app.app_harness import server_call as call
from tests.app.app_harness import until
from tests.app.review_harness import (
    SIZE,
    ReviewApp,
    commit_all,
    key_for,
    new_session,
    review_server,  # noqa: F401  (the fixture, used by pytestmark)
)
from tui.app.screens.comment import CommentScreen
from tui.app.screens.diff import DiffScreen
from tui.app.widgets.diff_view import DiffView
from tui.app.widgets.file_list import FileList

APP_PY = "".join(f"line_{i} = {i}\n" for i in range(1, 41))

pytestmark = pytest.mark.usefixtures("review_server")


def make_changes(repo: Path) -> dict[str, object]:
    """A base with code and text; a session that edits, renames, adds binary and text."""
    (repo / "app.py").write_text(APP_PY)
    (repo / "old.txt").write_text("".join(f"keep {i}\n" for i in range(20)))
    commit_all(repo, "base files")
    info = new_session("review me")
    wt = Path(str(info["worktree"]))
    lines = APP_PY.splitlines(keepends=True)
    lines[2] = "line_3 = 333  # changed\n"
    lines[35] = "line_36 = 'far away'\n"
    (wt / "app.py").write_text("".join(lines))
    commit_all(wt, "edit app.py")
    (wt / "old.txt").rename(wt / "new.txt")
    (wt / "logo.bin").write_bytes(b"\x89PNG\x00\x01\x02\x03")
    (wt / "added.md").write_text("# new\n")
    return info


def screen_text(app: ReviewApp) -> list[str]:
    view = app.screen.query_one(DiffView)
    return [view.render_line(y).text for y in range(view.size.height)]


async def test_files_layouts_hunks_and_scopes() -> None:
    repo = Path.cwd()
    info = make_changes(repo)
    app = ReviewApp(lambda: DiffScreen(info), repo)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        files = screen.query_one(FileList)
        await until(pilot, lambda: screen.loaded and screen.files, "the first file")
        labels = {
            f["path"]: str(files.get_option_at_index(i).prompt) for i, f in enumerate(files.files)
        }
        assert set(labels) == {"added.md", "app.py", "logo.bin", "new.txt"}
        assert labels["app.py"].split() == ["M", "+2", "-2", "app.py"]
        assert labels["logo.bin"].split() == ["A", "bin", "logo.bin"]
        assert labels["new.txt"].split() == ["R", "+0", "-0", "old.txt", "→", "new.txt"]

        # app.py (the first file after added.md): split view, old | new aligned.
        await pilot.press(key_for(FileList, "files_down"))
        await until(pilot, lambda: "app.py" in screen.files, "app.py's hunks")
        view = screen.query_one(DiffView)
        assert view.layout_mode == "split"
        text = screen_text(app)
        changed = next(line for line in text if "333" in line)
        left, right = changed.split("│")
        assert left.split()[:3] == ["3", "-", "line_3"] and "= 3" in left
        assert right.split()[:3] == ["3", "+", "line_3"] and "333  # changed" in right

        # Hunk navigation: the second hunk, then on to the next file.
        first = view.cursor
        await pilot.press(key_for(DiffScreen, "diff_next_hunk"))
        assert view.cursor > first and view.rows[view.cursor].kind == "hunk"
        assert "far away" in "".join(screen_text(app))
        await pilot.press(key_for(DiffScreen, "diff_prev_hunk"))
        assert view.cursor == first
        await pilot.press(key_for(DiffScreen, "diff_next_hunk"))
        await pilot.press(key_for(DiffScreen, "diff_next_hunk"))
        await until(
            pilot, lambda: files.current and files.current["path"] == "logo.bin", "next file"
        )
        await until(pilot, lambda: "Binary file" in "".join(screen_text(app)), "binary note")

        # Unified: one column, both line numbers.
        await pilot.press(key_for(FileList, "files_up"))
        await until(pilot, lambda: view.file and view.file.path == "app.py", "app.py again")
        await pilot.press(key_for(DiffScreen, "diff_layout"))
        assert view.layout_mode == "unified"
        text = screen_text(app)
        assert [line.split()[:3] for line in text if "line_3 =" in line] == [
            ["3", "-", "line_3"],
            ["3", "+", "line_3"],
        ]
        assert all("│" not in line for line in text)
        await pilot.press(key_for(DiffScreen, "diff_layout"))
        assert view.layout_mode == "split"

        # Scope: committed shows app.py only; uncommitted everything else.
        await pilot.press(key_for(DiffScreen, "diff_scope"))
        await until(
            pilot,
            lambda: screen.loaded and [f["path"] for f in files.files] == ["app.py"],
            "committed",
        )
        await pilot.press(key_for(DiffScreen, "diff_scope"))
        await until(
            pilot,
            lambda: (
                screen.loaded
                and {f["path"] for f in files.files} == {"added.md", "logo.bin", "new.txt"}
            ),
            "uncommitted",
        )


async def test_comment_reaches_the_agent() -> None:
    repo = Path.cwd()
    info = make_changes(repo)
    app = ReviewApp(lambda: DiffScreen(info), repo)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        await until(pilot, lambda: screen.files, "the first file")
        await pilot.press(key_for(FileList, "files_down"))
        await until(pilot, lambda: "app.py" in screen.files, "app.py")
        view = screen.query_one(DiffView)
        view.focus()
        while "333" not in (
            view.rows[view.cursor].right.text if view.rows[view.cursor].right else ""
        ):
            await pilot.press(key_for(DiffView, "diff_line_down"))
        await pilot.press(key_for(DiffView, "diff_comment"))
        await until(pilot, lambda: isinstance(app.screen, CommentScreen), "the comment dialog")
        await pilot.press(*"use a constant")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen, "back on the diff")

        def agent_shows() -> bool:
            text = call("session.screen", id=info["id"])["text"]
            return "Review comment on app.py:3: use a constant" in text

        await until(pilot, agent_shows, "the comment in the agent's terminal")


async def test_editor_opens_the_worktree_file_at_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Path.cwd()
    info = make_changes(repo)
    log = tmp_path / "editor.log"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\necho "$@" > {log}\n')
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.delenv("VISUAL", raising=False)
    app = ReviewApp(lambda: DiffScreen(info), repo)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        await until(pilot, lambda: screen.files, "the first file")
        await pilot.press(key_for(FileList, "files_down"))
        await until(pilot, lambda: "app.py" in screen.files, "app.py")
        await pilot.press(key_for(DiffScreen, "diff_next_hunk"))
        await pilot.press(key_for(DiffScreen, "diff_edit"))
        await until(pilot, log.exists, "the editor")
    worktree = Path(str(info["worktree"]))
    assert log.read_text().split() == ["+33", str(worktree / "app.py")]


async def test_first_paint_of_a_thousand_files_is_lazy() -> None:
    repo = Path.cwd()
    body = "".join(f"row {i}\n" for i in range(50))
    for i in range(1000):
        (repo / f"f{i:04}.txt").write_text(body)
    commit_all(repo, "many files")
    info = new_session("touch everything")
    wt = Path(str(info["worktree"]))
    for i in range(1000):
        (wt / f"f{i:04}.txt").write_text(body.replace("row 7\n", f"row 7 changed {i}\n"))
    app = ReviewApp(lambda: DiffScreen(info), repo)
    started = time.monotonic()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        await until(pilot, lambda: "f0000.txt" in screen.files, "the first file", timeout=20)
        await pilot.pause()
        elapsed = time.monotonic() - started
        assert "row 7 changed 0" in "".join(screen_text(app))
        assert len(screen.query_one(FileList).files) == 1000
        # One list and one file's hunks: nothing else was fetched.
        assert app.client.calls.count("session.diff_file") == 1
        assert "session.diff" not in app.client.calls
        assert elapsed < 10, elapsed
