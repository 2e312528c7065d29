"""The session diff model: files, hunks, numbered lines, scopes and the stat text."""

from __future__ import annotations

import re
from pathlib import Path

from tests.git.conftest import commit_files, git
from tui.git.diff import DiffScope, FileDiff, session_diff
from tui.git.model import SessionRef
from tui.git.worktree import create_session


def by_path(files: list[FileDiff]) -> dict[str, FileDiff]:
    return {f.path: f for f in files}


def busy_session(repo: Path) -> SessionRef:
    """A session with one committed, one staged, one unstaged and one untracked change."""
    ref = create_session(repo, "busy")
    wt = ref.worktree
    commit_files(wt, {"committed.txt": "one\ntwo\n"}, "committed")
    (wt / "staged.txt").write_text("staged\n")
    git(wt, "add", "staged.txt")
    (wt / "src" / "app.py").write_text("def main():\n    return 2\n")
    (wt / "notes dir").mkdir()
    (wt / "notes dir" / "todo.md").write_text("- a\n- b\n- c\n")
    return ref


def test_all_scope_covers_committed_staged_unstaged_and_untracked(repo: Path) -> None:
    ref = busy_session(repo)
    model = session_diff(ref)
    files = by_path(model.files)
    assert set(files) == {"committed.txt", "staged.txt", "src/app.py", "notes dir/todo.md"}
    assert files["committed.txt"].status == "A"
    assert files["staged.txt"].status == "A"
    assert files["src/app.py"].status == "M"
    assert files["notes dir/todo.md"].status == "A"  # untracked shows as added
    assert (files["notes dir/todo.md"].added, files["notes dir/todo.md"].removed) == (3, 0)
    assert (files["src/app.py"].added, files["src/app.py"].removed) == (1, 1)
    assert (model.files_changed, model.insertions, model.deletions) == (4, 7, 1)
    assert model.merge_base == ref.base_commit


def test_scopes_split_committed_from_uncommitted(repo: Path) -> None:
    ref = busy_session(repo)
    committed = session_diff(ref, DiffScope.COMMITTED)
    assert [f.path for f in committed.files] == ["committed.txt"]
    uncommitted = session_diff(ref, DiffScope.UNCOMMITTED)
    assert {f.path for f in uncommitted.files} == {"staged.txt", "src/app.py", "notes dir/todo.md"}
    assert uncommitted.merge_base == git(ref.worktree, "rev-parse", "HEAD").strip()


def test_diff_never_writes_the_index(repo: Path) -> None:
    ref = busy_session(repo)
    index = Path(git(ref.worktree, "rev-parse", "--git-path", "index").strip())
    if not index.is_absolute():
        index = ref.worktree / index
    before = (index.read_bytes(), index.stat().st_mtime_ns)
    model = session_diff(ref)
    for file in model.files:
        file.hunks()
        file.patch_text()
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before
    # The untracked file is still untracked, not added behind the agent's back.
    assert '?? "notes dir/"' in git(ref.worktree, "status", "--porcelain")


def test_hunks_have_old_and_new_line_numbers(repo: Path) -> None:
    lines = [f"line {i}\n" for i in range(1, 21)]
    commit_files(repo, {"long.txt": "".join(lines)}, "long file")
    ref = create_session(repo, "edit")
    lines[9] = "line ten\n"
    lines.insert(15, "inserted\n")
    (ref.worktree / "long.txt").write_text("".join(lines))

    (file,) = session_diff(ref).files
    hunks = file.hunks()
    assert len(hunks) == 1
    hunk = hunks[0]
    assert hunk.header.startswith("@@ -7,")
    assert (hunk.old_start, hunk.new_start) == (7, 7)
    changed = [(ln.origin, ln.old_lineno, ln.new_lineno, ln.text) for ln in hunk.lines]
    assert ("-", 10, None, "line 10") in changed
    assert ("+", None, 10, "line ten") in changed
    assert ("+", None, 16, "inserted") in changed
    assert (" ", 16, 17, "line 16") in changed
    assert file.hunks() is hunks  # computed once
    assert file.patch_text().startswith("diff --git a/long.txt b/long.txt")


