"""`ptui bench crash` and its parts: the manifest, the tricky tree, the concurrent writer.

The manifest and the writer are what every crash check stands on, so they are
tested against real git and real files first; then the real `ptui bench crash`
runs three rounds end to end in its own temp dir.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.bench.crash_bench import fault_points, verb_for
from tui.bench.manifest import (
    UNICODE_NAME,
    Entry,
    Writer,
    commit_manifest,
    compare,
    differences,
    git_head,
    main_checkout_problems,
    make_tricky_tree,
    missing,
    take_manifest,
)
from tui.server.journal import OPERATIONS

PTUI = str(Path(sys.executable).with_name("ptui"))
BIG = 1 << 20


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A repository with one commit and the tricky tree on top."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "README.md").write_text("hello\n")
    (repo / "src").mkdir()
    (repo / "src" / "main.py").write_text("print('hi')\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    make_tricky_tree(repo, seed=7, big_bytes=BIG)
    return repo


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_tricky_tree_has_every_kind_of_change(tree: Path) -> None:
    status = git(tree, "status", "--porcelain", "--ignored", "-z").split("\0")
    assert " M README.md" in status  # tracked change
    assert "A  staged.txt" in status  # staged new file
    assert "AM split.txt" in status  # staged, then edited again
    assert "?? notes/" in status  # untracked
    assert "!! .env" in status  # ignored
    assert "?? " + UNICODE_NAME in status


def test_the_manifest_sees_every_kind_of_entry(tree: Path) -> None:
    found = take_manifest(tree)
    assert not [path for path in found if path == ".git" or path.startswith(".git/")]
    assert found["link-to-readme"] == Entry("link", 0, sha(b"README.md"))
    assert found["dangling"] == Entry("link", 0, sha(b"no/such/file"))
    assert found["empty"].kind == "dir"
    assert found[".env"].mode == 0o600
    assert found["bin/run.sh"].mode == 0o755
    assert found["src/main.py"] == Entry("file", 0o644, sha(b"print('hi')\n"))
    big = (tree / "assets" / "big.bin").read_bytes()
    assert len(big) == BIG
    assert found["assets/big.bin"] == Entry("file", 0o644, sha(big))
    assert UNICODE_NAME in found and "notes/untracked.md" in found
    # The same seed makes the same tree; another seed another one.
    other = tree.parent / "other"
    shutil.copytree(tree, other, symlinks=True)
    make_tricky_tree(other, seed=8, big_bytes=BIG)
    assert set(compare(found, take_manifest(other))) >= {"assets/big.bin", ".env", UNICODE_NAME}


def test_compare_names_each_path_lost_or_changed(tree: Path) -> None:
    before = take_manifest(tree)
    (tree / "staged.txt").unlink()  # lost
    (tree / "src" / "main.py").write_text("print('changed')\n")  # content
    (tree / "bin" / "run.sh").chmod(0o644)  # mode
    (tree / "link-to-readme").unlink()
    (tree / "link-to-readme").symlink_to("staged.txt")  # link target
    (tree / UNICODE_NAME).unlink()
    (tree / UNICODE_NAME).symlink_to("README.md")  # file became a link
    (tree / "empty").rmdir()  # an empty folder is work too
    (tree / "new.txt").write_text("new\n")  # new: not a loss
    after = take_manifest(tree)
    changed = [
        "bin/run.sh", "empty", "link-to-readme", UNICODE_NAME, "src/main.py", "staged.txt",
    ]  # fmt: skip
    assert compare(before, after) == sorted(changed)
    assert differences(before, after) == sorted([*changed, "new.txt"])
    assert compare(before, take_manifest(tree)) == compare(before, after)
    assert compare(after, after) == []


def test_a_commits_manifest_is_what_its_checkout_holds(tree: Path, tmp_path: Path) -> None:
    git(tree, "add", "-A")
    git(tree, "commit", "-qm", "everything but the ignored")
    checkout = tmp_path / "checkout"
    git(tree, "worktree", "add", "-q", "--detach", str(checkout), "HEAD")
    expected = commit_manifest(tree, "HEAD")
    assert "assets/big.bin" in expected and expected["link-to-readme"].kind == "link"
    assert ".env" not in expected and "empty" not in expected
    assert take_manifest(checkout) == expected
    assert commit_manifest(tree, "HEAD~1") != expected


def test_the_writer_streams_and_writes_late_then_stops(tree: Path, tmp_path: Path) -> None:
    writer = Writer(
        tree, spool=tmp_path / "spool", seed=3, interval=0.01, stream_seconds=0.3,
        late_writes=3, late_window=0.2,
    )  # fmt: skip
    before = take_manifest(tree)
    writer.start()
    writer.join(timeout=10)
    assert not writer.is_alive()  # ends on its own once its stream and late writes are done
    writer.stop()
    written = writer.written
    stream = [path for path in written if path.startswith("writer/")]
    late = [path for path in written if "/late-" in "/" + path]
    assert len(stream) >= 10 and len(late) == 3
    assert not [path for path in written if path.startswith(".git")]
    assert missing(tree, written) == []
    for path, data in written.items():
        assert (tree / path).read_bytes() == data
    assert compare(before, take_manifest(tree)) == []  # it only adds files
    assert list((tmp_path / "spool").iterdir()) == []  # every spooled file was moved in


def test_the_writer_never_recreates_a_worktree_moved_away(tree: Path, tmp_path: Path) -> None:
    writer = Writer(
        tree, spool=tmp_path / "spool", seed=4, interval=0.005, stream_seconds=5,
        late_writes=0,
    )  # fmt: skip
    writer.start()
    time.sleep(0.2)
    moved = tmp_path / "moved"
    tree.rename(moved)  # as an archive removes a worktree
    time.sleep(0.2)
    writer.stop()
    assert not tree.exists()
    assert writer.failed > 0
    assert writer.written and missing(moved, writer.written) == []


def test_missing_names_files_gone_or_changed_behind_the_writer(tree: Path, tmp_path: Path) -> None:
    writer = Writer(tree, spool=tmp_path / "spool", seed=5, stream_seconds=0.1, late_writes=0)
    writer.start()
    writer.stop()  # stops the stream at once: maybe no file yet
    written = writer.written
    if len(written) < 2:
        written = {"writer/a.txt": b"a\n", "writer/b.txt": b"b\n"}
        for path, data in written.items():
            (tree / path).write_bytes(data)
    first, second = sorted(written)[:2]
    (tree / first).unlink()
    (tree / second).write_bytes(b"changed\n")
    assert missing(tree, written) == sorted([first, second])


def test_every_journal_step_is_a_fault_point_and_every_op_has_a_verb() -> None:
    points = fault_points()
    for name, op in OPERATIONS.items():
        assert verb_for(name, "s", "cat")  # a new operation needs a verb here
        for step in op.steps:
            assert f"{name}:{step}" in points
    assert {"archive:remove:2", "restore:files:2", "merge:checkout:2"} <= set(points)
    for point in points:
        name, step, *_unit = point.split(":")
        assert step in OPERATIONS[name].steps


def test_the_main_checkout_must_be_as_before_or_wholly_merged(tmp_path: Path) -> None:
    main = tmp_path / "main"
    main.mkdir()
    git(main, "init", "-q", "-b", "main")
    (main / "README.md").write_text("hello\n")
    (main / ".gitignore").write_text(".env\n")
    git(main, "add", ".")
    git(main, "commit", "-qm", "init")
    (main / ".env").write_text("SECRET=1\n")  # ignored: stays through a merge
    (main / "empty").mkdir()
    before, head = take_manifest(main), git_head(main)
    assert main_checkout_problems(main, before, head, may_move=False) == []

    (main / "stray.txt").write_text("a file ptui left behind\n")
    [stray] = main_checkout_problems(main, before, head, may_move=True)
    assert stray.startswith("main checkout: stray.txt: new ")
    (main / "stray.txt").unlink()

    feature = tmp_path / "feature"
    git(main, "worktree", "add", "-q", "-b", "feature", str(feature))
    make_tricky_tree(feature, seed=9, big_bytes=1024)
    git(feature, "add", "-A")
    git(feature, "commit", "-qm", "feature")
    merged = git_head(feature)

    # Half a merge: the branch moved, the files did not.
    git(main, "update-ref", "refs/heads/main", merged)
    half = main_checkout_problems(main, before, head, may_move=True)
    assert any(p.startswith("main checkout index: ") for p in half)
    assert "main checkout: assets/big.bin: lost (file)" in half
    assert main_checkout_problems(main, before, head, may_move=False)[-1] == (
        f"main moved from {head[:12]} to {merged[:12]}"
    )

    # The whole merge: exactly the new tree, plus what was untracked before.
    git(main, "reset", "-q", "--hard", merged)
    assert main_checkout_problems(main, before, head, may_move=True) == []
    (main / "empty").rmdir()
    assert main_checkout_problems(main, before, head, may_move=True) == [
        "main checkout: empty: lost (dir)"
    ]


def _processes_with_home_under(root: Path) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            env = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            state = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        prefix = b"HOME=" + os.fsencode(root)
        if state != b"Z" and any(var.startswith(prefix) for var in env):
            found.append(int(entry))
    return found


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A short TMPDIR: the bench's socket path must fit AF_UNIX's 108 bytes."""
    path = Path(tempfile.mkdtemp(prefix="pcb-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
def test_bench_crash_prints_its_figures_and_cleans_up(scratch: Path) -> None:
    result = subprocess.run(
        [PTUI, "bench", "crash", "--rounds", "3", "--seed", "3", "--big-mb", "1", "--json"],
        capture_output=True, text=True, timeout=600, env=os.environ | {"TMPDIR": str(scratch)},
    )  # fmt: skip
    assert result.returncode in (0, 1) and result.stdout.startswith("{"), result.stderr
    figures = json.loads(result.stdout)
    assert list(figures) == [
        "rounds", "files_checked", "files_lost", "manual_steps", "recovery_median_ms",
        "restart_median_ms",
    ]  # fmt: skip
    assert figures["rounds"] == 3
    assert figures["files_checked"] > 0
    # Nothing lost, nothing stranded: the promise itself, not just the shape.
    assert figures["files_lost"] == 0 and figures["manual_steps"] == 0, result.stderr
    median = figures["recovery_median_ms"]
    assert median is None or median > 0
    assert result.returncode == 0, result.stderr
    rounds = [line for line in result.stderr.splitlines() if ": round " in line]
    assert [line.split(": round ")[1].split(":")[0] for line in rounds] == ["1", "2", "3"]
    # Every server and temp dir it made is gone.
    assert list(scratch.iterdir()) == []
    assert _processes_with_home_under(scratch) == []


def test_bench_crash_refuses_zero_rounds() -> None:
    result = subprocess.run(
        [PTUI, "bench", "crash", "--rounds", "0"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr == "ptui: error: --rounds must be at least 1\n"
