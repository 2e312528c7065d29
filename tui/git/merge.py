"""Commit a session's work and merge it into its base, predicting conflicts first.

Nothing here moves a ref before the whole outcome is known: conflicts are computed
in memory with `merge_trees`, and when the base branch is checked out somewhere
(usually the main worktree) its files are updated with a SAFE checkout *before*
the ref moves, so a refusal leaves every ref, index and file as it was.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from pathlib import Path

import pygit2
from pygit2.enums import CheckoutStrategy, FileStatus, RepositoryState, SortMode

from tui.git.model import GitError, SessionRef

__all__ = [
    "ConflictPrediction",
    "MergeResult",
    "MergeStrategy",
    "commit_all",
    "merge_session",
    "predict_conflicts",
    "session_is_merged",
]

# How many paths a one-line refusal lists before it says "and N more".
_MAX_LISTED = 5


class MergeStrategy(enum.Enum):
    """How a session's branch lands on its base."""

    FF = "ff"  # move base to the session tip; refused unless base is an ancestor
    MERGE = "merge"  # always a merge commit (like --no-ff), so the session stays visible
    SQUASH = "squash"  # one new commit on base with the merged tree, single parent


@dataclass
class ConflictPrediction:
    """Files that would conflict if the session were merged into its base now."""

    files: list[str]
    clean: bool


@dataclass
class MergeResult:
    """What a merge did: `base` moved from `old_commit` to `new_commit`.

    `checkout` is the working tree whose files and index were brought to the new
    commit because it had `base` checked out (None when no checkout had it).
    """

    strategy: MergeStrategy
    base: str
    old_commit: str
    new_commit: str
    files: list[str] = field(default_factory=list)
    checkout: Path | None = None


def commit_all(ref: SessionRef, message: str) -> str:
    """Stage everything in the session worktree (untracked too) and commit it on its branch.

    Ignored files stay out, as with `git add -A`. Returns the new commit id.
    """
    if not message.strip():
        raise GitError(f"session {ref.name}: a commit message is required")
    wt = _open_worktree(ref)
    _require_on_branch(wt, ref)
    head = wt.head.peel(pygit2.Commit)
    index = wt.index
    try:
        # add_all also drops entries whose files were deleted (like `git add -A`).
        index.add_all()
        tree_id = index.write_tree()
    except pygit2.GitError as exc:
        raise GitError(
            f"session {ref.name}: cannot stage changes in {ref.worktree}: {exc}"
        ) from exc
    if tree_id == head.tree_id:
        raise GitError(f"session {ref.name}: nothing to commit in {ref.worktree}")
    index.write()
    sig = _signature(wt)
    commit_id = wt.create_commit("HEAD", sig, sig, message, tree_id, [head.id])
    return str(commit_id)


def predict_conflicts(ref: SessionRef) -> ConflictPrediction:
    """Which files would conflict if the session's branch were merged into its base now."""
    repo = open_main_repo(ref)
    base = resolve_commit(repo, ref.base, f"base of session {ref.name}")
    tip = branch_tip(repo, ref)
    files = _conflicting_files(repo, base, tip)
    return ConflictPrediction(files=files, clean=not files)


def merge_session(
    ref: SessionRef,
    strategy: MergeStrategy = MergeStrategy.MERGE,
    message: str | None = None,
) -> MergeResult:
    """Land the session's committed work on its base branch.

    Refused (GitError, nothing moved) when the base is not a local branch, the
    session has nothing new, a fast-forward is impossible, files would conflict,
    or a checkout of the base has local changes the merge would overwrite.
    Uncommitted work in the session worktree is not merged; `commit_all` first.
    """
    repo = open_main_repo(ref)
    base_branch = repo.lookup_branch(ref.base)
    if base_branch is None:
        raise GitError(f"cannot merge session {ref.name}: base {ref.base!r} is not a local branch")
    base = base_branch.peel(pygit2.Commit)
    tip = branch_tip(repo, ref)
    if is_merged_into(repo, tip, base):
        raise GitError(
            f"nothing to merge: {ref.branch} (session {ref.name}) is already in {ref.base}"
        )
    can_ff = repo.descendant_of(tip.id, base.id)

    if strategy is MergeStrategy.FF:
        if not can_ff:
            ahead, _ = repo.ahead_behind(base.id, tip.id)
            raise GitError(
                f"cannot fast-forward {ref.base} to {ref.branch} (session {ref.name}): "
                f"{ref.base} has {ahead} commit(s) not in the session; use merge or squash"
            )
        new_id = tip.id
    else:
        conflicts = _conflicting_files(repo, base, tip)
        if conflicts:
            raise GitError(
                f"cannot merge session {ref.name} into {ref.base}: "
                f"conflicts in {_listing(conflicts)}"
            )
        tree_id = _merged_tree(repo, base, tip)
        sig = _signature(repo)
        if strategy is MergeStrategy.MERGE:
            text = message or f"Merge session {ref.name} ({ref.branch}) into {ref.base}\n"
            parents = [base.id, tip.id]
        else:
            text = message or _squash_message(repo, ref, base, tip)
            parents = [base.id]
        # ref=None: write the commit object only; the branch moves below, after
        # any checkout of it has been updated safely.
        new_id = repo.create_commit(None, sig, sig, text, tree_id, parents)

    new = repo[new_id].peel(pygit2.Commit)
    files = _changed_paths(repo, base.tree, new.tree)
    checkout = _checkout_of(repo, ref.base)
    if repo.lookup_reference(f"refs/heads/{ref.base}").target != base.id:
        raise GitError(f"cannot merge session {ref.name}: {ref.base} moved meanwhile; try again")
    if checkout is not None:
        _update_checkout(checkout, ref, base, new, files)
    _move_branch(repo, ref.base, base.id, new.id, f"ptui: merge session {ref.name}")
    return MergeResult(
        strategy=strategy,
        base=ref.base,
        old_commit=str(base.id),
        new_commit=str(new.id),
        files=files,
        checkout=Path(checkout.workdir) if checkout is not None else None,
    )


