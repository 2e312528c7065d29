"""Archive a session without losing a byte, restore it, delete it, prune dead worktrees,
and say where a session's work is (`archive_status`) and what deleting it would lose
(`work_at_risk`).

Archiving and restoring are steps a journal can run, each safe to run again
after a kill -9 at any instant:

1. `snapshot_session` takes an inventory of every entry in the worktree and
   saves each one; the worktree is not touched:
   - tracked and untracked (not ignored) files, symlinks and folders go into a
     *snapshot commit* under `refs/ptui/archive/<name>`, built in memory from the
     bytes on disk (no clean filters, no use of the worktree's index). Its parents
     are, like `git stash -u`: the HEAD commit, a commit of the index tree (so
     staged-vs-unstaged survives) and a parentless commit holding `manifest.json`:
     every entry's path, kind, exact permission bits and blob id, which also keeps
     empty folders and modes git cannot hold;
   - ignored files, and nested repositories whole, go into a 0600 tar file under
     the caller's `archive_dir`.
   The tar, objects and ref are fsynced and read back, and a second scan of the
   worktree must match what was saved. A half-made snapshot from an interrupted
   attempt is discarded first (`discard_snapshot` undoes this step).
2. `remove_worktree` removes only what the snapshot holds identically, so a late
   write by an editor or a dev server is never lost. Deepest first, each entry is
   renamed into a quarantine folder inside the worktree (`.ptui-removing/`, same
   filesystem: a writer that re-creates the path makes a new file, seen later) and
   checked there (kind, permission bits, blob id); folders are rmdir'ed, never
   deleted recursively. Only when every entry passed and nothing else is left in
   the worktree are the quarantined entries unlinked, then the `.git` file, the
   folder, and last git's admin folder (the point of no return). Anything the
   snapshot does not hold puts everything back where it was (from the quarantine,
   or from the archive for what was already unlinked; never over a path a writer
   took meanwhile: such a copy comes back as `<name>.ptui-kept`) and raises
   `WorktreeChanged`; the caller then discards the snapshot. The branch is kept.
3. `restore_files` rebuilds the worktree in a private staging folder beside it,
   checks it against the manifest, syncs it, and renames it into place, as `git
   worktree move` would; `drop_archive` then deletes the ref and the tar.

`archive_session` and `restore_session` run those steps in one call.

What does not come back: file mtimes outside the tar, hard links between
non-ignored files (restored as separate copies), and sockets (nothing to save).
When the index had unresolved conflicts it cannot be written as a tree; it then
comes back equal to HEAD, i.e. all work shows as unstaged. A writer that holds a
file open across its removal and writes to it after the last check can still
lose that write: stop the session's processes before archiving.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import shutil
import stat
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import pygit2
from pygit2.enums import FileMode, RepositoryState, SortMode

from tui.git.merge import branch_tip, is_merged_into, resolve_commit, signature
from tui.git.model import GitError, SessionRef
from tui.git.names import validate_name
from tui.git.repo import common_dir, open_repo
from tui.git.worktree import ADMIN_PREFIX, admin_name

__all__ = [
    "QUARANTINE",
    "ArchivePlan",
    "ArchiveResult",
    "ArchiveStatus",
    "WorktreeChanged",
    "archive_plan",
    "archive_ref_name",
    "archive_session",
    "archive_status",
    "delete_session",
    "discard_snapshot",
    "drop_archive",
    "prune_worktrees",
    "remove_worktree",
    "restore_files",
    "restore_session",
    "snapshot_session",
    "work_at_risk",
]

QUARANTINE = ".ptui-removing"
"""The folder inside a worktree that entries are moved into while it is removed."""

_RESTORING_SUFFIX = ".ptui-restoring"
_KEPT_SUFFIX = ".ptui-kept"
_MANIFEST_VERSION = 1
_MANIFEST_FILE = "manifest.json"
_CHUNK = 1 << 20
_MAX_LISTED = 5

Kind = Literal["file", "link", "dir", "other"]
Dest = Literal["snapshot", "tar"]
Progress = Callable[[], None]
# (inode, size, mtime, ctime, mode) of a checked entry: any write or chmod changes it.
_Stamp = tuple[int, int, int, int, int]


class WorktreeChanged(GitError):
    """Removal found something the snapshot does not hold; the worktree was put back whole."""


@dataclass
class ArchivePlan:
    """What archiving a session will save, for the UI to show before it happens.

    `uncommitted`: paths that differ from HEAD (staged, unstaged, untracked);
    `ignored`: what goes to the tar (folders end in `/`); `empty_dirs`: folders
    kept through the manifest.
    """

    session: str
    worktree: Path
    ref_name: str
    uncommitted: list[str]
    ignored: list[str]
    empty_dirs: list[str]


@dataclass
class ArchiveResult:
    """Where an archive went: the snapshot ref and commit and the ignored-files tar."""

    ref_name: str
    commit: str
    ignored_archive: Path | None
    files_saved: int
    ignored_saved: int


@dataclass
class ArchiveStatus:
    """Where a session's work is on disk, for recovery and `ptui doctor`.

    `tar`: the archive's tar if it is on disk (without a ref: a leftover of an
    interrupted snapshot); `registered`: git's admin folder for the worktree is
    there; `quarantine`: a removal was interrupted; `staging`: a restore was.
    """

    has_ref: bool
    tar: Path | None
    worktree_exists: bool
    registered: bool
    quarantine: bool
    staging: bool


@dataclass
class _Entry:
    """One thing in the worktree: kind, exact permission bits, where it is saved, content id."""

    path: str
    kind: Kind
    perm: int
    dest: Dest
    digest: str = ""  # git blob id of the content (file bytes or link target)

    def key(self) -> tuple[str, str, int, str]:
        return (self.path, self.kind, self.perm, self.digest)


@dataclass
class _Inventory:
    root_perm: int
    entries: list[_Entry] = field(default_factory=list)


class _Changed(Exception):
    """Removal met something the snapshot does not hold (internal; becomes WorktreeChanged)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def archive_ref_name(name: str) -> str:
    """The ref that holds session `name`'s snapshot commit."""
    return f"refs/ptui/archive/{validate_name(name)}"


def archive_plan(ref: SessionRef, archive_dir: Path) -> ArchivePlan:
    """List what `snapshot_session` would save, or raise the GitError it would raise."""
    _repo, wt = _open_for_archive(ref)
    inventory = _scan(wt, ref, hash_all=False)
    try:
        status = wt.status(untracked_files="all", ignored=False)  # read-only in pygit2
    except pygit2.GitError as exc:
        raise GitError(f"session {ref.name}: cannot read status of {ref.worktree}: {exc}") from exc
    uncommitted = set(status)
    # Files status cannot see (e.g. inside an uninitialised submodule folder) are
    # still saved; list them too so the plan shows everything that will be kept.
    head_tree = wt.head.peel(pygit2.Commit).tree
    uncommitted.update(
        e.path
        for e in inventory.entries
        if e.dest == "snapshot" and e.kind != "dir" and e.path not in head_tree
    )
    tar_dirs = {e.path for e in inventory.entries if e.dest == "tar" and e.kind == "dir"}
    ignored = [
        e.path + ("/" if e.kind == "dir" else "")
        for e in inventory.entries
        if e.dest == "tar" and _parent(e.path) not in tar_dirs
    ]
    return ArchivePlan(
        session=ref.name,
        worktree=ref.worktree,
        ref_name=archive_ref_name(ref.name),
        uncommitted=sorted(uncommitted),
        ignored=ignored,
        empty_dirs=_empty_dirs(inventory),
    )


# --- archive: snapshot, then remove (or discard) ---


