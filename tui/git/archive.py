"""Archive a session without losing a byte, restore it, delete it, prune dead worktrees.

Archiving takes an inventory of every entry in the worktree and saves each one
before anything is removed:

- tracked and untracked (not ignored) files, symlinks and folders go into a
  *snapshot commit* under `refs/ptui/archive/<name>`, built in memory from the bytes
  on disk (no clean filters, no use of the worktree's index). Its parents are, like
  `git stash -u`: the HEAD commit, a commit of the index tree (so staged-vs-unstaged
  survives) and a parentless commit holding `manifest.json`: every entry's path,
  kind, exact permission bits and blob id, which also keeps empty folders and
  modes git cannot hold;
- ignored files, and nested repositories whole, go into a 0600 tar file under the
  caller's `archive_dir`.

Only when the tar and all objects and the ref are fsynced, read back, and a
second scan of the worktree matches what was saved, are exactly the inventoried
entries unlinked (never a recursive delete), then git's admin folder is pruned.
The branch is kept. Restore reverses this and checks the result against the
manifest before it drops the archive.

What does not come back: file mtimes outside the tar, hard links between
non-ignored files (restored as separate copies), and sockets (nothing to save).
When the index had unresolved conflicts it cannot be written as a tree; it then
comes back equal to HEAD, i.e. all work shows as unstaged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import pygit2
from pygit2.enums import FileMode, RepositoryState

from tui.git.merge import branch_tip, is_merged_into, resolve_commit, signature
from tui.git.model import GitError, SessionRef
from tui.git.names import validate_name
from tui.git.repo import common_dir, open_repo
from tui.git.worktree import ADMIN_PREFIX, admin_name

__all__ = [
    "ArchivePlan",
    "ArchiveResult",
    "archive_plan",
    "archive_ref_name",
    "archive_session",
    "delete_session",
    "prune_worktrees",
    "restore_session",
]

_MANIFEST_VERSION = 1
_MANIFEST_FILE = "manifest.json"
_CHUNK = 1 << 20

Kind = Literal["file", "link", "dir", "other"]
Dest = Literal["snapshot", "tar"]


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


def archive_ref_name(name: str) -> str:
    """The ref that holds session `name`'s snapshot commit."""
    return f"refs/ptui/archive/{validate_name(name)}"


def archive_plan(ref: SessionRef, archive_dir: Path) -> ArchivePlan:
    """List what `archive_session` would save, or raise the GitError it would raise."""
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


def archive_session(ref: SessionRef, archive_dir: Path) -> ArchiveResult:
    """Save everything uncommitted and ignored, then remove the worktree (branch kept)."""
    repo, wt = _open_for_archive(ref)
    ref_name = archive_ref_name(ref.name)
    inventory = _scan(wt, ref, hash_all=False)
    tar_entries = [e for e in inventory.entries if e.dest == "tar"]

    tar_path: Path | None = None
    tar_sha = ""
    if tar_entries:
        tar_path = Path(archive_dir) / f"{ref.name}.{time.time_ns()}.tar"
        tar_sha = _write_tar(ref, tar_path, tar_entries)
    created_ref = False
    try:
        commit_id, written = _write_snapshot(repo, wt, ref, inventory, tar_path, tar_sha)
        _fsync_objects(repo, written)
        repo.references.create(ref_name, commit_id)
        created_ref = True
        _fsync_ref(repo, ref_name)
        _verify_snapshot(ref, ref_name, inventory)
        # Last look before anything goes: the disk must still be what was saved.
        again = _scan(wt, ref, hash_all=True)
        if _keys(again) != _keys(inventory) or again.root_perm != inventory.root_perm:
            changed = _first_difference(inventory, again)
            raise GitError(
                f"session {ref.name}: {changed} changed while archiving; nothing was removed"
            )
    except BaseException:
        # The worktree is untouched, so this half-made archive is only a copy.
        if created_ref:
            with contextlib.suppress(KeyError, pygit2.GitError):
                repo.references.delete(ref_name)
        if tar_path is not None:
            tar_path.unlink(missing_ok=True)
        raise

    _remove_inventoried(ref, inventory)
    try:
        repo.lookup_worktree(admin_name(ref.name)).prune(False)
    except pygit2.GitError as exc:
        raise GitError(
            f"archived session {ref.name} and removed {ref.worktree}, but git's record of it "
            f"remains ({exc}); prune worktrees to drop it"
        ) from exc
    return ArchiveResult(
        ref_name=ref_name,
        commit=str(commit_id),
        ignored_archive=tar_path,
        files_saved=sum(1 for e in inventory.entries if e.dest == "snapshot" and e.kind != "dir"),
        ignored_saved=sum(1 for e in tar_entries if e.kind != "dir"),
    )


