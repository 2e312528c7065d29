"""Property: archive then restore gives back every file byte for byte with its mode,
and no archive, delete or merge along the way ever loses a file.

Each example builds its own repository in a fresh temp dir with pygit2 only (no git
CLI), so 100 examples (each archived and restored twice) take seconds.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.git.test_archive import disk_state
from tui.git.archive import (
    ArchiveStatus,
    archive_session,
    archive_status,
    delete_session,
    drop_archive,
    remove_worktree,
    restore_files,
    restore_session,
    snapshot_session,
)
from tui.git.merge import MergeStrategy, commit_all, merge_session
from tui.git.model import GitError, SessionRef
from tui.git.worktree import create_session

FILES = ["a", "b c", "ü.txt", "d/e", "d/f g", "x/y/z"]
LINKS = {"ln": ["a", "nowhere", "d"], "d/ln ☃": ["../a", "e", "."]}
EMPTY_DIRS = ["empty", "d/empty ☃", "x/y/void"]
IGNORED = [".env", "build/o.bin", "build/deep/p", "d/t.log"]
GITIGNORE = b".env\nbuild/\n*.log\n"

content = st.binary(max_size=40)
perm = st.sampled_from([0o644, 0o755, 0o600, 0o444, 0o700])


@dataclass
class FilePlan:
    committed: tuple[bytes, bool] | None  # content, executable
    action: str  # keep, modify, delete, chmod, absent, untracked
    new: bytes
    perm: int
    stage: bool
    edit_after_stage: bytes | None


file_plan = st.builds(
    FilePlan,
    committed=st.none() | st.tuples(content, st.booleans()),
    action=st.sampled_from(["keep", "modify", "delete", "chmod", "untracked"]),
    new=content,
    perm=perm,
    stage=st.booleans(),
    edit_after_stage=st.none() | content,
)

scenario = st.fixed_dictionaries(
    {
        "files": st.fixed_dictionaries({path: file_plan for path in FILES}),
        "links": st.fixed_dictionaries(
            {path: st.none() | st.sampled_from(targets) for path, targets in LINKS.items()}
        ),
        "empty": st.lists(st.sampled_from(EMPTY_DIRS), unique=True),
        "empty_perm": st.sampled_from([0o755, 0o700, 0o500]),
        "ignored": st.dictionaries(st.sampled_from(IGNORED), content),
        "session_commit": st.booleans(),
        "merge": st.booleans(),
    }
)


def make_repo(root: Path, files: dict[str, FilePlan]) -> Path:
    """A repo on `main` whose first commit holds .gitignore and the committed files."""
    path = root / "repo"
    repo = pygit2.init_repository(str(path), initial_head="main")
    (path / ".gitignore").write_bytes(GITIGNORE)
    for rel, plan in files.items():
        if plan.committed is None:
            continue
        data, executable = plan.committed
        full = path / rel
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_bytes(data)
        full.chmod(0o755 if executable else 0o644)
    index = repo.index
    index.add_all()
    index.write()
    sig = pygit2.Signature("prop", "prop@ptui.invalid")
    repo.create_commit("HEAD", sig, sig, "initial", index.write_tree(), [])
    return path


def apply_scenario(s: SessionRef, sc: dict[str, object]) -> None:
    """Leave the session worktree in the state the scenario describes."""
    w = s.worktree
    wt = pygit2.Repository(str(w))
    index = wt.index
    files: dict[str, FilePlan] = sc["files"]  # type: ignore[assignment]
    for rel, plan in files.items():
        full = w / rel
        full.parent.mkdir(parents=True, exist_ok=True)
        tracked = plan.committed is not None
        if tracked and plan.action == "modify":
            full.write_bytes(plan.new)
        elif tracked and plan.action == "delete":
            full.unlink()
        elif tracked and plan.action == "chmod":
            full.chmod(plan.perm)
        elif not tracked and plan.action != "untracked":
            continue
        elif not tracked:
            full.write_bytes(plan.new)
            full.chmod(plan.perm | stat.S_IRUSR)
        if plan.stage:
            if full.exists():
                index.add(rel)
            elif rel in index:
                index.remove(rel)
            if plan.edit_after_stage is not None and full.exists():
                full.chmod(0o644)
                full.write_bytes(plan.edit_after_stage)
                full.chmod(plan.perm | stat.S_IRUSR)
    index.write()
    links: dict[str, str | None] = sc["links"]  # type: ignore[assignment]
    for rel, target in links.items():
        if target is not None:
            (w / rel).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, w / rel)
    ignored: dict[str, bytes] = sc["ignored"]  # type: ignore[assignment]
    for rel, data in ignored.items():
        (w / rel).parent.mkdir(parents=True, exist_ok=True)
        (w / rel).write_bytes(data)
    for rel in sc["empty"]:  # type: ignore[attr-defined]
        (w / rel).mkdir(parents=True, exist_ok=True)
        (w / rel).chmod(sc["empty_perm"])  # type: ignore[arg-type]


def rmtree(path: Path) -> None:
    for dirpath, _dirs, _files in os.walk(path):
        os.chmod(dirpath, 0o700)
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sc=scenario)
def test_archive_restore_round_trip_never_loses_a_file(sc: dict[str, object]) -> None:
    root = Path(tempfile.mkdtemp(prefix="ptui-prop-"))
    try:
        repo = make_repo(root, sc["files"])  # type: ignore[arg-type]
        s = create_session(repo, "prop", name="prop", worktrees_dir=root / "wt dir ü")
        if sc["session_commit"]:
            (s.worktree / "session.txt").write_bytes(b"committed in the session\n")
            commit_all(s, "session work")
        apply_scenario(s, sc)
        wt = pygit2.Repository(str(s.worktree))
        before = disk_state(s.worktree)
        status_before = wt.status(untracked_files="all")
        archive_dir = root / "data" / "archive"

        # Deleting a live session is refused, and touches nothing.
        with pytest.raises(GitError):
            delete_session(s, archive_dir)
        assert disk_state(s.worktree) == before

        # Merging lands only committed work and never touches the session worktree.
        if sc["merge"] and sc["session_commit"]:
            merge_session(s, MergeStrategy.MERGE)
            assert disk_state(s.worktree) == before

        archive_session(s, archive_dir)
        assert not os.path.lexists(s.worktree)
        if not sc["merge"] or not sc["session_commit"]:
            # Archiving keeps the branch: unmerged commits stay reachable from it.
            assert pygit2.Repository(str(repo)).lookup_branch(s.branch) is not None

        restore_session(s, archive_dir)
        assert disk_state(s.worktree) == before
        assert pygit2.Repository(str(s.worktree)).status(untracked_files="all") == status_before

        # The restore consumed the archive: the session can be archived and restored
        # again, this time step by step as the server's journal runs it.
        snapshot_session(s, archive_dir)
        assert disk_state(s.worktree) == before
        remove_worktree(s, archive_dir)
        state = archive_status(s, archive_dir)
        assert state.has_ref and not state.worktree_exists and not state.registered
        restore_files(s, archive_dir)
        assert archive_status(s, archive_dir).has_ref  # kept until dropped
        drop_archive(s, archive_dir)
        assert disk_state(s.worktree) == before
        assert archive_status(s, archive_dir) == ArchiveStatus(
            has_ref=False,
            tar=None,
            worktree_exists=True,
            registered=True,
            quarantine=False,
            staging=False,
        )
    finally:
        rmtree(root)
