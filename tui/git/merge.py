"""Commit a session's work and merge it into its base, in steps that can each be redone or undone.

A merge is planned first (`plan_merge`): every check runs and every object is
written (the commit holding the session's uncommitted work, the merge commit)
while no ref, index or working file changes. The plan is plain data the server
journals. Then, each step idempotent and each one undoable until the base moves:

1. `commit_work`: the session branch moves to the work commit and the session's
   index follows (undo: `undo_work` puts back the branch and the index as it was,
   staged/unstaged split included; the session's files are never touched);
2. `apply_checkout`: in the checkout that has the base branch (usually the user's
   main checkout), exactly the merged paths are brought from the old base to the
   new one, each file replaced atomically (undo: `undo_checkout`);
3. `move_base`: the base branch moves, which is the point of no return.

Killed at any instant, a rerun of the same step finishes it, and the undo steps
put back every file ptui wrote, leaving alone any the user changed meanwhile.

The checkout side of step 2 and its undo (`_BaseCheckout`) is in `merge_checkout`.
"""

from __future__ import annotations

import enum
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import FileMode, FileStatus, RepositoryState, SortMode

from tui.git.merge_checkout import (
    _add_entry,
    _BaseCheckout,
    _check_paths,
    _config_bool,
    _Entry,
    _walk_files,
)
from tui.git.merge_checkout import resolve_commit as resolve_commit  # overlap.py, archive.py
from tui.git.model import GitError, SessionRef

__all__ = [
    "ConflictPrediction",
    "MergePlan",
    "MergeResult",
    "MergeStrategy",
    "add_worktree_changes",
    "apply_checkout",
    "commit_all",
    "commit_work",
    "finish_commit",
    "merge_session",
    "move_base",
    "plan_merge",
    "predict_conflicts",
    "session_is_merged",
    "undo_checkout",
    "undo_work",
]

# How many paths a one-line refusal lists before it says "and N more".
_MAX_LISTED = 5