def restore_session(ref: SessionRef, archive_dir: Path) -> SessionRef:
    """Bring an archived session back: same path, admin name `ptui-<name>`, its branch.

    Files come back byte for byte with their permission bits, ignored files too, and
    the index as it was archived. The archive is dropped only after the restored
    worktree has been checked against the manifest and synced to disk.
    """
    repo = _main_repo(ref)
    ref_name = archive_ref_name(ref.name)
    snapshot = _archive_commit(repo, ref)
    manifest = _read_manifest(repo, ref, snapshot)
    if os.path.lexists(ref.worktree):
        raise GitError(f"cannot restore session {ref.name}: {ref.worktree} already exists")
    admin = admin_name(ref.name)
    if admin in repo.list_worktrees():
        registered = repo.lookup_worktree(admin)
        if not registered.is_prunable:
            raise GitError(
                f"cannot restore session {ref.name}: worktree {admin} is still registered "
                f"at {registered.path}"
            )
        registered.prune(False)
    tar_path = _manifest_tar(ref, manifest, Path(archive_dir))
    head = repo[snapshot.parent_ids[0]].peel(pygit2.Commit)
    branch = repo.lookup_branch(ref.branch)
    if branch is None:
        branch = repo.create_branch(ref.branch, head)
    inventory = _manifest_inventory(manifest)

    ref.worktree.parent.mkdir(parents=True, exist_ok=True)
    created = False
    try:
        repo.add_worktree(admin, str(ref.worktree), branch)
        created = True
        wt = pygit2.Repository(str(ref.worktree))
        _clear_checkout(ref.worktree)
        _write_snapshot_files(repo, ref, snapshot.tree, inventory)
        if tar_path is not None:
            _extract_tar(ref, tar_path)
        _apply_perms(ref.worktree, inventory)
        index_tree = repo[snapshot.parent_ids[1]].peel(pygit2.Commit).tree
        index = wt.index
        index.read_tree(index_tree)
        index.write()
        restored = _scan(wt, ref, hash_all=True)
        if (
            _keys(restored, by_dest=False) != _keys(inventory, by_dest=False)
            or restored.root_perm != inventory.root_perm
        ):
            raise GitError(
                f"cannot restore session {ref.name}: "
                f"{_first_difference(inventory, restored)} did not come back as archived"
            )
        os.sync()  # everything restored is on disk before the archive goes
    except BaseException as exc:
        _undo_restore(repo, ref, admin, remove_files=created)
        if isinstance(exc, OSError | pygit2.GitError):
            raise GitError(f"cannot restore session {ref.name} at {ref.worktree}: {exc}") from exc
        raise
    repo.references.delete(ref_name)
    if tar_path is not None:
        tar_path.unlink(missing_ok=True)
    return ref


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
    admin_dir = common_dir(repo) / "worktrees" / admin
    # pygit2 has no is_locked; git marks a locked worktree with this file.
    if (admin_dir / "locked").exists():
        raise GitError(f"cannot archive session {ref.name}: worktree {ref.worktree} is locked")
    if (admin_dir / "modules").exists():
        raise GitError(
            f"cannot archive session {ref.name}: it has initialised submodules whose git data "
            f"lives in {admin_dir}; deinit them first"
        )
    if archive_ref_name(ref.name) in repo.references:
        raise GitError(
            f"cannot archive session {ref.name}: {archive_ref_name(ref.name)} already exists"
        )
    wt = pygit2.Repository(str(ref.worktree))
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


# --- inventory ---


