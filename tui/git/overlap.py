"""Which live sessions touch the same files, and whether merging both would conflict.

Each session's work (its commits plus whatever is uncommitted in its worktree) is
turned into a tree in memory: an `Index` with no file behind it, filled from the
branch tip and the worktree files, then written as tree objects. The session's own
index file and working tree are only ever read, so an agent's `git` never sees us.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import pygit2

from tui.git.merge import (
    add_worktree_changes,
    branch_tip,
    conflict_paths,
    empty_tree,
    open_main_repo,
    resolve_commit,
)
from tui.git.model import GitError, SessionRef

__all__ = ["Overlap", "session_overlaps"]


@dataclass
class Overlap:
    """Two sessions (by name) that changed the same files; `conflicts` ⊆ those files."""

    a: str
    b: str
    files: list[str]
    conflicts: list[str]


@dataclass
class _Work:
    """One session's effective state: its tip and the tree of tip + uncommitted work."""

    ref: SessionRef
    tip: pygit2.Commit
    tree: pygit2.Tree
    changed: frozenset[str]


def session_overlaps(refs: Sequence[SessionRef]) -> list[Overlap]:
    """For every pair of sessions of the same repository, the files both changed.

    A session's changes are its committed and uncommitted work against its merge
    base with its base. Pairs with no common file are left out. Sessions whose
    worktree is gone (archived) count with their committed work only.
    """
    repos: dict[str, pygit2.Repository] = {}
    works: list[tuple[str, _Work]] = []
    for ref in refs:
        key = os.path.realpath(ref.repo)
        repo = repos.get(key)
        if repo is None:
            repo = repos[key] = open_main_repo(ref)
        works.append((key, _session_work(repo, ref)))

    overlaps: list[Overlap] = []
    for (key_a, a), (key_b, b) in combinations(works, 2):
        if key_a != key_b:
            continue
        files = sorted(a.changed & b.changed)
        if not files:
            continue
        repo = repos[key_a]
        overlaps.append(
            Overlap(a=a.ref.name, b=b.ref.name, files=files, conflicts=_conflicts(repo, a, b))
        )
    return overlaps


def _session_work(repo: pygit2.Repository, ref: SessionRef) -> _Work:
    tip = branch_tip(repo, ref)
    base = resolve_commit(repo, ref.base, f"base of session {ref.name}")
    tree = tip.tree
    if ref.worktree.is_dir():
        tree = _worktree_tree(repo, ref, tip)
    mb_id = repo.merge_base(tip.id, base.id)
    start = repo[mb_id].peel(pygit2.Tree) if mb_id else empty_tree(repo)
    changed: set[str] = set()
    for delta in start.diff_to_tree(tree).deltas:
        changed.add(delta.old_file.path)
        changed.add(delta.new_file.path)
    return _Work(ref=ref, tip=tip, tree=tree, changed=frozenset(changed))


def _worktree_tree(repo: pygit2.Repository, ref: SessionRef, tip: pygit2.Commit) -> pygit2.Tree:
    """The tree the worktree would commit with `git add -A`, built without its index."""
    try:
        wt = pygit2.Repository(str(ref.worktree))
        # pygit2's status reads the index but never writes it back.
        status = wt.status(untracked_files="all", ignored=False)
    except pygit2.GitError as exc:
        raise GitError(f"session {ref.name}: cannot read worktree {ref.worktree}: {exc}") from exc
    head = tip if wt.head_is_unborn else wt.head.peel(pygit2.Commit)
    index = pygit2.Index()  # in memory: no file behind it, nothing written to disk
    index.read_tree(head.tree)
    add_worktree_changes(wt, ref, index, status)
    return repo[index.write_tree(repo)].peel(pygit2.Tree)


def _conflicts(repo: pygit2.Repository, a: _Work, b: _Work) -> list[str]:
    ancestor_id = repo.merge_base(a.tip.id, b.tip.id)
    ancestor = repo[ancestor_id].peel(pygit2.Tree) if ancestor_id else empty_tree(repo)
    return conflict_paths(repo.merge_trees(ancestor, a.tree, b.tree))
