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

This module holds the public steps; the machinery is beside it:
`archive_snapshot` (inventory, tar, snapshot commit and manifest),
`archive_removal` (the quarantine and its roll back) and `archive_restore`
(the staging folder).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import SortMode

from tui.git.archive_removal import (
    WorktreeChanged,
    _clean_unregistered,
    _our_git_file,
    _prune_admin,
    _Removal,
)
from tui.git.archive_restore import (
    _apply_perms,
    _clear_checkout,
    _clear_half_restore,
    _differs_from_manifest,
    _extract_tar,
    _is_moved_restore,
    _is_registered_at,
    _point_admin_at,
    _staging,
    _write_snapshot_files,
)
from tui.git.archive_snapshot import (
    QUARANTINE,
    Progress,
    _admin_dir,
    _archive_pieces,
    _delete_archive,
    _empty_dirs,
    _first_difference,
    _fsync_dir,
    _fsync_objects,
    _fsync_ref,
    _keys,
    _leftover_tars,
    _main_repo,
    _manifest_inventory,
    _manifest_tar,
    _named_tar,
    _open_for_archive,
    _parent,
    _quarantine,
    _scan,
    _shown,
    _verify_snapshot,
    _write_snapshot,
    _write_tar,
    archive_commit,
    archive_ref_name,
    read_manifest,
)
from tui.git.merge import branch_tip, is_merged_into, resolve_commit
from tui.git.model import GitError, SessionRef
from tui.git.repo import open_repo
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
    "unpack_stray_tar",
    "work_at_risk",
]

_MAX_LISTED = 5


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
    snapshot = archive_commit(repo, ref)
    manifest = read_manifest(repo, ref, snapshot)
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
    snapshot = archive_commit(repo, ref)
    manifest = read_manifest(repo, ref, snapshot)
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
    snapshot = archive_commit(repo, ref)
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


def delete_session(ref: SessionRef, archive_dir: Path, *, force: bool = False) -> None:
    """Delete the session's branch and archive, only if merged into base or archived
    (or `force`: the user was told what goes and said so).

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
    if not archived and not force:
        assert branch is not None
        base = resolve_commit(repo, ref.base, f"cannot delete session {ref.name}: base")
        if not is_merged_into(repo, branch_tip(repo, ref), base):
            raise GitError(
                f"cannot delete session {ref.name}: {ref.branch} has work not merged into "
                f"{ref.base} and no archive; merge or archive it first"
            )
    tar_path: Path | None = None
    if archived:
        manifest = read_manifest(repo, ref, archive_commit(repo, ref))
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


def unpack_stray_tar(tar_path: Path, folder: Path) -> int:
    """Extract a tar that belongs to no archive into `folder` (made here, must not exist).

    For `ptui doctor --fix`: the files then go into a recovery session's archive.
    Only regular files, folders and links inside `folder` come out (tarfile's
    "data" filter: no absolute paths, no `..`, no devices); returns how many
    members were extracted.
    """
    import tarfile

    folder.mkdir(parents=True)
    try:
        with tarfile.open(tar_path, mode="r") as tar:
            members = tar.getmembers()
            tar.extractall(folder, members=members, filter="data")
    except (OSError, tarfile.TarError) as exc:
        raise GitError(f"{tar_path}: cannot unpack: {exc}") from exc
    return len(members)


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


# --- small helpers ---


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