def _scan(wt: pygit2.Repository, ref: SessionRef, *, hash_all: bool) -> _Inventory:
    """Every entry under the worktree (but its `.git` file), each marked for snapshot or tar.

    Tracked paths (index or HEAD) and untracked ones go to the snapshot; ignored
    paths and nested repositories to the tar. With `hash_all`, each file and link
    gets its blob id (used to compare the disk with what was saved).
    """
    root = str(ref.worktree)
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
                digest = str(pygit2.hashfile(full))
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


def _blob_id(stream: IO[bytes], size: int) -> str:
    """The git blob id of `size` bytes read from `stream` (as `git hash-object` computes)."""
    sha = hashlib.sha1(f"blob {size}\0".encode())
    for chunk in iter(lambda: stream.read(_CHUNK), b""):
        sha.update(chunk)
    return sha.hexdigest()


def _extract_tar(ref: SessionRef, tar_path: Path) -> None:
    root = os.path.realpath(ref.worktree)
    with tarfile.open(tar_path, mode="r") as tar:
        members = tar.getmembers()
        for member in members:
            target = os.path.realpath(os.path.join(root, os.path.dirname(member.name)))
            if os.path.isabs(member.name) or ".." in member.name.split("/"):
                raise GitError(f"{tar_path}: unsafe member {member.name!r}")
            if target != root and not target.startswith(root + os.sep):
                raise GitError(f"{tar_path}: member {member.name!r} leads outside {root}")
        # Our own archive, checked above: keep modes and links exactly as saved.
        tar.extractall(root, members=members, filter="fully_trusted")


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


def _manifest_tar(ref: SessionRef, manifest: dict[str, Any], archive_dir: Path) -> Path | None:
    """The archive's tar, checked against the sha256 the manifest recorded."""
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
            f"cannot restore session {ref.name}: ignored-files archive {tar_path}: {exc.strerror}"
        ) from exc
    if sha.hexdigest() != manifest["tar_sha256"]:
        raise GitError(f"cannot restore session {ref.name}: {tar_path} is damaged")
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
    repo: pygit2.Repository, ref: SessionRef, tree: pygit2.Tree, inventory: _Inventory
) -> None:
    root = str(ref.worktree)
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
            continue
        fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(blob.data)


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


def _remove_inventoried(ref: SessionRef, inventory: _Inventory) -> None:
    """Unlink exactly the saved entries, then the `.git` file and the worktree folder.

    Never recursive: anything that appeared after the last scan stops the removal
    (its folder is not empty) instead of being deleted unsaved.
    """
    root = str(ref.worktree)
    for entry in inventory.entries:
        if entry.kind == "dir":
            full = os.path.join(root, entry.path)
            os.chmod(full, entry.perm | stat.S_IRWXU)  # so its entries can be unlinked
    os.chmod(root, inventory.root_perm | stat.S_IRWXU)
    try:
        for entry in reversed(inventory.entries):
            full = os.path.join(root, entry.path)
            if entry.kind == "dir":
                os.rmdir(full)
            else:
                os.unlink(full)
        os.unlink(os.path.join(root, ".git"))
        os.rmdir(root)
    except OSError as exc:
        raise GitError(
            f"archived session {ref.name}, but could not remove {exc.filename}: {exc.strerror}; "
            "everything removed so far is in the archive"
        ) from exc


def _undo_restore(
    repo: pygit2.Repository, ref: SessionRef, admin: str, *, remove_files: bool
) -> None:
    """Remove a half-restored worktree: every file in it came from the archive, still kept.

    Files are removed only if our add_worktree made the folder; git's admin folder
    (which a failed add_worktree leaves behind) is pruned either way.
    """
    if remove_files and os.path.lexists(ref.worktree):
        for dirpath, _dirnames, _files in os.walk(ref.worktree):
            with contextlib.suppress(OSError):
                os.chmod(dirpath, stat.S_IRWXU)
        shutil.rmtree(ref.worktree, ignore_errors=True)
    if admin in repo.list_worktrees():
        with contextlib.suppress(pygit2.GitError):
            repo.lookup_worktree(admin).prune(True)


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
