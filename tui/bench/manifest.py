"""What a worktree holds, byte for byte, and a writer that races ptui while it moves it.

Shared by `ptui bench crash` and the fault-injection tests:

- `take_manifest` records every entry under a folder except `.git`: its kind
  (file, link, dir), permission bits and the sha256 of its content or link
  target. It reads the disk, not git, so tracked, staged, untracked and ignored
  files are all in it. `compare` names what was lost or changed since.
- `commit_manifest` is the same for a commit's tree (what a checkout of it holds),
  so a merge can be checked to be all or nothing in the base checkout.
- `Writer` writes into a worktree from a thread while an operation runs — a
  steady stream of new files plus single late writes at seeded random moments —
  and remembers each file it wrote, so a check can find every one afterwards.
- `make_tricky_tree` puts the files that break archivers into a worktree.
"""

from __future__ import annotations

import errno
import hashlib
import os
import random
import stat
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "Entry",
    "Manifest",
    "Writer",
    "commit_manifest",
    "compare",
    "describe",
    "differences",
    "git_head",
    "main_checkout_problems",
    "make_tricky_tree",
    "missing",
    "take_manifest",
]

Kind = Literal["file", "link", "dir"]


@dataclass(frozen=True)
class Entry:
    """One path of a manifest."""

    kind: Kind
    mode: int
    """Permission bits (0 for a link: Linux ignores a link's bits and git keeps none)."""
    digest: str
    """sha256 of a file's content or a link's target; empty for a folder."""


Manifest = dict[str, Entry]
"""POSIX path relative to the root -> what is there."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def take_manifest(root: Path) -> Manifest:
    """Every entry under `root` except the top-level `.git` (a worktree's is a file)."""
    found: Manifest = {}

    def walk(folder: Path, prefix: str) -> None:
        with os.scandir(folder) as entries:
            for item in entries:
                if not prefix and item.name == ".git":
                    continue
                rel = prefix + item.name
                info = item.stat(follow_symlinks=False)
                if stat.S_ISLNK(info.st_mode):
                    target = os.fsencode(os.readlink(item.path))
                    found[rel] = Entry("link", 0, _sha256(target))
                elif stat.S_ISDIR(info.st_mode):
                    found[rel] = Entry("dir", stat.S_IMODE(info.st_mode), "")
                    walk(Path(item.path), rel + "/")
                else:
                    with open(item.path, "rb") as handle:
                        digest = hashlib.file_digest(handle, "sha256").hexdigest()
                    found[rel] = Entry("file", stat.S_IMODE(info.st_mode), digest)

    walk(root, "")
    return found


def compare(before: Manifest, after: Manifest) -> list[str]:
    """Paths of `before` that are gone or different in `after` (new paths are fine)."""
    return sorted(path for path, entry in before.items() if after.get(path) != entry)


def differences(first: Manifest, second: Manifest) -> list[str]:
    """Paths that differ either way: lost, changed, or new."""
    paths = first.keys() | second.keys()
    return sorted(path for path in paths if first.get(path) != second.get(path))


def describe(path: str, before: Manifest, after: Manifest) -> str:
    """One line saying how `path` differs, for a failure message."""
    old, new = before.get(path), after.get(path)
    if old is None:
        return f"{path}: new {new}"
    if new is None:
        return f"{path}: lost ({old.kind})"
    return f"{path}: was {old}, now {new}"


def _umask() -> int:
    # Only /proc says it without setting it (os.umask would change it for a moment
    # under every thread of this process).
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def commit_manifest(repo: Path, rev: str = "HEAD") -> Manifest:
    """The manifest a clean checkout of `rev` has (file modes as git writes them)."""
    listing = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "-z", "--full-tree", rev],
        check=True,
        capture_output=True,
    ).stdout
    rows: list[tuple[str, str, str]] = []
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        if kind == "blob":
            rows.append((mode, sha, os.fsdecode(raw_path)))
    contents = _blobs(repo, [sha for _, sha, _ in rows])
    umask = _umask()
    found: Manifest = {}
    for mode, sha, path in rows:
        data = contents[sha]
        if mode == "120000":
            found[path] = Entry("link", 0, _sha256(data))
        else:
            bits = 0o777 if mode == "100755" else 0o666
            found[path] = Entry("file", bits & ~umask, _sha256(data))
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            found.setdefault("/".join(parts[:depth]), Entry("dir", 0o777 & ~umask, ""))
    return found


