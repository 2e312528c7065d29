"""The session verbs through the real `ptui` binary, as a user types them."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

from tests.server.conftest import Runner, git, processes_with_env, ptui_json, wait_for
from tui.protocol.states import LIVE


def screen(ptui: Runner, sid: str, *args: str) -> str:
    return str(ptui("show", sid, *args).stdout)


def test_new_ls_show_send_stop_resume(ptui: Runner, repo: Path) -> None:
    out = ptui("new", "Echo the task", "--agent", "echo-task").stdout
    assert out.startswith("echo-the-task: echo-task on ptui/echo-the-task")
    [info] = ptui_json(ptui, "ls")
    assert set(info) >= {"id", "name", "task", "agent", "branch", "base", "worktree", "status",
                         "port", "created"}  # fmt: skip
    assert (info["id"], info["task"], info["base"]) == ("echo-the-task", "Echo the task", "main")
    worktree = Path(info["worktree"])
    assert worktree.is_dir() and worktree.parent.name == "repo.ptui-worktrees"
    # The agent got the task as its argument and the PTUI_* environment.
    text = wait_for(lambda: str(worktree) in (s := screen(ptui, "echo")).replace("\n", "") and s)
    assert "task: Echo the task" in text
    assert f"port={info['port']} session=echo-the-task base=main" in text

    ptui("send", "echo", "typed words", "--enter")
    wait_for(lambda: screen(ptui, "echo").count("typed words") == 2, what="cat's echo")

    assert ptui("stop", "echo").stdout.strip() == "echo-the-task: stopped"
    assert ptui_json(ptui, "ls")[0]["status"] == "stopped"
    assert not processes_with_env("PTUI_SESSION=echo-the-task")
    # A stopped session still shows its last screen.
    assert "typed words" in screen(ptui, "echo-the-task")

    ptui("resume", "echo")
    wait_for(lambda: ptui_json(ptui, "ls")[0]["status"] in LIVE)
    assert processes_with_env("PTUI_SESSION=echo-the-task")


def test_count_makes_sessions_on_separate_branches(ptui: Runner, repo: Path) -> None:
    created = ptui_json(ptui, "new", "same task", "-n", "3", "--agent", "cat")
    assert [s["id"] for s in created] == ["same-task", "same-task-2", "same-task-3"]
    assert len({s["branch"] for s in created}) == 3
    ports = sorted(s["port"] for s in created)
    assert all(b - a >= 10 for a, b in itertools.pairwise(ports))
    branches = git(repo, "branch", "--list", "--format=%(refname:short)", "ptui/*").split()
    assert branches == ["ptui/same-task", "ptui/same-task-2", "ptui/same-task-3"]


def test_user_mistakes_are_one_line_errors(ptui: Runner, repo: Path) -> None:
    result = ptui("show", "nope", check=False)
    assert result.returncode == 1
    assert result.stderr == "ptui: error: no session 'nope' (see ptui ls)\n"
    ptui("new", "a one", "--agent", "cat")
    ptui("new", "a two", "--agent", "cat")
    result = ptui("stop", "a-", check=False)
    assert result.returncode == 1 and "ambiguous: a-one, a-two" in result.stderr
    result = ptui("new", "x", "--agent", "nosuch", check=False)
    assert result.returncode == 1 and "unknown agent 'nosuch'" in result.stderr
    assert "Traceback" not in result.stderr
    result = ptui("new", "x", "--base", "no-such-branch", check=False)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    result = ptui("merge", "a-one", "--strategy", "octopus", check=False)
    assert result.returncode == 2
    result = ptui("run", "a-one", "nosuch", check=False)
    assert result.returncode == 1 and "no script 'nosuch'" in result.stderr


def test_diff_commit_merge_and_rm(ptui: Runner, repo: Path) -> None:
    [info] = ptui_json(ptui, "new", "add feature", "--agent", "cat")
    worktree = Path(info["worktree"])
    (worktree / "feature.py").write_text("print('feature')\n")
    (worktree / "README.md").write_text("hello\nworld\n")
    diff = ptui("diff", "add").stdout
    assert "+print('feature')" in diff and "+world" in diff
    stat = ptui("diff", "add", "--stat").stdout
    assert "2 files changed, 2 insertions(+)" in stat
    files = ptui_json(ptui, "diff", "add")["files"]
    assert sorted((f["path"], f["status"]) for f in files) == [("README.md", "M"),
                                                                ("feature.py", "A")]  # fmt: skip
    # rm refuses while work is not merged: nothing may be lost.
    result = ptui("rm", "add-feature", check=False)
    assert result.returncode == 1 and "not merged" in result.stderr
    merged = ptui_json(ptui, "merge", "add", "--strategy", "squash")
    assert merged["committed"] and sorted(merged["files"]) == ["README.md", "feature.py"]
    assert (repo / "feature.py").read_text() == "print('feature')\n"  # main checkout updated
    again = ptui("merge", "add", check=False)
    assert again.returncode == 1 and "nothing to merge" in again.stderr
    ptui("rm", "add-feature")
    assert ptui_json(ptui, "ls", "--all") == []
    assert not worktree.exists()
    assert "ptui/add-feature" not in git(repo, "branch", "--list")


def test_archive_restore_keeps_every_file(ptui: Runner, repo: Path) -> None:
    [info] = ptui_json(ptui, "new", "keep work", "--agent", "counter")
    worktree = Path(info["worktree"])
    (worktree / "draft.txt").write_text("uncommitted\n")
    (worktree / ".env").write_text("SECRET=1\n")  # ignored: goes to the tar
    out = ptui("archive", "keep").stdout
    assert out.startswith("keep-work: archived")
    assert not worktree.exists()
    assert not processes_with_env("PTUI_SESSION=keep-work")
    assert ptui_json(ptui, "ls") == []
    [archived] = ptui_json(ptui, "ls", "--all")
    assert archived["status"] == "archived"
    result = ptui("resume", "keep", check=False)
    assert result.returncode == 1 and "archived" in result.stderr
    ptui("restore", "keep")
    assert (worktree / "draft.txt").read_text() == "uncommitted\n"
    assert (worktree / ".env").read_text() == "SECRET=1\n"
    assert ptui_json(ptui, "ls")[0]["status"] == "stopped"
    ptui("resume", "keep")
    wait_for(lambda: "resumed" in screen(ptui, "keep"))


def test_json_output_is_parseable_and_help_helps(ptui: Runner, repo: Path) -> None:
    assert json.loads(ptui("ls", "--json").stdout) == []
    for verb in ("new", "ls", "show", "send", "attach", "diff", "stop", "resume", "archive",
                 "restore", "rm", "merge", "run", "trust", "server", "proxy"):  # fmt: skip
        result = ptui(verb, "--help")
        assert "usage: ptui" in result.stdout and len(result.stdout.splitlines()) > 3, verb
    status = json.loads(ptui("server", "--status", "--json").stdout)
    assert status["running"] and status["pid"] > 0
    assert os.path.basename(status["socket"]) == "server.sock"


def test_agent_that_cannot_start_keeps_its_worktree(ptui: Runner, repo: Path, config: Path) -> None:
    config.write_text(config.read_text() + '\n[agents.missing]\ncommand = ["no-such-agent-cmd"]\n')
    result = ptui("new", "broken", "--agent", "missing")
    assert "agent not started: cannot start no-such-agent-cmd: command not found" in result.stderr
    [info] = ptui_json(ptui, "ls")
    assert info["status"] == "exited" and Path(info["worktree"]).is_dir()
    # The agent tab, what the app shows first, says why instead of staying blank.
    shown = " ".join(ptui("show", "broken").stdout.split())
    assert "ptui: agent not started: cannot start no-such-agent-cmd: command not found" in shown
    assert "then resume the session (R, or ptui resume)" in shown


def test_a_server_of_another_home_is_refused_not_joined(
    ptui: Runner, repo: Path, tmp_path: Path
) -> None:
    """The socket is per user, the state per HOME: another HOME must not join."""
    ptui("new", "mine", "--agent", "cat")
    theirs = os.environ["XDG_STATE_HOME"]
    other = tmp_path / "other-state"
    env = {**os.environ, "XDG_STATE_HOME": str(other)}
    result = ptui("ls", check=False, env=env)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert f"keeps its sessions in {theirs}/ptui/state.db" in result.stderr
    assert "ptui server --stop" in result.stderr and "Traceback" not in result.stderr
    assert not other.exists()  # nothing was written for the other HOME

    status = ptui("server", "--status", env=env).stdout  # says whose it is
    assert f"state: {theirs}/ptui/state.db" in status
    assert [s["task"] for s in ptui_json(ptui, "ls", "--json")] == ["mine"]
    ptui("server", "--stop", "--force", env=env)  # and can stop it, as the message says
    assert ptui("server", "--status", check=False).returncode == 1
