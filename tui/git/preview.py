"""What merging a session would do, before it is done; and a repository's local branches.

`merge_preview` answers the merge dialog's questions without moving a ref or
touching a worktree: which strategies can work (a fast-forward needs the base to
be an ancestor of the session), which files land, which would conflict, and
which uncommitted files get committed first. The session's uncommitted work is
counted, as `session.merge` commits it before merging: its tree is built in
memory (see `tui.git.overlap`), never through the worktree's index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pygit2
from pygit2.enums import FileStatus

from tui.git.merge import (
    branch_tip,
    conflict_paths,
    empty_tree,
    is_merged_into,
    open_main_repo,
)
from tui.git.model import GitError, SessionRef
from tui.git.overlap import _worktree_tree
from tui.git.repo import open_repo

__all__ = ["MergePreview", "local_branches", "merge_preview", "worktree_changes"]

_WT_CHANGED = (
    FileStatus.WT_MODIFIED
    | FileStatus.WT_DELETED
    | FileStatus.WT_TYPECHANGE
    | FileStatus.WT_RENAMED
    | FileStatus.CONFLICTED
)


@dataclass
class MergePreview:
    """The outcome of merging a session into its base now, computed in memory.

    `strategies` maps `ff`, `merge`, `squash` to None when possible, else the
    reason it is not. `files` are the paths the session changes against its merge
    base (what lands), `conflicts` those that would conflict, `uncommitted` the
    worktree paths committed first. `merged` is True when nothing is left to merge.
    """

    session: str
    base: str
    branch: str
    ahead: int
    behind: int
    files: list[str]
    conflicts: list[str]
    uncommitted: list[str]
    merged: bool
    strategies: dict[str, str | None] = field(default_factory=dict)


def merge_preview(ref: SessionRef) -> MergePreview:
    """Predict `merge_session` (after `commit_all` of uncommitted work) for every strategy."""
    repo = open_main_repo(ref)
    base_branch = repo.lookup_branch(ref.base)
    if base_branch is None:
        branch_tip(repo, ref)  # the branch must exist all the same
        reason = f"base {ref.base!r} is not a local branch"
        return MergePreview(
            session=ref.name,
            base=ref.base,
            branch=ref.branch,
            ahead=0,
            behind=0,
            files=[],
            conflicts=[],
            uncommitted=_uncommitted(ref),
            merged=False,
            strategies=dict.fromkeys(("ff", "merge", "squash"), reason),
        )
    base = base_branch.peel(pygit2.Commit)
    tip = branch_tip(repo, ref)
    uncommitted = _uncommitted(ref)
    tree = _worktree_tree(repo, ref, tip) if uncommitted else tip.tree
    ancestor_id = repo.merge_base(tip.id, base.id)
    ancestor = repo[ancestor_id].peel(pygit2.Tree) if ancestor_id else empty_tree(repo)
    files = sorted(
        {p for d in ancestor.diff_to_tree(tree).deltas for p in (d.old_file.path, d.new_file.path)}
    )
    conflicts = conflict_paths(repo.merge_trees(ancestor, base.tree, tree))
    ahead, behind = repo.ahead_behind(tip.id, base.id)
    merged = not uncommitted and is_merged_into(repo, tip, base)
    # After committing uncommitted work the new tip's parent is `tip`, so a
    # fast-forward works exactly when `tip` already contains the base.
    can_ff = tip.id == base.id or repo.descendant_of(tip.id, base.id)
    strategies: dict[str, str | None] = {}
    if merged:
        nothing = f"nothing to merge: {ref.branch} is already in {ref.base}"
        strategies = dict.fromkeys(("ff", "merge", "squash"), nothing)
    else:
        conflict = (
            f"{len(conflicts)} file{'s' if len(conflicts) != 1 else ''} would conflict"
            if conflicts
            else None
        )
        strategies["ff"] = (
            None
            if can_ff
            else f"{ref.base} has {behind} commit{'s' if behind != 1 else ''} not in the session"
        )
        strategies["merge"] = conflict
        strategies["squash"] = conflict
    return MergePreview(
        session=ref.name,
        base=ref.base,
        branch=ref.branch,
        ahead=ahead,
        behind=behind,
        files=files,
        conflicts=conflicts,
        uncommitted=uncommitted,
        merged=merged,
        strategies=strategies,
    )


def _uncommitted(ref: SessionRef) -> list[str]:
    return sorted(worktree_changes(ref))


def worktree_changes(ref: SessionRef) -> dict[str, str]:
    """Uncommitted paths of the session's worktree: `untracked`, `staged` or `modified`."""
    if not ref.worktree.is_dir():
        return {}
    try:
        wt = pygit2.Repository(str(ref.worktree))
        # pygit2's status reads the index but never writes it back.
        status = wt.status(untracked_files="all", ignored=False)
    except pygit2.GitError as exc:
        raise GitError(f"session {ref.name}: cannot read status of {ref.worktree}: {exc}") from exc
    changes: dict[str, str] = {}
    for path, flags in status.items():
        if flags & FileStatus.WT_NEW:
            changes[path] = "untracked"
        elif flags & _WT_CHANGED:
            changes[path] = "modified"
        else:
            changes[path] = "staged"
    return changes


def local_branches(path: Path) -> tuple[Path, str | None, list[str]]:
    """(main checkout, current branch or None, local branches with the current one first)."""
    repo = open_repo(path)
    current = None if repo.head_is_detached else repo.head.shorthand
    names = sorted(repo.branches.local)
    if current in names:
        names.remove(current)
        names.insert(0, current)
    workdir = repo.workdir
    return Path(workdir.rstrip("/")) if workdir else Path(path), current, names