def snapshot_session(
    ref: SessionRef, archive_dir: Path, *, tar_name: str | None = None
) -> ArchiveResult:
    """Save everything uncommitted and ignored under the archive ref; the worktree stays.

    `tar_name` is the tar's file name in `archive_dir` (default
    `<name>.<time_ns>.tar`), so a caller can journal it before it is written. A ref
    or tar left by an interrupted attempt is discarded first: this step runs only
    while the worktree is whole. On failure nothing is left behind.
    """
    repo, wt = _open_for_archive(ref)
    archive_dir = Path(archive_dir)
    name = _check_tar_name(ref, tar_name) if tar_name is not None else None
    name = name or f"{ref.name}.{time.time_ns()}.tar"
    _delete_archive(repo, ref, archive_dir, extra_tar=name)
    ref_name = archive_ref_name(ref.name)
    tar_path: Path | None = None
    tar_sha = ""
    created_ref = False
    try:
        inventory = _scan(wt, ref, hash_all=False)
        tar_entries = [e for e in inventory.entries if e.dest == "tar"]
        if tar_entries:
            tar_path = archive_dir / name
            tar_sha = _write_tar(ref, tar_path, tar_entries)
        commit_id, written = _write_snapshot(repo, wt, ref, inventory, tar_path, tar_sha)
        _fsync_objects(repo, written)
        repo.references.create(ref_name, commit_id)
        created_ref = True
        _fsync_ref(repo, ref_name)
        _verify_snapshot(ref, ref_name, inventory)
        # Last look: the disk must still be what was saved.
        again = _scan(wt, ref, hash_all=True)
        if _keys(again) != _keys(inventory) or again.root_perm != inventory.root_perm:
            changed = _first_difference(inventory, again)
            raise GitError(
                f"session {ref.name}: {changed} changed while archiving; nothing was removed"
            )
    except BaseException as exc:
        # The worktree is untouched, so this half-made archive is only a copy.
        if created_ref:
            with contextlib.suppress(KeyError, pygit2.GitError):
                repo.references.delete(ref_name)
        if tar_path is not None:
            tar_path.unlink(missing_ok=True)
        inside = str(ref.worktree) + os.sep
        if isinstance(exc, FileNotFoundError | NotADirectoryError) and str(exc.filename).startswith(
            inside
        ):
            # Renamed or deleted while it was being saved: something is writing there.
            changed = _shown(str(exc.filename).removeprefix(inside))
            raise GitError(
                f"session {ref.name}: {changed} changed while archiving; nothing was removed"
            ) from exc
        raise
    return ArchiveResult(
        ref_name=ref_name,
        commit=str(commit_id),
        ignored_archive=tar_path,
        files_saved=sum(1 for e in inventory.entries if e.dest == "snapshot" and e.kind != "dir"),
        ignored_saved=sum(1 for e in tar_entries if e.kind != "dir"),
    )


def discard_snapshot(ref: SessionRef, archive_dir: Path, *, tar_name: str | None = None) -> None:
    """Delete the archive ref and its tar (and leftovers of interrupted snapshots).

    For a worktree that is whole: refused while a removal is half done, since the
    archive may then hold the only copy. `tar_name` names a journaled tar that may
    have been written before the ref. Nothing there is not an error.
    """
    repo = _main_repo(ref)
    if os.path.lexists(_quarantine(ref)) or not (ref.worktree / ".git").is_file():
        if _archive_pieces(repo, ref, Path(archive_dir), tar_name):
            raise GitError(
                f"cannot discard the archive of session {ref.name}: its worktree "
                f"{ref.worktree} is not whole, and the archive may hold the only copy"
            )
        return
    _delete_archive(repo, ref, Path(archive_dir), extra_tar=tar_name)


def remove_worktree(ref: SessionRef, archive_dir: Path, progress: Progress | None = None) -> None:
    """Remove the worktree, deleting only entries the snapshot holds identically.

    `progress()` is called after each entry moved out of the worktree and after each
    quarantined entry deleted. Safe to call again after a kill at any point. If
    anything is not what the snapshot holds, everything is put back and
    WorktreeChanged is raised: the caller then discards the snapshot.
    """
    repo = _main_repo(ref)
    root = ref.worktree
    admin_dir = _admin_dir(repo, ref)
    if not os.path.lexists(root):
        _prune_admin(repo, ref)
        return
    if os.path.islink(root) or not os.path.isdir(root):
        raise GitError(f"cannot remove the worktree of session {ref.name}: {root} is not a folder")
    git_file = root / ".git"
    if not admin_dir.is_dir():
        if os.path.lexists(git_file):
            raise GitError(
                f"cannot remove the worktree of session {ref.name}: {root} is not registered "
                f"as worktree {admin_name(ref.name)}; nothing was removed"
            )
        _clean_unregistered(repo, ref)
        return
    if (admin_dir / "locked").exists():
        raise GitError(
            f"cannot remove the worktree of session {ref.name}: worktree {root} is locked"
        )
    git_text: str | None = None
    if os.path.lexists(git_file):
        git_text = _our_git_file(ref, git_file, admin_dir)
    snapshot = _archive_commit(repo, ref)
    manifest = _read_manifest(repo, ref, snapshot)
    tar_path = _manifest_tar(ref, manifest, Path(archive_dir), "remove the worktree of")
    removal = _Removal(repo, ref, snapshot, _manifest_inventory(manifest), tar_path, git_text)
    removal.run(progress or _no_progress)
    _prune_admin(repo, ref)


def archive_session(ref: SessionRef, archive_dir: Path) -> ArchiveResult:
    """Save everything uncommitted and ignored, then remove the worktree (branch kept).

    If the worktree changed meanwhile it is left whole, the snapshot is discarded
    and WorktreeChanged is raised.
    """
    result = snapshot_session(ref, archive_dir)
    try:
        remove_worktree(ref, archive_dir)
    except WorktreeChanged:
        discard_snapshot(ref, archive_dir)
        raise
    return result


# --- restore: files into place, then drop the archive ---


def restore_files(ref: SessionRef, archive_dir: Path, progress: Progress | None = None) -> None:
    """Bring an archived session's worktree back: same path, admin `ptui-<name>`, its branch.

    Files come back byte for byte with their permission bits, ignored files too, and
    the index as it was archived. They are written into a staging folder beside the
    worktree, checked against the manifest and synced, then renamed into place.
    `progress()` is called after each file written. Safe to call again after a kill
    at any point; the archive itself is left alone (`drop_archive` removes it).
    """
    repo = _main_repo(ref)
    snapshot = _archive_commit(repo, ref)
    manifest = _read_manifest(repo, ref, snapshot)
    inventory = _manifest_inventory(manifest)
    admin_dir = _admin_dir(repo, ref)
    staging = _staging(ref)
    tick = progress or _no_progress
    if os.path.lexists(ref.worktree):
        if _is_moved_restore(ref, admin_dir, staging):
            _point_admin_at(admin_dir, ref.worktree)
            problem = _differs_from_manifest(ref, ref.worktree, inventory)
            if problem is None:
                return
            raise GitError(
                f"cannot restore session {ref.name}: {ref.worktree} is registered, but "
                f"{problem} is not as archived"
            )
        raise GitError(f"cannot restore session {ref.name}: {ref.worktree} already exists")
    tar_path = _manifest_tar(ref, manifest, Path(archive_dir), "restore")
    _clear_half_restore(repo, ref, admin_dir, staging)
    try:
        branch = repo.lookup_branch(ref.branch)
        if branch is None:  # deleted meanwhile: the snapshot's HEAD is where it was
            branch = repo.create_branch(
                ref.branch, repo[snapshot.parent_ids[0]].peel(pygit2.Commit)
            )
        ref.worktree.parent.mkdir(parents=True, exist_ok=True)
        repo.add_worktree(admin_name(ref.name), str(staging), branch)
        wt = pygit2.Repository(str(staging))
        _clear_checkout(staging)
        _write_snapshot_files(repo, staging, snapshot.tree, inventory, tick)
        if tar_path is not None:
            _extract_tar(tar_path, staging, tick)
        _apply_perms(staging, inventory)
        index_tree = repo[snapshot.parent_ids[1]].peel(pygit2.Commit).tree
        index = wt.index
        index.read_tree(index_tree)
        index.write()
        problem = _differs_from_manifest(ref, staging, inventory, wt)
        if problem is not None:
            raise GitError(f"cannot restore session {ref.name}: {problem} did not come back")
        os.sync()  # everything restored is on disk before it is moved into place
        if os.path.lexists(ref.worktree):
            raise GitError(f"cannot restore session {ref.name}: {ref.worktree} already exists")
        os.rename(staging, ref.worktree)  # the last thing undone on failure
    except BaseException as exc:
        with contextlib.suppress(OSError, GitError, pygit2.GitError):
            _clear_half_restore(repo, ref, admin_dir, staging)
        if isinstance(exc, OSError | pygit2.GitError):
            raise GitError(f"cannot restore session {ref.name} at {ref.worktree}: {exc}") from exc
        raise
    _fsync_dir(ref.worktree.parent)
    tick()  # the worktree is in place; git's record of it follows
    _point_admin_at(admin_dir, ref.worktree)


def drop_archive(ref: SessionRef, archive_dir: Path) -> None:
    """Delete the archive ref and its tar once `restore_files` put the worktree back.

    Refused while the worktree is not restored (the archive would be the only copy).
    Nothing there is not an error.
    """
    repo = _main_repo(ref)
    if not _archive_pieces(repo, ref, Path(archive_dir), None):
        return
    admin_dir = _admin_dir(repo, ref)
    if os.path.lexists(_quarantine(ref)) or not _is_registered_at(ref, admin_dir, ref.worktree):
        raise GitError(
            f"cannot drop the archive of session {ref.name}: its worktree {ref.worktree} "
            "is not restored"
        )
    _delete_archive(repo, ref, Path(archive_dir), extra_tar=None)