_OBJECT_ID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


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
    `committed` is the commit made of the session's uncommitted work ("" if none).
    """

    strategy: MergeStrategy
    base: str
    old_commit: str
    new_commit: str
    files: list[str] = field(default_factory=list)
    checkout: Path | None = None
    committed: str = ""


@dataclass
class MergePlan:
    """Everything needed to apply or undo one merge, as plain data (see `to_dict`).

    `repo` is the main repository's working directory; `old_base`/`new_base` the
    commits `refs/heads/<base>` moves between; `session_old_tip` the session
    branch before; `work_commit` ("" if none) a commit of the session's
    uncommitted work whose parent is `session_old_tip`, and `work_index_tree` the
    tree of the session's index as it was; `files` the paths the merge changes on
    base (sorted); `checkout` ("" if none) the workdir that has `base` checked out.
    """

    session: str
    repo: str
    strategy: MergeStrategy
    base: str
    old_base: str
    new_base: str
    session_old_tip: str
    work_commit: str = ""
    work_index_tree: str = ""
    files: list[str] = field(default_factory=list)
    checkout: str = ""
    kept_dirs: list[str] = field(default_factory=list)
    """Folders above `files` that the checkout already had: never pruned, even when
    emptied (git does not track an empty folder, so only the plan remembers it)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; `MergePlan.from_dict` reads it back."""
        return {
            "session": self.session,
            "repo": self.repo,
            "strategy": self.strategy.value,
            "base": self.base,
            "old_base": self.old_base,
            "new_base": self.new_base,
            "session_old_tip": self.session_old_tip,
            "work_commit": self.work_commit,
            "work_index_tree": self.work_index_tree,
            "files": list(self.files),
            "checkout": self.checkout,
            "kept_dirs": list(self.kept_dirs),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MergePlan:
        """Read a plan written by `to_dict`, checking every field (GitError naming it)."""

        def text(key: str, *, empty: bool = False) -> str:
            value = data.get(key)
            if not isinstance(value, str) or (not empty and not value):
                raise GitError(f"merge plan: field {key!r} must be a non-empty string")
            return value

        def object_id(key: str, *, empty: bool = False) -> str:
            value = text(key, empty=empty)
            if value and not _OBJECT_ID.match(value):
                raise GitError(f"merge plan: field {key!r} is not an object id: {value!r}")
            return value

        strategy_value = text("strategy")
        try:
            strategy = MergeStrategy(strategy_value)
        except ValueError:
            raise GitError(f"merge plan: unknown strategy {strategy_value!r}") from None
        files = data.get("files")
        if not isinstance(files, list) or not all(isinstance(p, str) for p in files):
            raise GitError("merge plan: field 'files' must be a list of strings")
        kept = data.get("kept_dirs", [])
        if not isinstance(kept, list) or not all(isinstance(p, str) for p in kept):
            raise GitError("merge plan: field 'kept_dirs' must be a list of strings")
        plan = cls(
            session=text("session"),
            repo=text("repo"),
            strategy=strategy,
            base=text("base"),
            old_base=object_id("old_base"),
            new_base=object_id("new_base"),
            session_old_tip=object_id("session_old_tip"),
            work_commit=object_id("work_commit", empty=True),
            work_index_tree=object_id("work_index_tree", empty=True),
            files=list(files),
            checkout=text("checkout", empty=True),
            kept_dirs=list(kept),
        )
        if bool(plan.work_commit) != bool(plan.work_index_tree):
            raise GitError("merge plan: 'work_commit' and 'work_index_tree' go together")
        for key in ("repo", "checkout"):
            value = getattr(plan, key)
            if value and not os.path.isabs(value):
                raise GitError(f"merge plan: field {key!r} must be an absolute path: {value!r}")
        if not pygit2.reference_is_valid_name(f"refs/heads/{plan.base}"):
            raise GitError(f"merge plan: {plan.base!r} is not a branch name")
        _check_paths(plan)
        return plan


def commit_all(ref: SessionRef, message: str) -> str:
    """Commit everything in the session worktree (untracked too) on its branch.

    Ignored files stay out, as with `git add -A`. The tree is built in memory, the
    branch moves, and only then is the session's index written to match
    (`finish_commit`), so a kill in between loses nothing. Returns the commit id.
    """
    if not message.strip():
        raise GitError(f"session {ref.name}: a commit message is required")
    wt = _open_worktree(ref)
    _require_on_branch(wt, ref)
    head = wt.head.peel(pygit2.Commit)
    status = _worktree_status(wt, ref)
    tree_id = _stage_all_in_memory(wt, ref, status)[1] if status else head.tree_id
    if tree_id == head.tree_id:
        raise GitError(f"session {ref.name}: nothing to commit in {ref.worktree}")
    sig = _signature(wt)
    commit_id = wt.create_commit("HEAD", sig, sig, message, tree_id, [head.id])
    finish_commit(ref, str(commit_id))
    return str(commit_id)


def finish_commit(ref: SessionRef, commit_id: str) -> None:
    """Make the session's index equal the tree of `commit_id`, the tip of its branch.

    Idempotent: the second half of `commit_all`, to run again after a kill. When
    the branch has moved past `commit_id` since, the index belongs to whoever
    moved it and is left alone.
    """
    wt = _open_worktree(ref)
    _require_on_branch(wt, ref)
    if str(wt.head.target) != commit_id:
        return
    commit = resolve_commit(wt, commit_id, f"commit of session {ref.name}")
    _set_index_to_tree(wt, ref, commit.tree)


def predict_conflicts(ref: SessionRef) -> ConflictPrediction:
    """Which files would conflict if the session's branch were merged into its base now."""
    repo = open_main_repo(ref)
    base = resolve_commit(repo, ref.base, f"base of session {ref.name}")
    tip = branch_tip(repo, ref)
    files = _conflicting_files(repo, base, tip)
    return ConflictPrediction(files=files, clean=not files)


