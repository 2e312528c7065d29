"""Archive, merge, archived-list, script picker and trust dialogs against a real server."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList, Static

from tests.app.app_harness import server_call as call
from tests.app.app_harness import until
from tests.app.review_harness import (
    SIZE,
    ReviewApp,
    commit_all,
    config_file,
    key_for,
    new_session,
    review_server,  # noqa: F401  (the fixture, used by pytestmark)
)
from tests.server.conftest import git, wait_for
from tui.app.screens.archive import ArchiveScreen
from tui.app.screens.archived import ArchivedScreen
from tui.app.screens.merge import MergeScreen
from tui.app.screens.scripts import ScriptPicker
from tui.app.screens.trust import TrustScreen

pytestmark = pytest.mark.usefixtures("review_server")


def shown(app: ReviewApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_archive_dialog_lists_what_is_saved_then_archives() -> None:
    repo = Path.cwd()
    info = new_session("archive me")
    wt = Path(str(info["worktree"]))
    (wt / "README.md").write_text("edited\n")
    (wt / "draft.txt").write_text("new\n")
    (wt / ".env").write_text("SECRET=1\n")
    (wt / "empty").mkdir()
    app = ReviewApp(lambda: ArchiveScreen(info), repo)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.plan is not None, "the archive plan")
        lists = shown(app, "#archive-lists")
        assert "Uncommitted files (2)" in lists and "refs/ptui/archive/archive-me" in lists
        assert "README.md\n" in lists and "draft.txt  untracked" in lists
        assert "Ignored files (1)" in lists and ".env" in lists
        assert "Empty folders (1)" in lists and "empty" in lists
        await pilot.press(key_for(ArchiveScreen, "archive_confirm"))
        await until(pilot, lambda: app.results, "the dialog to close", timeout=20)
    assert app.results == [True]
    assert not wt.exists()
    [archived] = call("session.list", all=True)
    assert archived["archived"]


async def test_archive_dialog_cancel_keeps_the_session() -> None:
    repo = Path.cwd()
    info = new_session("keep me")
    app = ReviewApp(lambda: ArchiveScreen(info), repo)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.plan is not None, "the archive plan")
        assert "No uncommitted work" in shown(app, "#archive-lists")
        await pilot.press(key_for(ArchiveScreen, "archive_cancel"))
        await until(pilot, lambda: app.results, "the dialog to close")
    assert app.results == [False]
    assert Path(str(info["worktree"])).is_dir()


async def test_merge_dialog_refuses_predicted_conflicts() -> None:
    repo = Path.cwd()
    info = new_session("clash")
    wt = Path(str(info["worktree"]))
    (wt / "README.md").write_text("the session's words\n")
    commit_all(wt, "session edit")
    (repo / "README.md").write_text("main's words\n")
    commit_all(repo, "main edit")
    app = ReviewApp(lambda: MergeScreen(info), repo)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, MergeScreen)
        await until(pilot, lambda: screen.preview is not None, "the merge preview")
        assert "Conflicts (1)" in shown(app, "#merge-lists")
        assert "README.md" in shown(app, "#merge-lists")
        assert "would conflict" in shown(app, "#merge-status")
        strategies = screen.query_one("#merge-strategy", OptionList)
        assert all(strategies.get_option_at_index(i).disabled for i in range(3))
        assert "main has 1 commit not in the session" in str(
            strategies.get_option_at_index(2).prompt
        )
        await pilot.press(key_for(MergeScreen, "merge_confirm"))
        await pilot.pause()
        assert not app.results and not screen.busy
        await pilot.press(key_for(MergeScreen, "merge_cancel"))
        await until(pilot, lambda: app.results, "the dialog to close")
    assert app.results == [None]
    assert (repo / "README.md").read_text() == "main's words\n"


async def test_merge_dialog_merges_clean_work() -> None:
    repo = Path.cwd()
    info = new_session("clean")
    wt = Path(str(info["worktree"]))
    (wt / "feature.py").write_text("FEATURE = True\n")
    app = ReviewApp(lambda: MergeScreen(info), repo)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, MergeScreen)
        await until(pilot, lambda: screen.preview is not None, "the merge preview")
        lists = shown(app, "#merge-lists")
        assert "Files that land (1)" in lists and "Uncommitted (1)" in lists
        assert screen.chosen == "merge"
        await pilot.press("down")  # squash
        assert screen.chosen == "squash"
        await pilot.press(key_for(MergeScreen, "merge_confirm"))
        await until(pilot, lambda: app.results, "the merge", timeout=20)
    [result] = app.results
    assert result["strategy"] == "squash" and result["files"] == ["feature.py"]
    assert (repo / "feature.py").read_text() == "FEATURE = True\n"
    assert git(repo, "log", "-1", "--format=%p").count(" ") == 0  # one parent: squashed


async def test_archived_list_restores_and_deletes() -> None:
    repo = Path.cwd()
    keep = new_session("bring back")
    drop = new_session("throw away")
    (Path(str(keep["worktree"])) / "work.txt").write_text("precious\n")
    call("session.archive", id=keep["id"])
    call("session.archive", id=drop["id"])
    app = ReviewApp(ArchivedScreen, repo)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ArchivedScreen)
        await until(pilot, lambda: screen.loaded, "the archived list")
        assert [s["id"] for s in screen.sessions] == ["bring-back", "throw-away"]
        await pilot.press(key_for(ArchivedScreen, "archived_restore"))
        await until(pilot, lambda: [s["id"] for s in screen.sessions] == ["throw-away"], "restore")
        delete = key_for(ArchivedScreen, "archived_delete")
        await pilot.press(delete)
        assert "Press x again" in shown(app, "#archived-status")
        await pilot.press(delete)
        await until(
            pilot, lambda: screen.loaded and not screen.sessions and not screen.busy, "delete"
        )
    assert (Path(str(keep["worktree"])) / "work.txt").read_text() == "precious\n"
    assert [s["id"] for s in call("session.list", all=True)] == ["bring-back"]


async def test_script_picker_asks_trust_then_the_script_runs_in_a_tab() -> None:
    repo, config = Path.cwd(), config_file()
    repo_config = '[scripts]\ntest = "echo tested-in-$PTUI_SESSION; exit 4"\n'
    (repo / ".ptui.toml").write_text(repo_config)
    commit_all(repo, "scripts")
    config.write_text(config.read_text() + '\n[scripts]\nmine = "echo mine"\n')
    info = new_session("scripted")
    app = ReviewApp(lambda: ScriptPicker(info), repo)
    async with app.run_test(size=SIZE) as pilot:
        picker = app.screen
        assert isinstance(picker, ScriptPicker)
        await until(pilot, lambda: picker.loaded, "the scripts")
        assert list(picker.scripts) == ["mine", "test"]
        assert "repo, untrusted" in str(picker.options.get_option_at_index(1).prompt)
        assert picker.options.highlighted == 1  # test first
        await pilot.press(key_for(ScriptPicker, "scripts_run"))
        await until(pilot, lambda: isinstance(app.screen, TrustScreen), "the trust prompt")
        trust = app.screen
        assert isinstance(trust, TrustScreen)
        await until(pilot, lambda: trust.shown is not None, "the file")
        assert shown(app, "#trust-text") == repo_config
        await pilot.press(key_for(TrustScreen, "trust_yes"))
        await until(pilot, lambda: app.results, "the picker to close")
    assert app.results == ["test"]
    assert call("trust.show", repo=str(repo), base="main")["trusted"]
    call("session.run", id=info["id"], script="test")

    wait_for(lambda: call("session.summary")[info["id"]]["test_exit"] == 4, what="the script")
    screen_text = call("session.screen", id=info["id"], tab="test")["text"]
    assert "tested-in-scripted" in screen_text


async def test_refusing_trust_keeps_the_picker_open() -> None:
    repo = Path.cwd()
    (repo / ".ptui.toml").write_text('[scripts]\nlint = "echo lint"\n')
    commit_all(repo, "scripts")
    info = new_session("careful")
    app = ReviewApp(lambda: ScriptPicker(info), repo)
    async with app.run_test(size=SIZE) as pilot:
        picker = app.screen
        assert isinstance(picker, ScriptPicker)
        await until(pilot, lambda: picker.loaded, "the scripts")
        await pilot.press(key_for(ScriptPicker, "scripts_run"))
        await until(pilot, lambda: isinstance(app.screen, TrustScreen), "the trust prompt")
        await pilot.press(key_for(TrustScreen, "trust_no"))
        await until(pilot, lambda: app.screen is picker, "back to the picker")
        assert "Not trusted" in shown(app, "#scripts-status")
        await pilot.press(key_for(ScriptPicker, "scripts_cancel"))
        await until(pilot, lambda: app.results, "the picker to close")
    assert app.results == [None]
    assert not call("trust.show", repo=str(repo), base="main")["trusted"]
