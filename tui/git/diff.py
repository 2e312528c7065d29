"""The diff model a side-by-side view renders: files, hunks and numbered lines.

A session's diff is taken against the merge-base of its HEAD and its base, and,
depending on the scope, covers committed work, uncommitted work (staged, unstaged
and untracked files) or both. Listing files only reads git's deltas; +/- counts are
computed in one pass on first use, and hunks and patch text per file on demand, so
a 1,000-file change is cheap to list. Nothing here writes to the worktree or its
index: untracked files show as added by diffing against the working directory.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property

import pygit2
from pygit2.enums import DiffFind, DiffOption

from tui.git.model import GitError, SessionRef
from tui.git.status import base_tip, head_commit, open_worktree

_WORKDIR_FLAGS = (
    DiffOption.INCLUDE_UNTRACKED
    | DiffOption.RECURSE_UNTRACKED_DIRS
    | DiffOption.SHOW_UNTRACKED_CONTENT
    | DiffOption.INCLUDE_TYPECHANGE
)
# Renames among committed files, and between a deleted file and an untracked one
# (an agent's plain `mv` without `git mv`).
_FIND = DiffFind.FIND_RENAMES | DiffFind.FIND_FOR_UNTRACKED
# libgit2's "\ No newline at end of file" markers; the view does not show them.
_EOF_ORIGINS = frozenset("=><")


class DiffScope(enum.Enum):
    """Which changes a session diff covers."""

    COMMITTED = "committed"
    UNCOMMITTED = "uncommitted"
    ALL = "all"


@dataclass(frozen=True)
class DiffLine:
    """One line of a hunk: origin is '+', '-' or ' '; numbers are None where absent."""

    origin: str
    old_lineno: int | None
    new_lineno: int | None
    text: str


@dataclass(frozen=True)
class Hunk:
    """A hunk with its `@@` header and its lines."""

    header: str
    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    lines: list[DiffLine]


@dataclass(frozen=True)
class DiffStat:
    """Totals over a diff, as `git diff --stat` prints in its last line."""

    files_changed: int
    insertions: int
    deletions: int

    def summary(self) -> str:
        """`N files changed, I insertions(+), D deletions(-)` in git's wording."""
        files = f"{self.files_changed} file{'s' if self.files_changed != 1 else ''} changed"
        parts = [files]
        if self.insertions or not self.deletions:
            plural = "s" if self.insertions != 1 else ""
            parts.append(f"{self.insertions} insertion{plural}(+)")
        if self.deletions or not self.insertions:
            plural = "s" if self.deletions != 1 else ""
            parts.append(f"{self.deletions} deletion{plural}(-)")
        return ", ".join(parts)


class _PatchSource:
    """Holds the pygit2 diff; computes counts in one pass and patches per file, lazily."""

    def __init__(self, diff: pygit2.Diff) -> None:
        self.diff = diff
        self._counts: list[tuple[int, int, bool]] | None = None

    def counts(self) -> list[tuple[int, int, bool]]:
        """(added, removed, binary) per delta, computed once for all files."""
        if self._counts is None:
            counts: list[tuple[int, int, bool]] = []
            for patch in self.diff:
                if patch is None:
                    counts.append((0, 0, False))
                    continue
                _, added, removed = patch.line_stats
                counts.append((added, removed, bool(patch.delta.is_binary)))
            self._counts = counts
        return self._counts

    def patch(self, index: int) -> pygit2.Patch | None:
        return self.diff[index]


@dataclass(eq=False)
class FileDiff:
    """One changed file. `status` is git's letter: A, M, D, R, T (untracked shows as A)."""

    path: str
    old_path: str | None
    """The previous path for a rename, else None."""
    status: str
    _source: _PatchSource = field(repr=False)
    _index: int = field(repr=False)

    @property
    def added(self) -> int:
        """Lines added (0 for binary files)."""
        return self._source.counts()[self._index][0]

    @property
    def removed(self) -> int:
        """Lines removed (0 for binary files)."""
        return self._source.counts()[self._index][1]

    @property
    def binary(self) -> bool:
        """True if git treats either side as binary (no lines to show)."""
        return self._source.counts()[self._index][2]

    @cached_property
    def _hunks(self) -> list[Hunk]:
        patch = self._source.patch(self._index)
        if patch is None:
            return []
        hunks: list[Hunk] = []
        for hunk in patch.hunks:
            lines = [
                DiffLine(
                    origin=line.origin,
                    old_lineno=line.old_lineno if line.old_lineno >= 0 else None,
                    new_lineno=line.new_lineno if line.new_lineno >= 0 else None,
                    text=line.raw_content.decode("utf-8", "replace").rstrip("\n"),
                )
                for line in hunk.lines
                if line.origin not in _EOF_ORIGINS
            ]
            hunks.append(
                Hunk(
                    header=hunk.header.rstrip("\n"),
                    old_start=hunk.old_start,
                    old_lines=hunk.old_lines,
                    new_start=hunk.new_start,
                    new_lines=hunk.new_lines,
                    lines=lines,
                )
            )
        return hunks

    def hunks(self) -> list[Hunk]:
        """The file's hunks, computed on first call."""
        return self._hunks

    def patch_text(self) -> str:
        """The file's patch in `git diff` format, computed on each call."""
        patch = self._source.patch(self._index)
        return "" if patch is None else patch.text or ""

    @property
    def display_path(self) -> str:
        """`old => new` for renames, else the path."""
        return f"{self.old_path} => {self.path}" if self.old_path else self.path