def session_is_merged(ref: SessionRef) -> bool:
    """True when merging the session's branch into its base again would change nothing.

    That covers fast-forward and merge commits (the tip is an ancestor of base) and
    squash merges (base already holds the merged tree). A missing branch counts as
    not merged: nothing proves its work landed.
    """
    repo = open_main_repo(ref)
    base = resolve_commit(repo, ref.base, f"base of session {ref.name}")
    branch = repo.lookup_branch(ref.branch)
    if branch is None:
        return False
    tip = branch.peel(pygit2.Commit)
    return is_merged_into(repo, tip, base)


# --- helpers shared with overlap.py and archive.py (same package, not public API) ---


def open_main_repo(ref: SessionRef) -> pygit2.Repository:
    """The session's main repository, or a GitError naming it."""
    try:
        return pygit2.Repository(str(ref.repo))
    except pygit2.GitError as exc:
        raise GitError(f"session {ref.name}: {ref.repo} is not a git repository") from exc


def resolve_commit(repo: pygit2.Repository, spec: str, what: str) -> pygit2.Commit:
    """Resolve a branch, tag or commit id to a commit, or a GitError naming `what`."""
    try:
        return repo.revparse_single(spec).peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError) as exc:
        raise GitError(f"{what}: {spec!r} does not name a commit") from exc


def branch_tip(repo: pygit2.Repository, ref: SessionRef) -> pygit2.Commit:
    """The commit the session branch points at, or a GitError if the branch is gone."""
    branch = repo.lookup_branch(ref.branch)
    if branch is None:
        raise GitError(f"session {ref.name}: branch {ref.branch} does not exist")
    return branch.peel(pygit2.Commit)


def is_merged_into(repo: pygit2.Repository, tip: pygit2.Commit, base: pygit2.Commit) -> bool:
    """Whether `tip` adds nothing to `base` (ancestor, or its merge is a no-op)."""
    if tip.id == base.id or repo.descendant_of(base.id, tip.id):
        return True
    if _conflicting_files(repo, base, tip):
        return False
    return _merged_tree(repo, base, tip) == base.tree_id


def merge_index(
    repo: pygit2.Repository, ours: pygit2.Commit, theirs: pygit2.Commit
) -> pygit2.Index:
    """The in-memory merge of two commits over their merge base (empty tree if none)."""
    ancestor_id = repo.merge_base(ours.id, theirs.id)
    ancestor = repo[ancestor_id].peel(pygit2.Tree) if ancestor_id else empty_tree(repo)
    return repo.merge_trees(ancestor, ours.tree, theirs.tree)


def conflict_paths(index: pygit2.Index) -> list[str]:
    """Paths with a conflict in a merge result index, sorted."""
    if index.conflicts is None:
        return []
    paths: set[str] = set()
    for entries in index.conflicts:
        paths.update(entry.path for entry in entries if entry is not None)
    return sorted(paths)


def empty_tree(repo: pygit2.Repository) -> pygit2.Tree:
    """The empty tree (written to the object database if it is not there yet)."""
    return repo[repo.TreeBuilder().write()].peel(pygit2.Tree)


def signature(repo: pygit2.Repository) -> pygit2.Signature:
    """The user's identity from git config, or a ptui fallback when none is set."""
    return _signature(repo)


# --- private ---


def _signature(repo: pygit2.Repository) -> pygit2.Signature:
    try:
        return repo.default_signature
    except (KeyError, pygit2.GitError):
        return pygit2.Signature("ptui", "ptui@localhost")


