"""Review methods on a real server and real repositories: diff files and hunks, archive
plan, merge preview, the sidebar summary, test failures to the agent, branches."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import git, wait_for
from tui.client.connection import Client
from tui.git.diff import DiffScope, FileDiff, session_diff
from tui.git.model import SessionRef
from tui.protocol import RemoteError
from tui.server import review


@pytest.fixture
def client(server: None) -> Iterator[Client]:
    with Client() as c:
        yield c


def new_session(client: Client, task: str, agent: str = "cat") -> dict[str, Any]:
    [info] = client.call("session.create", task=task, agent=agent, repo=str(Path.cwd()))
    return dict(info)


def ref_of(info: dict[str, Any]) -> SessionRef:
    return SessionRef(
        repo=Path(info["repo"]),
        name=info["name"],
        branch=info["branch"],
        base=info["base"],
        base_commit=git(Path(info["repo"]), "rev-parse", info["base"]).strip(),
        worktree=Path(info["worktree"]),
    )


def by_path(files: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in files}


def test_diff_files_and_one_file_in_each_scope(client: Client, repo: Path) -> None:
    (repo / "old_name.txt").write_text("".join(f"line {i}\n" for i in range(30)))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "more")
    info = new_session(client, "diff scopes")
    wt = Path(info["worktree"])
    (wt / "README.md").write_text("hello\nworld\n")
    git(wt, "commit", "-qam", "committed change")
    (wt / "new.py").write_text("print('new')\n")  # untracked: shows as added
    (wt / "logo.bin").write_bytes(b"\x00\x01\x02binary\x00")
    (wt / "old_name.txt").rename(wt / "new_name.txt")  # a plain mv, not git mv

    committed = client.call("session.diff_files", id=info["id"], scope="committed")
    assert [(f["path"], f["status"]) for f in committed["files"]] == [("README.md", "M")]
    assert committed["added"] == 1 and committed["removed"] == 0

    everything = client.call("session.diff_files", id=info["id"], scope="all")
    files = by_path(everything["files"])
    assert set(files) == {"README.md", "new.py", "logo.bin", "new_name.txt"}
    assert files["new_name.txt"]["status"] == "R"
    assert files["new_name.txt"]["old_path"] == "old_name.txt"
    assert files["logo.bin"]["binary"] and files["logo.bin"]["status"] == "A"
    assert (files["new.py"]["added"], files["new.py"]["removed"]) == (1, 0)
    assert "patch" not in everything

    uncommitted = client.call("session.diff_files", id=info["id"], scope="uncommitted")
    assert "README.md" not in by_path(uncommitted["files"])

    detail = client.call("session.diff_file", id=info["id"], path="README.md", scope="all")
    [hunk] = detail["hunks"]
    assert hunk["header"].startswith("@@ -1 +1,2 @@")
    assert hunk["lines"] == [[" ", 1, 1, "hello"], ["+", None, 2, "world"]]
    assert not detail["truncated"]
    binary = client.call("session.diff_file", id=info["id"], path="logo.bin")
    assert binary["binary"] and binary["hunks"] == []
    renamed = client.call("session.diff_file", id=info["id"], path="old_name.txt")
    assert renamed["path"] == "new_name.txt" and renamed["hunks"] == []

    cut = client.call("session.diff_file", id=info["id"], path="new.py", max_lines=1)
    assert cut["hunks"][0]["lines"] == [["+", None, 1, "print('new')"]]

    with pytest.raises(RemoteError) as missing:
        client.call("session.diff_file", id=info["id"], path="nope.txt")
    assert missing.value.code == "not-found"
    with pytest.raises(RemoteError) as bad:
        client.call("session.diff_files", id=info["id"], scope="yesterday")
    assert "scope must be" in str(bad.value)

    # The old method keeps its shape for `ptui diff`, and takes a scope now.
    old = client.call("session.diff", id=info["id"])
    assert "+world" in old["patch"] and old["stat"] and old["summary"].startswith("4 files")
    assert client.call("session.diff", id=info["id"], scope="committed", stat=True)[
        "summary"
    ].startswith("1 file changed")


def test_diff_files_on_a_thousand_files_computes_no_patch(
    client: Client, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "".join(f"line {i}\n" for i in range(60))
    for i in range(1000):
        (repo / f"f{i:04}.txt").write_text(body)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "a thousand files")
    info = new_session(client, "big change")
    wt = Path(info["worktree"])
    changed = "".join(f"line {i}{' changed' if i % 3 == 0 else ''}\n" for i in range(60))
    for i in range(1000):
        (wt / f"f{i:04}.txt").write_text(changed)

    # In process: listing files never asks a file for its hunks or patch text.
    calls: list[str] = []
    hunks, patch_text = FileDiff.hunks, FileDiff.patch_text

    def counted_hunks(self: FileDiff) -> Any:
        calls.append("hunks")
        return hunks(self)

    def counted_patch(self: FileDiff) -> str:
        calls.append("patch_text")
        return patch_text(self)

    monkeypatch.setattr(FileDiff, "hunks", counted_hunks)
    monkeypatch.setattr(FileDiff, "patch_text", counted_patch)
    ref = ref_of(info)
    listing = review.files_listing(ref, DiffScope.ALL, info["id"])
    assert len(listing["files"]) == 1000 and listing["added"] == 20 * 1000
    assert calls == []

    def all_hunks() -> None:
        for file in session_diff(ref).files:
            file.hunks()

    started = time.perf_counter()
    all_hunks()
    in_process_patches = time.perf_counter() - started
    assert len(calls) == 1000

    # Through the server: the file list costs a fraction of the whole patch.
    def timed(method: str) -> tuple[float, Any]:
        best, result = float("inf"), None
        for _ in range(2):  # the better of two runs: the machine is noisy
            started = time.perf_counter()
            result = client.call(method, id=info["id"])
            best = min(best, time.perf_counter() - started)
        return best, result

    listing_time, files = timed("session.diff_files")
    patch_time, _ = timed("session.diff")
    assert len(files["files"]) == 1000
    assert listing_time < patch_time, (listing_time, patch_time)
    assert listing_time < max(in_process_patches, 0.05) * 3, (listing_time, in_process_patches)
    one = client.call("session.diff_file", id=info["id"], path="f0500.txt")
    assert sum(len(h["lines"]) for h in one["hunks"]) > 20


def test_archive_plan_lists_what_archiving_saves(client: Client, repo: Path) -> None:
    info = new_session(client, "plan archive")
    wt = Path(info["worktree"])
    (wt / "README.md").write_text("changed\n")
    (wt / "draft.txt").write_text("new\n")
    (wt / ".env").write_text("SECRET=1\n")
    (wt / "empty").mkdir()
    plan = client.call("session.archive_plan", id=info["id"])
    assert plan["uncommitted"] == ["README.md", "draft.txt"]
    assert plan["untracked"] == ["draft.txt"]
    assert plan["ignored"] == [".env"]
    assert plan["empty_dirs"] == ["empty"]
    assert plan["ref_name"] == "refs/ptui/archive/plan-archive"
    client.call("session.archive", id=info["id"])
    with pytest.raises(RemoteError, match="already archived"):
        client.call("session.archive_plan", id=info["id"])


def test_merge_preview_predicts_conflicts_and_strategies(client: Client, repo: Path) -> None:
    clean = new_session(client, "clean work")
    (Path(clean["worktree"]) / "feature.py").write_text("x = 1\n")
    preview = client.call("session.merge_preview", id=clean["id"])
    assert preview["files"] == ["feature.py"] and preview["conflicts"] == []
    assert preview["uncommitted"] == ["feature.py"]
    assert preview["strategies"] == {"ff": None, "merge": None, "squash": None}
    assert not preview["merged"]

    clash = new_session(client, "clashing work")
    clash_wt = Path(clash["worktree"])
    (clash_wt / "README.md").write_text("session version\n")
    git(clash_wt, "commit", "-qam", "session edit")
    (repo / "README.md").write_text("main version\n")
    git(repo, "commit", "-qam", "main edit")
    preview = client.call("session.merge_preview", id=clash["id"])
    assert preview["conflicts"] == ["README.md"]
    assert preview["ahead"] == 1 and preview["behind"] == 1
    assert preview["strategies"]["merge"] == "1 file would conflict"
    assert "main has 1 commit not in the session" in preview["strategies"]["ff"]
    with pytest.raises(RemoteError, match=r"conflicts in README\.md"):
        client.call("session.merge", id=clash["id"], strategy="merge")

    # The clean session merges (its uncommitted file is committed first).
    merged = client.call("session.merge", id=clean["id"], strategy="merge")
    assert merged["committed"] and merged["files"] == ["feature.py"]
    after = client.call("session.merge_preview", id=clean["id"])
    assert after["merged"] and "nothing to merge" in after["strategies"]["ff"]


def test_summary_covers_live_sessions_and_is_cached(
    client: Client, repo: Path, config: Path
) -> None:
    config.write_text(config.read_text() + '\n[scripts]\ntest = "echo testing; exit 3"\n')
    one = new_session(client, "one")
    two = new_session(client, "two")
    gone = new_session(client, "gone")
    client.call("session.archive", id=gone["id"])
    (Path(one["worktree"]) / "README.md").write_text("hello\none\n")
    (Path(one["worktree"]) / "extra.txt").write_text("a\nb\n")
    (Path(two["worktree"]) / "README.md").write_text("two\n")
    git(Path(two["worktree"]), "commit", "-qam", "two's edit")

    summary = client.call("session.summary")
    assert set(summary) == {"one", "two"}
    assert summary["one"] == {
        "added": 3,
        "removed": 0,
        "files": 2,
        "ahead": 0,
        "behind": 0,
        "dirty": 2,
        "overlaps": ["two"],
        "test_running": False,
        "test_exit": None,
    }
    assert summary["two"]["ahead"] == 1 and summary["two"]["dirty"] == 0
    assert summary["two"]["overlaps"] == ["one"]

    # A change shows only after the cache's time-to-live; the test status at once.
    (Path(one["worktree"]) / "third.txt").write_text("3\n")
    client.call("session.run", id="one", script="test")
    wait_for(lambda: client.call("session.summary")["one"]["test_exit"] == 3, what="test exit")
    assert client.call("session.summary")["one"]["files"] == 2
    time.sleep(review.SUMMARY_TTL)
    wait_for(lambda: client.call("session.summary")["one"]["files"] == 3, what="a new summary")


def test_send_test_failure_pastes_the_tail_to_the_agent(
    client: Client, repo: Path, config: Path
) -> None:
    script = "for i in $(seq 1 100); do echo out-$i; done; echo FAILED-HERE; exit 1"
    config.write_text(config.read_text() + f"\n[scripts]\ntest = {script!r}\n")
    info = new_session(client, "fix tests")
    with pytest.raises(RemoteError, match="no tab 'test'"):
        client.call("session.send_test_failure", id=info["id"])
    client.call("session.run", id=info["id"], script="test")
    wait_for(lambda: client.call("session.summary")[info["id"]]["test_exit"] == 1, what="test exit")
    sent = client.call("session.send_test_failure", id=info["id"], lines=5)
    assert sent["lines"] == 5 and "exited with status 1" in sent["text"]
    assert "out-97\nout-98" in sent["text"] and "out-96" not in sent["text"]

    def agent_shows() -> bool:
        text = client.call("session.screen", id=info["id"])["text"]
        return "FAILED-HERE" in text and "out-98" in text

    wait_for(agent_shows, what="the failure on the agent's screen")


def test_repo_branches_lists_current_first(client: Client, repo: Path) -> None:
    git(repo, "branch", "zeta")
    git(repo, "branch", "alpha")
    git(repo, "checkout", "-q", "zeta")
    result = client.call("repo.branches", repo=str(repo))
    assert result["current"] == "zeta"
    assert result["branches"] == ["zeta", "alpha", "main"]
    assert result["repo"] == str(repo)
    with pytest.raises(RemoteError, match="not a git repository"):
        client.call("repo.branches", repo=str(repo.parent))