def plan_merge(
    ref: SessionRef,
    strategy: MergeStrategy,
    message: str | None = None,
    *,
    work_message: str | None,
) -> MergePlan:
    """Check a merge of the session into its base and write its commits, moving nothing.

    Uncommitted work in the session worktree (as `git add -A` would stage it) is
    committed as an object only, with `work_message`, and merged with the rest;
    with `work_message=None` it is left out and stays in the worktree.
    Refused (GitError) when the base is not a local branch, nothing is new, a
    fast-forward is impossible, files would conflict, or the checkout of the base
    is mid-merge or has local changes to a path the merge writes. Whatever the
    outcome, only new git objects are written: no ref, index or file changes.
    """
    repo = open_main_repo(ref)
    base_branch = repo.lookup_branch(ref.base)
    if base_branch is None:
        raise GitError(f"cannot merge session {ref.name}: base {ref.base!r} is not a local branch")
    base = base_branch.peel(pygit2.Commit)
    old_tip = branch_tip(repo, ref)
    tip = old_tip
    work_commit = work_index_tree = ""
    work = None if work_message is None else _session_work(ref, old_tip)
    if work is not None and work_message is not None:
        if not work_message.strip():
            raise GitError(f"session {ref.name}: a commit message is required")
        index_tree, tree_id = work
        sig = _signature(repo)
        work_id = repo.create_commit(None, sig, sig, work_message, tree_id, [old_tip.id])
        tip = repo[work_id].peel(pygit2.Commit)
        work_commit, work_index_tree = str(work_id), str(index_tree)
    if is_merged_into(repo, tip, base):
        raise GitError(
            f"nothing to merge: {ref.branch} (session {ref.name}) is already in {ref.base}"
        )

    if strategy is MergeStrategy.FF:
        if not repo.descendant_of(tip.id, base.id):
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
        # ref=None: the commit object only; `move_base` moves the branch later.
        new_id = repo.create_commit(None, sig, sig, text, tree_id, parents)

    new = repo[new_id].peel(pygit2.Commit)
    files = _changed_paths(repo, base.tree, new.tree)
    checkout = _checkout_of(repo, ref.base)
    kept_dirs: set[str] = set()
    if checkout is not None:
        _require_clean_checkout(checkout, ref, files)
        root = checkout.workdir or ""
        for path in files:
            folder = os.path.dirname(path)
            while folder and folder not in kept_dirs:
                if os.path.isdir(os.path.join(root, folder)):
                    kept_dirs.add(folder)
                folder = os.path.dirname(folder)
    return MergePlan(
        session=ref.name,
        repo=os.path.normpath(repo.workdir or repo.path),
        strategy=strategy,
        base=ref.base,
        old_base=str(base.id),
        new_base=str(new.id),
        session_old_tip=str(old_tip.id),
        work_commit=work_commit,
        work_index_tree=work_index_tree,
        files=files,
        checkout=os.path.normpath(checkout.workdir) if checkout and checkout.workdir else "",
        kept_dirs=sorted(kept_dirs),
    )


def commit_work(plan: MergePlan, ref: SessionRef) -> None:
    """Move the session branch to the plan's work commit and its index to that tree.

    Idempotent; nothing to do when the plan has no work commit. GitError when
    the branch is neither where the plan found it nor at the work commit.
    """
    if not plan.work_commit:
        return
    _require_same_session(plan, ref)
    wt = _open_worktree(ref)
    _require_on_branch(wt, ref)
    repo = open_main_repo(ref)
    reference = _branch_reference(repo, ref.branch, f"session {ref.name}")
    target = str(reference.target)
    if target == plan.session_old_tip:
        reference.set_target(pygit2.Oid(hex=plan.work_commit), f"ptui: work of session {ref.name}")
    elif target != plan.work_commit:
        raise GitError(f"cannot merge session {ref.name}: {ref.branch} moved meanwhile; try again")
    work = resolve_commit(repo, plan.work_commit, f"work commit of session {ref.name}")
    _set_index_to_tree(wt, ref, work.tree)


def undo_work(plan: MergePlan, ref: SessionRef) -> None:
    """Roll `commit_work` back: the branch to its old tip, the index as it was.

    Idempotent. The index is only rewritten while it still holds the work
    commit's tree (what `commit_work` left), so later staging is never undone.
    """
    if not plan.work_commit:
        return
    _require_same_session(plan, ref)
    repo = open_main_repo(ref)
    reference = _branch_reference(repo, ref.branch, f"session {ref.name}")
    target = str(reference.target)
    if target == plan.work_commit:
        reference.set_target(
            pygit2.Oid(hex=plan.session_old_tip), f"ptui: undo merge of session {ref.name}"
        )
    elif target != plan.session_old_tip:
        raise GitError(f"cannot undo the merge of session {ref.name}: {ref.branch} moved meanwhile")
    if not ref.worktree.is_dir():
        return
    wt = _open_worktree(ref)
    work = resolve_commit(repo, plan.work_commit, f"work commit of session {ref.name}")
    index = wt.index
    if index.conflicts is not None or index.write_tree() != work.tree_id:
        return
    if work.tree_id != pygit2.Oid(hex=plan.work_index_tree):
        old = repo[plan.work_index_tree].peel(pygit2.Tree)
        _set_index_to_tree(wt, ref, old)


