"""Creating sessions: names, branches, worktree placement, rollback and .worktreeinclude."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pygit2
import pytest

import tui.git.worktree as worktree_mod
from tests.git.conftest import commit_files, git
from tui.git.model import GitError
from tui.git.repo import open_repo
from tui.git.worktree import copy_worktreeinclude, create_session, worktree_exists


def branches(repo: Path) -> list[str]:
    return git(repo, "branch", "--format=%(refname:short)").split()


def test_create_session_makes_branch_and_worktree_next_to_the_repo(repo: Path) -> None:
    ref = create_session(repo, "Fix the login bug!")

    assert ref.name == "fix-the-login-bug"
    assert ref.branch == "ptui/fix-the-login-bug"
    assert ref.base == "main"
    assert ref.base_commit == git(repo, "rev-parse", "main").strip()
    assert ref.repo == repo
    assert ref.worktree == repo.parent / "project.ptui-worktrees" / "fix-the-login-bug"
    assert repo not in ref.worktree.parents  # outside the repository tree
    assert (ref.worktree / "src" / "app.py").read_text() == "def main():\n    return 1\n"
    # The git CLI agrees: branch checked out in the worktree, nothing to commit.
    assert git(ref.worktree, "rev-parse", "--abbrev-ref", "HEAD").strip() == ref.branch
    assert git(ref.worktree, "status", "--porcelain") == ""
    listing = git(repo, "worktree", "list", "--porcelain")
    assert f"worktree {ref.worktree}" in listing
    assert "ptui-fix-the-login-bug" in pygit2.Repository(str(repo)).list_worktrees()
    assert worktree_exists(ref)


def test_same_task_twice_gets_numbered_names(repo: Path) -> None:
    names = [create_session(repo, "add tests").name for _ in range(3)]
    assert names == ["add-tests", "add-tests-2", "add-tests-3"]
    assert {"ptui/add-tests", "ptui/add-tests-2", "ptui/add-tests-3"} <= set(branches(repo))


def test_task_without_ascii_falls_back_to_a_generic_name(repo: Path) -> None:
    assert create_session(repo, "修复登录").name == "session"
    assert create_session(repo, "修复登录").name == "session-2"


def test_explicit_name_prefix_and_worktrees_dir(repo: Path, tmp_path: Path) -> None:
    where = tmp_path / "deep" / "nested dir" / "trees"
    ref = create_session(repo, "anything", name="api-v2", prefix="agents/", worktrees_dir=where)
    assert ref.branch == "agents/api-v2"
    assert ref.worktree == where / "api-v2"
    assert (where / "api-v2" / "README.md").is_file()
    assert "pygit2" not in ref.worktree.name
    assert "ptui-api-v2" in pygit2.Repository(str(repo)).list_worktrees()


def test_empty_prefix_is_allowed(repo: Path) -> None:
    ref = create_session(repo, "plain", prefix="")
    assert ref.branch == "plain"
    assert "plain" in branches(repo)


def test_base_can_be_branch_tag_or_commit(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "tag", "v1")
    git(repo, "branch", "release")
    second = commit_files(repo, {"NEW.md": "new\n"}, "second")

    on_tag = create_session(repo, "t", base="v1")
    assert (on_tag.base, on_tag.base_commit) == ("v1", first)
    assert not (on_tag.worktree / "NEW.md").exists()

    on_commit = create_session(repo, "c", base=first[:10])
    assert on_commit.base_commit == first
    # An expression is recorded as the commit it meant, so it keeps meaning that.
    on_expr = create_session(repo, "e", base="HEAD~1")
    assert (on_expr.base, on_expr.base_commit) == (first, first)

    on_branch = create_session(repo, "b", base="release")
    assert on_branch.base == "release"

    default = create_session(repo, "d")
    assert (default.base, default.base_commit) == ("main", second)
    assert (default.worktree / "NEW.md").read_text() == "new\n"


def test_default_base_is_the_current_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    tip = commit_files(repo, {"f.txt": "f\n"}, "on feature")
    ref = create_session(repo, "x")
    assert (ref.base, ref.base_commit) == ("feature", tip)


def test_create_from_inside_a_worktree_uses_the_main_repository(repo: Path) -> None:
    first = create_session(repo, "first")
    second = create_session(first.worktree / "src", "second")
    assert second.repo == repo
    assert second.worktree.parent == first.worktree.parent
    assert Path(open_repo(first.worktree).workdir or "") == Path(f"{repo}/")


def _nothing_left(repo: Path, name: str, root: Path) -> None:
    assert f"ptui/{name}" not in branches(repo)
    assert not (repo / ".git" / "worktrees" / f"ptui-{name}").exists()
    assert not root.exists()
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_failure_after_checkout_leaves_nothing_behind(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = worktree_mod._add_worktree

    def checkout_then_fail(*args: object) -> None:
        real(*args)  # type: ignore[arg-type]
        raise OSError("disk full")

    monkeypatch.setattr(worktree_mod, "_add_worktree", checkout_then_fail)
    root = tmp_path / "new" / "trees"
    with pytest.raises(GitError, match="disk full") as info:
        create_session(repo, "doomed", worktrees_dir=root)
    assert "\n" not in str(info.value)
    _nothing_left(repo, "doomed", tmp_path / "new")
    assert (repo / "README.md").is_file()


def test_failure_while_copying_includes_leaves_nothing_behind(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / ".worktreeinclude").write_text(".env\n")
    (repo / ".env").write_text("SECRET=1\n")

    def broken_copy(repo_workdir: Path, worktree: Path) -> list[str]:
        raise PermissionError(13, "Permission denied", str(worktree / ".env"))

    monkeypatch.setattr(worktree_mod, "copy_worktreeinclude", broken_copy)
    with pytest.raises(GitError, match="Permission denied"):
        create_session(repo, "doomed", worktrees_dir=tmp_path / "trees")
    _nothing_left(repo, "doomed", tmp_path / "trees")
    assert (repo / ".env").read_text() == "SECRET=1\n"


def test_worktrees_dir_below_a_file_fails_cleanly(repo: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(GitError, match="afile"):
        create_session(repo, "blocked", worktrees_dir=blocker / "trees")
    assert "ptui/blocked" not in branches(repo)
    assert blocker.read_text() == "x"
    assert not (repo / ".git" / "worktrees").exists() or not any(
        (repo / ".git" / "worktrees").iterdir()
    )


def test_worktreeinclude_copies_ignored_files_with_their_modes(repo: Path) -> None:
    ignore = ".env\n*.log\nbuild/\nconfig/*.local\nbin/\nnode_modules/\nenv-link\n"
    include = "# secrets and local config\n.env\nconfig/*.local\nbin/\n!bin/skip.sh\nenv-link\n"
    commit_files(repo, {".gitignore": ignore, ".worktreeinclude": include}, "ignore more")
    (repo / ".env").write_text("TOKEN=abc\n")
    os.chmod(repo / ".env", 0o600)
    (repo / "config").mkdir()
    (repo / "config" / "db.local").write_text("db\n")
    (repo / "config" / "other.txt").write_text("untracked, not ignored\n")
    (repo / "bin").mkdir()
    (repo / "bin" / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(repo / "bin" / "run.sh", 0o755)
    (repo / "bin" / "skip.sh").write_text("#!/bin/sh\n")
    (repo / "app.log").write_text("log\n")  # ignored but not listed
    (repo / "node_modules" / "pkg").mkdir(parents=True)
    (repo / "node_modules" / "pkg" / ".env").write_text("nested\n")  # matches ".env" anywhere
    os.symlink(".env", repo / "env-link")

    ref = create_session(repo, "with includes")

    wt = ref.worktree
    assert (wt / ".env").read_text() == "TOKEN=abc\n"
    assert stat.S_IMODE(os.stat(wt / ".env").st_mode) == 0o600
    assert (wt / "config" / "db.local").read_text() == "db\n"
    assert not (wt / "config" / "other.txt").exists()
    assert stat.S_IMODE(os.stat(wt / "bin" / "run.sh").st_mode) == 0o755
    assert (wt / "bin" / "skip.sh").exists()  # a parent dir match cannot be undone
    assert not (wt / "app.log").exists()
    assert (wt / "node_modules" / "pkg" / ".env").read_text() == "nested\n"
    assert os.readlink(wt / "env-link") == ".env"
    # Copied files are ignored in the worktree too, so the checkout stays clean.
    assert git(wt, "status", "--porcelain") == ""


def test_worktreeinclude_negation_and_anchoring(repo: Path, tmp_path: Path) -> None:
    (repo / ".gitignore").write_text("*.secret\n")
    for rel in ("a.secret", "sub/b.secret", "sub/keep.secret"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(rel)
    (repo / ".worktreeinclude").write_text("/a.secret\nsub/*.secret\n!sub/keep.secret\n")
    target = tmp_path / "target"
    target.mkdir()
    copied = copy_worktreeinclude(repo, target)
    assert copied == ["a.secret", "sub/b.secret"]


def test_worktreeinclude_never_overwrites_or_escapes(repo: Path, tmp_path: Path) -> None:
    (repo / ".gitignore").write_text(".env\nout/\n")
    (repo / ".env").write_text("main\n")
    (repo / "out").mkdir()
    (repo / "out" / "x.txt").write_text("x\n")
    (repo / ".worktreeinclude").write_text(".env\nout/\n")
    target = tmp_path / "target"
    target.mkdir()
    (target / ".env").write_text("already here\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, target / "out")  # a checked-out symlink must not be followed
    assert copy_worktreeinclude(repo, target) == []
    assert (target / ".env").read_text() == "already here\n"
    assert list(elsewhere.iterdir()) == []


def test_no_worktreeinclude_copies_nothing(repo: Path, tmp_path: Path) -> None:
    (repo / ".env").write_text("x\n")
    assert copy_worktreeinclude(repo, tmp_path) == []


def test_worktree_exists_is_false_once_deleted(repo: Path) -> None:
    ref = create_session(repo, "gone soon")
    assert worktree_exists(ref)
    git(repo, "worktree", "remove", "--force", str(ref.worktree))
    assert not worktree_exists(ref)


def test_a_directory_that_appears_meanwhile_is_never_deleted(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = worktree_mod._add_worktree

    def someone_else_gets_there_first(*args: object) -> None:
        path = args[2]
        assert isinstance(path, Path)
        path.mkdir()
        (path / "theirs.txt").write_text("not ours\n")
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(worktree_mod, "_add_worktree", someone_else_gets_there_first)
    with pytest.raises(GitError, match="exists"):
        create_session(repo, "raced", worktrees_dir=tmp_path / "trees")
    assert (tmp_path / "trees" / "raced" / "theirs.txt").read_text() == "not ours\n"
    assert "ptui/raced" not in branches(repo)
    assert not (repo / ".git" / "worktrees" / "ptui-raced").exists()
