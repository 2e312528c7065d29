"""Removing a snapshotted worktree through its quarantine, and putting it back whole.

`_Removal` moves each entry into `.ptui-removing/` inside the worktree, checks it
there against the snapshot, and deletes only when every entry passed; anything
else rolls everything back (from the quarantine, or re-created from the
archive) and raises `WorktreeChanged`. Also the clean-up of a removal that got
past its point of no return. `tui.git.archive.remove_worktree` runs it.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import shutil
import stat
import tarfile
from pathlib import Path
from typing import IO

import pygit2

from tui.git.archive_snapshot import (
    _CHUNK,
    QUARANTINE,
    Kind,
    Progress,
    _admin_dir,
    _blob_id,
    _Entry,
    _fsync_dir,
    _Inventory,
    _manifest_inventory,
    _parent,
    _quarantine,
    _shown,
    archive_commit,
    archive_ref_name,
    read_manifest,
)
from tui.git.model import GitError, SessionRef
from tui.git.worktree import admin_name

__all__ = ["WorktreeChanged"]

_KEPT_SUFFIX = ".ptui-kept"
# (inode, size, mtime, ctime, mode) of a checked entry: any write or chmod changes it.
_Stamp = tuple[int, int, int, int, int]


class WorktreeChanged(GitError):
    """Removal found something the snapshot does not hold; the worktree was put back whole."""


class _Changed(Exception):
    """Removal met something the snapshot does not hold (internal; becomes WorktreeChanged)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


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
        entries = _manifest_inventory(read_manifest(repo, ref, archive_commit(repo, ref))).entries
        for name in os.listdir(quarantine):
            held = os.path.join(quarantine, name)
            with contextlib.suppress(OSError):
                index = int(name) if name.isdigit() else len(entries)
                if index < len(entries) and _check_entry(held, entries[index]) is not None:
                    os.unlink(held)
    for folder in (quarantine, ref.worktree):
        with contextlib.suppress(OSError):
            os.rmdir(folder)