def apply_checkout(plan: MergePlan, progress: Callable[[], None] | None = None) -> None:
    """Bring the merged paths of the base's checkout from the old base to the new one.

    Idempotent and resumable: each path must hold the old base's content, or the
    new base's already; any other (the user changed it) refuses the whole step
    before anything is written. `progress` is called after each path written.
    The checkout's index entries of those paths follow, in one write at the end.
    """
    if not plan.checkout:
        return
    co = _BaseCheckout(plan)
    if co.require_base() not in (plan.old_base, plan.new_base):
        raise GitError(
            f"cannot merge session {plan.session}: {plan.base} moved meanwhile; try again"
        )
    if co.repo.state() != RepositoryState.NONE:
        raise GitError(
            f"cannot merge session {plan.session}: {co.root} (which has {plan.base} "
            "checked out) is in the middle of a merge, rebase or cherry-pick"
        )
    co.clear_leftovers()
    index = co.repo.index
    pending: list[tuple[str, _Entry | None]] = []
    changed: list[str] = []
    for path in plan.files:
        old, new = co.entries(path)
        state = co.state(path, old, new)
        if state is None:
            changed.append(path)
            continue
        if state == "old":
            pending.append((path, new))
        if not (co.index_matches(index, path, old) or co.index_matches(index, path, new)):
            changed.append(path)
    if changed:
        raise GitError(
            f"cannot merge session {plan.session}: {co.root} ({plan.base}) has local "
            f"changes to {_listing(changed)}; commit or stash them first"
        )
    co.write_all(pending, progress)
    co.set_index_entries(index, [(path, co.entries(path)[1], True) for path in plan.files])


def undo_checkout(plan: MergePlan, progress: Callable[[], None] | None = None) -> None:
    """Put back the old base's content of every merged path that holds the new base's.

    Idempotent. Paths the user changed meanwhile (neither old nor new content) are
    left alone; index entries ptui wrote go back to the old base's. Refused once
    the base branch has moved: from there the merge can only be finished.
    """
    if not plan.checkout:
        return
    co = _BaseCheckout(plan)
    co.undoing = True
    if co.require_base() == plan.new_base:
        raise GitError(
            f"cannot undo the merge of session {plan.session}: {plan.base} already moved "
            "to the merge; it can only be finished"
        )
    co.clear_leftovers()
    index = co.repo.index
    pending: list[tuple[str, _Entry | None]] = []
    entries: list[tuple[str, _Entry | None, bool]] = []
    for path in plan.files:
        old, new = co.entries(path)
        state = co.state(path, old, new)
        if state == "new":
            pending.append((path, old))
        if co.index_matches(index, path, new) and not co.index_matches(index, path, old):
            entries.append((path, old, state is not None))
    co.write_all(pending, progress)
    co.set_index_entries(index, entries)


def move_base(plan: MergePlan) -> None:
    """Move `refs/heads/<base>` from the old base to the new one (idempotent)."""
    try:
        repo = pygit2.Repository(plan.repo)
    except pygit2.GitError as exc:
        raise GitError(f"session {plan.session}: {plan.repo} is not a git repository") from exc
    reference = _branch_reference(repo, plan.base, f"base of session {plan.session}")
    target = str(reference.target)
    if target == plan.new_base:
        return
    if target != plan.old_base:
        raise GitError(
            f"cannot merge session {plan.session}: {plan.base} moved meanwhile; try again"
        )
    reference.set_target(pygit2.Oid(hex=plan.new_base), f"ptui: merge session {plan.session}")


