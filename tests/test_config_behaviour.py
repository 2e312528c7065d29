"""What each config key does, seen through the real `ptui` binary and server.

Every test writes the user's global config (`$XDG_CONFIG_HOME/ptui/config.toml`)
with a value other than the key's default and checks a result the default would
not give. The agents are a few lines of shell that print what they were given.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.server.conftest import (
    AGENTS,
    PTUI,
    config,  # noqa: F401  (fixture)
    ptui_json,
    repo,  # noqa: F401  (fixture)
    server,  # noqa: F401  (fixture)
    wait_for,
)
from tui import paths

# A repository (the working directory), the test config, the server stopped afterwards.
pytestmark = pytest.mark.usefixtures("server")

# Writes its arguments, each in <>, to argv.txt and what is typed to typed.txt.
# Shows a prompt, as an agent does before it reads its task (a blank screen is
# still starting, and a task is typed only once the agent settled).
RECORD_ARGV = [
    "sh",
    "-c",
    'printf "<%s>" "$@" > argv.txt; printf "> "; exec cat > typed.txt',
    "agent",
]


def write_config(agents: dict[str, dict[str, Any]], **top: Any) -> None:
    """The global config: the server tests' agents plus `agents`, and top-level keys."""
    tables = {name: {"prompt": "none", **table} for name, table in AGENTS.items()}
    paths.config_file().write_text(tomli_w.dumps({"default_agent": "cat", **top,
                                   "agents": {**tables, **agents}}))  # fmt: skip


def ptui(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real `ptui` binary; it must succeed."""
    result = subprocess.run([PTUI, *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"ptui {' '.join(args)}: {result.stderr}"
    return result


def shown(session: str) -> str:
    """The session's agent screen, its lines joined (long lines wrap)."""
    return "".join(ptui("show", session).stdout.split("\n"))


@pytest.mark.config_key("default_agent")
def test_default_agent_runs_when_new_names_none() -> None:
    write_config({}, default_agent="echo-task")
    [info] = ptui_json(ptui, "new", "say hello")  # no --agent
    # The default, claude, would be the session's agent (and is not installed here).
    assert info["agent"] == "echo-task"
    wait_for(lambda: "task: say hello" in shown("say-hello"), what="echo-task's output")


@pytest.mark.config_key("server.port_base")
def test_port_base_moves_every_sessions_ports() -> None:
    # 52345: blocks from the default 41000 all end in 0, these all end in 5.
    write_config({}, server={"port_base": 52345})
    made = ptui_json(ptui, "new", "two ports", "-n", "2", "--agent", "echo-task")
    ports = [info["port"] for info in made]
    assert all(port >= 52345 and (port - 52345) % 10 == 0 for port in ports), ports
    assert len(set(ports)) == 2
    # The agent's environment says the same.
    wait_for(lambda: f"port={ports[0]} " in shown(made[0]["id"]), what="PTUI_PORT")


@pytest.mark.config_key("server.log_max_bytes")
def test_log_max_bytes_rotates_the_server_log() -> None:
    write_config({}, server={"log_max_bytes": 1024})
    log = paths.server_log_file()
    log.parent.mkdir(parents=True, mode=0o700)
    # What earlier servers logged: 900 bytes, under the limit until this server adds to it.
    earlier = "2025-01-01 00:00:00,000 INFO an earlier server's line\n" * 17
    earlier += "x" * (900 - len(earlier) - 1) + "\n"
    log.write_text(earlier)
    ptui("server")  # "serving on <socket> (pid N)"
    ptui("server", "--stop", "--force")  # "stopping", "stopped"
    # Under the default (10 MiB) all of it would still be in one file.
    assert (log.parent / f"{log.name}.1").read_text().startswith(earlier)
    assert "INFO stopped" in log.read_text() and "earlier" not in log.read_text()
    assert all(path.stat().st_size <= 1024 for path in log.parent.glob(f"{log.name}*"))


@pytest.mark.config_key("agents.<name>.command", "agents.<name>.env")
def test_agent_command_and_env() -> None:
    show = ["sh", "-c", 'echo "stand-in: task=$1 mode=$AGENT_MODE"; exec cat', "agent"]
    write_config(
        {
            # Overriding a built-in's command keeps the rest of its profile (prompt "none").
            "shell": {"command": show, "env": {"AGENT_MODE": "careful"}},
            "plain": {"command": show},  # a new agent: prompt "arg", no env
        },
    )
    ptui("new", "fix login", "--agent", "shell")
    ptui("new", "no env", "--agent", "plain")
    # The default command of shell is $SHELL: no stand-in line, no AGENT_MODE.
    wait_for(
        lambda: "stand-in: task= mode=careful" in shown("fix-login"),
        what="the configured command with its env",
    )
    wait_for(lambda: "stand-in: task=no env mode=" in shown("no-env"), what="no env")
    assert "careful" not in shown("no-env")


@pytest.mark.config_key("agents.<name>.prompt")
def test_agent_prompt_modes() -> None:
    write_config(
        {
            "by-arg": {"command": RECORD_ARGV, "prompt": "arg"},  # the default
            "by-flag": {"command": RECORD_ARGV, "prompt": "flag:--task"},
            "by-none": {"command": RECORD_ARGV, "prompt": "none"},
            "by-stdin": {"command": RECORD_ARGV, "prompt": "stdin"},
        },
    )
    worktrees: dict[str, Path] = {}
    for agent in ("by-arg", "by-flag", "by-none", "by-stdin"):
        [info] = ptui_json(ptui, "new", "fix it", "--agent", agent, "--name", agent)
        worktrees[agent] = Path(info["worktree"])

    def argv(agent: str) -> str | None:
        path = worktrees[agent] / "argv.txt"
        return path.read_text() if path.exists() else None

    def typed(agent: str) -> str:
        path = worktrees[agent] / "typed.txt"
        return path.read_text() if path.exists() else ""

    assert wait_for(lambda: argv("by-arg")) == "<fix it>"
    assert wait_for(lambda: argv("by-flag")) == "<--task><fix it>"
    # stdin: started without the task, which is then typed in once the agent settles.
    assert wait_for(lambda: argv("by-stdin")) == "<>"
    assert wait_for(lambda: typed("by-stdin"), what="the typed task") == "fix it\n"
    # none: the task goes nowhere (by-none started before by-stdin was typed to).
    assert wait_for(lambda: argv("by-none")) == "<>"
    assert typed("by-none") == ""


@pytest.mark.config_key("agents.<name>.resume")
def test_agent_resume_command() -> None:
    made: dict[str, dict[str, Any]] = {}

    def runs(name: str) -> list[str]:
        path = Path(made[name]["worktree"]) / "runs.txt"
        return path.read_text().split() if path.exists() else []

    first = ["sh", "-c", "echo first-run | tee -a runs.txt; exec cat"]
    write_config(
        {
            "resumable": {
                "command": first,
                "resume": ["sh", "-c", "echo resumed-run | tee -a runs.txt; exec cat"],
            },
            "rerun": {"command": first},  # resume = [] (the default): command runs again
        },
    )
    for agent in ("resumable", "rerun"):
        [made[agent]] = ptui_json(ptui, "new", agent, "--agent", agent)
        wait_for(lambda agent=agent: runs(agent), what=f"{agent} started")
        ptui("stop", agent)
        ptui("resume", agent)
    wait_for(lambda: len(runs("resumable")) == 2 and len(runs("rerun")) == 2, what="resumed")
    assert runs("resumable") == ["first-run", "resumed-run"]
    assert runs("rerun") == ["first-run", "first-run"]
    assert "resumed-run" in shown("resumable")
