"""The base's checkout during a merge, path by path: `_BaseCheckout`.

`apply_checkout` and `undo_checkout` (in `tui.git.merge`) use it to bring exactly
the merged paths of the checkout that has the base branch from the old base to
the new one, or back: each path compared by content with both sides, each file
replaced atomically through a temporary name, the checkout's index following in
one write. Also the commit, index and config helpers it shares with
`tui.git.merge`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import pygit2
from pygit2.enums import FileMode

from tui.git.model import GitError

if TYPE_CHECKING:
    from tui.git.merge import MergePlan

# Files are written next to their final place under this suffix, then renamed over it,
# so a kill leaves either the old or the new content, never half of one.
_TEMP_SUFFIX = ".ptui-merge"


class _Entry(NamedTuple):
    """A tree entry that is not a folder: blob, executable, symlink or gitlink."""

    id: pygit2.Oid
    mode: int


class _BaseCheckout:
    """The checkout that has a plan's base branch, seen path by path.

    Every path is compared by content with what the old or the new base holds,
    never by the index's cached stat, so a half-applied step is recognised as such.
    """

    def __init__(self, plan: MergePlan) -> None:
        _check_paths(plan)
        self.plan = plan
        try:
            self.repo = pygit2.Repository(plan.checkout)
        except pygit2.GitError as exc:
            raise GitError(
                f"merge of session {plan.session}: {plan.checkout} is not a git checkout"
            ) from exc
        self.root = os.path.normpath(self.repo.workdir or plan.checkout)
        self.undoing = False
        self.old = self._tree(plan.old_base)
        self.new = self._tree(plan.new_base)
        self.filemode = _config_bool(self.repo, "core.filemode", default=True)
        self.files = frozenset(plan.files)
        # Whether checkout turns LF into CRLF everywhere; else only where attributes say.
        self.crlf = _config_text(self.repo, "core.autocrlf") in ("true", "yes", "on", "1") or (
            _config_text(self.repo, "core.eol") == "crlf"
        )

    def _tree(self, commit_id: str) -> pygit2.Tree:
        what = f"merge of session {self.plan.session}"
        return resolve_commit(self.repo, commit_id, what).tree

    def require_base(self) -> str:
        """Refuse unless the checkout still has the base branch; return its commit id."""
        head = None if self.repo.head_is_detached else self.repo.head.name
        if head != f"refs/heads/{self.plan.base}":
            raise GitError(
                f"merge of session {self.plan.session}: {self.root} no longer has "
                f"{self.plan.base} checked out"
            )
        return str(self.repo.head.target)

    def state(
        self, path: str, old: _Entry | None, new: _Entry | None
    ) -> Literal["old", "new"] | None:
        """`old` or `new`: which side's content the file at `path` holds; None: neither."""
        if self.disk_matches(path, old):
            # Only "no file" (or a submodule folder) can be what both sides hold.
            if old is not None and old.mode != FileMode.COMMIT:
                return "old"
            return "new" if self.disk_matches(path, new) else "old"
        return "new" if self.disk_matches(path, new) else None

    def full(self, path: str) -> str:
        return os.path.join(self.root, *path.split("/"))

    def entries(self, path: str) -> tuple[_Entry | None, _Entry | None]:
        return _tree_entry(self.old, path), _tree_entry(self.new, path)

    def disk_matches(self, path: str, entry: _Entry | None) -> bool:
        """Whether the file at `path` is `entry` (None: no file there)."""
        full = self.full(path)
        try:
            st = os.lstat(full)
        except (FileNotFoundError, NotADirectoryError):
            return entry is None or entry.mode == FileMode.COMMIT
        if entry is None:
            # A folder whose files are all merged paths goes away with them.
            return stat.S_ISDIR(st.st_mode) and self._holds_only_merged_files(full)
        if entry.mode == FileMode.COMMIT:
            return stat.S_ISDIR(st.st_mode)
        blob = self.repo[entry.id].peel(pygit2.Blob)
        if entry.mode == FileMode.LINK:
            return stat.S_ISLNK(st.st_mode) and os.readlink(os.fsencode(full)) == blob.data
        if not stat.S_ISREG(st.st_mode):
            return False
        if self.filemode and bool(st.st_mode & stat.S_IXUSR) != (
            entry.mode == FileMode.BLOB_EXECUTABLE
        ):
            return False
        with open(full, "rb") as handle:
            data = handle.read()
        return data == blob.data or data == self.content(path, blob)

    def _holds_only_merged_files(self, folder: str) -> bool:
        for item in _walk_files(folder):
            rel = os.path.relpath(item, self.root).replace(os.sep, "/")
            if rel not in self.files:
                return False
        return True

    def index_matches(self, index: pygit2.Index, path: str, entry: _Entry | None) -> bool:
        if path not in index:
            return entry is None
        current = index[path]
        return entry is not None and current.id == entry.id and current.mode == entry.mode

    def content(self, path: str, blob: pygit2.Blob) -> bytes:
        """The blob as checkout writes it at `path` (eol and ident filters applied)."""
        if not (
            self.crlf
            or self.repo.get_attr(path, "eol") == "crlf"
            or self.repo.get_attr(path, "ident") is True
        ):
            # No filter changes a blob here: skip BlobIO, which starts a thread per blob.
            return blob.data
        with pygit2.BlobIO(blob, as_path=path) as stream:
            return stream.read()

    def clear_leftovers(self) -> None:
        """Remove temporary files a killed step left next to the merged paths."""
        for path in self.plan.files:
            temp = _temp_path(self.full(path))
            rel = os.path.relpath(temp, self.root).replace(os.sep, "/")
            if rel in self.files or not os.path.lexists(temp) or os.path.isdir(temp):
                continue
            os.unlink(temp)
            self._prune_folders(os.path.dirname(temp))

    def write_all(
        self, pending: list[tuple[str, _Entry | None]], progress: Callable[[], None] | None
    ) -> None:
        """Bring each path to its entry: removals deepest first, then files in order.

        Removals go first so a folder is empty before a file takes its place.
        """
        removals = sorted((path for path, entry in pending if entry is None), reverse=True)
        writes = sorted((path, entry) for path, entry in pending if entry is not None)
        for path in removals:
            self._guard(path, self._remove, path)
            if progress is not None:
                progress()
        for path, entry in writes:
            self._guard(path, self._write, path, entry)
            if progress is not None:
                progress()

    def _guard(self, path: str, action: Callable[..., None], *args: Any) -> None:
        try:
            action(*args)
        except OSError as exc:
            raise GitError(
                f"merge of session {self.plan.session}: cannot write {path} in {self.root}: "
                f"{exc.strerror or exc}"
            ) from exc

    def _remove(self, path: str) -> None:
        full = self.full(path)
        try:
            st = os.lstat(full)
        except (FileNotFoundError, NotADirectoryError):
            return
        if stat.S_ISDIR(st.st_mode):
            return  # emptied by the removal of the merged files inside it
        os.unlink(full)
        self._prune_folders(os.path.dirname(full))

    def _write(self, path: str, entry: _Entry) -> None:
        full = self.full(path)
        if os.path.isdir(full) and not os.path.islink(full):
            if entry.mode == FileMode.COMMIT:
                return
            os.rmdir(full)  # emptied above; a folder with anything left in it raises
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if entry.mode == FileMode.COMMIT:
            os.mkdir(full)  # a submodule's place, as git leaves it before `submodule update`
            return
        blob = self.repo[entry.id].peel(pygit2.Blob)
        temp = _temp_path(full)
        if os.path.lexists(temp):
            os.unlink(temp)
        if entry.mode == FileMode.LINK:
            os.symlink(blob.data, os.fsencode(temp))
        else:
            executable = entry.mode == FileMode.BLOB_EXECUTABLE
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o777 if executable else 0o666)
            with os.fdopen(fd, "wb") as handle:
                handle.write(self.content(path, blob))
        os.replace(temp, full)

    def _prune_folders(self, folder: str) -> None:
        """Remove `folder` and its parents while empty, up to the checkout's root (as git
        does), but never one the checkout had before the merge (`plan.kept_dirs`)."""
        # Only an undo keeps them: a merge that deletes a folder's files removes it, as git.
        kept = {os.path.join(self.root, d) for d in self.plan.kept_dirs} if self.undoing else set()
        while folder != self.root and folder.startswith(self.root + os.sep):
            if folder in kept:
                return
            try:
                os.rmdir(folder)
            except OSError:
                return
            folder = os.path.dirname(folder)

    def set_index_entries(
        self, index: pygit2.Index, entries: list[tuple[str, _Entry | None, bool]]
    ) -> None:
        """Set each (path, entry, file holds it) in the index and write it once if changed.

        Removals go first: a file cannot enter the index while entries below the
        same name as a folder are still there.
        """
        changed = False
        for path, entry, _ in sorted(entries, key=lambda item: item[0], reverse=True):
            if entry is None and path in index:
                index.remove(path)
                changed = True
        for path, entry, on_disk in sorted(entries, key=lambda item: item[0]):
            if entry is not None and not self.index_matches(index, path, entry):
                _add_entry(index, path, entry.id, entry.mode, from_disk=on_disk)
                changed = True
        if not changed:
            return
        try:
            index.write()
        except pygit2.GitError as exc:
            raise GitError(
                f"merge of session {self.plan.session}: cannot write the index of {self.root}: "
                f"{exc}"
            ) from exc


