"""Bad input of every kind gives a one-line GitError naming the place, or a correct result.

Never a traceback from pygit2, never a deleted or half-made file, branch or admin dir.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.git.conftest import commit_files, git
from tui.git.diff import session_diff
from tui.git.model import GitError
from tui.git.names import slugify_task, validate_branch_name, validate_name
from tui.git.repo import open_repo, resolve_base
from tui.git.status import session_status
from tui.git.worktree import create_session, worktree_exists


def one_line_error(excinfo: pytest.ExceptionInfo[GitError], *needles: str) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    assert "Traceback" not in message
    for needle in needles:
        assert needle in message
    return message


def snapshot(repo: Path) -> tuple[str, str, list[str]]:
    """Branches, worktrees and admin dirs: what a refused create must leave unchanged."""
    admin = repo / ".git" / "worktrees"
    return (
        git(repo, "branch", "--format=%(refname:short)"),
        git(repo, "worktree", "list", "--porcelain"),
        sorted(p.name for p in admin.iterdir()) if admin.exists() else [],
    )


# --- repositories that cannot host sessions ---------------------------------------


def test_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain dir"
    plain.mkdir()
    with pytest.raises(GitError) as info:
        create_session(plain, "task")
    one_line_error(info, str(plain), "not a git repository")


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(GitError) as info:
        open_repo(tmp_path / "nowhere")
    one_line_error(info, "nowhere", "no such directory")


def test_bare_repository(tmp_path: Path, repo: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    with pytest.raises(GitError) as info:
        create_session(bare, "task")
    one_line_error(info, "bare.git", "bare repository")


def test_repository_without_commits(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(GitError) as info:
        create_session(empty, "task")
    one_line_error(info, "empty", "no commits")


def test_detached_head_needs_a_base(repo: Path) -> None:
    commit_files(repo, {"b.txt": "b\n"}, "second")
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    before = snapshot(repo)
    with pytest.raises(GitError) as info:
        create_session(repo, "task")
    one_line_error(info, str(repo), "detached", "pass a base")
    assert snapshot(repo) == before
    ref = create_session(repo, "task", base="main")
    assert (ref.base, (ref.worktree / "b.txt").exists()) == ("main", True)


@pytest.mark.parametrize("base", ["no-such-branch", "v9.9", "deadbeef" * 5, "main~40", "-x", ""])
def test_missing_or_bad_base(repo: Path, base: str) -> None:
    before = snapshot(repo)
    with pytest.raises(GitError) as info:
        create_session(repo, "task", base=base)
    one_line_error(info, "base")
    assert snapshot(repo) == before


def test_base_that_is_not_a_commit(repo: Path) -> None:
    with pytest.raises(GitError) as info:
        resolve_base(open_repo(repo), "HEAD:src")  # a tree
    one_line_error(info, "base 'HEAD:src'")


# --- names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("a..b", "'..'"),
        ("-rf", "'-'"),
        ("two words", "spaces"),
        ("café", "ASCII"),
        ("x" * 300, "too long (300 characters"),
        ("UPPER", "may only use"),
        ("a/b", "may only use"),
        (".hidden", "may only use"),
        ("ends.lock", ".lock"),
        ("", "empty"),
        ("tab\there", "spaces"),
    ],
)
def test_bad_session_names(repo: Path, name: str, problem: str) -> None:
    before = snapshot(repo)
    with pytest.raises(GitError) as info:
        create_session(repo, "task", name=name)
    one_line_error(info, problem)
    with pytest.raises(GitError):
        validate_name(name)
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("Fix the login bug", "fix-the-login-bug"),
        ("../../etc/passwd", "etc-passwd"),
        ("--force push", "force-push"),
        ("Crème brûlée recipe", "creme-brulee-recipe"),
        ("a" * 300, "a" * 40),
        ("word " * 100, "word-word-word-word-word-word-word-word"),
        ("v1.2 release", "v1-2-release"),
    ],
)
def test_tasks_become_safe_names(task: str, expected: str) -> None:
    assert slugify_task(task) == expected
    assert validate_name(slugify_task(task)) == expected


@pytest.mark.parametrize("task", ["", "   ", "日本語", "!!!", "🚀🚀"])
def test_tasks_with_nothing_usable(task: str) -> None:
    with pytest.raises(GitError) as info:
        slugify_task(task)
    one_line_error(info, "pass a name")


@pytest.mark.parametrize(
    "branch", ["-x", "a..b", "with space", "HEAD", "a.lock", "x~1", "a^b", "a:b", "ü", "a//b", "/a"]
)
def test_bad_branch_names(branch: str) -> None:
    with pytest.raises(GitError) as info:
        validate_branch_name(branch)
    one_line_error(info, "branch name")


@pytest.mark.parametrize("prefix", ["-p/", "bad prefix/", "a..", "x~"])
def test_bad_prefix_is_refused_before_anything_is_made(repo: Path, prefix: str) -> None:
    before = snapshot(repo)
    with pytest.raises(GitError) as info:
        create_session(repo, "task", prefix=prefix)
    one_line_error(info, "branch name")
    assert snapshot(repo) == before


# --- collisions -------------------------------------------------------------------


def test_existing_branch_with_an_explicit_name(repo: Path) -> None:
    git(repo, "branch", "ptui/taken")
    before = snapshot(repo)
    with pytest.raises(GitError) as info:
        create_session(repo, "task", name="taken")
    one_line_error(info, "'ptui/taken' already exists")
    assert snapshot(repo) == before
    assert create_session(repo, "taken").name == "taken-2"  # derived names step aside


def test_existing_path_is_never_touched(repo: Path, tmp_path: Path) -> None:
    root = tmp_path / "trees"
    (root / "mine").mkdir(parents=True)
    (root / "mine" / "precious.txt").write_text("keep me\n")
    before = snapshot(repo)
    with pytest.raises(GitError) as info:
        create_session(repo, "task", name="mine", worktrees_dir=root)
    one_line_error(info, str(root / "mine"), "already exists")
    assert (root / "mine" / "precious.txt").read_text() == "keep me\n"
    assert snapshot(repo) == before
    assert create_session(repo, "mine", worktrees_dir=root).name == "mine-2"


def test_worktrees_dir_inside_the_git_dir_is_refused(repo: Path) -> None:
    with pytest.raises(GitError) as info:
        create_session(repo, "task", worktrees_dir=repo / ".git" / "trees")
    one_line_error(info, "inside the git directory")


# --- worktrees in odd states ------------------------------------------------------


def test_worktree_deleted_by_hand(repo: Path) -> None:
    ref = create_session(repo, "vanishing")
    shutil.rmtree(ref.worktree)
    assert not worktree_exists(ref)
    for call in (session_status, session_diff):
        with pytest.raises(GitError) as info:
            call(ref)
        one_line_error(info, str(ref.worktree), "missing")
    # The stale registration keeps the name taken; a new session steps aside.
    again = create_session(repo, "vanishing")
    assert again.name == "vanishing-2"
    with pytest.raises(GitError) as info:
        create_session(repo, "x", name="vanishing")
    one_line_error(info, "vanishing")


def test_worktree_replaced_by_a_plain_dir(repo: Path) -> None:
    ref = create_session(repo, "replaced")
    shutil.rmtree(ref.worktree)
    ref.worktree.mkdir()
    (ref.worktree / "file.txt").write_text("not a checkout\n")
    with pytest.raises(GitError) as info:
        session_status(ref)
    one_line_error(info, "not a git worktree")
    assert (ref.worktree / "file.txt").exists()


def test_locked_worktree_still_reports(repo: Path) -> None:
    ref = create_session(repo, "locked")
    git(repo, "worktree", "lock", "--reason", "on a usb disk", str(ref.worktree))
    (ref.worktree / "new.txt").write_text("new\n")
    assert session_status(ref).untracked == 1
    assert [f.path for f in session_diff(ref).files] == ["new.txt"]


def test_uninitialised_submodule_dirs(repo: Path, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q", "-b", "main")
    commit_files(lib, {"lib.py": "x = 1\n"}, "lib")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "vendor/lib")
    git(repo, "commit", "-qm", "add submodule")

    ref = create_session(repo, "with submodule")
    assert (ref.worktree / ".gitmodules").is_file()
    status = session_status(ref)
    assert (status.dirty, status.staged, status.untracked) == (0, 0, 0)
    assert session_diff(ref).files == []
    (ref.worktree / "app.txt").write_text("x\n")
    assert [f.path for f in session_diff(ref).files] == ["app.txt"]


def test_paths_with_spaces_everywhere(tmp_path: Path) -> None:
    project = tmp_path / "my project"
    project.mkdir()
    git(project, "init", "-q", "-b", "main")
    commit_files(project, {"a file.txt": "a\n", "sub dir/b file.txt": "b\n"}, "spaces")
    ref = create_session(project, "space odyssey", worktrees_dir=tmp_path / "work trees")
    assert ref.worktree == tmp_path / "work trees" / "space-odyssey"
    (ref.worktree / "sub dir" / "b file.txt").write_text("changed\n")
    (ref.worktree / "c file.txt").write_text("c\n")
    assert {f.path for f in session_diff(ref).files} == {"sub dir/b file.txt", "c file.txt"}
    assert session_status(ref).dirty == 1


def test_open_repo_finds_the_main_repository_from_a_worktree(repo: Path) -> None:
    ref = create_session(repo, "inner")
    main = open_repo(ref.worktree / "src")
    assert Path(main.workdir or "") == Path(f"{repo}/")
    main_from_git_dir = open_repo(repo / ".git")
    assert main_from_git_dir.workdir == main.workdir
