"""Per-session status: uncommitted counts, position against the base, last commit, merged.

Read-only: pygit2's status never rewrites the worktree's index (the git CLI's does,
and could collide with an agent running git in the same worktree).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import FileStatus, RepositoryOpenFlag

from tui.git.model import GitError, SessionRef

_STAGED = (
    FileStatus.INDEX_NEW
    | FileStatus.INDEX_MODIFIED
    | FileStatus.INDEX_DELETED
    | FileStatus.INDEX_RENAMED
    | FileStatus.INDEX_TYPECHANGE
)
_DIRTY = (
    FileStatus.WT_MODIFIED
    | FileStatus.WT_DELETED
    | FileStatus.WT_TYPECHANGE
    | FileStatus.WT_RENAMED
    | FileStatus.CONFLICTED
)


@dataclass(frozen=True)
class CommitInfo:
    """A commit as the UI shows it."""

    id: str
    short_id: str
    summary: str
    author: str
    time: int
    """Commit time, seconds since the epoch."""

    @classmethod
    def from_commit(cls, commit: pygit2.Commit) -> CommitInfo:
        message = commit.message or ""
        summary = message.strip().splitlines()[0] if message.strip() else ""
        return cls(
            id=str(commit.id),
            short_id=str(commit.short_id),
            summary=summary,
            author=commit.author.name,
            time=commit.commit_time,
        )


@dataclass(frozen=True)
class SessionStatus:
    """What a session's sidebar entry shows.

    `dirty` counts files with unstaged changes (conflicts included), `staged` files
    with staged changes, `untracked` new files not ignored. `ahead`/`behind` compare
    the worktree's HEAD with the base's current tip. `last_commit` is the worktree's
    HEAD once the session has commits of its own (None before). `merged` is True
    when the session has commits of its own and all of them are in the base.
    """

    dirty: int
    staged: int
    untracked: int
    ahead: int
    behind: int
    last_commit: CommitInfo | None
    merged: bool

    @property
    def clean(self) -> bool:
        """No uncommitted work of any kind."""
        return not (self.dirty or self.staged or self.untracked)


def open_worktree(ref: SessionRef) -> pygit2.Repository:
    """Open the session's worktree (no upward search), or GitError naming it."""
    path = Path(ref.worktree)
    if not path.is_dir():
        raise GitError(f"session {ref.name!r}: worktree {path} is missing")
    if not (path / ".git").exists():
        raise GitError(f"session {ref.name!r}: {path} is not a git worktree")
    try:
        repo = pygit2.Repository(str(path), RepositoryOpenFlag.NO_SEARCH)
    except (pygit2.GitError, OSError) as exc:
        raise GitError(f"session {ref.name!r}: cannot open worktree {path}: {exc}") from None
    if repo.head_is_unborn:
        raise GitError(f"session {ref.name!r}: worktree {path} has no HEAD commit")
    return repo


def head_commit(repo: pygit2.Repository, ref: SessionRef) -> pygit2.Commit:
    """The commit checked out in the worktree (the session's tip)."""
    try:
        return repo.head.peel(pygit2.Commit)
    except (pygit2.GitError, KeyError, ValueError) as exc:
        raise GitError(f"session {ref.name!r}: cannot read HEAD in {ref.worktree}: {exc}") from None


def base_tip(repo: pygit2.Repository, ref: SessionRef) -> pygit2.Commit:
    """The base's current tip; the recorded base commit if the base is gone."""
    try:
        return repo.revparse_single(ref.base).peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError):
        pass
    try:
        return repo[ref.base_commit].peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError):
        raise GitError(
            f"session {ref.name!r}: base {ref.base!r} and commit {ref.base_commit[:12]} are gone"
        ) from None


def _descends_from(repo: pygit2.Repository, tip: pygit2.Commit, commit_id: str) -> bool:
    try:
        return bool(repo.descendant_of(tip.id, pygit2.Oid(hex=commit_id)))
    except (KeyError, ValueError, pygit2.GitError):
        return False


def session_status(ref: SessionRef) -> SessionStatus:
    """Status of one session, computed without writing anything."""
    repo = open_worktree(ref)
    dirty = staged = untracked = 0
    try:
        entries = repo.status(untracked_files="all", ignored=False)
    except pygit2.GitError as exc:
        raise GitError(
            f"session {ref.name!r}: cannot read status of {ref.worktree}: {exc}"
        ) from None
    for flags in entries.values():
        if flags & _STAGED:
            staged += 1
        if flags & _DIRTY:
            dirty += 1
        if flags & FileStatus.WT_NEW:
            untracked += 1
    tip = head_commit(repo, ref)
    base = base_tip(repo, ref)
    ahead, behind = repo.ahead_behind(tip.id, base.id)
    # The session has commits of its own once its tip descends from the fork point;
    # merged means the base now contains all of them.
    own_commits = ahead > 0 or _descends_from(repo, tip, ref.base_commit)
    last = CommitInfo.from_commit(tip) if own_commits else None
    merged = own_commits and ahead == 0
    return SessionStatus(
        dirty=dirty,
        staged=staged,
        untracked=untracked,
        ahead=ahead,
        behind=behind,
        last_commit=last,
        merged=merged,
    )