def _blobs(repo: Path, shas: list[str]) -> dict[str, bytes]:
    """Blob contents by sha, through one `git cat-file --batch`."""
    if not shas:
        return {}
    unique = sorted(set(shas))
    out = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch"],
        input="".join(f"{sha}\n" for sha in unique).encode(),
        check=True,
        capture_output=True,
    ).stdout
    found: dict[str, bytes] = {}
    offset = 0
    for sha in unique:
        header_end = out.index(b"\n", offset)
        size = int(out[offset:header_end].split()[2])
        found[sha] = out[header_end + 1 : header_end + 1 + size]
        offset = header_end + 1 + size + 1  # the content, then a newline
    return found


def git_head(repo: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()


def main_checkout_problems(
    main: Path, before: Manifest, before_head: str, *, may_move: bool
) -> list[str]:
    """Problems with the main checkout: it must be as before, or (a merge) as after.

    After a merge it holds exactly the new HEAD's tree plus what it held untracked
    before; anything else (a half checkout, a leftover file ptui wrote) is a problem.
    """
    now = take_manifest(main)
    head = git_head(main)
    status = subprocess.run(
        ["git", "-C", str(main), "status", "--porcelain", "--untracked-files=no"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    problems = [f"main checkout index: {line}" for line in status.splitlines()]
    if head == before_head:
        expected = before
    elif not may_move:
        return [*problems, f"main moved from {before_head[:12]} to {head[:12]}"]
    else:
        tracked = commit_manifest(main, before_head)
        expected = commit_manifest(main, head) | {
            path: entry for path, entry in before.items() if path not in tracked
        }
    return problems + [
        f"main checkout: {describe(path, expected, now)}" for path in differences(expected, now)
    ]


class Writer(threading.Thread):
    """Writes new files into a worktree while ptui works on it, and remembers them.

    A stream: one file under `writer/` every `interval` seconds (±50%, seeded)
    for `stream_seconds`. Late writes: `late_writes` single files, each at a
    seeded random moment within `late_window` seconds of the start, in a random
    folder of the tree as it was at the start.

    Every write is an atomic rename of a finished file from `spool` (a folder
    outside the worktree, on the same file system), as editors save: a file is
    either wholly there or not, so a lost one is ptui's doing, not a torn write.
    The writer never creates a folder: once ptui has moved a folder away, writes
    into it fail and are not counted, as they would fail for an editor.
    """

    def __init__(
        self,
        root: Path,
        *,
        spool: Path,
        seed: int,
        interval: float = 0.01,
        stream_seconds: float = 1.0,
        late_writes: int = 2,
        late_window: float = 1.0,
    ) -> None:
        super().__init__(name=f"writer:{root.name}", daemon=True)
        self.root = root
        self.spool = spool
        self.interval = interval
        self.stream_seconds = stream_seconds
        self._rng = random.Random(seed)
        self._tag = f"{seed:x}"
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._written: dict[str, bytes] = {}
        self._failed = 0
        self.error: BaseException | None = None
        folders: list[str] = []
        for top, names, _ in os.walk(root):
            if top == str(root) and ".git" in names:
                names.remove(".git")  # never write into git's own folder
            folders += sorted(os.path.relpath(os.path.join(top, name), root) for name in names)
        self._late = sorted(
            (self._rng.uniform(0, late_window), self._rng.choice(["", *folders]))
            for _ in range(late_writes)
        )
        (root / "writer").mkdir(exist_ok=True)
        spool.mkdir(parents=True, exist_ok=True)

    @property
    def written(self) -> dict[str, bytes]:
        """Path relative to the root -> the content it was last given."""
        with self._lock:
            return dict(self._written)

    @property
    def failed(self) -> int:
        """Writes that found their folder gone (not counted as written)."""
        with self._lock:
            return self._failed

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # surfaced by stop(): a thread's error is silent
            self.error = exc

    def _loop(self) -> None:
        start = time.monotonic()
        next_stream = 0.0
        count = 0
        late = list(self._late)
        while not self._halt.is_set():
            now = time.monotonic() - start
            while late and late[0][0] <= now:
                _, folder = late.pop(0)
                prefix = f"{folder}/" if folder else ""
                self._put(f"{prefix}late-{self._tag}-{len(late)}.txt")
            streaming = now < self.stream_seconds
            if streaming and now >= next_stream:
                count += 1
                self._put(f"writer/w-{self._tag}-{count:05d}.txt")
                next_stream = now + self.interval * self._rng.uniform(0.5, 1.5)
            if not streaming and not late:
                return
            wake = min([t for t, _ in late[:1]] + ([next_stream] if streaming else []))
            self._halt.wait(max(0.0, min(wake - (time.monotonic() - start), 0.05)))

    def _put(self, rel: str) -> None:
        data = f"{rel} {self._rng.getrandbits(64):016x}\n".encode()
        spooled = self.spool / f"{self._tag}-{threading.get_ident()}-{time.monotonic_ns()}"
        spooled.write_bytes(data)
        try:
            os.rename(spooled, self.root / rel)
        except OSError as exc:
            spooled.unlink()
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                raise  # EXDEV and friends: the harness is wrong, say so
            with self._lock:
                self._failed += 1
            return
        with self._lock:
            self._written[rel] = data

    def stop(self) -> None:
        """Stop writing (the late writes not yet made are dropped) and wait."""
        self._halt.set()
        if self.is_alive():
            self.join()
        if self.error is not None:
            raise self.error


def missing(root: Path, written: dict[str, bytes]) -> list[str]:
    """Paths of `written` that are not at `root` with their content."""
    lost = []
    for rel, data in written.items():
        path = root / rel
        try:
            ok = not path.is_symlink() and path.is_file() and path.read_bytes() == data
        except OSError:
            ok = False
        if not ok:
            lost.append(rel)
    return sorted(lost)


UNICODE_NAME = "naïve-日本.txt"


def make_tricky_tree(root: Path, *, seed: int, big_bytes: int = 20 << 20) -> None:
    """Put into the worktree `root` what archivers get wrong, content seeded.

    A tracked change (README.md), a staged new file, a file staged then edited
    again (the staged/unstaged split), untracked files, an ignored `.env`
    (mode 0600, listed in `.gitignore`), a random binary of `big_bytes`, a link to
    a file, a dangling link, an executable, a unicode file name and an empty folder.
    Existing paths are overwritten, so it works on any checkout.
    """
    rng = random.Random(seed)

    def text(label: str) -> str:
        return f"{label} {rng.getrandbits(64):016x}\n"

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)

    def put(rel: str, data: str | bytes, mode: int = 0o644) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        path.chmod(mode)

    def link(rel: str, target: str) -> None:
        path = root / rel
        if path.is_symlink() or path.exists():
            path.unlink()
        path.symlink_to(target)

    readme = root / "README.md"
    put("README.md", (readme.read_text() if readme.is_file() else "") + text("tracked change"))
    ignore = root / ".gitignore"
    lines = ignore.read_text().splitlines() if ignore.is_file() else []
    if ".env" not in lines:
        put(".gitignore", "".join(f"{line}\n" for line in [*lines, ".env"]))
    put("staged.txt", text("staged"))
    put("split.txt", text("staged part"))
    git("add", "--", "staged.txt", "split.txt")
    put("split.txt", text("unstaged part"))
    put("notes/untracked.md", text("untracked"))
    put(".env", text("SECRET="), 0o600)
    put("assets/big.bin", rng.randbytes(big_bytes))
    put("bin/run.sh", "#!/bin/sh\n" + "# " + text("executable"), 0o755)
    put(UNICODE_NAME, text("unicode"))
    link("link-to-readme", "README.md")
    link("dangling", "no/such/file")
    (root / "empty").mkdir(exist_ok=True)