def restore_session(ref: SessionRef, archive_dir: Path) -> SessionRef:
    """Bring an archived session back (`restore_files`), then drop its archive.

    The archive is dropped only after the restored worktree has been checked
    against the manifest and synced to disk.
    """
    restore_files(ref, archive_dir)
    drop_archive(ref, archive_dir)
    return ref


# --- status, risk, delete, prune ---


def archive_status(ref: SessionRef, archive_dir: Path) -> ArchiveStatus:
    """Where the session's work is: archive ref and tar, worktree, half-done steps."""
    repo = _main_repo(ref)
    has_ref = archive_ref_name(ref.name) in repo.references
    tar: Path | None = None
    if has_ref:
        named = _named_tar(repo, ref)
        if named and (Path(archive_dir) / named).is_file():
            tar = Path(archive_dir) / named
    else:
        leftovers = _leftover_tars(ref, Path(archive_dir))
        tar = leftovers[0] if leftovers else None
    return ArchiveStatus(
        has_ref=has_ref,
        tar=tar,
        worktree_exists=os.path.lexists(ref.worktree),
        registered=_admin_dir(repo, ref).is_dir(),
        quarantine=os.path.lexists(_quarantine(ref)),
        staging=os.path.lexists(_staging(ref)),
    )


def work_at_risk(ref: SessionRef, archive_dir: Path) -> list[str]:
    """What deleting this session's branch and archive would lose that its base lacks.

    One line per kind of work: commits on the branch, archived commits the branch
    no longer has, and archived uncommitted files (ignored files do not count).
    Empty when everything is merged and nothing was uncommitted.
    """
    repo = _main_repo(ref)
    base, base_label = _risk_base(repo, ref)
    lines: list[str] = []
    branch = repo.lookup_branch(ref.branch)
    tip = branch_tip(repo, ref) if branch is not None else None
    if tip is not None and not is_merged_into(repo, tip, base):
        count = _count_commits(repo, tip, [base])
        lines.append(f"{_plural(count, 'commit')} on {ref.branch} not in {base_label}")
    if archive_ref_name(ref.name) not in repo.references:
        return lines
    snapshot = _archive_commit(repo, ref)
    head = repo[snapshot.parent_ids[0]].peel(pygit2.Commit)
    on_branch = tip is not None and (head.id == tip.id or repo.descendant_of(tip.id, head.id))
    if not on_branch and not is_merged_into(repo, head, base):
        hide = [base] if tip is None else [base, tip]
        count = _count_commits(repo, head, hide)
        where = f"not on {ref.branch} or in" if tip is not None else "not in"
        lines.append(f"archived: {_plural(count, 'commit')} {where} {base_label}")
    index_tree = repo[snapshot.parent_ids[1]].peel(pygit2.Commit).tree
    changed: set[str] = set()
    for tree in (snapshot.tree, index_tree):
        for delta in head.tree.diff_to_tree(tree).deltas:
            changed.update((delta.old_file.path, delta.new_file.path))
    if changed:
        listed = _listing(sorted(changed))
        lines.append(f"archived: {_plural(len(changed), 'uncommitted file')} ({listed})")
    return lines


def delete_session(ref: SessionRef, archive_dir: Path) -> None:
    """Delete the session's branch and archive, only if merged into base or archived.

    Refused while the worktree exists (archive it first: that saves its files).
    """
    repo = _main_repo(ref)
    ref_name = archive_ref_name(ref.name)
    admin = admin_name(ref.name)
    if os.path.lexists(ref.worktree) or (
        admin in repo.list_worktrees() and not repo.lookup_worktree(admin).is_prunable
    ):
        raise GitError(
            f"cannot delete session {ref.name}: its worktree {ref.worktree} is still there; "
            "archive it first"
        )
    archived = ref_name in repo.references
    branch = repo.lookup_branch(ref.branch)
    if branch is None and not archived:
        raise GitError(f"cannot delete session {ref.name}: no branch {ref.branch} and no archive")
    if not archived:
        assert branch is not None
        base = resolve_commit(repo, ref.base, f"cannot delete session {ref.name}: base")
        if not is_merged_into(repo, branch_tip(repo, ref), base):
            raise GitError(
                f"cannot delete session {ref.name}: {ref.branch} has work not merged into "
                f"{ref.base} and no archive; merge or archive it first"
            )
    tar_path: Path | None = None
    if archived:
        manifest = _read_manifest(repo, ref, _archive_commit(repo, ref))
        if manifest.get("tar"):
            tar_path = Path(archive_dir) / str(manifest["tar"])
    if branch is not None:
        try:
            branch.delete()
        except pygit2.GitError as exc:
            raise GitError(f"cannot delete session {ref.name}: branch {ref.branch}: {exc}") from exc
    if archived:
        repo.references.delete(ref_name)
    if tar_path is not None:
        tar_path.unlink(missing_ok=True)
    if admin in repo.list_worktrees():
        repo.lookup_worktree(admin).prune(False)


def prune_worktrees(repo_path: Path) -> list[str]:
    """Drop git's record of ptui worktrees (admin name `ptui-*`) whose folder is gone.

    Returns the admin names pruned. Locked worktrees and other tools' are left alone.
    """
    repo = open_repo(Path(repo_path))
    pruned: list[str] = []
    for admin in repo.list_worktrees():
        if not admin.startswith(ADMIN_PREFIX):
            continue
        worktree = repo.lookup_worktree(admin)
        if os.path.lexists(worktree.path) or not worktree.is_prunable:
            continue
        worktree.prune(False)
        pruned.append(admin)
    return pruned


# --- opening and checks ---


def _main_repo(ref: SessionRef) -> pygit2.Repository:
    validate_name(ref.name)
    return open_repo(ref.repo)


def _open_for_archive(ref: SessionRef) -> tuple[pygit2.Repository, pygit2.Repository]:
    """The main repo and the session worktree, or the reason it cannot be archived."""
    repo = _main_repo(ref)
    admin = admin_name(ref.name)
    registered = admin in repo.list_worktrees()
    if ref.worktree.is_dir() and not registered:
        raise GitError(
            f"cannot archive session {ref.name}: {ref.worktree} is not registered as "
            f"worktree {admin} of {ref.repo}"
        )
    if not registered or not ref.worktree.is_dir():
        raise GitError(
            f"cannot archive session {ref.name}: worktree {ref.worktree} is gone "
            f"(deleted by hand?); its branch {ref.branch} is still there"
        )
    if os.path.lexists(_quarantine(ref)):
        raise GitError(
            f"cannot archive session {ref.name}: removing {ref.worktree} was interrupted "
            f"({QUARANTINE} is there); finish the removal first"
        )
    if os.path.islink(ref.worktree / ".git") or not (ref.worktree / ".git").is_file():
        raise GitError(
            f"cannot archive session {ref.name}: {ref.worktree} has no .git file "
            "(an interrupted removal?)"
        )
    admin_dir = _admin_dir(repo, ref)
    # pygit2 has no is_locked; git marks a locked worktree with this file.
    if (admin_dir / "locked").exists():
        raise GitError(f"cannot archive session {ref.name}: worktree {ref.worktree} is locked")
    if (admin_dir / "modules").exists():
        raise GitError(
            f"cannot archive session {ref.name}: it has initialised submodules whose git data "
            f"lives in {admin_dir}; deinit them first"
        )
    try:
        wt = pygit2.Repository(str(ref.worktree))
    except pygit2.GitError as exc:
        raise GitError(f"cannot archive session {ref.name}: {ref.worktree}: {exc}") from exc
    if os.path.realpath(wt.workdir) != os.path.realpath(ref.worktree):
        raise GitError(f"cannot archive session {ref.name}: {ref.worktree} is not its worktree")
    if wt.head_is_detached or wt.head.name != f"refs/heads/{ref.branch}":
        raise GitError(
            f"cannot archive session {ref.name}: {ref.worktree} is not on {ref.branch}; "
            "switch back first"
        )
    if wt.state() != RepositoryState.NONE:
        raise GitError(
            f"cannot archive session {ref.name}: a merge, rebase or cherry-pick is in "
            f"progress in {ref.worktree}"
        )
    return repo, wt