def _open_worktree(ref: SessionRef) -> pygit2.Repository:
    if not ref.worktree.is_dir():
        raise GitError(
            f"session {ref.name}: worktree {ref.worktree} is missing "
            f"(branch {ref.branch} is still there)"
        )
    try:
        return pygit2.Repository(str(ref.worktree))
    except pygit2.GitError as exc:
        raise GitError(f"session {ref.name}: {ref.worktree} is not a git worktree") from exc


def _require_on_branch(wt: pygit2.Repository, ref: SessionRef) -> None:
    if wt.head_is_detached or wt.head.name != f"refs/heads/{ref.branch}":
        current = "a detached HEAD" if wt.head_is_detached else wt.head.shorthand
        raise GitError(
            f"session {ref.name}: worktree {ref.worktree} is on {current}, not {ref.branch}"
        )


def _conflicting_files(
    repo: pygit2.Repository, base: pygit2.Commit, tip: pygit2.Commit
) -> list[str]:
    return conflict_paths(merge_index(repo, base, tip))


def _merged_tree(repo: pygit2.Repository, base: pygit2.Commit, tip: pygit2.Commit) -> pygit2.Oid:
    return merge_index(repo, base, tip).write_tree(repo)


def _changed_paths(repo: pygit2.Repository, old: pygit2.Tree, new: pygit2.Tree) -> list[str]:
    paths: set[str] = set()
    for delta in old.diff_to_tree(new).deltas:
        paths.add(delta.old_file.path)
        paths.add(delta.new_file.path)
    return sorted(paths)


def _squash_message(
    repo: pygit2.Repository, ref: SessionRef, base: pygit2.Commit, tip: pygit2.Commit
) -> str:
    walker = repo.walk(tip.id, SortMode.TOPOLOGICAL | SortMode.REVERSE)
    walker.hide(base.id)
    lines = [f"* {commit.message.splitlines()[0] if commit.message else ''}" for commit in walker]
    body = "\n".join(lines)
    return f"Squash session {ref.name} ({ref.branch}) into {ref.base}\n\n{body}\n"


def _checkout_of(repo: pygit2.Repository, branch: str) -> pygit2.Repository | None:
    """The main repository or linked worktree that has `branch` checked out, if any."""
    full = f"refs/heads/{branch}"
    main_has_it = not (repo.is_bare or repo.head_is_unborn or repo.head_is_detached)
    if main_has_it and repo.head.name == full:
        return repo
    for admin in repo.list_worktrees():
        path = repo.lookup_worktree(admin).path
        if not os.path.isdir(path):
            continue
        try:
            wt = pygit2.Repository(path)
        except pygit2.GitError:
            continue
        if not wt.head_is_detached and not wt.head_is_unborn and wt.head.name == full:
            return wt
    return None


def _update_checkout(
    checkout: pygit2.Repository,
    ref: SessionRef,
    old: pygit2.Commit,
    new: pygit2.Commit,
    files: list[str],
) -> None:
    """Bring a checkout of the base from `old` to `new`, or refuse without touching it.

    Refused when any file the merge changes has staged, unstaged, untracked or
    ignored content in that checkout: updating it could clobber the user's work.
    """
    where = checkout.workdir
    if checkout.state() != RepositoryState.NONE:
        raise GitError(
            f"cannot merge session {ref.name}: {where} (which has {ref.base} checked out) "
            "is in the middle of a merge, rebase or cherry-pick"
        )
    dirty = [path for path in files if _path_is_dirty(checkout, path)]
    if dirty:
        raise GitError(
            f"cannot merge session {ref.name}: {where} has {ref.base} checked out with "
            f"local changes to {_listing(dirty)}; commit or stash them first"
        )
    try:
        # SAFE never overwrites modified files; the baseline is still the old HEAD.
        checkout.checkout_tree(  # type: ignore[no-untyped-call]  # pygit2 stub lacks types
            new.tree, strategy=CheckoutStrategy.SAFE | CheckoutStrategy.DONT_OVERWRITE_IGNORED
        )
    except pygit2.GitError as exc:
        raise GitError(
            f"cannot merge session {ref.name}: updating {where} ({ref.base}) "
            f"would overwrite local files: {exc}"
        ) from exc


def _path_is_dirty(checkout: pygit2.Repository, path: str) -> bool:
    try:
        flags = checkout.status_file(path)
    except KeyError:
        return False  # neither on disk nor in the index: nothing to clobber
    except pygit2.GitError:
        return True  # e.g. the path is a directory on disk; let the user look
    return flags != FileStatus.CURRENT


def _move_branch(
    repo: pygit2.Repository, branch: str, old: pygit2.Oid, new: pygit2.Oid, log: str
) -> None:
    reference = repo.lookup_reference(f"refs/heads/{branch}")
    if reference.target != old:
        raise GitError(f"cannot merge: {branch} moved while merging; try again")
    reference.set_target(new, log)


def _listing(paths: list[str]) -> str:
    shown = ", ".join(paths[:_MAX_LISTED])
    more = len(paths) - _MAX_LISTED
    return f"{shown} and {more} more" if more > 0 else shown