@dataclass
class DiffModel:
    """A session's changes: the files, totals, and a `git diff --stat` style text."""

    files: list[FileDiff]
    scope: DiffScope
    merge_base: str
    """The commit the diff is taken from (the worktree's HEAD for UNCOMMITTED)."""

    @property
    def stat(self) -> DiffStat:
        """Totals; computes line counts for all files on first use."""
        return DiffStat(
            files_changed=len(self.files),
            insertions=sum(f.added for f in self.files),
            deletions=sum(f.removed for f in self.files),
        )

    @property
    def files_changed(self) -> int:
        return len(self.files)

    @property
    def insertions(self) -> int:
        return self.stat.insertions

    @property
    def deletions(self) -> int:
        return self.stat.deletions

    def stat_text(self, width: int = 80) -> str:
        """The change as `git diff --stat` shows it: one line per file, then totals."""
        if not self.files:
            return ""
        names = [f.display_path for f in self.files]
        changes = [f.added + f.removed for f in self.files]
        count_width = max(len(str(max(changes))), 3)
        name_width = min(max(len(n) for n in names), max(width // 2, 20))
        graph_width = max(width - name_width - count_width - 6, 10)
        biggest = max(changes)
        lines: list[str] = []
        for file, name, total in zip(self.files, names, changes, strict=True):
            if len(name) > name_width:
                name = "..." + name[-(name_width - 3) :]
            if file.binary:
                lines.append(f" {name:<{name_width}} | {'Bin':>{count_width}}")
                continue
            plus, minus = file.added, file.removed
            if biggest > graph_width:
                # Scale like git: every non-zero side keeps at least one mark.
                plus = max(1, plus * graph_width // biggest) if plus else 0
                minus = max(1, minus * graph_width // biggest) if minus else 0
            graph = "+" * plus + "-" * minus
            lines.append(f" {name:<{name_width}} | {total:>{count_width}} {graph}".rstrip())
        lines.append(" " + self.stat.summary())
        return "\n".join(lines)


def _build_diff(
    repo: pygit2.Repository, scope: DiffScope, merge_base: pygit2.Commit, tip: pygit2.Commit
) -> pygit2.Diff:
    if scope is DiffScope.COMMITTED:
        return merge_base.tree.diff_to_tree(tip.tree)
    start = tip.tree if scope is DiffScope.UNCOMMITTED else merge_base.tree
    # tree -> index, then index -> workdir (the index's stat data spares hashing every
    # file, unlike a direct tree -> workdir diff); neither writes the index.
    # Both sides need the untracked flags: merge() drops deltas the target diff's own
    # options would skip. pygit2 1.21's Tree.diff_to_index ignores `flags=` given by
    # keyword, so it is passed by position.
    index = repo.index
    diff = start.diff_to_index(index, _WORKDIR_FLAGS)
    diff.merge(index.diff_to_workdir(_WORKDIR_FLAGS))
    return diff


def session_diff(ref: SessionRef, scope: DiffScope = DiffScope.ALL) -> DiffModel:
    """The session's changes against the merge-base with its base, in `scope`."""
    repo = open_worktree(ref)
    tip = head_commit(repo, ref)
    if scope is DiffScope.UNCOMMITTED:
        start = tip
    else:
        base = base_tip(repo, ref)
        merge_base_id = repo.merge_base(tip.id, base.id)
        if merge_base_id is None:
            raise GitError(f"session {ref.name!r}: no history in common with base {ref.base!r}")
        start = repo[merge_base_id].peel(pygit2.Commit)
    try:
        diff = _build_diff(repo, scope, start, tip)
        diff.find_similar(_FIND)
    except (pygit2.GitError, OSError) as exc:
        raise GitError(f"session {ref.name!r}: cannot diff {ref.worktree}: {exc}") from None
    source = _PatchSource(diff)
    files: list[FileDiff] = []
    for index, delta in enumerate(diff.deltas):
        char = delta.status_char()
        status = "A" if char == "?" else char
        renamed = status == "R" and delta.old_file.path != delta.new_file.path
        path = delta.old_file.path if status == "D" else delta.new_file.path
        files.append(
            FileDiff(
                path=path,
                old_path=delta.old_file.path if renamed else None,
                status=status,
                _source=source,
                _index=index,
            )
        )
    return DiffModel(files=files, scope=scope, merge_base=str(start.id))
