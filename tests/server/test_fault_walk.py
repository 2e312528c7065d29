"""The fault walk: kill -9 the server at every journaled step of every operation.

The kill points are read from `OPERATIONS` when the tests are collected, so a
new step is walked without a change here (and a new operation fails until it
has a verb in `tui.bench.crash_bench.verb_for`). Three points inside long steps
are walked too: the second file removed, restored, checked out.

For each point: the session state the operation needs (a ready session with a
tricky tree, archived for restore), a manifest of its files and of the main
checkout, then the verb on a server started with `PTUI_FAULT=<point>` — which
must die there — and then, with no fault and no user action, the next command
starts a fresh server that recovers. Then: no file lost (manifest: content,
mode, link target; tracked, staged, untracked, ignored), no stuck state (the
verbs that fit the state work), `ptui doctor --json` exits 0, and the main
checkout is as before, or, for a merge, wholly as after.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.conftest import git, stop_server
from tui.bench.crash_bench import (
    ABSENT,
    SETUP_SCRIPT,
    Ptui,
    crash,
    fault_points,
    first_line,
    prepare,
    recover,
    verb_for,
)
from tui.bench.manifest import Entry, Manifest, git_head, main_checkout_problems, take_manifest

POINTS = [*fault_points(units=0), "archive:remove:2", "restore:files:2", "merge:checkout:2"]
SMALL = 64 << 10  # the tree's binary: big enough to take several units, quick to hash
SID = "walk"


@pytest.fixture
def walker(server: None, repo: Path) -> Iterator[Ptui]:
    """The real binary in the test's repository; its server stopped without asking after."""
    ptui = Ptui(repo, timeout=60)
    yield ptui
    ptui.stop_server()
    stop_server()


@pytest.mark.parametrize("point", POINTS)
def test_a_kill_at_each_step_loses_nothing_and_strands_nothing(
    walker: Ptui, repo: Path, config: Path, point: str
) -> None:
    op = point.split(":")[0]
    if op == "setup":
        with config.open("a") as toml:
            toml.write(f"[scripts]\nsetup = {json.dumps(SETUP_SCRIPT)}\n")
    # The main checkout holds more than its tracked files; a merge keeps them all,
    # even an empty folder the session adds a file to (the tree's notes/untracked.md).
    (repo / ".env").write_text("MAIN_SECRET=1\n")  # ignored
    (repo / "notes").mkdir()
    main_before, head_before = take_manifest(repo), git_head(repo)
    before: Manifest | None = None
    if op not in ("new", "setup"):
        _, before = prepare(walker, SID, agent="cat", seed=11, big_bytes=SMALL)
        if op == "restore":
            archived = walker("archive", SID)
            assert archived.returncode == 0, first_line(archived)

    argv = verb_for(op, SID, "cat")
    result = crash(walker, argv, point, linger=10.0 if op in ("new", "setup") else 2.0)
    assert result.fired, (
        f"PTUI_FAULT={point} never killed the server; ptui {' '.join(argv)}: "
        f"{first_line(result.verb)}"
    )

    # Gone is a right outcome only where the operation makes or removes the session;
    # then its name must be free again.
    recreate = verb_for("new", SID, "cat") if op in ("new", "rm") else None
    found = recover(walker, SID, before=before, recreate=recreate)
    assert found.lost == [], f"after a kill at {point} ({found.state}): lost {found.lost}"
    assert found.failures == [], f"after a kill at {point} ({found.state}): {found.failures}"
    if op not in ("new", "rm"):
        assert found.state != ABSENT, f"after a kill at {point} the session is gone"
    problems = main_checkout_problems(repo, main_before, head_before, may_move=op == "merge")
    assert problems == [], f"after a kill at {point}: {problems}"


# The walk's own checks, each shown to fail when it should: a check that cannot
# fail would let the walk above pass over a server that loses files.


def test_the_walk_sees_files_lost_behind_ptuis_back(walker: Ptui) -> None:
    worktree, before = prepare(walker, SID, agent="cat", seed=12, big_bytes=SMALL)
    (worktree / "notes" / "untracked.md").unlink()
    (worktree / ".env").chmod(0o644)
    (worktree / "dangling").unlink()
    (worktree / "dangling").symlink_to("elsewhere")
    written = {"writer/w.txt": b"never written\n"}
    found = recover(walker, SID, before=before, written=written)
    assert found.state == "ready"
    assert found.lost == [".env", "dangling", "notes/untracked.md", "writer/w.txt"]
    assert found.failures == []  # the session itself is fine: stop, resume, archive, restore
    assert found.checked == len(before) + 1
    assert found.first_ok_s is not None and found.first_ok_s > 0


def test_the_walk_sees_a_gone_session_and_doctors_complaint(walker: Ptui, repo: Path) -> None:
    prepare(walker, SID, agent="cat", seed=14, big_bytes=SMALL)
    # A copy of a session's branch and its description (what git keeps of a
    # session), with no session: an orphan doctor must name.
    git(repo, "branch", "ptui/ghost", f"ptui/{SID}")
    description = git(repo, "config", f"branch.ptui/{SID}.description")
    git(repo, "config", "branch.ptui/ghost.description", description)
    before = {"kept.txt": Entry("file", 0o644, "0" * 64)}
    found = recover(walker, "ghost-never-made", before=before)
    assert found.state == ABSENT
    assert found.lost == ["kept.txt"]
    assert found.failures[0] == "ghost-never-made is gone"
    assert [f for f in found.failures if f.startswith("ptui doctor --json: exit 1")]


def test_a_fault_point_never_reached_is_reported(walker: Ptui) -> None:
    prepare(walker, SID, agent="cat", seed=13, big_bytes=SMALL)
    result = crash(walker, verb_for("commit", SID, "cat"), "archive:record")
    assert not result.fired
    assert result.verb.returncode == 0
    assert walker.server_pid() is None  # the server waiting for that point was stopped
