"""Restoring an archived worktree through a staging folder beside it.

The staging folder is filled from the snapshot commit and the tar, checked
against the manifest and synced; `tui.git.archive.restore_files` then renames it
into place and points git's record at it, as `git worktree move` would. Also the
checks that recognise a restore already moved into place, and the clean-up of a
half-done one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pygit2

from tui.git.archive_removal import _our_git_file
from tui.git.archive_snapshot import (
    Progress,
    _first_difference,
    _fsync_dir,
    _Inventory,
    _keys,
    _scan,
    _shown,
)
from tui.git.model import GitError, SessionRef
from tui.git.worktree import admin_name

_RESTORING_SUFFIX = ".ptui-restoring"


def _staging(ref: SessionRef) -> Path:
    """Where a restore builds the worktree before moving it into place (a hidden sibling)."""
    return ref.worktree.parent / f".{ref.worktree.name}{_RESTORING_SUFFIX}"


# --- is the worktree registered, and where ---


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


# --- checking and clearing the staging folder ---


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


# --- writing files ---


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