def _admin_dir(repo: pygit2.Repository, ref: SessionRef) -> Path:
    """git's admin folder for the session's worktree: `<common dir>/worktrees/ptui-<name>`."""
    return common_dir(repo) / "worktrees" / admin_name(ref.name)


def _quarantine(ref: SessionRef) -> Path:
    return ref.worktree / QUARANTINE


def _staging(ref: SessionRef) -> Path:
    """Where a restore builds the worktree before moving it into place (a hidden sibling)."""
    return ref.worktree.parent / f".{ref.worktree.name}{_RESTORING_SUFFIX}"


def _no_progress() -> None:
    return None


def _check_tar_name(ref: SessionRef, tar_name: str) -> str:
    if (
        tar_name in ("", ".", "..")
        or "/" in tar_name
        or "\0" in tar_name
        or tar_name.endswith(".tmp")
    ):
        raise GitError(f"cannot archive session {ref.name}: bad tar file name {tar_name!r}")
    return tar_name


def _shown(path: str) -> str:
    """A path for a one-line message (quoted when it holds a newline or other control)."""
    return path if path.isprintable() else repr(path)


# --- the archive's pieces: ref and tars ---


def _named_tar(repo: pygit2.Repository, ref: SessionRef) -> str | None:
    """The tar file name the archive's manifest records (None without one, or unreadable)."""
    try:
        manifest = _read_manifest(repo, ref, _archive_commit(repo, ref))
    except GitError:
        return None
    name = manifest.get("tar")
    return str(name) if name else None


def _leftover_tars(ref: SessionRef, archive_dir: Path) -> list[Path]:
    """Tars with the default name of this session (`<name>.<digits>.tar`, and `.tmp`)."""
    pattern = re.compile(re.escape(ref.name) + r"\.\d+\.tar(?:\.tmp)?")
    try:
        names = os.listdir(archive_dir)
    except FileNotFoundError:
        return []
    return sorted(archive_dir / name for name in names if pattern.fullmatch(name))


def _tar_files(
    repo: pygit2.Repository, ref: SessionRef, archive_dir: Path, extra_tar: str | None
) -> list[Path]:
    found = set(_leftover_tars(ref, archive_dir))
    for name in (_named_tar(repo, ref), extra_tar):
        if name:
            found.update(archive_dir / n for n in (name, name + ".tmp"))
    return sorted(path for path in found if os.path.lexists(path))


def _archive_pieces(
    repo: pygit2.Repository, ref: SessionRef, archive_dir: Path, extra_tar: str | None
) -> bool:
    """Whether anything of an archive of this session is there: the ref or a tar."""
    return archive_ref_name(ref.name) in repo.references or bool(
        _tar_files(repo, ref, archive_dir, extra_tar)
    )


def _delete_archive(
    repo: pygit2.Repository, ref: SessionRef, archive_dir: Path, *, extra_tar: str | None
) -> None:
    """Delete the tars, then the ref: killed in between, a rerun still finds the tar.

    Only the ref's deletion is synced: a tar that comes back after a crash is a
    leftover the next snapshot or `ptui doctor` deletes, never a loss.
    """
    for path in _tar_files(repo, ref, archive_dir, extra_tar):
        path.unlink(missing_ok=True)
    ref_name = archive_ref_name(ref.name)
    if ref_name in repo.references:
        repo.references.delete(ref_name)
        folder = common_dir(repo) / ref_name.rpartition("/")[0]
        if folder.is_dir():
            _fsync_dir(folder)


# --- removing the worktree ---


def _kind(mode: int) -> Kind | None:
    """The inventory kind of a file mode; None for a socket (nothing to save or lose)."""
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISSOCK(mode):
        return None
    return "other"


def _stamp(st: os.stat_result) -> _Stamp:
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)


def _check_entry(path: str, entry: _Entry) -> _Stamp | None:
    """The entry's stamp if `path` is exactly what the snapshot holds (kind, bits, content)."""
    st = os.lstat(path)
    if _kind(st.st_mode) != entry.kind or stat.S_IMODE(st.st_mode) != entry.perm:
        return None
    if entry.kind == "file":
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOENT):
                return None  # replaced or taken away since lstat: someone is writing
            raise
        with os.fdopen(fd, "rb") as stream:
            before = os.fstat(stream.fileno())
            digest = _blob_id(stream, before.st_size)
            after = os.fstat(stream.fileno())
        # Written to while it was read, or not the file lstat saw: not what was saved.
        if before.st_ino != st.st_ino or _stamp(before) != _stamp(after):
            return None
        return _stamp(after) if digest == entry.digest else None
    if entry.kind == "link" and str(pygit2.hash(os.readlink(os.fsencode(path)))) != entry.digest:
        return None
    return _stamp(st)


def _same_file(a: str, b: str) -> bool:
    """Whether both names exist and are one file (a hard link not yet undone)."""
    try:
        return os.path.samestat(os.lstat(a), os.lstat(b))
    except FileNotFoundError:
        return False


def _place(held: str, path: str) -> bool:
    """Move `held` to `path` unless `path` exists (then False): never over a newer write.

    A hard link fails if the name is taken, where a rename would replace it. On a
    filesystem without hard links, a rename after a check is the best there is.
    """
    try:
        os.link(held, path, follow_symlinks=False)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
            raise
        if os.path.lexists(path):
            return False
        os.rename(held, path)
        return True
    os.unlink(held)
    return True


