"""Overlap between sessions: shared files and conflicts, without touching any worktree."""

from __future__ import annotations

import os
from pathlib import Path

from tests.git.conftest import commit_files, git
from tests.git.test_merge import new_session
from tui.git.model import SessionRef
from tui.git.overlap import Overlap, session_overlaps


def index_fingerprint(ref: SessionRef) -> tuple[bytes, int]:
    """The bytes and mtime of the worktree's index file."""
    gitdir = Path(git(ref.worktree, "rev-parse", "--absolute-git-dir").strip())
    index = gitdir / "index"
    return index.read_bytes(), index.stat().st_mtime_ns


def test_committed_edits_to_same_file_conflict(repo: Path) -> None:
    a = new_session(repo, "a")
    b = new_session(repo, "b")
    c = new_session(repo, "c")
    commit_files(a.worktree, {"src/app.py": "def main():\n    return 'a'\n", "only-a.txt": "a"})
    commit_files(b.worktree, {"src/app.py": "def main():\n    return 'b'\n"})
    commit_files(c.worktree, {"docs.md": "c\n"})
    assert session_overlaps([a, b, c]) == [
        Overlap(a="a", b="b", files=["src/app.py"], conflicts=["src/app.py"])
    ]


def test_same_file_different_hunks_no_conflict(repo: Path) -> None:
    lines = [f"line {i}\n" for i in range(20)]
    commit_files(repo, {"big.txt": "".join(lines)})
    a = new_session(repo, "a")
    b = new_session(repo, "b")
    commit_files(a.worktree, {"big.txt": "".join(["A\n", *lines[1:]])})
    commit_files(b.worktree, {"big.txt": "".join([*lines[:-1], "B\n"])})
    assert session_overlaps([a, b]) == [Overlap(a="a", b="b", files=["big.txt"], conflicts=[])]


def test_uncommitted_edits_count_and_nothing_is_touched(repo: Path) -> None:
    a = new_session(repo, "a")
    b = new_session(repo, "b")
    # a: an unstaged edit; b: a staged edit plus an untracked file a also creates.
    (a.worktree / "src/app.py").write_text("def main():\n    return 'a'\n")
    (a.worktree / "new file é.txt").write_text("from a\n")
    (b.worktree / "src/app.py").write_text("def main():\n    return 'b'\n")
    git(b.worktree, "add", "src/app.py")
    (b.worktree / "new file é.txt").write_text("from b\n")
    (b.worktree / "README.md").unlink()
    os.symlink("README.md", a.worktree / "link")
    status_before = [git(s.worktree, "status", "--porcelain") for s in (a, b)]
    # git status may refresh the index itself; take the fingerprint after it.
    before = [index_fingerprint(a), index_fingerprint(b)]

    overlaps = session_overlaps([a, b])

    assert overlaps == [
        Overlap(
            a="a",
            b="b",
            files=["new file é.txt", "src/app.py"],
            conflicts=["new file é.txt", "src/app.py"],
        )
    ]
    assert [index_fingerprint(a), index_fingerprint(b)] == before
    assert (a.worktree / "src/app.py").read_text() == "def main():\n    return 'a'\n"
    assert [git(s.worktree, "status", "--porcelain") for s in (a, b)] == status_before


def test_identical_change_is_overlap_without_conflict(repo: Path) -> None:
    a = new_session(repo, "a")
    b = new_session(repo, "b")
    (a.worktree / "README.md").write_text("same\n")
    (b.worktree / "README.md").write_text("same\n")
    assert session_overlaps([a, b]) == [Overlap(a="a", b="b", files=["README.md"], conflicts=[])]


def test_base_moving_on_does_not_count(repo: Path) -> None:
    a = new_session(repo, "a")
    commit_files(a.worktree, {"x.txt": "x\n"})
    commit_files(repo, {"x.txt": "base\n", "src/app.py": "changed on main\n"})
    b = new_session(repo, "b")  # branched from the newer main
    commit_files(b.worktree, {"y.txt": "y\n"})
    # b's diff vs its merge base is only y.txt; a's only x.txt.
    assert session_overlaps([a, b]) == []


def test_archived_session_counts_committed_work(repo: Path) -> None:
    a = new_session(repo, "a")
    b = new_session(repo, "b")
    commit_files(a.worktree, {"f.txt": "a\n"})
    commit_files(b.worktree, {"f.txt": "b\n"})
    git(repo, "worktree", "remove", str(b.worktree))
    assert session_overlaps([a, b]) == [Overlap(a="a", b="b", files=["f.txt"], conflicts=["f.txt"])]
