"""Archiving against late writers and kill -9: nothing is ever lost, and every step resumes.

A late write (an editor saving, a dev server writing a log) can land between the
snapshot and the end of the removal. Removal then puts everything back and the
snapshot is discarded: the worktree is whole again, the write in it. A step killed
at any point is finished by running it again. Kills happen in a real subprocess
(SIGKILL at the k-th unit of work), never simulated.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pygit2
import pytest

from tests.git.conftest import git
from tests.git.test_archive import archive_dir_of, disk_state, populate
from tests.git.test_merge import new_session
from tui.git.archive import (
    QUARANTINE,
    ArchiveStatus,
    WorktreeChanged,
    archive_status,
    discard_snapshot,
    drop_archive,
    remove_worktree,
    restore_files,
    restore_session,
    snapshot_session,
)
from tui.git.model import GitError, SessionRef

ROOT = Path(__file__).resolve().parents[2]

# Runs one step in a fresh process and SIGKILLs it at the k-th unit of work.
STEP_SCRIPT = """
import os, signal, sys
from pathlib import Path
from tui.git import archive
from tui.git.model import SessionRef

repo, name, branch, base, base_commit, worktree, archive_dir, step, k = sys.argv[1:]
ref = SessionRef(Path(repo), name, branch, base, base_commit, Path(worktree))
calls = 0

def progress():
    global calls
    calls += 1
    if calls == int(k):
        os.kill(os.getpid(), signal.SIGKILL)

getattr(archive, step)(ref, Path(archive_dir), progress)
"""

# Runs snapshot_session in a fresh process and SIGKILLs it at a point inside it.
SNAPSHOT_SCRIPT = """
import os, signal, sys, tarfile
from pathlib import Path
from tui.git import archive
from tui.git.model import SessionRef

repo, name, branch, base, base_commit, worktree, archive_dir, point, tar_name = sys.argv[1:]
ref = SessionRef(Path(repo), name, branch, base, base_commit, Path(worktree))

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if point == "tar":  # half way through writing the tar: the .tmp is on disk
    real_add = tarfile.TarFile.add
    def add(self, *args, **kwargs):
        real_add(self, *args, **kwargs)
        self.fileobj.flush()
        die()
    tarfile.TarFile.add = add
elif point == "objects":  # the tar is complete, no ref yet
    archive._fsync_objects = die
elif point == "ref":  # the ref is created, not yet verified
    archive._fsync_ref = die
archive.snapshot_session(ref, Path(archive_dir), tar_name=tar_name or None)
"""


def ref_args(s: SessionRef, archive_dir: Path) -> list[str]:
    return [
        str(s.repo),
        s.name,
        s.branch,
        s.base,
        s.base_commit,
        str(s.worktree),
        str(archive_dir),
    ]


def killed_at(script: str, *args: str) -> None:
    """Run `script` in a subprocess; it must die by SIGKILL."""
    result = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == -signal.SIGKILL, result.stderr


def status_lines(worktree: Path) -> list[str]:
    out = git(worktree, "status", "--porcelain", "--untracked-files=all", "--ignored")
    return sorted(out.splitlines())


def index_bytes(repo: Path, s: SessionRef) -> bytes:
    return (repo / ".git" / "worktrees" / f"ptui-{s.name}" / "index").read_bytes()


def unit_counts(before: dict[str, tuple[str, int, bytes]]) -> tuple[int, int]:
    """(entries, files and links): remove_worktree's progress calls are their sum."""
    files = sum(1 for kind, _perm, _data in before.values() if kind != "dir")
    return len(before), files


def nothing_archived(repo: Path, s: SessionRef, archive_dir: Path) -> None:
    assert f"refs/ptui/archive/{s.name}" not in pygit2.Repository(str(repo)).references
    assert not archive_dir.exists() or os.listdir(archive_dir) == []


@pytest.fixture
def busy(repo: Path) -> SessionRef:
    """A session with every kind of entry: staged, unstaged, untracked, ignored, modes,
    symlinks, hard links."""
    s = new_session(repo, "busy")
    populate(s)
    # Hard links: renaming or unlinking one name changes the file's ctime for the other.
    os.link(s.worktree / "src/new.py", s.worktree / "src/new hard link.py")
    os.link(s.worktree / "logs.log", s.worktree / "hard link.log")  # ignored: in the tar
    return s


