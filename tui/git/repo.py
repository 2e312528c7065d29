"""Opening repositories and resolving bases, with one-line errors for every refusal.

`open_repo` always returns the *main* repository (the one that owns the worktrees),
whether it is given a path inside the main checkout, inside a linked worktree, or
the `.git` directory itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import pygit2
from pygit2.enums import RepositoryOpenFlag

from tui.git.model import GitError

_BASE_MAX = 256


def common_dir(repo: pygit2.Repository) -> Path:
    """The git directory shared by the main checkout and all its worktrees."""
    git_dir = Path(repo.path)
    commondir_file = git_dir / "commondir"
    if commondir_file.is_file():
        # libgit2 writes an absolute path here, the git CLI a relative one.
        target = commondir_file.read_text().strip()
        return (git_dir / target).resolve()
    return git_dir.resolve()


def open_repo(path: Path) -> pygit2.Repository:
    """Open the main repository containing `path` (a checkout, a worktree or a git dir).

    Raises GitError for a path that is not in a repository, a bare repository, or a
    repository without commits.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise GitError(f"{path}: no such directory")
    try:
        git_dir = pygit2.discover_repository(str(path))
    except (pygit2.GitError, OSError) as exc:
        raise GitError(f"{path}: cannot read repository ({exc})") from None
    if git_dir is None:
        raise GitError(f"{path}: not a git repository")
    try:
        found = pygit2.Repository(git_dir, RepositoryOpenFlag.NO_SEARCH)
        main = found
        if common_dir(found) != Path(found.path).resolve():
            # A linked worktree: its admin dir points at the main repository's git dir.
            main = pygit2.Repository(str(common_dir(found)), RepositoryOpenFlag.NO_SEARCH)
    except (pygit2.GitError, OSError) as exc:
        raise GitError(f"{path}: cannot open repository ({exc})") from None
    if main.is_bare or main.workdir is None:
        raise GitError(f"{main.path}: bare repository; ptui needs a checkout")
    if main.head_is_unborn:
        raise GitError(f"{main.workdir}: repository has no commits yet; commit something first")
    return main


def workdir_of(repo: pygit2.Repository) -> Path:
    """The main checkout's directory (without a trailing slash)."""
    workdir = repo.workdir
    if workdir is None:
        raise GitError(f"{repo.path}: bare repository; ptui needs a checkout")
    return Path(os.path.normpath(workdir))


def _is_ref_name(repo: pygit2.Repository, base: str) -> bool:
    """True if `base` names a stable ref (branch, tag, remote branch), not an expression."""
    if base == "HEAD" or base.startswith(("HEAD~", "HEAD^", "HEAD@")):
        return False
    try:
        repo.lookup_reference_dwim(base)
    except (KeyError, pygit2.InvalidSpecError, pygit2.GitError, ValueError):
        return False
    return True


def resolve_base(repo: pygit2.Repository, base: str | None) -> tuple[str, pygit2.Commit]:
    """Resolve the base a session branches from: returns (name to record, commit).

    `None` means the repository's current branch; a detached HEAD then is an error
    (there is no branch to merge back into). A branch, tag or remote branch keeps
    its name; any other revision (`HEAD~2`, a commit id) is recorded as the full
    commit id so that it means the same thing later.
    """
    if base is None:
        if repo.head_is_unborn:
            raise GitError(f"{repo.workdir}: repository has no commits yet")
        if repo.head_is_detached:
            raise GitError(f"{repo.workdir}: HEAD is detached; pass a base (branch, tag or commit)")
        head = repo.head
        return head.shorthand, head.peel(pygit2.Commit)
    label = f"base {base[:60]!r}"
    if not base or base.startswith("-") or len(base) > _BASE_MAX:
        raise GitError(f"{label}: not a valid branch, tag or commit")
    if any(char.isspace() or not char.isprintable() for char in base):
        raise GitError(f"{label}: not a valid branch, tag or commit")
    try:
        obj = repo.revparse_single(base)
        commit = obj.peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.InvalidSpecError, pygit2.GitError):
        raise GitError(f"{label} not found in {repo.workdir}") from None
    if base in ("HEAD", "@") and not repo.head_is_detached:
        return repo.head.shorthand, commit
    if _is_ref_name(repo, base):
        return base, commit
    return str(commit.id), commit