def test_no_newline_marker_is_not_a_line(repo: Path) -> None:
    commit_files(repo, {"eof.txt": "a\nb"}, "no newline at end")
    ref = create_session(repo, "eof")
    (ref.worktree / "eof.txt").write_text("a\nc")
    (file,) = session_diff(ref).files
    origins = [ln.origin for ln in file.hunks()[0].lines]
    assert origins == [" ", "-", "+"]


def test_renames_binary_deletes_and_mode_changes(repo: Path) -> None:
    body = "".join(f"shared line {i}\n" for i in range(30))
    commit_files(repo, {"old_name.py": body, "gone.txt": "bye\n", "run.sh": "echo\n"}, "more")
    ref = create_session(repo, "mixed")
    wt = ref.worktree
    git(wt, "mv", "old_name.py", "new_name.py")
    (wt / "new_name.py").write_text(body + "one more\n")
    git(wt, "rm", "-q", "gone.txt")
    (wt / "image.bin").write_bytes(bytes(range(256)) * 4)
    (wt / "run.sh").chmod(0o755)
    git(wt, "add", "-A")
    git(wt, "commit", "-qm", "mixed changes")
    # A plain `mv` of an untracked rename (no git mv) is still seen as a rename.
    (wt / "README.md").rename(wt / "READ ME.md")

    files = by_path(session_diff(ref).files)
    assert files["new_name.py"].status == "R"
    assert files["new_name.py"].old_path == "old_name.py"
    assert (files["new_name.py"].added, files["new_name.py"].removed) == (1, 0)
    assert files["gone.txt"].status == "D"
    assert files["gone.txt"].removed == 1
    assert files["image.bin"].binary
    assert files["image.bin"].hunks() == []
    assert "Binary files" in files["image.bin"].patch_text()
    assert files["run.sh"].status == "M"
    assert files["READ ME.md"].status == "R"
    assert files["READ ME.md"].old_path == "README.md"


def test_stat_text_matches_git_diff_stat_numbers(repo: Path) -> None:
    ref = create_session(repo, "stat")
    wt = ref.worktree
    files = {f"pkg/mod{i}.py": "".join(f"v{j}\n" for j in range(i + 1)) for i in range(12)}
    commit_files(wt, files, "twelve files")
    commit_files(wt, {"src/app.py": "def main():\n    return 3\n"}, "change app")

    model = session_diff(ref, DiffScope.COMMITTED)
    text = model.stat_text()
    expected = git(wt, "diff", "--stat", f"{ref.base}...HEAD")
    assert text.splitlines()[-1] == expected.splitlines()[-1]
    ours = {ln.split("|")[0].strip(): ln.split("|")[1].split()[0] for ln in text.splitlines()[:-1]}
    theirs = {
        ln.split("|")[0].strip(): ln.split("|")[1].split()[0] for ln in expected.splitlines()[:-1]
    }
    assert ours == theirs
    assert re.fullmatch(
        r" 13 files changed, 79 insertions\(\+\), 1 deletion\(-\)", text.splitlines()[-1]
    )


def test_empty_diff(repo: Path) -> None:
    model = session_diff(create_session(repo, "nothing"))
    assert model.files == []
    assert model.stat_text() == ""
    assert (model.files_changed, model.insertions, model.deletions) == (0, 0, 0)


def test_base_moving_on_does_not_show_its_changes(repo: Path) -> None:
    ref = create_session(repo, "isolated")
    commit_files(ref.worktree, {"mine.txt": "mine\n"}, "mine")
    commit_files(repo, {"theirs.txt": "theirs\n"}, "base moves")
    assert [f.path for f in session_diff(ref).files] == ["mine.txt"]


def test_thousand_file_change_lists_files_before_counting(repo: Path) -> None:
    ref = create_session(repo, "many")
    for i in range(1000):
        path = ref.worktree / "gen" / f"d{i % 10}" / f"f{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"file {i}\n")
    model = session_diff(ref)
    assert len(model.files) == 1000
    assert model.files[0]._source._counts is None  # listing did not compute patches
    assert model.insertions == 1000
    assert model.stat_text().splitlines()[-1] == " 1000 files changed, 1000 insertions(+)"