def test_a_file_created_after_the_snapshot_is_kept_and_nothing_removed(
    repo: Path, tmp_path: Path, busy: SessionRef
) -> None:
    s, archive_dir = busy, archive_dir_of(tmp_path)
    before = disk_state(s.worktree)
    git_file = (s.worktree / ".git").read_bytes()
    index = index_bytes(repo, s)
    status = status_lines(s.worktree)
    snapshot_session(s, archive_dir)

    (s.worktree / "late ☃.txt").write_text("saved by an editor after the snapshot\n")
    with pytest.raises(
        WorktreeChanged,
        match=r"^session busy: late ☃\.txt in .* changed or appeared after the snapshot; "
        r"the worktree was left whole and nothing was archived$",
    ):
        remove_worktree(s, archive_dir)

    after = disk_state(s.worktree)
    assert after.pop("late ☃.txt")[2] == b"saved by an editor after the snapshot\n"
    assert after == before
    assert (s.worktree / ".git").read_bytes() == git_file
    assert index_bytes(repo, s) == index
    assert [line for line in status_lines(s.worktree) if "late" not in line] == status
    discard_snapshot(s, archive_dir)
    nothing_archived(repo, s, archive_dir)
    assert archive_status(s, archive_dir) == ArchiveStatus(
        has_ref=False,
        tar=None,
        worktree_exists=True,
        registered=True,
        quarantine=False,
        staging=False,
    )


