"""A merge in journaled steps: refused plans change nothing, and a kill -9 anywhere
in the checkout can be undone to the byte or finished to a clean checkout."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pygit2
import pytest

from tests.git.conftest import commit_files, git
from tests.git.test_merge import head_of, new_session
from tui.git.merge import (
    MergePlan,
    MergeStrategy,
    apply_checkout,
    commit_all,
    commit_work,
    finish_commit,
    merge_session,
    move_base,
    plan_merge,
    undo_checkout,
    undo_work,
)
from tui.git.model import GitError, SessionRef

ROOT = Path(__file__).resolve().parents[2]

# Runs commit_work + apply_checkout and SIGKILLs itself at the N-th progress call.
KILLER = """
import json, os, signal, sys
from pathlib import Path
from tui.git.merge import MergePlan, apply_checkout, commit_work
from tui.git.model import SessionRef

data = json.loads(Path(sys.argv[1]).read_text())
plan = MergePlan.from_dict(data["plan"])
ref = SessionRef(**{k: Path(v) if k in ("repo", "worktree") else v for k, v in data["ref"].items()})
kill_at = int(sys.argv[2])
calls = 0

def progress():
    global calls
    calls += 1
    if calls == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)

commit_work(plan, ref)
apply_checkout(plan, progress)
print(calls)
"""


def quiet_git(cwd: Path, *args: str) -> str:
    """git without optional locks: `status` must not refresh the index it is checking."""
    return git(cwd, "--no-optional-locks", *args)


def porcelain(cwd: Path) -> str:
    return quiet_git(cwd, "status", "--porcelain", "--untracked-files=all")


def index_bytes(worktree: Path) -> bytes:
    return Path(
        quiet_git(worktree, "rev-parse", "--path-format=absolute", "--git-path", "index").strip()
    ).read_bytes()


def all_refs(repo: Path) -> str:
    return quiet_git(repo, "for-each-ref", "--format=%(refname) %(objectname)")


def disk(root: Path) -> dict[str, tuple[str, bool, bytes]]:
    """Every file, symlink and folder under `root` but `.git`: kind, exec bit, content."""
    out: dict[str, tuple[str, bool, bytes]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == root and ".git" in dirnames:
            dirnames.remove(".git")
        for name in filenames + list(dirnames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            st = full.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", False, os.readlink(full).encode())
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", False, b"")
            else:
                out[rel] = ("file", bool(st.st_mode & stat.S_IXUSR), full.read_bytes())
        if ".git" in filenames and Path(dirpath) == root:
            del out[".git"]  # a linked worktree's .git file
    return out


def tree_disk(repo: Path, rev: str) -> dict[str, tuple[str, bool, bytes]]:
    """What `disk` should read in a clean checkout of `rev`."""
    r = pygit2.Repository(str(repo))
    out: dict[str, tuple[str, bool, bytes]] = {}

    def walk(tree: pygit2.Tree, prefix: str) -> None:
        for entry in tree:
            path = f"{prefix}{entry.name}"
            obj = r[entry.id]
            if isinstance(obj, pygit2.Tree):
                out[path] = ("dir", False, b"")
                walk(obj, f"{path}/")
            elif entry.filemode == pygit2.enums.FileMode.LINK:
                out[path] = ("link", False, obj.peel(pygit2.Blob).data)
            else:
                executable = entry.filemode == pygit2.enums.FileMode.BLOB_EXECUTABLE
                out[path] = ("file", executable, obj.peel(pygit2.Blob).data)

    walk(r.revparse_single(rev).peel(pygit2.Commit).tree, "")
    return out


def session_view(s: SessionRef) -> tuple[str, str, str, dict[str, tuple[str, bool, bytes]]]:
    """The session as a user sees it: status, staged diff, unstaged diff, files."""
    return (
        porcelain(s.worktree),
        quiet_git(s.worktree, "diff", "--cached"),
        quiet_git(s.worktree, "diff"),
        disk(s.worktree),
    )


def add_mixed_work(s: SessionRef) -> None:
    """Staged, staged-then-edited, unstaged, deleted and untracked work in the session."""
    w = s.worktree
    if not (w / "keep/k3.txt").exists():
        commit_files(w, {f"keep/k{i}.txt": f"kept {i}\n" for i in range(4)}, "keep")
    (w / "keep/k0.txt").write_text("staged\n")
    git(w, "add", "keep/k0.txt")
    (w / "keep/k2.txt").write_text("staged version\n")
    git(w, "add", "keep/k2.txt")
    (w / "keep/k2.txt").write_text("edited after staging\n")
    (w / "keep/k1.txt").write_text("unstaged\n")
    (w / "keep/k3.txt").unlink()
    (w / "untracked").mkdir()
    (w / "untracked/u.txt").write_text("untracked\n")
    (w / "debug.log").write_text("ignored\n")


def big_merge(repo: Path) -> SessionRef:
    """A session whose merge adds, changes and deletes ~200 files of every kind.

    Files become folders and folders files, a script turns executable, a symlink
    changes target and one appears; `main` moves on meanwhile (a real merge).
    """
    base = {f"pkg/mod{i:03}.txt": f"module {i}\n" for i in range(120)}
    base |= {f"gone/deep/d{i}.txt": f"doomed {i}\n" for i in range(20)}
    base |= {f"keep/k{i}.txt": f"kept {i}\n" for i in range(4)}
    base |= {"tool.sh": "#!/bin/sh\necho hi\n", "flip": "a file\n", "dirfile/x.txt": "x\n"}
    for rel, text in base.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    os.symlink("README.md", repo / "link")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "many files")

    s = new_session(repo, "big")
    w = s.worktree
    for i in range(60):
        (w / f"pkg/mod{i:03}.txt").write_text(f"module {i}, improved\n")
    for i in range(60, 90):
        (w / f"pkg/mod{i:03}.txt").unlink()
    git(w, "rm", "-rq", "gone")
    for i in range(60):
        (w / f"new/sub{i % 3}").mkdir(parents=True, exist_ok=True)
        (w / f"new/sub{i % 3}/n{i}.txt").write_text(f"new {i}\n")
    (w / "tool.sh").chmod(0o755)
    (w / "link").unlink()
    os.symlink("src/app.py", w / "link")
    os.symlink("pkg/mod000.txt", w / "newlink")
    (w / "flip").unlink()
    (w / "flip").mkdir()
    (w / "flip/inner.txt").write_text("now a folder\n")
    git(w, "rm", "-rq", "dirfile")
    (w / "dirfile").write_text("now a file\n")
    git(w, "add", "-A")
    git(w, "commit", "-q", "-m", "big change")
    commit_files(repo, {"base_only.txt": "main moved on\n"}, "base work")
    add_mixed_work(s)
    return s


def run_killer(
    tmp_path: Path, plan: MergePlan, s: SessionRef, kill_at: int
) -> subprocess.CompletedProcess[str]:
    job = tmp_path / "job.json"
    ref = {k: str(v) for k, v in asdict(s).items()}
    job.write_text(json.dumps({"plan": plan.to_dict(), "ref": ref}))
    return subprocess.run(
        [sys.executable, "-c", KILLER, str(job), str(kill_at)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_refused_merge_leaves_the_session_work_exactly(repo: Path) -> None:
    s = new_session(repo, "clash")
    w = s.worktree
    (w / "README.md").write_text("# staged\n")
    git(w, "add", "README.md")
    (w / "src/app.py").write_text("def main():\n    return 'session'\n")  # unstaged
    (w / "new.txt").write_text("untracked\n")
    commit_files(repo, {"src/app.py": "def main():\n    return 'base'\n"})
    index = index_bytes(w)
    view = session_view(s)
    refs = all_refs(repo)
    main_view = (porcelain(repo), disk(repo))

    # The conflict is only in the uncommitted work: the plan must have merged it.
    with pytest.raises(GitError, match=r"conflicts in src/app\.py"):
        plan_merge(s, MergeStrategy.MERGE, work_message="work")
    with pytest.raises(GitError, match=r"conflicts in src/app\.py"):
        merge_session(s, MergeStrategy.SQUASH, work_message="work")

    assert index_bytes(w) == index
    assert session_view(s) == view
    assert all_refs(repo) == refs
    assert (porcelain(repo), disk(repo)) == main_view


@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize("then", ["undo", "finish"])
def test_checkout_killed_midway_undoes_or_finishes(
    repo: Path, tmp_path: Path, where: str, then: str
) -> None:
    s = big_merge(repo)
    main_before = disk(repo)
    session_before = session_view(s)
    old_base = head_of(repo, "main")
    plan = plan_merge(s, MergeStrategy.MERGE, work_message="ptui: work\n")
    assert plan.work_commit and len(plan.files) > 180
    assert "tool.sh" in plan.files and "newlink" in plan.files and "keep/k0.txt" in plan.files
    kill_at = {"first": 1, "middle": len(plan.files) // 2, "last": len(plan.files)}[where]

    killed = run_killer(tmp_path, plan, s, kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert head_of(repo, s.branch) == plan.work_commit
    assert head_of(repo, "main") == old_base
    if where != "first":
        assert disk(repo) != main_before  # the kill really came halfway through
    # What a kill in the middle of writing a file leaves: its temporary twin.
    (repo / "new/sub0").mkdir(parents=True, exist_ok=True)
    (repo / "new/sub0/.n0.txt.ptui-merge").write_text("new 0 (half")
    (repo / "pkg/.mod001.txt.ptui-merge").write_text("module 1, impr")

    if then == "undo":
        undo_checkout(plan)
        undo_work(plan, s)
        undo_checkout(plan)  # idempotent
        undo_work(plan, s)
        assert porcelain(repo) == ""
        assert disk(repo) == main_before
        assert head_of(repo, "main") == old_base
        assert head_of(repo, s.branch) == plan.session_old_tip
        assert session_view(s) == session_before
    else:
        apply_checkout(plan)
        move_base(plan)
        apply_checkout(plan)  # idempotent, also once the base has moved
        move_base(plan)
        assert head_of(repo, "main") == plan.new_base
        assert disk(repo) == tree_disk(repo, "main")
        assert porcelain(repo) == ""
        # The index entries carry their files' stat: plumbing sees no change either.
        assert quiet_git(repo, "diff-files", "--name-only") == ""
        assert porcelain(s.worktree) == ""  # the session's work is committed
        assert (s.worktree / "debug.log").read_text() == "ignored\n"


def test_steps_in_process_count_progress_and_undo_after_full_checkout(repo: Path) -> None:
    s = big_merge(repo)
    main_before = disk(repo)
    session_before = session_view(s)
    plan = plan_merge(s, MergeStrategy.SQUASH, work_message="ptui: work\n")
    calls: list[None] = []
    commit_work(plan, s)
    commit_work(plan, s)  # idempotent
    assert porcelain(s.worktree) == ""
    apply_checkout(plan, lambda: calls.append(None))
    assert len(calls) == len(plan.files)
    apply_checkout(plan, lambda: calls.append(None))  # nothing left to write
    assert len(calls) == len(plan.files)
    assert porcelain(repo) != ""  # files are the new base's, the branch not yet

    undo_checkout(plan)
    undo_work(plan, s)
    assert disk(repo) == main_before and porcelain(repo) == ""
    assert session_view(s) == session_before


def test_apply_refuses_a_path_the_user_edited_and_writes_nothing(repo: Path) -> None:
    s = new_session(repo, "edit")
    commit_files(s.worktree, {"src/app.py": "session\n", "new.txt": "n\n"})
    git(s.worktree, "rm", "-q", "README.md")
    git(s.worktree, "commit", "-q", "-m", "drop readme")
    plan = plan_merge(s, MergeStrategy.MERGE, work_message="w")
    assert plan.files == ["README.md", "new.txt", "src/app.py"]

    (repo / "src/app.py").write_text("my edit after the plan\n")
    before, index = disk(repo), index_bytes(repo)
    with pytest.raises(GitError, match=r"local changes to src/app\.py"):
        apply_checkout(plan)
    assert disk(repo) == before and index_bytes(repo) == index

    # An untracked file where the merge would create one is the user's too.
    (repo / "src/app.py").write_text("def main():\n    return 1\n")
    (repo / "new.txt").write_text("mine\n")
    with pytest.raises(GitError, match=r"local changes to new\.txt"):
        apply_checkout(plan)
    assert (repo / "README.md").exists() and (repo / "new.txt").read_text() == "mine\n"

    # So is a change staged to a merged path.
    (repo / "new.txt").unlink()
    (repo / "README.md").write_text("staged\n")
    git(repo, "add", "README.md")
    (repo / "README.md").write_text("# project\n")
    with pytest.raises(GitError, match=r"local changes to README\.md"):
        apply_checkout(plan)
    assert head_of(repo, "main") == plan.old_base


def test_undo_leaves_paths_the_user_changed_alone(repo: Path) -> None:
    s = new_session(repo, "undo")
    commit_files(s.worktree, {"src/app.py": "session\n", "new.txt": "n\n"})
    git(s.worktree, "rm", "-q", "README.md")
    git(s.worktree, "commit", "-q", "-m", "drop readme")
    plan = plan_merge(s, MergeStrategy.MERGE, work_message="w")
    apply_checkout(plan)
    assert not (repo / "README.md").exists()
    (repo / "src/app.py").write_text("user edit over the merge\n")
    (repo / "new.txt").write_text("user edit of a new file\n")

    undo_checkout(plan)
    assert (repo / "src/app.py").read_text() == "user edit over the merge\n"
    assert (repo / "new.txt").read_text() == "user edit of a new file\n"
    assert (repo / "README.md").read_text() == "# project\n"
    assert sorted(porcelain(repo).splitlines()) == [" M src/app.py", "?? new.txt"]


def test_base_moved_meanwhile_is_refused_and_undone(repo: Path) -> None:
    s = new_session(repo, "race")
    commit_files(s.worktree, {"a.txt": "a\n"})
    add_mixed_work(s)
    session_before = session_view(s)
    plan = plan_merge(s, MergeStrategy.FF, work_message="w")
    commit_work(plan, s)
    apply_checkout(plan)
    other = git(repo, "commit-tree", "-p", "HEAD", "-m", "elsewhere", "HEAD^{tree}").strip()
    git(repo, "update-ref", "refs/heads/main", other)
    with pytest.raises(GitError, match="main moved meanwhile"):
        move_base(plan)
    undo_checkout(plan)
    undo_work(plan, s)
    assert not (repo / "a.txt").exists() and not (repo / "untracked").exists()
    assert session_view(s) == session_before
    assert head_of(repo, "main") == other


def test_undo_refused_once_the_base_moved(repo: Path) -> None:
    s = new_session(repo, "late")
    commit_files(s.worktree, {"a.txt": "a\n"})
    plan = plan_merge(s, MergeStrategy.FF, work_message="w")
    apply_checkout(plan)
    move_base(plan)
    with pytest.raises(GitError, match="can only be finished"):
        undo_checkout(plan)
    assert (repo / "a.txt").read_text() == "a\n"


def test_merge_session_with_work_commits_and_lands_it(repo: Path) -> None:
    s = new_session(repo, "all")
    add_mixed_work(s)
    result = merge_session(s, MergeStrategy.FF, work_message="ptui: work of all\n")
    assert result.committed == result.new_commit == head_of(repo, "main")
    assert (repo / "keep/k2.txt").read_text() == "edited after staging\n"
    assert not (repo / "keep/k3.txt").exists() and not (repo / "debug.log").exists()
    assert porcelain(repo) == "" and porcelain(s.worktree) == ""


def test_plan_round_trips_through_json_and_bad_plans_are_refused(repo: Path) -> None:
    s = new_session(repo, "json")
    commit_files(s.worktree, {"a.txt": "a\n"})
    add_mixed_work(s)
    plan = plan_merge(s, MergeStrategy.SQUASH, "squashed", work_message="w")
    assert plan.work_commit and plan.work_index_tree and plan.checkout == str(repo)
    again = MergePlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan

    good = plan.to_dict()
    bad_cases: list[tuple[dict[str, object], str]] = [
        ({"strategy": "rebase"}, "unknown strategy"),
        ({"files": ["../outside"]}, "bad path"),
        ({"files": [".git/config"]}, "bad path"),
        ({"new_base": "not-an-id"}, "not an object id"),
        ({"work_index_tree": ""}, "go together"),
        ({"checkout": "relative/dir"}, "absolute path"),
        ({"base": "bad..name"}, "not a branch name"),
    ]
    for change, message in bad_cases:
        with pytest.raises(GitError, match=message):
            MergePlan.from_dict(good | change)
    missing = dict(good)
    del missing["session"]
    with pytest.raises(GitError, match="'session'"):
        MergePlan.from_dict(missing)


def test_commit_all_then_finish_commit_is_idempotent(repo: Path) -> None:
    s = new_session(repo, "commit")
    add_mixed_work(s)
    index_before = index_bytes(s.worktree)
    commit = commit_all(s, "all of it")
    assert head_of(repo, s.branch) == commit
    assert porcelain(s.worktree) == ""
    committed = index_bytes(s.worktree)
    finish_commit(s, commit)
    assert index_bytes(s.worktree) == committed

    # Killed after the commit, before the index was written: the old index is back.
    index_path = Path(
        quiet_git(s.worktree, "rev-parse", "--path-format=absolute", "--git-path", "index").strip()
    )
    index_path.write_bytes(index_before)
    assert quiet_git(s.worktree, "diff", "--cached") != ""
    finish_commit(s, commit)
    assert porcelain(s.worktree) == ""
    assert quiet_git(s.worktree, "diff-files", "--name-only") == ""
    finish_commit(s, commit)
    assert porcelain(s.worktree) == ""

    # A commit that is no longer the tip leaves the index to whoever moved it.
    commit_files(s.worktree, {"later.txt": "later\n"}, "agent's own commit")
    (s.worktree / "later.txt").write_text("staged after\n")
    git(s.worktree, "add", "later.txt")
    staged = index_bytes(s.worktree)
    finish_commit(s, commit)
    assert index_bytes(s.worktree) == staged