def _tree_entry(tree: pygit2.Tree, path: str) -> _Entry | None:
    try:
        obj = tree[path]
    except KeyError:
        return None
    if obj.filemode == FileMode.TREE:
        return None
    return _Entry(obj.id, obj.filemode)


def _walk_files(folder: str) -> Iterator[str]:
    """Every non-folder below `folder` (symlinks are not followed)."""
    with os.scandir(folder) as items:
        for item in items:
            if item.is_dir(follow_symlinks=False):
                yield from _walk_files(item.path)
            else:
                yield item.path


def _temp_path(full: str) -> str:
    folder, name = os.path.split(full)
    return os.path.join(folder, f".{name}{_TEMP_SUFFIX}")


def _check_paths(plan: MergePlan) -> None:
    """Refuse a path that could leave the checkout or reach into `.git`."""
    for path in plan.files:
        parts = path.split("/")
        if (
            not path
            or path.startswith("/")
            or any(part in ("", ".", "..") or part.lower() == ".git" for part in parts)
            or "\0" in path
        ):
            raise GitError(f"merge plan of session {plan.session}: bad path {path!r}")


# --- helpers shared with tui.git.merge ---


def resolve_commit(repo: pygit2.Repository, spec: str, what: str) -> pygit2.Commit:
    """Resolve a branch, tag or commit id to a commit, or a GitError naming `what`."""
    try:
        return repo.revparse_single(spec).peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError) as exc:
        raise GitError(f"{what}: {spec!r} does not name a commit") from exc


def _add_entry(
    index: pygit2.Index, path: str, oid: pygit2.Oid, mode: int, *, from_disk: bool
) -> None:
    """Set an index entry; from the file (with its stat) when that gives the same entry."""
    if from_disk and mode != FileMode.COMMIT:
        try:
            index.add(path)
        except (OSError, pygit2.GitError):
            pass  # gone or unreadable: the entry below is right all the same
        else:
            added = index[path]
            if added.id == oid and added.mode == mode:
                return
    index.add(pygit2.IndexEntry(path, oid, FileMode(mode)))


def _config_bool(repo: pygit2.Repository, key: str, *, default: bool) -> bool:
    try:
        return repo.config.get_bool(key)
    except (KeyError, pygit2.GitError):
        return default


def _config_text(repo: pygit2.Repository, key: str) -> str:
    try:
        return str(repo.config[key]).strip().lower()
    except (KeyError, pygit2.GitError):
        return ""
