"""Archive, restore, delete and prune: every byte and mode comes back, or nothing moves."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pygit2
import pytest

from tests.git.conftest import commit_files, git
from tests.git.test_merge import new_session
from tui.git import archive as archive_module
from tui.git.archive import (
    archive_plan,
    archive_session,
    delete_session,
    prune_worktrees,
    restore_session,
    work_at_risk,
)
from tui.git.merge import MergeStrategy, merge_session
from tui.git.model import GitError, SessionRef

Tree = dict[str, tuple[str, int, bytes]]


def disk_state(root: Path) -> Tree:
    """Every entry under `root` but its `.git`: path -> (kind, permission bits, bytes)."""
    out: Tree = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(dirnames + filenames):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if rel == ".git":
                continue
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            perm = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.readlink(os.fsencode(full)))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", perm, b"")
            else:
                with open(full, "rb") as f:
                    out[rel] = ("file", perm, f.read())
    return out


def populate(s: SessionRef) -> None:
    """Every kind of uncommitted and ignored thing an agent can leave behind."""
    w = s.worktree
    (w / "README.md").write_text("staged\n")
    git(w, "add", "README.md")
    (w / "README.md").write_text("staged, then edited again\n")  # staged + unstaged
    (w / "src/app.py").write_text("unstaged\n")
    (w / "src/new.py").write_text("staged new file\n")
    git(w, "add", "src/new.py")
    git(w, "rm", "-q", "--cached", "README.md", "--force")  # staged deletion, file kept
    (w / "dir with space" / "naïve ☃").mkdir(parents=True)
    (w / "dir with space" / "naïve ☃" / "fichier été.txt").write_text("untracked unicode\n")
    (w / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (w / "run.sh").chmod(0o755)
    (w / "secret-ro.txt").write_text("read only\n")
    (w / "secret-ro.txt").chmod(0o400)
    os.symlink("src/app.py", w / "link to app")
    os.symlink("src", w / "link-dir")
    os.symlink("does/not/exist", w / "dangling")
    (w / "empty" / "nested empty").mkdir(parents=True)
    (w / "empty-ro").mkdir(mode=0o500)
    (w / ".env").write_text("API_KEY=hunter2\n")  # ignored
    (w / "build" / "out").mkdir(parents=True)  # ignored folder
    (w / "build" / "out" / "app.bin").write_bytes(bytes(range(256)) * 4)
    (w / "build" / "empty-ignored").mkdir()
    (w / "logs.log").write_text("ignored log\n")
    (w / "crlf.txt").write_bytes(b"windows\r\nline\r\n")
    (w / "binary.dat").write_bytes(b"\x00\xff\x00garbage")


def archive_dir_of(tmp_path: Path) -> Path:
    return tmp_path / "home" / ".local/share/ptui/archive"


def test_archive_and_restore_is_byte_identical(repo: Path, tmp_path: Path) -> None:
    # autocrlf would rewrite CRLF files through clean/smudge filters: the archive must not.
    git(repo, "config", "core.autocrlf", "true")
    s = new_session(repo, "full")
    populate(s)
    before = disk_state(s.worktree)
    status_before = git(s.worktree, "status", "--porcelain", "--untracked-files=all")
    archive_dir = archive_dir_of(tmp_path)

    plan = archive_plan(s, archive_dir)
    assert ".env" in plan.ignored and "build/" in plan.ignored and "logs.log" in plan.ignored
    assert "dir with space/naïve ☃/fichier été.txt" in plan.uncommitted
    assert "src/app.py" in plan.uncommitted and "README.md" in plan.uncommitted
    assert sorted(plan.empty_dirs) == ["empty-ro", "empty/nested empty"]

    result = archive_session(s, archive_dir)

    assert not os.path.lexists(s.worktree)
    assert result.ref_name == "refs/ptui/archive/full"
    assert result.ignored_archive is not None
    assert stat.S_IMODE(result.ignored_archive.stat().st_mode) == 0o600
    assert result.ignored_saved == 3  # .env, logs.log, build/out/app.bin
    r = pygit2.Repository(str(repo))
    assert r.lookup_branch(s.branch) is not None  # the branch is kept
    assert r.list_worktrees() == []  # git's admin folder pruned
    snapshot = r.lookup_reference(result.ref_name).peel(pygit2.Commit)
    assert str(snapshot.id) == result.commit
    # The snapshot is an ordinary tree: `git diff` against it shows the work.
    assert snapshot.tree["src/app.py"].data == b"unstaged\n"  # type: ignore[attr-defined]
    assert ".env" not in snapshot.tree

    restored = restore_session(s, archive_dir)

    assert restored == s
    assert disk_state(s.worktree) == before
    assert git(s.worktree, "status", "--porcelain", "--untracked-files=all") == status_before
    assert git(s.worktree, "rev-parse", "--abbrev-ref", "HEAD").strip() == s.branch
    assert r.list_worktrees() == ["ptui-full"]
    # The archive is consumed once the restore is verified.
    assert result.ref_name not in r.references
    assert not result.ignored_archive.exists()


def test_uninitialised_submodule_files_are_saved(repo: Path, tmp_path: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD").strip()
    (repo / ".gitmodules").write_text('[submodule "lib"]\n\tpath = lib\n\turl = ../lib\n')
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{commit},lib")
    git(repo, "add", ".gitmodules")
    git(repo, "commit", "-q", "-m", "add submodule")
    s = new_session(repo, "sub")
    (s.worktree / "lib").mkdir(exist_ok=True)
    (s.worktree / "lib" / "hand made.c").write_text("int x;\n")
    (s.worktree / "lib" / "deep").mkdir()
    (s.worktree / "lib" / "deep" / "file").write_text("deep\n")
    before = disk_state(s.worktree)
    assert git(s.worktree, "status", "--porcelain") == ""  # invisible to git status...
    plan = archive_plan(s, archive_dir_of(tmp_path))
    assert plan.uncommitted == ["lib/deep/file", "lib/hand made.c"]  # ...but not to ptui

    archive_session(s, archive_dir_of(tmp_path))
    assert not os.path.lexists(s.worktree)
    restore_session(s, archive_dir_of(tmp_path))
    assert disk_state(s.worktree) == before


def test_initialised_submodule_is_refused(repo: Path, tmp_path: Path) -> None:
    s = new_session(repo, "initsub")
    (s.worktree / "lib").mkdir()
    (s.worktree / "lib" / ".git").write_text("gitdir: ../../elsewhere\n")
    with pytest.raises(GitError, match=r"initsub: lib is an initialised submodule"):
        archive_session(s, archive_dir_of(tmp_path))
    assert (s.worktree / "lib" / ".git").exists()


def test_nested_repository_is_tarred_whole(repo: Path, tmp_path: Path) -> None:
    s = new_session(repo, "nested")
    inner = s.worktree / "vendor" / "thing"
    inner.mkdir(parents=True)
    git(inner, "init", "-q")
    commit_files(inner, {"x.txt": "inner\n"})
    (inner / "dirty.txt").write_text("uncommitted in the inner repo\n")
    before = disk_state(s.worktree)
    archive_session(s, archive_dir_of(tmp_path))
    restore_session(s, archive_dir_of(tmp_path))
    assert disk_state(s.worktree) == before
    assert git(inner, "log", "--format=%s") == "change\n"


def test_clean_worktree_archives_without_tar(repo: Path, tmp_path: Path) -> None:
    s = new_session(repo, "clean")
    result = archive_session(s, archive_dir_of(tmp_path))
    assert result.ignored_archive is None and result.ignored_saved == 0
    restore_session(s, archive_dir_of(tmp_path))
    assert git(s.worktree, "status", "--porcelain") == ""


def test_worktree_deleted_by_hand_is_refused_and_pruned(repo: Path, tmp_path: Path) -> None:
    s = new_session(repo, "gone")
    other = repo.parent / "other-tool-wt"
    git(repo, "worktree", "add", "-q", "-b", "other", str(other))
    for path in (s.worktree, other):
        for dirpath, _dirs, files in os.walk(path, topdown=False):
            for name in files:
                os.unlink(os.path.join(dirpath, name))
            os.rmdir(dirpath)
    with pytest.raises(GitError, match=r"gone: worktree .* is gone .*branch ptui/gone is still"):
        archive_session(s, archive_dir_of(tmp_path))
    assert prune_worktrees(repo) == ["ptui-gone"]
    # Only ptui's own records are pruned; the other tool's stays registered.
    assert pygit2.Repository(str(repo)).list_worktrees() == ["other-tool-wt"]
    assert pygit2.Repository(str(repo)).lookup_branch("ptui/gone") is not None


def test_prune_leaves_locked_worktrees(repo: Path) -> None:
    s = new_session(repo, "lockgone")
    git(repo, "worktree", "lock", str(s.worktree))
    (s.worktree / ".git").unlink()
    for dirpath, _dirs, files in os.walk(s.worktree, topdown=False):
        for name in files:
            os.unlink(os.path.join(dirpath, name))
        os.rmdir(dirpath)
    assert prune_worktrees(repo) == []
    assert pygit2.Repository(str(repo)).list_worktrees() == ["ptui-lockgone"]


def test_locked_worktree_is_refused(repo: Path, tmp_path: Path) -> None:
    s = new_session(repo, "locked")
    (s.worktree / "work.txt").write_text("keep\n")
    git(repo, "worktree", "lock", str(s.worktree))
    with pytest.raises(GitError, match=r"locked: worktree .* is locked"):
        archive_session(s, archive_dir_of(tmp_path))
    assert (s.worktree / "work.txt").read_text() == "keep\n"


def test_restore_refused_when_path_exists(repo: Path, tmp_path: Path) -> None:
    s = new_session(repo, "taken")
    (s.worktree / "work.txt").write_text("mine\n")
    archive_session(s, archive_dir_of(tmp_path))
    s.worktree.mkdir()
    (s.worktree / "someone else's.txt").write_text("theirs\n")
    with pytest.raises(GitError, match=r"cannot restore session taken: .* already exists"):
        restore_session(s, archive_dir_of(tmp_path))
    assert (s.worktree / "someone else's.txt").read_text() == "theirs\n"
    assert "refs/ptui/archive/taken" in pygit2.Repository(str(repo)).references
    (s.worktree / "someone else's.txt").unlink()
    s.worktree.rmdir()
    restore_session(s, archive_dir_of(tmp_path))
    assert (s.worktree / "work.txt").read_text() == "mine\n"


def test_restore_refused_when_tar_is_missing_or_damaged(repo: Path, tmp_path: Path) -> None:
    s = new_session(repo, "tarless")
    (s.worktree / ".env").write_text("X=1\n")
    result = archive_session(s, archive_dir_of(tmp_path))
    assert result.ignored_archive is not None
    data = result.ignored_archive.read_bytes()
    result.ignored_archive.write_bytes(data[:-1] + b"!")
    with pytest.raises(GitError, match="is damaged"):
        restore_session(s, archive_dir_of(tmp_path))
    assert not os.path.lexists(s.worktree)
    assert os.listdir(s.worktree.parent) == []  # no staging folder left either
    assert pygit2.Repository(str(repo)).list_worktrees() == []
    result.ignored_archive.write_bytes(data)
    restore_session(s, archive_dir_of(tmp_path))
    assert (s.worktree / ".env").read_text() == "X=1\n"


def test_files_changing_during_archive_stop_it(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = new_session(repo, "busy")
    (s.worktree / "work.txt").write_text("v1\n")
    real_verify = archive_module._verify_snapshot

    def agent_writes_meanwhile(*args: object) -> None:
        real_verify(*args)  # type: ignore[arg-type]
        (s.worktree / "work.txt").write_text("v2\n")

    monkeypatch.setattr(archive_module, "_verify_snapshot", agent_writes_meanwhile)
    index_file = repo / ".git/worktrees/ptui-busy/index"
    index_before = (index_file.read_bytes(), index_file.stat().st_mtime_ns)
    with pytest.raises(GitError, match=r"busy: work\.txt changed while archiving"):
        archive_session(s, archive_dir_of(tmp_path))
    assert (s.worktree / "work.txt").read_text() == "v2\n"
    # The snapshot was built in memory: the worktree's index was never written.
    assert (index_file.read_bytes(), index_file.stat().st_mtime_ns) == index_before
    assert not list(archive_dir_of(tmp_path).glob("*.tar*"))
    assert "refs/ptui/archive/busy" not in pygit2.Repository(str(repo)).references


def test_delete_refused_unless_merged_or_archived(repo: Path, tmp_path: Path) -> None:
    archive_dir = archive_dir_of(tmp_path)
    s = new_session(repo, "work")
    commit_files(s.worktree, {"feature.txt": "unmerged\n"})
    with pytest.raises(GitError, match=r"worktree .* is still there; archive it first"):
        delete_session(s, archive_dir)
    assert (s.worktree / "feature.txt").exists()
    # The worktree vanished by hand; the unmerged branch must survive a delete.
    git(repo, "worktree", "remove", str(s.worktree))
    with pytest.raises(GitError, match="has work not merged into main and no archive"):
        delete_session(s, archive_dir)
    assert pygit2.Repository(str(repo)).lookup_branch(s.branch) is not None


def test_delete_after_merge(repo: Path, tmp_path: Path) -> None:
    s = new_session(repo, "done")
    commit_files(s.worktree, {"feature.txt": "merged\n"})
    merge_session(s, MergeStrategy.SQUASH)
    archive_session(s, archive_dir_of(tmp_path))
    delete_session(s, archive_dir_of(tmp_path))
    r = pygit2.Repository(str(repo))
    assert r.lookup_branch(s.branch) is None
    assert "refs/ptui/archive/done" not in r.references
    assert (repo / "feature.txt").read_text() == "merged\n"


def test_delete_archived_drops_branch_ref_and_tar(repo: Path, tmp_path: Path) -> None:
    s = new_session(repo, "shelved")
    commit_files(s.worktree, {"feature.txt": "unmerged\n"})
    (s.worktree / ".env").write_text("X=1\n")
    result = archive_session(s, archive_dir_of(tmp_path))
    assert result.ignored_archive is not None and result.ignored_archive.exists()
    delete_session(s, archive_dir_of(tmp_path))
    r = pygit2.Repository(str(repo))
    assert r.lookup_branch(s.branch) is None
    assert result.ref_name not in r.references
    assert not result.ignored_archive.exists()
    with pytest.raises(GitError, match="has no archive"):
        restore_session(s, archive_dir_of(tmp_path))


def test_restore_recreates_a_missing_branch(repo: Path, tmp_path: Path) -> None:
    s = new_session(repo, "rebranch")
    tip = commit_files(s.worktree, {"a.txt": "a\n"})
    (s.worktree / "b.txt").write_text("b\n")
    archive_session(s, archive_dir_of(tmp_path))
    git(repo, "branch", "-D", s.branch)
    restore_session(s, archive_dir_of(tmp_path))
    assert git(repo, "rev-parse", s.branch).strip() == tip
    assert (s.worktree / "b.txt").read_text() == "b\n"


def test_work_at_risk_names_unmerged_commits_and_archived_work(repo: Path, tmp_path: Path) -> None:
    archive_dir = archive_dir_of(tmp_path)
    s = new_session(repo, "risky")
    for number in range(3):
        commit_files(s.worktree, {f"c{number}.txt": f"{number}\n"})
    (s.worktree / "c0.txt").write_text("staged only\n")
    git(s.worktree, "add", "c0.txt")
    (s.worktree / "c0.txt").write_text("0\n")  # the worktree is back at HEAD, the index is not
    (s.worktree / "src/app.py").write_text("changed\n")
    (s.worktree / "README.md").unlink()
    for number in range(5):
        (s.worktree / f"new{number}.py").write_text("new\n")
    (s.worktree / ".env").write_text("ignored: not work\n")
    # The live worktree is the caller's to report; here only the branch counts.
    assert work_at_risk(s, archive_dir) == ["3 commits on ptui/risky not in main"]

    archive_session(s, archive_dir)
    files = (
        "archived: 8 uncommitted files (README.md, c0.txt, new0.py, new1.py, new2.py and 3 more)"
    )
    assert work_at_risk(s, archive_dir) == ["3 commits on ptui/risky not in main", files]
    git(repo, "branch", "-D", s.branch)  # the archive alone still holds the commits
    assert work_at_risk(s, archive_dir) == ["archived: 3 commits not in main", files]


def test_work_at_risk_is_empty_once_merged_and_clean(repo: Path, tmp_path: Path) -> None:
    archive_dir = archive_dir_of(tmp_path)
    s = new_session(repo, "landed")
    commit_files(s.worktree, {"feature.txt": "done\n"})
    (s.worktree / ".env").write_text("ignored: not work\n")
    assert work_at_risk(s, archive_dir) == ["1 commit on ptui/landed not in main"]
    merge_session(s, MergeStrategy.SQUASH)
    archive_session(s, archive_dir)
    assert work_at_risk(s, archive_dir) == []
