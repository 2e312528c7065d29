"""`ptui demo`: a real repository and three live demo sessions through the real
server in the test's HOME; running it again reuses them; `--reset` starts over."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import PTUI, stop_server, wait_for
from tui.demo.repo import DEMO_TASKS, MARKER, REPO_NAME


@pytest.fixture
def ptui(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Run the real `ptui`; the server it starts inherits a demo agent with no delays."""
    monkeypatch.setenv("PTUI_DEMO_SPEED", "0")

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [PTUI, *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
        )
        if check:
            assert result.returncode == 0, f"ptui {' '.join(args)}: {result.stderr}"
        return result

    yield run
    stop_server()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def demo(ptui: Any, where: Path, *extra: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        ptui("demo", "--no-app", "--dir", str(where), "--json", *extra).stdout
    )
    return result


def statuses(ptui: Any) -> dict[str, str]:
    return {s["id"]: s["status"] for s in json.loads(ptui("ls", "--json").stdout)}


def test_demo_makes_a_repository_and_three_waiting_sessions(ptui: Any, tmp_path: Path) -> None:
    where = tmp_path / "demo"
    made = demo(ptui, where)
    repo = where / REPO_NAME
    assert made["created"] is True
    assert made["repo"] == str(repo)
    assert (repo / ".git" / MARKER).is_file()
    # A real project: committed on main, tests that pass, an ignored .env.
    assert git(repo, "branch", "--show-current").strip() == "main"
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "check-ignore", ".env").strip() == ".env"
    for name in ("README.md", ".ptui.toml", ".worktreeinclude", "calc/parser.py"):
        assert (repo / name).is_file(), name
    unit = subprocess.run(
        [sys.executable, "-m", "unittest", "-q"], cwd=repo, capture_output=True, text=True
    )
    assert unit.returncode == 0, unit.stderr

    sessions = made["sessions"]
    assert sorted(s["task"] for s in sessions) == sorted(t.task for t in DEMO_TASKS)
    assert {s["agent"] for s in sessions} == {"demo"}
    # Every agent works its way to the approval question.
    wait_for(lambda: set(statuses(ptui).values()) == {"waiting"}, timeout=30, what="all waiting")
    for session in sessions:
        worktree = Path(session["worktree"])
        assert worktree.parent == where / f"{REPO_NAME}.ptui-worktrees"
        assert (worktree / ".env").is_file()  # copied through .worktreeinclude
        assert "CHANGELOG.md" in git(worktree, "status", "--porcelain")  # real edits
        assert "Apply these changes? [y/n]" in ptui("show", session["id"]).stdout
    # ptui wrote the .ptui.toml, so its setup script was trusted and ran.
    first = sessions[0]["id"]
    setup = wait_for(lambda: "setup: session" in ptui("show", first, "--tab", "setup").stdout)
    assert setup

    # Answer one: its agent says done and takes a new task at the prompt.
    ptui("send", first, "y")
    wait_for(lambda: "done" in ptui("show", first).stdout, what="done")
    wait_for(lambda: statuses(ptui)[first] == "idle", timeout=10, what="idle")


def test_running_it_again_reuses_the_sessions(ptui: Any, tmp_path: Path) -> None:
    where = tmp_path / "demo"
    first = demo(ptui, where)
    again = demo(ptui, where)
    assert again["created"] is False
    key = ["id", "branch", "worktree"]
    assert [[s[k] for k in key] for s in again["sessions"]] == [
        [s[k] for k in key] for s in first["sessions"]
    ]
    assert len(json.loads(ptui("ls", "--json", "--all").stdout)) == 3

    # A stopped demo session is resumed, an archived one replaced.
    stopped, archived = first["sessions"][0]["id"], first["sessions"][1]["id"]
    ptui("stop", stopped)
    ptui("archive", archived)
    third = demo(ptui, where)
    live = {s["id"]: s["status"] for s in third["sessions"]}
    assert len(live) == 3
    assert stopped in live and live[stopped] != "stopped"
    assert archived not in live
    wait_for(lambda: "resumed" in ptui("show", stopped).stdout, what="resumed")


def test_reset_starts_over(ptui: Any, tmp_path: Path) -> None:
    where = tmp_path / "demo"
    first = demo(ptui, where)
    (where / REPO_NAME / "scratch.txt").write_text("gone after --reset\n")
    reset = demo(ptui, where, "--reset")
    assert reset["created"] is True
    assert not (where / REPO_NAME / "scratch.txt").exists()
    assert sorted(s["id"] for s in reset["sessions"]) == sorted(s["id"] for s in first["sessions"])
    assert len(json.loads(ptui("ls", "--json", "--all").stdout)) == 3  # nothing left over


def test_never_touches_a_folder_it_did_not_make(ptui: Any, tmp_path: Path) -> None:
    mine = tmp_path / "mine" / REPO_NAME
    mine.mkdir(parents=True)
    (mine / "precious.txt").write_text("keep\n")
    for extra in ((), ("--reset",)):
        result = ptui("demo", "--no-app", "--dir", str(mine.parent), *extra, check=False)
        assert result.returncode == 1
        assert "was not made by `ptui demo`" in result.stderr
    assert (mine / "precious.txt").read_text() == "keep\n"


def test_without_a_terminal_it_prints_how_to_open_the_sessions(ptui: Any, tmp_path: Path) -> None:
    out = ptui("demo", "--dir", str(tmp_path / "demo")).stdout
    assert "made the demo repository" in out
    assert "power-operator" in out
    assert "ptui demo --reset" in out


def test_demo_is_local_only(ptui: Any) -> None:
    result = ptui("--host", "box", "demo", check=False)
    assert result.returncode == 2
    assert "drop --host" in result.stderr