class _Removal:
    """One run of `remove_worktree` over a registered worktree, and its roll back."""

    def __init__(
        self,
        repo: pygit2.Repository,
        ref: SessionRef,
        snapshot: pygit2.Commit,
        inventory: _Inventory,
        tar_path: Path | None,
        git_text: str | None,
    ) -> None:
        self.repo = repo
        self.ref = ref
        self.snapshot = snapshot
        self.entries = inventory.entries
        self.root_perm = inventory.root_perm
        self.tar_path = tar_path
        self.root = str(ref.worktree)
        self.real_root = os.path.realpath(self.root)
        self.quarantine = os.path.join(self.root, QUARANTINE)
        self.git_file = os.path.join(self.root, ".git")
        # The `.git` file goes last; put back, it is what was read, or what git writes.
        self.git_text = git_text or f"gitdir: {_admin_dir(repo, ref)}\n"
        # A previous run was killed part way: entries may be in the quarantine or gone.
        self.resumed = git_text is None or os.path.lexists(self.quarantine)
        self.touched = self.resumed
        self.stamps: dict[int, _Stamp] = {}  # entries checked in the quarantine
        self.gone: set[int] = set()  # entries to re-create from the archive on roll back

    def run(self, progress: Progress) -> None:
        if self.resumed:
            # What a killed run deleted: known before anything can stop this one.
            for index, entry in enumerate(self.entries):
                full = os.path.join(self.root, entry.path)
                if not os.path.lexists(full) and not os.path.lexists(self._held(index)):
                    self.gone.add(index)
        try:
            self._check_names()
            self._prepare()
            self._move_out(progress)
            self._check_root()
            self._delete_quarantined(progress)
            self._remove_folder()
        except _Changed as change:
            what = f"{_shown(change.path)} in {self.root}" if change.path else self.root
            self._roll_back_or_fail(what)
            raise WorktreeChanged(
                f"session {self.ref.name}: {what} changed or appeared after the snapshot; "
                "the worktree was left whole and nothing was archived"
            ) from None
        except BaseException as exc:
            where = exc.filename if isinstance(exc, OSError) and exc.filename else self.root
            self._roll_back_or_fail(str(where))
            if isinstance(exc, OSError | pygit2.GitError):
                raise GitError(
                    f"cannot remove the worktree of session {self.ref.name}: {where}: {exc}; "
                    "it was left whole"
                ) from exc
            raise

    # -- forward --

    def _check_names(self) -> None:
        """Anything the snapshot does not list stops the removal before an entry moves."""
        kinds = {e.path: e.kind for e in self.entries}

        def visit(rel_dir: str) -> None:
            try:
                with os.scandir(os.path.join(self.root, rel_dir)) as it:
                    items = sorted(it, key=lambda item: item.name)
            except (FileNotFoundError, NotADirectoryError):
                raise _Changed(rel_dir) from None  # replaced while we looked: being written
            for item in items:
                if not rel_dir and item.name in (".git", QUARANTINE):
                    continue
                rel = f"{rel_dir}/{item.name}" if rel_dir else item.name
                try:
                    kind = _kind(item.stat(follow_symlinks=False).st_mode)
                except FileNotFoundError:
                    raise _Changed(rel) from None  # gone as soon as it came: being written
                if kind is None:
                    continue
                want = kinds.get(rel)
                if want is None or (want == "dir") != (kind == "dir"):
                    raise _Changed(rel)
                if kind == "dir":
                    visit(rel)

        visit("")

    def _prepare(self) -> None:
        """Check folder modes, make folders writable, make the quarantine."""
        dirs = [e for e in self.entries if e.kind == "dir"]
        if not self.resumed:
            # A fresh run sees the folders as saved; a resumed one may see them unlocked.
            for entry in dirs:
                full = os.path.join(self.root, entry.path)
                if os.path.isdir(full) and stat.S_IMODE(os.lstat(full).st_mode) != entry.perm:
                    raise _Changed(entry.path)
            if stat.S_IMODE(os.lstat(self.root).st_mode) != self.root_perm:
                raise _Changed("")  # the folder's own mode
        self.touched = True
        for path in [self.root, *(os.path.join(self.root, e.path) for e in dirs)]:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                st = os.lstat(path)
                perm = stat.S_IMODE(st.st_mode)
                if stat.S_ISDIR(st.st_mode) and perm & stat.S_IRWXU != stat.S_IRWXU:
                    os.chmod(path, perm | stat.S_IRWXU)  # so entries can be moved out
        if not os.path.lexists(self.quarantine):
            os.mkdir(self.quarantine, 0o700)
        elif os.path.islink(self.quarantine) or not os.path.isdir(self.quarantine):
            raise _Changed(QUARANTINE)
        if self.resumed:
            for name in os.listdir(self.quarantine):
                if re.fullmatch(r"r\d+", name):  # a copy from the archive by a killed roll back
                    os.unlink(os.path.join(self.quarantine, name))

    def _held(self, index: int) -> str:
        return os.path.join(self.quarantine, str(index))

    def _inside(self, rel: str) -> bool:
        """Whether `rel`'s folder is there and is the worktree's own (no symlink on the way)."""
        parent = _parent(rel)
        full = os.path.join(self.root, parent)
        want = os.path.join(self.real_root, parent) if parent else self.real_root
        return os.path.isdir(full) and os.path.realpath(full) == want

    def _move_out(self, progress: Progress) -> None:
        """Deepest first: each file into the quarantine and checked there, each folder rmdir'ed."""
        for index in reversed(range(len(self.entries))):
            entry = self.entries[index]
            full = os.path.join(self.root, entry.path)
            held = self._held(index)
            if entry.kind == "dir":
                if not os.path.lexists(full):
                    continue
                st = os.lstat(full)
                perm = stat.S_IMODE(st.st_mode)
                if not stat.S_ISDIR(st.st_mode) or perm not in (
                    entry.perm,
                    entry.perm | stat.S_IRWXU,
                ):
                    raise _Changed(entry.path)
                self._rmdir(full, entry.path)
                self.gone.add(index)
                progress()
                continue
            if _same_file(held, full):
                os.unlink(held)  # put back by a roll back that was killed
            if os.path.lexists(held):  # moved aside by a run that was killed
                stamp = _check_entry(held, entry)
                if stamp is None:
                    raise _Changed(entry.path)
                self.stamps[index] = stamp
                if os.path.lexists(full):
                    raise _Changed(entry.path)  # written again after it was moved aside
                continue
            if not os.path.lexists(full):
                continue
            if not self._inside(entry.path):
                raise _Changed(_parent(entry.path))
            os.rename(full, held)
            stamp = _check_entry(held, entry)
            if stamp is None:
                raise _Changed(entry.path)
            self.stamps[index] = stamp
            progress()

    def _rmdir(self, full: str, rel: str) -> None:
        """rmdir (never a recursive delete); whatever is still in it but sockets is a change."""
        for _attempt in range(2):
            try:
                os.rmdir(full)
                return
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
            self._only_sockets(full, rel)
        raise _Changed(rel)

    def _only_sockets(self, full: str, rel: str, keep: tuple[str, ...] = ()) -> None:
        """Unlink the sockets in folder `full` (they hold nothing); anything else is a change."""
        for name in sorted(os.listdir(full)):
            if name in keep:
                continue
            child = os.path.join(full, name)
            try:
                kind = _kind(os.lstat(child).st_mode)
            except FileNotFoundError:
                kind = "other"  # gone as soon as it came: something is writing here
            if kind is not None:
                raise _Changed(f"{rel}/{name}" if rel else name)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(child)

    def _check_root(self) -> None:
        """After every entry moved out, only `.git` and the quarantine may be left."""
        self._only_sockets(self.root, "", keep=(".git", QUARANTINE))

    def _delete_quarantined(self, progress: Progress) -> None:
        """Every entry passed: delete them, each only if untouched since its check."""
        for index in sorted(self.stamps):
            held = self._held(index)
            entry = self.entries[index]
            # A new stamp may only mean another name of the same file (a hard link) was
            # moved or unlinked since, which changes its ctime: then read it again.
            if _stamp(os.lstat(held)) != self.stamps[index] and _check_entry(held, entry) is None:
                raise _Changed(entry.path)
            os.unlink(held)
            self.gone.add(index)
            progress()

    def _remove_folder(self) -> None:
        """The `.git` file, the quarantine, the folder; git's admin folder is pruned after."""
        if os.path.lexists(self.git_file):
            os.unlink(self.git_file)
        if os.path.lexists(self.quarantine):
            self._rmdir(self.quarantine, QUARANTINE)
        self._rmdir(self.root, "")
        _fsync_dir(Path(self.root).parent)

    # -- back --

    def _roll_back_or_fail(self, where: str) -> None:
        try:
            self._roll_back()
        except BaseException as exc:
            raise GitError(
                f"session {self.ref.name}: {where}: could not put {self.root} back whole "
                f"({exc}); {archive_ref_name(self.ref.name)} still holds what was removed"
            ) from exc

    def _roll_back(self) -> None:
        """Put every entry back: from the quarantine, or re-created from the archive.

        Nothing is ever put over a path a writer took meanwhile: entries go into place
        by hard link (fails if the name exists), each copy re-created from the archive
        is made in the quarantine first (a kill leaves no half-written file in place).
        """
        if not self.touched:
            return
        os.makedirs(self.quarantine, 0o700, exist_ok=True)
        taken: list[tuple[str, str]] = []  # (held, path): a newer write took the path
        with contextlib.ExitStack() as stack:
            tar: tarfile.TarFile | None = None
            members: dict[str, tarfile.TarInfo] = {}
            for index, entry in enumerate(self.entries):
                full = os.path.join(self.root, entry.path)
                held = self._held(index)
                if entry.kind == "dir":
                    if index in self.gone and self._inside(entry.path):
                        with contextlib.suppress(FileExistsError):
                            os.mkdir(full, 0o700)
                    continue
                if not os.path.lexists(held):
                    if index not in self.gone or os.path.lexists(full):
                        continue
                    if entry.dest == "tar" and tar is None:
                        assert self.tar_path is not None  # the manifest names it
                        tar = stack.enter_context(tarfile.open(self.tar_path, mode="r"))
                        members = {m.name: m for m in tar.getmembers()}
                    held = self._recreate(index, entry, tar, members)
                    if not held:
                        continue
                if _same_file(held, full):
                    os.unlink(held)  # put back already by a run that was killed
                elif not self._inside(entry.path) or not _place(held, full):
                    taken.append((held, entry.path))
        # Kept copies are named once every entry is back, so none takes an entry's name.
        for held, rel in taken:
            self._keep(held, rel)
        # Folders' modes last and deepest first: a read-only one must not block the rest.
        for entry in sorted(
            (e for e in self.entries if e.kind == "dir"), key=lambda e: -e.path.count("/")
        ):
            self._restore_mode(os.path.join(self.root, entry.path), entry.perm)
        for name in sorted(os.listdir(self.quarantine)):
            leftover = os.path.join(self.quarantine, name)
            if re.fullmatch(r"r\d+", name):
                os.unlink(leftover)  # a copy from the archive, made by a run that was killed
            else:
                self._keep(leftover, name)  # written into the quarantine by someone
        os.rmdir(self.quarantine)
        if not os.path.lexists(self.git_file):
            fd = os.open(self.git_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "w") as out:
                out.write(self.git_text)
                out.flush()
                os.fsync(out.fileno())
        self._restore_mode(self.root, self.root_perm)
        # The worktree is whole on disk before the caller discards the snapshot.
        for entry in self.entries:
            if entry.kind == "dir":
                # A folder without read permission cannot be opened to sync it.
                with contextlib.suppress(FileNotFoundError, NotADirectoryError, PermissionError):
                    _fsync_dir(Path(self.root, entry.path))
        _fsync_dir(Path(self.root))

    def _recreate(
        self,
        index: int,
        entry: _Entry,
        tar: tarfile.TarFile | None,
        members: dict[str, tarfile.TarInfo],
    ) -> str:
        """Make a copy of a deleted entry from the archive in the quarantine; its path
        ("" for what cannot be made: a device file without the right to make one)."""
        copy = os.path.join(self.quarantine, f"r{index}")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(copy)
        member = members[entry.path] if entry.dest == "tar" else None
        data: IO[bytes] | None = None
        mtime: float | None = None
        if member is None:
            blob = self.repo[self.snapshot.tree[entry.path].id].peel(pygit2.Blob)
            if entry.kind == "link":
                os.symlink(blob.data, os.fsencode(copy))
                return copy
            data = io.BytesIO(blob.data)
        elif member.issym():
            os.symlink(member.linkname, copy)
            return copy
        elif member.isfile() or member.islnk():
            assert tar is not None
            data, mtime = tar.extractfile(member), member.mtime
        elif member.isfifo():
            os.mkfifo(copy, entry.perm)
        elif member.ischr() or member.isblk():
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            try:
                os.mknod(copy, entry.perm | kind, os.makedev(member.devmajor, member.devminor))
            except PermissionError:
                return ""
        if data is not None:
            fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(data, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
        os.chmod(copy, entry.perm)
        if mtime is not None:
            os.utime(copy, (mtime, mtime))
        return copy

    def _keep(self, held: str, rel: str) -> None:
        """Move `held` to a free name beside `rel` (or at the top when its folder is
        gone): `<name>.ptui-kept`, then `-2`, `-3`... (never `.ptui-kept.ptui-kept`)."""
        folder = _parent(rel) if self._inside(rel) else ""
        name = re.sub(r"\.ptui-kept(?:-\d+)?$", "", os.path.basename(rel))
        while len(os.fsencode(name)) > 200:  # room for the suffix within NAME_MAX
            name = name[: len(name) // 2]
        base = os.path.join(self.root, folder, name + _KEPT_SUFFIX)
        candidate, number = base, 2
        while not _place(held, candidate):
            candidate, number = f"{base}-{number}", number + 1

    def _restore_mode(self, full: str, perm: int) -> None:
        """Undo `_prepare`'s chmod (and give a re-created folder its saved bits)."""
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            st = os.lstat(full)
            if stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) in (
                0o700,
                perm | stat.S_IRWXU,
            ):
                os.chmod(full, perm)


def _our_git_file(ref: SessionRef, git_file: Path, admin_dir: Path) -> str:
    """The worktree's `.git` file text, checked to point at the session's admin folder."""
    text = ""
    if not os.path.islink(git_file) and git_file.is_file():
        text = git_file.read_text(errors="replace")
    pointer = text.strip()
    target = Path(pointer.removeprefix("gitdir:").strip())
    if not pointer.startswith("gitdir:") or os.path.realpath(
        git_file.parent / target
    ) != os.path.realpath(admin_dir):
        raise GitError(
            f"session {ref.name}: {git_file} does not point at {admin_dir}; "
            f"{git_file.parent} is not its worktree"
        )
    return text


def _prune_admin(repo: pygit2.Repository, ref: SessionRef) -> None:
    """Drop git's record of the removed worktree: the point of no return of a removal."""
    admin = admin_name(ref.name)
    if admin not in repo.list_worktrees():
        return
    try:
        repo.lookup_worktree(admin).prune(False)
    except pygit2.GitError as exc:
        raise GitError(
            f"removed the worktree of session {ref.name}, but git's record of it remains "
            f"({exc}); prune worktrees to drop it"
        ) from exc


def _clean_unregistered(repo: pygit2.Repository, ref: SessionRef) -> None:
    """Past the point of no return: git's record and the `.git` file are gone.

    Only a finished removal leads here (or git pruning its record once `.git` went),
    so every entry had passed its check: delete quarantined entries the snapshot
    holds identically and leave anything else where it is.
    """
    quarantine = _quarantine(ref)
    if (
        os.path.isdir(quarantine)
        and not os.path.islink(quarantine)
        and archive_ref_name(ref.name) in repo.references
    ):
        entries = _manifest_inventory(_read_manifest(repo, ref, _archive_commit(repo, ref))).entries
        for name in os.listdir(quarantine):
            held = os.path.join(quarantine, name)
            with contextlib.suppress(OSError):
                index = int(name) if name.isdigit() else len(entries)
                if index < len(entries) and _check_entry(held, entries[index]) is not None:
                    os.unlink(held)
    for folder in (quarantine, ref.worktree):
        with contextlib.suppress(OSError):
            os.rmdir(folder)


# --- restoring the worktree ---


def _gitdir_target(admin_dir: Path) -> Path | None:
    """Where git's admin folder says the worktree's `.git` is (None when it does not say)."""
    try:
        text = (admin_dir / "gitdir").read_text(errors="replace").strip()
    except OSError:
        return None
    return admin_dir / text if text else None  # an absolute path stays as it is


def _same_path(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _is_registered_at(ref: SessionRef, admin_dir: Path, worktree: Path) -> bool:
    """Whether `worktree` is a folder whose `.git` and git's record point at each other."""
    if os.path.islink(worktree) or not worktree.is_dir() or not admin_dir.is_dir():
        return False
    try:
        _our_git_file(ref, worktree / ".git", admin_dir)
    except (GitError, OSError):
        return False
    target = _gitdir_target(admin_dir)
    return target is not None and _same_path(target, worktree / ".git")


def _is_moved_restore(ref: SessionRef, admin_dir: Path, staging: Path) -> bool:
    """Whether `ref.worktree` is this session's worktree, possibly moved from staging."""
    if _is_registered_at(ref, admin_dir, ref.worktree):
        return True
    if os.path.islink(ref.worktree) or not ref.worktree.is_dir() or not admin_dir.is_dir():
        return False
    try:
        _our_git_file(ref, ref.worktree / ".git", admin_dir)
    except (GitError, OSError):
        return False
    target = _gitdir_target(admin_dir)
    return target is not None and _same_path(target, staging / ".git")


def _point_admin_at(admin_dir: Path, worktree: Path) -> None:
    """Make git's record of the worktree name its new place, as `git worktree move` does."""
    path = admin_dir / "gitdir"
    want = f"{os.path.abspath(worktree / '.git')}\n"
    with contextlib.suppress(OSError):
        if path.read_text() == want:
            return
    tmp = admin_dir / "gitdir.ptui-tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "w") as out:
        out.write(want)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    _fsync_dir(admin_dir)


def _differs_from_manifest(
    ref: SessionRef, root: Path, inventory: _Inventory, wt: pygit2.Repository | None = None
) -> str | None:
    """The first path under `root` that is not as the manifest says, or None."""
    if wt is None:
        wt = pygit2.Repository(str(root))
    found = _scan(wt, ref, hash_all=True, folder=root)
    if _keys(found, by_dest=False) != _keys(inventory, by_dest=False):
        return _shown(_first_difference(inventory, found))
    if found.root_perm != inventory.root_perm:
        return "the worktree folder's mode"
    return None


def _clear_half_restore(
    repo: pygit2.Repository, ref: SessionRef, admin_dir: Path, staging: Path
) -> None:
    """Remove a staging folder left by a restore (all of it came from the archive, still
    kept) and git's record of it; refused when that record is of a live worktree."""
    admin = admin_name(ref.name)
    registered = admin_dir.is_dir()
    if registered:
        # Ours (half made, or pointing at the staging folder) or a record of a folder
        # that is gone, which git would prune too; never a live or locked worktree.
        target = _gitdir_target(admin_dir)
        stale = target is None or _same_path(target, staging / ".git")
        stale = stale or (target is not None and not os.path.lexists(target.parent))
        if not stale or (admin_dir / "locked").exists():
            where = target.parent if target is not None else admin_dir
            raise GitError(
                f"cannot restore session {ref.name}: worktree {admin} is still registered "
                f"at {where}"
            )
    if os.path.islink(staging) or os.path.isfile(staging):
        os.unlink(staging)
    elif os.path.isdir(staging):
        for dirpath, _dirnames, _files in os.walk(staging):
            with contextlib.suppress(OSError):
                os.chmod(dirpath, stat.S_IRWXU)
        shutil.rmtree(staging)
    if registered:
        try:
            repo.lookup_worktree(admin).prune(True)
        except pygit2.GitError:
            shutil.rmtree(admin_dir, ignore_errors=True)  # half written: git cannot read it


# --- work at risk ---


def _risk_base(repo: pygit2.Repository, ref: SessionRef) -> tuple[pygit2.Commit, str]:
    """The base commit and how to name it (the commit branched from, if the base is gone)."""
    what = f"session {ref.name}: base"
    try:
        return resolve_commit(repo, ref.base, what), ref.base
    except GitError:
        if not ref.base_commit:
            raise
        return resolve_commit(repo, ref.base_commit, what), ref.base_commit[:12]


def _count_commits(repo: pygit2.Repository, tip: pygit2.Commit, hide: list[pygit2.Commit]) -> int:
    walker = repo.walk(tip.id, SortMode.NONE)
    for commit in hide:
        walker.hide(commit.id)
    return sum(1 for _ in walker)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _listing(paths: list[str]) -> str:
    shown = ", ".join(_shown(p) for p in paths[:_MAX_LISTED])
    more = len(paths) - _MAX_LISTED
    return f"{shown} and {more} more" if more > 0 else shown


# --- inventory ---


def _scan(
    wt: pygit2.Repository, ref: SessionRef, *, hash_all: bool, folder: Path | None = None
) -> _Inventory:
    """Every entry under the worktree (but its `.git` file), each marked for snapshot or tar.

    Tracked paths (index or HEAD) and untracked ones go to the snapshot; ignored
    paths and nested repositories to the tar. With `hash_all`, each file and link
    gets its blob id (used to compare the disk with what was saved). `folder` is
    what to scan when it is not `ref.worktree` (a restore's staging folder).
    """
    root = str(folder if folder is not None else ref.worktree)
    tracked_files: set[str] = set()
    tracked_dirs: set[str] = set()
    head_index = pygit2.Index()
    if not wt.head_is_unborn:
        head_index.read_tree(wt.head.peel(pygit2.Commit).tree)
    for index in (wt.index, head_index):
        for entry in index:
            tracked_files.add(entry.path)
            parent = _parent(entry.path)
            while parent and parent not in tracked_dirs:
                tracked_dirs.add(parent)
                parent = _parent(parent)

    inventory = _Inventory(root_perm=stat.S_IMODE(os.lstat(root).st_mode))

    def visit(rel_dir: str, to_tar: bool) -> None:
        full_dir = os.path.join(root, rel_dir) if rel_dir else root
        with os.scandir(full_dir) as it:
            names = sorted(entry.name for entry in it)
        for name in names:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if rel == ".git":
                continue
            _check_name(ref, rel)
            full = os.path.join(root, rel)
            st = os.lstat(full)
            mode = st.st_mode
            kind: Kind
            if stat.S_ISDIR(mode):
                kind = "dir"
            elif stat.S_ISREG(mode):
                kind = "file"
            elif stat.S_ISLNK(mode):
                kind = "link"
            else:
                kind = "other"
            if kind == "other" and stat.S_ISSOCK(mode):
                continue  # a socket holds no data and cannot be archived
            dest: Dest = "tar" if to_tar else "snapshot"
            nested = False
            if not to_tar:
                if kind == "dir":
                    git_entry = os.path.join(full, ".git")
                    if os.path.isdir(git_entry) and not os.path.islink(git_entry):
                        nested = True  # a repository of its own: tar it whole, .git included
                    elif os.path.lexists(git_entry):
                        raise GitError(
                            f"cannot archive session {ref.name}: {rel} is an initialised "
                            "submodule (its .git points elsewhere); deinit it first"
                        )
                    tracked = rel in tracked_dirs or rel in tracked_files
                    if nested or (not tracked and wt.path_is_ignored(rel)):
                        dest = "tar"
                elif kind == "other" or (rel not in tracked_files and wt.path_is_ignored(rel)):
                    dest = "tar"
            digest = ""
            if hash_all and kind == "file":
                digest = _hash_file(full)
            elif hash_all and kind == "link":
                digest = str(pygit2.hash(os.readlink(os.fsencode(full))))
            inventory.entries.append(_Entry(rel, kind, stat.S_IMODE(mode), dest, digest))
            if kind == "dir":
                visit(rel, dest == "tar")

    visit("", False)
    return inventory


def _check_name(ref: SessionRef, rel: str) -> None:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise GitError(
            f"cannot archive session {ref.name}: {rel!r} is not a UTF-8 file name; rename it"
        ) from None


def _parent(path: str) -> str:
    return path.rpartition("/")[0]


def _keys(inventory: _Inventory, *, by_dest: bool = True) -> list[tuple[Any, ...]]:
    if by_dest:
        return [(*e.key(), e.dest) for e in inventory.entries]
    return sorted(e.key() for e in inventory.entries)


def _first_difference(expected: _Inventory, found: _Inventory) -> str:
    want = {e.path: e.key() for e in expected.entries}
    have = {e.path: e.key() for e in found.entries}
    for path in sorted(want.keys() | have.keys()):
        if want.get(path) != have.get(path):
            return path
    return "the worktree folder's mode"


def _empty_dirs(inventory: _Inventory) -> list[str]:
    parents = {_parent(e.path) for e in inventory.entries}
    return [
        e.path
        for e in inventory.entries
        if e.kind == "dir" and e.dest == "snapshot" and e.path not in parents
    ]


# --- the tar of ignored files ---


def _write_tar(ref: SessionRef, tar_path: Path, entries: list[_Entry]) -> str:
    """Write the tar (0600, fsynced), read it back to fill each entry's digest; its sha256."""
    tar_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = tar_path.with_name(tar_path.name + ".tmp")
    root = str(ref.worktree)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for entry in entries:
                    tar.add(os.path.join(root, entry.path), arcname=entry.path, recursive=False)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, tar_path)
        _fsync_dir(tar_path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # Read back what is on disk: the digests recorded are those of the saved bytes.
    by_path = {e.path: e for e in entries}
    sha = hashlib.sha256()
    with open(tar_path, "rb") as raw:
        for chunk in iter(lambda: raw.read(_CHUNK), b""):
            sha.update(chunk)
    with tarfile.open(tar_path, mode="r") as tar:
        seen = set()
        for member in tar:
            saved = by_path.get(member.name)
            if saved is None:
                continue
            seen.add(member.name)
            if member.issym():
                saved.digest = str(pygit2.hash(os.fsencode(member.linkname)))
            elif member.isfile():
                stream = tar.extractfile(member)
                assert stream is not None
                saved.digest = _blob_id(stream, member.size)
            elif member.islnk():
                saved.digest = by_path[member.linkname].digest
    if seen != set(by_path):
        tar_path.unlink(missing_ok=True)
        missing = sorted(set(by_path) - seen)[0]
        raise GitError(f"cannot archive session {ref.name}: {missing} did not reach {tar_path}")
    return sha.hexdigest()


def _hash_file(path: str) -> str:
    """The git blob id of the file at `path` (raw bytes, no filters, like hash-object)."""
    with open(path, "rb") as stream:
        return _blob_id(stream, os.fstat(stream.fileno()).st_size)


def _blob_id(stream: IO[bytes], size: int) -> str:
    """The git blob id of `size` bytes read from `stream` (as `git hash-object` computes)."""
    sha = hashlib.sha1(f"blob {size}\0".encode())
    for chunk in iter(lambda: stream.read(_CHUNK), b""):
        sha.update(chunk)
    return sha.hexdigest()


def _extract_tar(tar_path: Path, root_path: Path, tick: Progress) -> None:
    """Extract the tar into `root_path`, calling `tick()` after each file extracted."""
    root = os.path.realpath(root_path)
    with tarfile.open(tar_path, mode="r") as tar:
        members = tar.getmembers()
        for member in members:
            target = os.path.realpath(os.path.join(root, os.path.dirname(member.name)))
            if os.path.isabs(member.name) or ".." in member.name.split("/"):
                raise GitError(f"{tar_path}: unsafe member {member.name!r}")
            if target != root and not target.startswith(root + os.sep):
                raise GitError(f"{tar_path}: member {member.name!r} leads outside {root}")

        def counted() -> Iterator[tarfile.TarInfo]:
            # extractall asks for the next member once the previous one is on disk.
            for member in members:
                yield member
                if not member.isdir():
                    tick()

        # Our own archive, checked above: keep modes and links exactly as saved.
        tar.extractall(root, members=counted(), filter="fully_trusted")


# --- the snapshot commit ---


def _write_snapshot(
    repo: pygit2.Repository,
    wt: pygit2.Repository,
    ref: SessionRef,
    inventory: _Inventory,
    tar_path: Path | None,
    tar_sha: str,
) -> tuple[pygit2.Oid, list[pygit2.Oid]]:
    """Write blobs, trees, the three parent commits and the snapshot; all object ids."""
    written: list[pygit2.Oid] = []
    root = str(ref.worktree)
    tree: dict[str, Any] = {}
    for entry in inventory.entries:
        if entry.dest != "snapshot" or entry.kind == "dir":
            continue
        full = os.path.join(root, entry.path)
        if entry.kind == "link":
            oid = repo.create_blob(os.readlink(os.fsencode(full)))
            mode = FileMode.LINK
        else:
            with open(full, "rb") as stream:
                oid = repo.create_blob_fromiobase(stream)  # raw bytes, no clean filter
            mode = FileMode.BLOB_EXECUTABLE if entry.perm & stat.S_IXUSR else FileMode.BLOB
        entry.digest = str(oid)
        written.append(oid)
        node = tree
        *dirs, name = entry.path.split("/")
        for part in dirs:
            node = node.setdefault(part, {})
        node[name] = (oid, mode)
    snapshot_tree = _write_tree(repo, tree, written)

    head = wt.head.peel(pygit2.Commit)
    sig = signature(repo)
    try:
        # write_tree on the worktree's index only writes tree objects, never the index file.
        index_tree = wt.index.write_tree()
        index_saved = True
    except pygit2.GitError:  # unresolved conflicts: no tree can hold them
        index_tree, index_saved = head.tree_id, False
    index_commit = repo.create_commit(
        None, sig, sig, f"ptui archive index of {ref.name}\n", index_tree, [head.id]
    )
    manifest = {
        "version": _MANIFEST_VERSION,
        "session": ref.name,
        "branch": ref.branch,
        "head": str(head.id),
        "index_saved": index_saved,
        "root_perm": inventory.root_perm,
        "tar": tar_path.name if tar_path is not None else None,
        "tar_sha256": tar_sha,
        "entries": [[e.path, e.kind, e.perm, e.dest, e.digest] for e in inventory.entries],
    }
    blob = repo.create_blob(json.dumps(manifest, indent=0).encode())
    builder = repo.TreeBuilder()
    builder.insert(_MANIFEST_FILE, blob, FileMode.BLOB)
    manifest_tree = builder.write()
    manifest_commit = repo.create_commit(
        None, sig, sig, f"ptui archive manifest of {ref.name}\n", manifest_tree, []
    )
    commit = repo.create_commit(
        None,
        sig,
        sig,
        f"ptui archive of session {ref.name} ({ref.branch})\n",
        snapshot_tree,
        [head.id, index_commit, manifest_commit],
    )
    written += [blob, manifest_tree, index_commit, manifest_commit, commit]
    return commit, written


def _write_tree(
    repo: pygit2.Repository, node: dict[str, Any], written: list[pygit2.Oid]
) -> pygit2.Oid:
    builder = repo.TreeBuilder()
    for name, value in node.items():
        if isinstance(value, dict):
            if value:  # empty folders live in the manifest
                builder.insert(name, _write_tree(repo, value, written), FileMode.TREE)
        else:
            builder.insert(name, value[0], value[1])
    oid = builder.write()
    written.append(oid)
    return oid


def _verify_snapshot(ref: SessionRef, ref_name: str, inventory: _Inventory) -> None:
    """Read the snapshot back through a fresh repository object and compare it."""
    repo = pygit2.Repository(str(ref.repo))
    commit = repo.lookup_reference(ref_name).peel(pygit2.Commit)
    manifest = _read_manifest(repo, ref, commit)
    want = [[e.path, e.kind, e.perm, e.dest, e.digest] for e in inventory.entries]
    if manifest["entries"] != want:
        raise GitError(f"cannot archive session {ref.name}: the manifest did not read back")
    for entry in inventory.entries:
        if entry.dest != "snapshot" or entry.kind == "dir":
            continue
        try:
            found = commit.tree[entry.path]
        except KeyError:
            raise GitError(
                f"cannot archive session {ref.name}: {entry.path} missing from the snapshot"
            ) from None
        if str(found.id) != entry.digest or found.id not in repo:
            raise GitError(f"cannot archive session {ref.name}: {entry.path} did not read back")


def _archive_commit(repo: pygit2.Repository, ref: SessionRef) -> pygit2.Commit:
    try:
        commit = repo.lookup_reference(archive_ref_name(ref.name)).peel(pygit2.Commit)
    except KeyError:
        raise GitError(f"session {ref.name} has no archive") from None
    if len(commit.parent_ids) != 3:
        raise GitError(f"{archive_ref_name(ref.name)} is not a ptui archive")
    return commit


def _read_manifest(
    repo: pygit2.Repository, ref: SessionRef, snapshot: pygit2.Commit
) -> dict[str, Any]:
    try:
        holder = repo[snapshot.parent_ids[2]].peel(pygit2.Commit)
        data = repo[holder.tree[_MANIFEST_FILE].id].peel(pygit2.Blob).data
        manifest: dict[str, Any] = json.loads(data)
    except (KeyError, IndexError, ValueError) as exc:
        raise GitError(f"{archive_ref_name(ref.name)}: unreadable archive manifest") from exc
    if manifest.get("version") != _MANIFEST_VERSION:
        raise GitError(f"{archive_ref_name(ref.name)}: unknown archive format")
    return manifest


def _manifest_inventory(manifest: dict[str, Any]) -> _Inventory:
    inventory = _Inventory(root_perm=int(manifest["root_perm"]))
    for path, kind, perm, dest, digest in manifest["entries"]:
        inventory.entries.append(_Entry(path, kind, int(perm), dest, digest))
    return inventory


def _manifest_tar(
    ref: SessionRef, manifest: dict[str, Any], archive_dir: Path, verb: str
) -> Path | None:
    """The archive's tar, checked against the sha256 the manifest recorded.

    `verb` says what needs it, for the error (e.g. "restore").
    """
    name = manifest.get("tar")
    if not name:
        return None
    tar_path = archive_dir / str(name)
    sha = hashlib.sha256()
    try:
        with open(tar_path, "rb") as raw:
            for chunk in iter(lambda: raw.read(_CHUNK), b""):
                sha.update(chunk)
    except OSError as exc:
        raise GitError(
            f"cannot {verb} session {ref.name}: ignored-files archive {tar_path}: {exc.strerror}"
        ) from exc
    if sha.hexdigest() != manifest["tar_sha256"]:
        raise GitError(f"cannot {verb} session {ref.name}: {tar_path} is damaged")
    return tar_path


# --- writing and removing files ---


def _clear_checkout(root: Path) -> None:
    """Remove what add_worktree checked out (all of it from git) before writing the snapshot."""
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            if dirpath == str(root) and name == ".git":
                continue
            os.unlink(os.path.join(dirpath, name))
        for name in dirnames:
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                os.unlink(full)
            else:
                os.rmdir(full)


def _write_snapshot_files(
    repo: pygit2.Repository,
    root_path: Path,
    tree: pygit2.Tree,
    inventory: _Inventory,
    tick: Progress,
) -> None:
    """Write the snapshot's folders, files and links under `root_path`; `tick()` per file."""
    root = str(root_path)
    for entry in inventory.entries:
        if entry.dest != "snapshot":
            continue
        full = os.path.join(root, entry.path)
        if entry.kind == "dir":
            os.mkdir(full, 0o700)
            continue
        blob = repo[tree[entry.path].id].peel(pygit2.Blob)
        if entry.kind == "link":
            os.symlink(blob.data, os.fsencode(full))
        else:
            fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(blob.data)
        tick()


def _apply_perms(root: Path, inventory: _Inventory) -> None:
    # Folders last and deepest first, so a read-only folder does not block the rest.
    for entry in inventory.entries:
        if entry.kind in ("file", "other"):
            os.chmod(os.path.join(root, entry.path), entry.perm)
    for entry in sorted(
        (e for e in inventory.entries if e.kind == "dir"), key=lambda e: -e.path.count("/")
    ):
        os.chmod(os.path.join(root, entry.path), entry.perm)
    os.chmod(root, inventory.root_perm)


# --- durability ---


def _fsync_objects(repo: pygit2.Repository, oids: list[pygit2.Oid]) -> None:
    """fsync the loose object files just written (libgit2 does not by default)."""
    objects = common_dir(repo) / "objects"
    dirs: set[Path] = set()
    for oid in oids:
        text = str(oid)
        path = objects / text[:2] / text[2:]
        if path.exists():  # otherwise it was already packed, hence already durable
            _fsync_file(path)
            dirs.add(path.parent)
    for directory in dirs:
        _fsync_dir(directory)


def _fsync_ref(repo: pygit2.Repository, ref_name: str) -> None:
    path = common_dir(repo) / ref_name
    if path.exists():
        _fsync_file(path)
        _fsync_dir(path.parent)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