@pytest.mark.parametrize(
    ("when", "where"),
    [
        ("first", "top"),  # the first entry has just gone
        ("moved", "top"),  # every entry is in the quarantine
        ("moved", "quarantine"),  # ... and someone writes into the quarantine itself
        ("deleting", "top"),  # half the quarantine is deleted: those come from the archive
        ("last", "top"),  # all deleted; only .git and the folder are left
    ],
)
def test_a_write_during_removal_puts_everything_back(
    repo: Path, tmp_path: Path, busy: SessionRef, when: str, where: str
) -> None:
    s, archive_dir = busy, archive_dir_of(tmp_path)
    before = disk_state(s.worktree)
    git_file = (s.worktree / ".git").read_bytes()
    index = index_bytes(repo, s)
    status = status_lines(s.worktree)
    entries, files = unit_counts(before)
    k = {"first": 1, "moved": entries, "deleting": entries + files // 2, "last": entries + files}
    snapshot_session(s, archive_dir)
    calls = 0

    def late_write() -> None:
        nonlocal calls
        calls += 1
        if calls == k[when]:
            folder = s.worktree / QUARANTINE if where == "quarantine" else s.worktree
            (folder / "dev-server.log").write_text("late\n")

    with pytest.raises(WorktreeChanged, match=r"dev-server\.log"):
        remove_worktree(s, archive_dir, late_write)

    after = disk_state(s.worktree)
    late = "dev-server.log" if where == "top" else "dev-server.log.ptui-kept"
    assert after.pop(late) == ("file", 0o644, b"late\n")
    assert after == before
    assert (s.worktree / ".git").read_bytes() == git_file
    assert index_bytes(repo, s) == index
    assert [line for line in status_lines(s.worktree) if "dev-server" not in line] == status
    discard_snapshot(s, archive_dir)
    nothing_archived(repo, s, archive_dir)


@pytest.mark.parametrize("change", ["content", "mode", "quarantined"])
def test_a_file_changed_before_its_removal_is_kept(
    repo: Path, tmp_path: Path, busy: SessionRef, change: str
) -> None:
    s, archive_dir = busy, archive_dir_of(tmp_path)
    before = disk_state(s.worktree)
    entries, _files = unit_counts(before)
    snapshot_session(s, archive_dir)
    calls = 0

    def writer() -> None:
        nonlocal calls
        calls += 1
        if change == "content" and calls == 2:
            # README.md sorts near the front, so it is still in place (removal is deepest first).
            assert (s.worktree / "README.md").exists()
            (s.worktree / "README.md").write_text("saved again\n")
        elif change == "mode" and calls == 2:
            (s.worktree / "run.sh").chmod(0o700)
        elif change == "quarantined" and calls == entries:
            # Every entry waits in the quarantine: one is written to there.
            held = [
                p
                for p in (s.worktree / QUARANTINE).iterdir()
                if not p.is_symlink() and p.read_bytes() == b"unstaged\n"
            ]
            assert len(held) == 1
            with open(held[0], "ab") as out:
                out.write(b"appended through an open file\n")

    with pytest.raises(WorktreeChanged):
        remove_worktree(s, archive_dir, writer)

    expected = dict(before)
    if change == "content":
        expected["README.md"] = ("file", 0o644, b"saved again\n")
    elif change == "mode":
        expected["run.sh"] = ("file", 0o700, before["run.sh"][2])
    else:
        expected["src/app.py"] = ("file", 0o644, b"unstaged\nappended through an open file\n")
    assert disk_state(s.worktree) == expected
    discard_snapshot(s, archive_dir)
    nothing_archived(repo, s, archive_dir)


class Writer(threading.Thread):
    """Every 2 ms: a new file (at the top or in src/), or saves `notes.txt` as editors do.

    `written` holds what each path must contain afterwards: every new file, and
    the last successful save of `notes.txt` (write a temporary file, rename it over).
    """

    def __init__(self, worktree: Path, round_: int, delay: float) -> None:
        super().__init__()
        self.worktree, self.round, self.delay = worktree, round_, delay
        self.stop = threading.Event()
        self.written: dict[str, bytes] = {}

    def run(self) -> None:
        time.sleep(self.delay)
        number = 0
        while not self.stop.is_set():
            number += 1
            data = f"round {self.round} write {number}\n".encode()
            try:
                if number % 3 == 0:
                    rel = "notes.txt"
                    tmp = self.worktree / f".notes.txt.{number}.swp"
                    tmp.write_bytes(data)
                    os.replace(tmp, self.worktree / rel)
                else:
                    rel = f"src/w-{self.round}-{number}" if number % 3 == 1 else f"w-{number}"
                    with open(self.worktree / rel, "xb") as out:
                        out.write(data)
            except OSError:
                pass  # its folder was being removed: nothing was written
            else:
                self.written[rel] = data
            time.sleep(0.002)


def test_a_concurrent_writer_never_loses_a_file(
    repo: Path, tmp_path: Path, busy: SessionRef
) -> None:
    s, archive_dir = busy, archive_dir_of(tmp_path)
    outcomes: list[str] = []
    total = 0
    # The first round writes through the snapshot; the others start during the
    # removal, later each time, so they race its end.
    rounds = [(True, 0.0), (False, 0.0), (False, 0.001), (False, 0.002), (False, 0.004)]
    for round_, (during_snapshot, delay) in enumerate(rounds):
        writer = Writer(s.worktree, round_, delay)
        try:
            if during_snapshot:
                writer.start()
            snapshot_session(s, archive_dir)
            if not during_snapshot:
                writer.start()
            remove_worktree(s, archive_dir)
        except WorktreeChanged:
            outcomes.append("put back")
            discard_snapshot(s, archive_dir)
        except GitError as exc:
            assert "changed while archiving; nothing was removed" in str(exc)
            outcomes.append("refused")
        else:
            outcomes.append("archived")
        finally:
            writer.stop.set()
            if writer.ident is not None:
                writer.join()
        if outcomes[-1] == "archived":
            restore_session(s, archive_dir)
        for rel, data in writer.written.items():
            assert (s.worktree / rel).read_bytes() == data, rel
        nothing_archived(repo, s, archive_dir)
        assert not (s.worktree / QUARANTINE).exists()
        total += len(writer.written)
    assert total > 0, outcomes  # the writer did race the archive


REMOVE_KILLS = ["first", "middle", "moved", "deleting", "last"]
RESTORE_KILLS = ["first", "middle", "written", "moved"]


@pytest.mark.parametrize(
    ("remove_kill", "restore_kill"),
    list(zip(REMOVE_KILLS, [*RESTORE_KILLS, "first"], strict=True)),
)
def test_kill_during_removal_and_restore_then_resume(
    repo: Path, tmp_path: Path, busy: SessionRef, remove_kill: str, restore_kill: str
) -> None:
    s, archive_dir = busy, archive_dir_of(tmp_path)
    before = disk_state(s.worktree)
    status = status_lines(s.worktree)
    entries, files = unit_counts(before)
    snapshot_session(s, archive_dir)
    removal_k = {
        "first": 1,
        "middle": entries // 2,
        "moved": entries,
        "deleting": entries + 1,
        "last": entries + files,
    }[remove_kill]
    killed_at(STEP_SCRIPT, *ref_args(s, archive_dir), "remove_worktree", str(removal_k))

    state = archive_status(s, archive_dir)
    assert state.has_ref and state.tar is not None and state.registered and state.quarantine
    with pytest.raises(GitError, match=r"interrupted|no \.git file"):
        snapshot_session(s, archive_dir)  # a half-removed worktree is never snapshotted again
    with pytest.raises(GitError, match="not whole"):
        discard_snapshot(s, archive_dir)  # nor its archive dropped
    remove_worktree(s, archive_dir)
    assert not os.path.lexists(s.worktree)
    assert pygit2.Repository(str(repo)).list_worktrees() == []
    remove_worktree(s, archive_dir)  # done is done

    restore_k = {"first": 1, "middle": files // 2, "written": files, "moved": files + 1}[
        restore_kill
    ]
    killed_at(STEP_SCRIPT, *ref_args(s, archive_dir), "restore_files", str(restore_k))
    state = archive_status(s, archive_dir)
    assert state.has_ref and state.registered
    assert state.staging == (restore_kill != "moved")
    with pytest.raises(GitError, match="not restored"):
        drop_archive(s, archive_dir)  # the archive stays until the worktree is back
    restore_files(s, archive_dir)
    restore_files(s, archive_dir)  # done is done
    drop_archive(s, archive_dir)
    drop_archive(s, archive_dir)

    assert disk_state(s.worktree) == before
    assert status_lines(s.worktree) == status
    assert pygit2.Repository(str(repo)).list_worktrees() == [f"ptui-{s.name}"]
    nothing_archived(repo, s, archive_dir)
    assert archive_status(s, archive_dir) == ArchiveStatus(
        has_ref=False,
        tar=None,
        worktree_exists=True,
        registered=True,
        quarantine=False,
        staging=False,
    )


@pytest.mark.parametrize(
    ("point", "journaled"), [("tar", True), ("objects", False), ("ref", True), ("ref", False)]
)
def test_kill_during_snapshot_then_again_or_discard(
    repo: Path, tmp_path: Path, busy: SessionRef, point: str, journaled: bool
) -> None:
    s, archive_dir = busy, archive_dir_of(tmp_path)
    (s.worktree / "build" / "big.bin").write_bytes(os.urandom(1 << 20))
    before = disk_state(s.worktree)
    tar_name = f"{s.name}.12345.tar" if journaled else ""
    killed_at(SNAPSHOT_SCRIPT, *ref_args(s, archive_dir), point, tar_name)
    left = sorted(os.listdir(archive_dir))
    assert left and all(name.startswith(f"{s.name}.") for name in left)
    assert disk_state(s.worktree) == before  # a snapshot never touches the worktree

    if point == "ref":
        # Backward: the journal discards it (by the ref, or by the journaled name).
        discard_snapshot(s, archive_dir, tar_name=tar_name or None)
        nothing_archived(repo, s, archive_dir)
    result = snapshot_session(s, archive_dir, tar_name=tar_name or None)
    assert result.ignored_archive is not None
    assert os.listdir(archive_dir) == [result.ignored_archive.name]
    if journaled:
        assert result.ignored_archive.name == tar_name
    discard_snapshot(s, archive_dir)
    discard_snapshot(s, archive_dir)  # nothing there: no error
    nothing_archived(repo, s, archive_dir)
    assert disk_state(s.worktree) == before


@pytest.mark.parametrize("remove_kill", ["moved", "deleting", "last"])
def test_a_write_after_a_killed_removal_puts_everything_back(
    repo: Path, tmp_path: Path, busy: SessionRef, remove_kill: str
) -> None:
    s, archive_dir = busy, archive_dir_of(tmp_path)
    before = disk_state(s.worktree)
    git_file = (s.worktree / ".git").read_bytes()
    status = status_lines(s.worktree)
    entries, files = unit_counts(before)
    snapshot_session(s, archive_dir)
    k = {"moved": entries, "deleting": entries + files // 2, "last": entries + files}[remove_kill]
    killed_at(STEP_SCRIPT, *ref_args(s, archive_dir), "remove_worktree", str(k))
    (s.worktree / "saved after the kill.txt").write_text("late\n")

    with pytest.raises(WorktreeChanged, match="saved after the kill"):
        remove_worktree(s, archive_dir)  # the journal rolls forward, and finds the write

    after = disk_state(s.worktree)
    assert after.pop("saved after the kill.txt") == ("file", 0o644, b"late\n")
    assert after == before  # what the killed run had deleted came back from the archive
    assert (s.worktree / ".git").read_bytes() == git_file
    assert [line for line in status_lines(s.worktree) if "saved after" not in line] == status
    discard_snapshot(s, archive_dir)
    nothing_archived(repo, s, archive_dir)
