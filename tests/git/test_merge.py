"""Committing a session's work and merging it back: the right tree lands, or nothing moves."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from tests.git.conftest import commit_files, git
from tui.git.merge import (
    MergeStrategy,
    commit_all,
    merge_session,
    predict_conflicts,
    session_is_merged,
)
from tui.git.model import GitError, SessionRef
from tui.git.worktree import create_session


def new_session(repo: Path, name: str, base: str = "main") -> SessionRef:
    """A session `name` off `base`: branch `ptui/<name>`, worktree under `worktrees dir ü/`."""
    return create_session(
        repo, f"task {name}", name=name, base=base, worktrees_dir=repo.parent / "worktrees dir ü"
    )


def tree_files(repo: Path, rev: str) -> dict[str, str]:
    """Every file at `rev` as path -> text."""
    r = pygit2.Repository(str(repo))
    out: dict[str, str] = {}

    def walk(tree: pygit2.Tree, prefix: str) -> None:
        for entry in tree:
            obj = r[entry.id]
            if isinstance(obj, pygit2.Tree):
                walk(obj, f"{prefix}{entry.name}/")
            else:
                out[f"{prefix}{entry.name}"] = obj.peel(pygit2.Blob).data.decode()

    walk(r.revparse_single(rev).peel(pygit2.Commit).tree, "")
    return out


def head_of(repo: Path, rev: str) -> str:
    return git(repo, "rev-parse", rev).strip()


def test_commit_all_stages_untracked_and_deletions(repo: Path) -> None:
    s = new_session(repo, "one")
    (s.worktree / "new dir").mkdir()
    (s.worktree / "new dir" / "ünï.txt").write_text("hi\n")
    (s.worktree / "README.md").unlink()
    (s.worktree / ".env").write_text("SECRET=1\n")  # ignored: must stay out
    commit_id = commit_all(s, "agent work")
    assert head_of(repo, s.branch) == commit_id
    files = tree_files(repo, s.branch)
    assert files["new dir/ünï.txt"] == "hi\n"
    assert "README.md" not in files
    assert ".env" not in files
    assert git(s.worktree, "status", "--porcelain") == ""


def test_commit_all_nothing_to_commit(repo: Path) -> None:
    s = new_session(repo, "idle")
    with pytest.raises(GitError, match="nothing to commit"):
        commit_all(s, "nothing")
    with pytest.raises(GitError, match="message is required"):
        commit_all(s, "  ")


def test_fast_forward_lands_tip(repo: Path) -> None:
    s = new_session(repo, "ff")
    tip = commit_files(s.worktree, {"src/app.py": "def main():\n    return 2\n"})
    result = merge_session(s, MergeStrategy.FF)
    assert result.new_commit == tip == head_of(repo, "main")
    assert result.files == ["src/app.py"]
    # main is checked out in the main worktree: files and index follow.
    assert result.checkout == repo
    assert (repo / "src/app.py").read_text() == "def main():\n    return 2\n"
    assert git(repo, "status", "--porcelain") == ""
    assert session_is_merged(s)


def test_fast_forward_impossible_names_why(repo: Path) -> None:
    s = new_session(repo, "late")
    commit_files(s.worktree, {"a.txt": "a\n"})
    before = commit_files(repo, {"b.txt": "b\n"})
    with pytest.raises(GitError, match=r"cannot fast-forward main .*1 commit\(s\) not in"):
        merge_session(s, MergeStrategy.FF)
    assert head_of(repo, "main") == before


def test_merge_commit_has_both_parents_and_merged_tree(repo: Path) -> None:
    s = new_session(repo, "mc")
    tip = commit_files(s.worktree, {"a.txt": "a\n"})
    base = commit_files(repo, {"b.txt": "b\n"})
    result = merge_session(s, MergeStrategy.MERGE)
    r = pygit2.Repository(str(repo))
    merged = r[result.new_commit].peel(pygit2.Commit)
    assert [str(p) for p in merged.parent_ids] == [base, tip]
    files = tree_files(repo, "main")
    assert files["a.txt"] == "a\n" and files["b.txt"] == "b\n"
    assert (repo / "a.txt").read_text() == "a\n"
    assert git(repo, "status", "--porcelain") == ""
    assert session_is_merged(s)


def test_squash_single_parent_and_counts_as_merged(repo: Path) -> None:
    s = new_session(repo, "sq")
    commit_files(s.worktree, {"a.txt": "1\n"}, "first step")
    commit_files(s.worktree, {"a.txt": "2\n"}, "second step")
    base = head_of(repo, "main")
    assert not session_is_merged(s)
    result = merge_session(s, MergeStrategy.SQUASH)
    r = pygit2.Repository(str(repo))
    squashed = r[result.new_commit].peel(pygit2.Commit)
    assert [str(p) for p in squashed.parent_ids] == [base]
    assert "first step" in squashed.message and "second step" in squashed.message
    assert tree_files(repo, "main")["a.txt"] == "2\n"
    assert session_is_merged(s)
    with pytest.raises(GitError, match="nothing to merge"):
        merge_session(s, MergeStrategy.FF)


def test_conflict_predicted_and_nothing_moves(repo: Path) -> None:
    s = new_session(repo, "clash")
    commit_files(s.worktree, {"src/app.py": "def main():\n    return 'session'\n"})
    base = commit_files(repo, {"src/app.py": "def main():\n    return 'base'\n"})
    prediction = predict_conflicts(s)
    assert prediction.files == ["src/app.py"] and not prediction.clean
    refs_before = git(repo, "for-each-ref")
    for strategy in (MergeStrategy.MERGE, MergeStrategy.SQUASH):
        with pytest.raises(GitError, match=r"conflicts in src/app\.py"):
            merge_session(s, strategy)
    assert git(repo, "for-each-ref") == refs_before
    assert head_of(repo, "main") == base
    assert git(repo, "status", "--porcelain") == ""


def test_clean_prediction(repo: Path) -> None:
    s = new_session(repo, "calm")
    commit_files(s.worktree, {"other.txt": "x\n"})
    commit_files(repo, {"src/app.py": "def main():\n    return 3\n"})
    assert predict_conflicts(s).clean


def test_refused_when_main_checkout_has_local_changes_to_touched_files(repo: Path) -> None:
    s = new_session(repo, "touch")
    commit_files(s.worktree, {"src/app.py": "session\n", "new.txt": "n\n"})
    base = head_of(repo, "main")
    (repo / "src/app.py").write_text("my local edit\n")
    with pytest.raises(GitError, match=r"local changes to src/app\.py"):
        merge_session(s, MergeStrategy.MERGE)
    assert head_of(repo, "main") == base
    assert (repo / "src/app.py").read_text() == "my local edit\n"
    assert not (repo / "new.txt").exists()

    # An untracked or ignored file where the merge would write one is also local work.
    (repo / "src/app.py").write_text("def main():\n    return 1\n")
    (repo / "new.txt").write_text("mine\n")
    with pytest.raises(GitError, match=r"local changes to new\.txt"):
        merge_session(s, MergeStrategy.FF)
    assert (repo / "new.txt").read_text() == "mine\n"
    assert head_of(repo, "main") == base


def test_main_checkout_keeps_unrelated_local_changes(repo: Path) -> None:
    s = new_session(repo, "safe")
    commit_files(s.worktree, {"src/app.py": "session\n"})
    (repo / "README.md").write_text("staged edit\n")
    git(repo, "add", "README.md")
    (repo / "notes.txt").write_text("untracked\n")
    (repo / ".env").write_text("KEY=1\n")
    merge_session(s, MergeStrategy.MERGE)
    assert (repo / "src/app.py").read_text() == "session\n"
    assert (repo / "README.md").read_text() == "staged edit\n"
    assert (repo / "notes.txt").read_text() == "untracked\n"
    assert (repo / ".env").read_text() == "KEY=1\n"
    status = git(repo, "status", "--porcelain").splitlines()
    assert sorted(status) == ["?? notes.txt", "M  README.md"]


def test_base_not_checked_out_moves_ref_only(repo: Path) -> None:
    git(repo, "branch", "release")
    s = new_session(repo, "rel", base="release")
    tip = commit_files(s.worktree, {"x.txt": "x\n"})
    result = merge_session(s, MergeStrategy.FF)
    assert result.checkout is None
    assert head_of(repo, "release") == tip
    assert not (repo / "x.txt").exists()  # main's checkout untouched


def test_nothing_to_merge_and_non_branch_base(repo: Path) -> None:
    s = new_session(repo, "same")
    with pytest.raises(GitError, match="nothing to merge"):
        merge_session(s)
    git(repo, "tag", "v1")
    t = new_session(repo, "tagged", base="v1")
    commit_files(t.worktree, {"y.txt": "y\n"})
    with pytest.raises(GitError, match="'v1' is not a local branch"):
        merge_session(t)
