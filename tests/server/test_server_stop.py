"""`ptui server --stop` asks before it stops running agents, and refuses when nobody can answer.

The real `ptui` binary against a real server in the test's own HOME; the
question is answered by a user typing into a real tmux.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.conftest import (
    PTUI,
    Runner,
    processes_with_env,
    ptui_json,
    wait_for,
)
from tui.client import spawn
from tui.protocol import states

LIVE = {str(a) for a in states.LIVE}  # every activity of an agent that runs


def start_agents(ptui: Runner, *tasks: str) -> list[str]:
    """One `counter` session per task, each agent running; their ids."""
    for task in tasks:
        ptui("new", task, "--agent", "counter")
    ids = [str(s["id"]) for s in ptui_json(ptui, "ls")]
    assert len(ids) == len(tasks)
    wait_for(lambda: all(s["status"] in LIVE for s in ptui_json(ptui, "ls")), what="live agents")
    return ids


def statuses(ptui: Runner) -> dict[str, str]:
    return {str(s["id"]): str(s["status"]) for s in ptui_json(ptui, "ls")}


def test_stop_without_a_terminal_refuses_while_agents_run(ptui: Runner) -> None:
    [sid] = start_agents(ptui, "task")
    pid = spawn.running_pid()
    result = ptui("server", "--stop", check=False, stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    assert result.stderr == (
        f"ptui: error: the server runs 1 agent ({sid}); stop them first or pass --force\n"
    )
    assert result.stdout == ""
    # Nothing changed: the same server, the agent still running.
    assert spawn.running_pid() == pid
    assert statuses(ptui)[sid] in LIVE
    assert processes_with_env(f"PTUI_SESSION={sid}")


def test_stop_force_stops_the_server_and_its_agents(ptui: Runner) -> None:
    ids = start_agents(ptui, "first task", "second task")
    pid = spawn.running_pid()
    answer = ptui_json(ptui, "server", "--stop", "--force")
    assert answer == {"running": False, "stopped": True, "pid": pid, "agents": ids}
    assert spawn.running_pid() is None
    for sid in ids:
        assert processes_with_env(f"PTUI_SESSION={sid}") == []
    # The sessions are kept, stopped, for a new server.
    assert statuses(ptui) == {sid: "stopped" for sid in ids}


def test_stop_with_no_running_agent_does_not_ask(ptui: Runner) -> None:
    [sid] = start_agents(ptui, "task")
    ptui("stop", sid)
    pid = spawn.running_pid()
    result = ptui("server", "--stop", stdin=subprocess.DEVNULL)
    assert result.stdout == f"ptui server: stopped (pid {pid})\n"
    assert spawn.running_pid() is None


def test_force_without_stop_is_a_usage_error(ptui: Runner) -> None:
    for args in (["--force"], ["--status", "--force"], ["--force", "--foreground"]):
        result = ptui("server", *args, check=False)
        assert result.returncode == 2, args
        assert result.stderr == "ptui: error: --force only goes with --stop\n", args
    assert spawn.running_pid() is None  # not even started
    help_text = " ".join(ptui("server", "--help").stdout.split())
    assert "--force with --stop: stop running agents without asking" in help_text
    assert "without a terminal refuses (exit 1) unless --force is given" in help_text


# ------------------------------------------------------------------ on a terminal
class Tmux:
    """A private tmux server (its own socket), inheriting the test's HOME."""

    def __init__(self, socket: Path) -> None:
        self.socket = str(socket)

    def __call__(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-S", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=10,
            env=dict(os.environ),
        )
        assert result.returncode == 0, f"tmux {args}: {result.stderr}"
        return result.stdout

    def run(self, name: str, command: str, cwd: Path) -> None:
        """Run `command` in a shell in a new session; the pane stays to be read."""
        shell = f"{command}; echo exit=$?; exec sleep 600"
        self("new-session", "-d", "-s", name, "-x", "120", "-y", "30", "-c", str(cwd), shell)

    def wait(self, name: str, pattern: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self("capture-pane", "-p", "-t", name)
            if re.search(pattern, screen, re.MULTILINE):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {pattern!r}; the screen:\n{screen}")
            time.sleep(0.05)


@pytest.fixture
def tmux(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tmux]:
    monkeypatch.delenv("TMUX", raising=False)
    server = Tmux(tmp_path / "tmux.sock")
    yield server
    subprocess.run(["tmux", "-S", server.socket, "kill-server"], capture_output=True)


@pytest.mark.tmux
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (.ci/run installs it)")
def test_stop_on_a_terminal_asks_and_only_yes_stops(ptui: Runner, repo: Path, tmux: Tmux) -> None:
    ids = start_agents(ptui, "first task", "second task")
    pid = spawn.running_pid()
    question = r"Stop the server and these 2 agents\? \[y/N\]"

    tmux.run("no", f"{PTUI} server --stop", repo)
    screen = tmux.wait("no", question)
    for sid in ids:  # each agent listed: id, agent, status
        assert re.search(rf"^{re.escape(sid)} +counter +(busy|waiting|idle)$", screen, re.M)
    tmux("send-keys", "-t", "no", "n", "Enter")
    screen = tmux.wait("no", r"^exit=\d+$")
    assert "ptui server: not stopped\nexit=1" in screen
    assert spawn.running_pid() == pid
    assert all(status in LIVE for status in statuses(ptui).values())

    tmux.run("yes", f"{PTUI} server --stop", repo)
    tmux.wait("yes", question)
    tmux("send-keys", "-t", "yes", "y", "Enter")
    screen = tmux.wait("yes", r"^exit=\d+$")
    assert f"ptui server: stopped (pid {pid}) and its 2 agents ({', '.join(ids)})" in screen
    assert "exit=0" in screen
    assert spawn.running_pid() is None
    for sid in ids:
        assert processes_with_env(f"PTUI_SESSION={sid}") == []
