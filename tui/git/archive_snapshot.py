"""What archiving a worktree saves, and what every archive step shares.

The inventory of a worktree (`_scan`: every entry, its kind, permission bits and
whether it goes to the snapshot or the tar), the tar of ignored files, the
snapshot commit and its manifest (written, read back, read), the archive's
pieces on disk (ref and tars), the checks before a snapshot, and fsync.
`tui.git.archive` runs the steps; its docstring describes the whole design.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import pygit2
from pygit2.enums import FileMode, RepositoryState

from tui.git.merge import signature
from tui.git.model import GitError, SessionRef
from tui.git.names import validate_name
from tui.git.repo import common_dir, open_repo
from tui.git.worktree import admin_name

__all__ = ["QUARANTINE", "archive_commit", "archive_ref_name", "read_manifest"]

QUARANTINE = ".ptui-removing"
"""The folder inside a worktree that entries are moved into while it is removed."""

_MANIFEST_VERSION = 1
_MANIFEST_FILE = "manifest.json"
_CHUNK = 1 << 20

Kind = Literal["file", "link", "dir", "other"]
Dest = Literal["snapshot", "tar"]
Progress = Callable[[], None]


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


def _shown(path: str) -> str:
    """A path for a one-line message (quoted when it holds a newline or other control)."""
    return path if path.isprintable() else repr(path)


# --- the archive's pieces: ref and tars ---


def _named_tar(repo: pygit2.Repository, ref: SessionRef) -> str | None:
    """The tar file name the archive's manifest records (None without one, or unreadable)."""
    try:
        manifest = read_manifest(repo, ref, archive_commit(repo, ref))
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


# --- the snapshot commit and its manifest ---


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
    manifest = read_manifest(repo, ref, commit)
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


def archive_commit(repo: pygit2.Repository, ref: SessionRef) -> pygit2.Commit:
    """The snapshot commit under the session's archive ref, or a GitError."""
    try:
        commit = repo.lookup_reference(archive_ref_name(ref.name)).peel(pygit2.Commit)
    except KeyError:
        raise GitError(f"session {ref.name} has no archive") from None
    if len(commit.parent_ids) != 3:
        raise GitError(f"{archive_ref_name(ref.name)} is not a ptui archive")
    return commit


def read_manifest(
    repo: pygit2.Repository, ref: SessionRef, snapshot: pygit2.Commit
) -> dict[str, Any]:
    """The manifest a snapshot commit holds (entries, tar name and sha256), checked."""
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