def merge_session(
    ref: SessionRef,
    strategy: MergeStrategy = MergeStrategy.MERGE,
    message: str | None = None,
    *,
    work_message: str | None = None,
) -> MergeResult:
    """Land the session's committed work on its base branch, in one call.

    With `work_message`, the worktree's uncommitted work is committed with it and
    merged too; without, it stays uncommitted in the worktree, as before.
    The steps of `plan_merge` in one go: refused with nothing changed when the
    plan is; when a later step fails, the earlier ones are undone before the
    GitError propagates. A kill midway is the journal's to finish or undo.
    """
    plan = plan_merge(ref, strategy, message, work_message=work_message)
    try:
        commit_work(plan, ref)
        apply_checkout(plan)
        move_base(plan)
    except GitError:
        undo_checkout(plan)
        undo_work(plan, ref)
        raise
    return MergeResult(
        strategy=strategy,
        base=plan.base,
        old_commit=plan.old_base,
        new_commit=plan.new_base,
        files=plan.files,
        checkout=Path(plan.checkout) if plan.checkout else None,
        committed=plan.work_commit,
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


# --- private: the session side ---


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


def _require_same_session(plan: MergePlan, ref: SessionRef) -> None:
    if plan.session != ref.name:
        raise GitError(f"merge plan of session {plan.session} given for session {ref.name}")


def _branch_reference(repo: pygit2.Repository, branch: str, what: str) -> pygit2.Reference:
    try:
        return repo.lookup_reference(f"refs/heads/{branch}")
    except (KeyError, pygit2.InvalidSpecError) as exc:
        raise GitError(f"{what}: branch {branch} does not exist") from exc


def _worktree_status(wt: pygit2.Repository, ref: SessionRef) -> dict[str, int]:
    try:
        # pygit2's status reads the index but never writes it back.
        return wt.status(untracked_files="all", ignored=False)
    except pygit2.GitError as exc:
        raise GitError(f"session {ref.name}: cannot read status of {ref.worktree}: {exc}") from exc


def _session_work(ref: SessionRef, tip: pygit2.Commit) -> tuple[pygit2.Oid, pygit2.Oid] | None:
    """(tree of the session's index, tree of all its work) when it has uncommitted work."""
    if not ref.worktree.is_dir():
        return None  # archived: only committed work is left to merge
    wt = _open_worktree(ref)
    status = _worktree_status(wt, ref)
    if not status:
        return None
    _require_on_branch(wt, ref)
    index_tree, tree_id = _stage_all_in_memory(wt, ref, status)
    # Staged and unstaged edits that cancel out leave nothing to commit.
    return None if tree_id == tip.tree_id else (index_tree, tree_id)


def _stage_all_in_memory(
    wt: pygit2.Repository, ref: SessionRef, status: Mapping[str, int]
) -> tuple[pygit2.Oid, pygit2.Oid]:
    """(tree of the index as it is, tree `git add -A` would make), the index file untouched.

    The index is copied into an `Index` with no file behind it and the changed
    paths are added there from the worktree: an agent's `git` never sees ptui.
    """
    real = wt.index
    if real.conflicts is not None:
        raise GitError(
            f"session {ref.name}: {ref.worktree} has unresolved conflicts in "
            f"{_listing(conflict_paths(real))}; resolve them first"
        )
    try:
        # Writes tree objects only; the index file is not rewritten.
        index_tree = real.write_tree()
    except pygit2.GitError as exc:
        raise GitError(
            f"session {ref.name}: cannot read the index of {ref.worktree}: {exc}"
        ) from exc
    staged = pygit2.Index()
    staged.read_tree(wt[index_tree].peel(pygit2.Tree))
    add_worktree_changes(wt, ref, staged, status)
    return index_tree, staged.write_tree(wt)


def add_worktree_changes(
    wt: pygit2.Repository, ref: SessionRef, index: pygit2.Index, paths: Iterable[str]
) -> None:
    """Put each of `paths` into the in-memory `index` as `git add -A` would take it
    from the session's worktree: content through the clean filters, links, exec bits
    (kept from the index under core.filemode=false), deletions. Nothing is written
    but blobs. Shared by the merge's work commit and the overlap/preview trees."""
    filemode = _config_bool(wt, "core.filemode", default=True)
    root = wt.workdir or str(ref.worktree)
    for path in paths:
        full = os.path.join(root, path)
        try:
            st = os.lstat(full)
        except (FileNotFoundError, NotADirectoryError):
            if path in index:
                index.remove(path)
            continue
        if stat.S_ISDIR(st.st_mode):
            # A submodule folder keeps its gitlink; a file replaced by a folder is gone
            # (the files inside it are listed on their own).
            if path in index and index[path].mode != FileMode.COMMIT:
                index.remove(path)
            continue
        try:
            if stat.S_ISLNK(st.st_mode):
                blob = wt.create_blob(os.readlink(os.fsencode(full)))
                mode = FileMode.LINK
            else:
                # fromworkdir applies the repository's clean filters, like `git add`.
                blob = wt.create_blob_fromworkdir(path)
                mode = FileMode.BLOB_EXECUTABLE if st.st_mode & stat.S_IXUSR else FileMode.BLOB
                if not filemode and path in index:
                    mode = index[path].mode  # core.filemode=false: git keeps the old bit
        except (OSError, pygit2.GitError) as exc:
            raise GitError(
                f"session {ref.name}: cannot read {path} in {ref.worktree}: {exc}"
            ) from exc
        index.add(pygit2.IndexEntry(path, blob, mode))


def _set_index_to_tree(wt: pygit2.Repository, ref: SessionRef, tree: pygit2.Tree) -> None:
    """Write the worktree's index to hold exactly `tree`, keeping file stats where it can.

    `read_tree` keeps the cached stat of entries that do not change; entries that do
    are re-read from their file when it holds the same content, so `git diff-files`
    and friends do not see every new entry as modified.
    """
    index = wt.index
    before = {entry.path: (entry.id, entry.mode) for entry in index}
    try:
        if index.conflicts is None and index.write_tree() == tree.id:
            return  # already there: a second run rewrites nothing
        index.read_tree(tree)
        fresh = [
            entry
            for entry in list(index)
            if before.get(entry.path) != (entry.id, entry.mode) and entry.mode != FileMode.COMMIT
        ]
        for entry in fresh:
            _add_entry(index, str(entry.path), entry.id, entry.mode, from_disk=True)
        index.write()
    except pygit2.GitError as exc:
        raise GitError(
            f"session {ref.name}: cannot write the index of {ref.worktree}: {exc}"
        ) from exc


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


# --- private: the base's checkout ---


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


def _require_clean_checkout(checkout: pygit2.Repository, ref: SessionRef, files: list[str]) -> None:
    """Refuse when the checkout of the base is mid-merge or has local work on `files`.

    Staged, unstaged, untracked or ignored content at a merged path is the user's
    work, and updating the checkout could clobber it.
    """
    where = checkout.workdir
    if checkout.state() != RepositoryState.NONE:
        raise GitError(
            f"cannot merge session {ref.name}: {where} (which has {ref.base} checked out) "
            "is in the middle of a merge, rebase or cherry-pick"
        )
    merged = frozenset(files)
    dirty = [path for path in files if _path_is_dirty(checkout, path, merged)]
    if dirty:
        raise GitError(
            f"cannot merge session {ref.name}: {where} has {ref.base} checked out with "
            f"local changes to {_listing(dirty)}; commit or stash them first"
        )


def _path_is_dirty(checkout: pygit2.Repository, path: str, files: frozenset[str]) -> bool:
    try:
        flags = checkout.status_file(path)
    except KeyError:
        return False  # neither on disk nor in the index: nothing to clobber
    except pygit2.GitError:
        # A folder where the merge puts a file is in the way only if it holds
        # something the merge does not remove itself.
        full = os.path.join(checkout.workdir or "", *path.split("/"))
        if os.path.isdir(full) and not os.path.islink(full):
            root = os.path.normpath(checkout.workdir or "")
            return any(
                os.path.relpath(item, root).replace(os.sep, "/") not in files
                for item in _walk_files(full)
            )
        return True
    return flags != FileStatus.CURRENT


def _listing(paths: list[str]) -> str:
    shown = ", ".join(paths[:_MAX_LISTED])
    more = len(paths) - _MAX_LISTED
    return f"{shown} and {more} more" if more > 0 else shown
