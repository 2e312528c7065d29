"""Session status: counts of uncommitted work, ahead/behind, last commit, merged."""

from __future__ import annotations

from pathlib import Path

from tests.git.conftest import commit_files, git
from tui.git.status import session_status
from tui.git.worktree import create_session


def test_fresh_session_is_clean_and_level_with_its_base(repo: Path) -> None:
    status = session_status(create_session(repo, "fresh"))
    assert (status.dirty, status.staged, status.untracked) == (0, 0, 0)
    assert (status.ahead, status.behind) == (0, 0)
    assert status.last_commit is None
    assert not status.merged
    assert status.clean


def test_counts_dirty_staged_and_untracked_files(repo: Path) -> None:
    ref = create_session(repo, "work")
    wt = ref.worktree
    (wt / "README.md").write_text("# changed\n")  # unstaged
    (wt / "src" / "app.py").write_text("staged\n")
    git(wt, "add", "src/app.py")
    (wt / "src" / "app.py").write_text("staged, then changed again\n")  # both
    (wt / "new dir").mkdir()
    (wt / "new dir" / "a.txt").write_text("a\n")
    (wt / "new dir" / "b.txt").write_text("b\n")
    (wt / "debug.log").write_text("ignored\n")
    (wt / ".gitignore").unlink()  # unstaged deletion; *.log now counts as untracked

    status = session_status(ref)
    assert status.dirty == 3  # README.md, src/app.py, .gitignore
    assert status.staged == 1
    assert status.untracked == 3  # new dir/a.txt, new dir/b.txt, debug.log
    assert not status.clean


def test_status_never_writes_the_index(repo: Path) -> None:
    ref = create_session(repo, "readonly")
    (ref.worktree / "README.md").write_text("changed\n")
    (ref.worktree / "fresh.txt").write_text("new\n")
    index = Path(git(ref.worktree, "rev-parse", "--git-path", "index").strip())
    if not index.is_absolute():
        index = ref.worktree / index
    before = (index.read_bytes(), index.stat().st_mtime_ns)
    session_status(ref)
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before


def test_ahead_behind_last_commit_and_merged(repo: Path) -> None:
    ref = create_session(repo, "feature")
    one = commit_files(ref.worktree, {"feature.py": "x = 1\n"}, "Add feature\n\nDetails.")
    commit_files(repo, {"other.txt": "main moves on\n"}, "main work")

    status = session_status(ref)
    assert (status.ahead, status.behind) == (1, 1)
    assert status.last_commit is not None
    assert status.last_commit.id == one
    assert status.last_commit.summary == "Add feature"
    assert status.last_commit.author == "ptui test"
    assert not status.merged

    git(repo, "merge", "-q", "--no-edit", ref.branch)
    merged = session_status(ref)
    assert merged.ahead == 0
    assert merged.merged
    assert merged.last_commit is not None and merged.last_commit.id == one


def test_reset_back_to_the_base_is_not_merged(repo: Path) -> None:
    ref = create_session(repo, "undo")
    commit_files(ref.worktree, {"a.txt": "a\n"}, "a")
    git(ref.worktree, "reset", "-q", "--hard", ref.base_commit)
    status = session_status(ref)
    assert (status.ahead, status.merged, status.last_commit) == (0, False, None)


def test_tag_base_and_deleted_base_branch(repo: Path) -> None:
    git(repo, "branch", "topic")
    ref = create_session(repo, "on topic", base="topic")
    commit_files(ref.worktree, {"t.txt": "t\n"}, "t")
    git(repo, "branch", "-D", "topic")
    # The base is gone: status falls back to the commit the session started from.
    status = session_status(ref)
    assert (status.ahead, status.behind) == (1, 0)
