"""Setup and named scripts: trusted repository scripts only, read from the base branch."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.conftest import Runner, git, ptui_json, wait_for
from tui.protocol.states import LIVE

REPO_CONFIG = """\
[scripts]
setup = "echo setup-ran-on-$PTUI_SESSION > setup.txt"
hello = "echo hello port=$PTUI_PORT; sleep 30"
"""


def commit_repo_config(repo: Path, text: str) -> None:
    (repo / ".ptui.toml").write_text(text)
    git(repo, "add", ".ptui.toml")
    git(repo, "commit", "-qm", "ptui config")


@pytest.mark.config_key("scripts.setup", "scripts.<name>")
def test_repository_scripts_run_only_once_trusted(ptui: Runner, repo: Path) -> None:
    commit_repo_config(repo, REPO_CONFIG)
    result = ptui("new", "untrusted", "--agent", "cat")
    assert "setup script not run" in result.stderr and "ptui trust" in result.stderr
    [info] = ptui_json(ptui, "ls")
    assert not (Path(info["worktree"]) / "setup.txt").exists()
    refused = ptui("run", "untrusted", "hello", check=False)
    assert refused.returncode == 1 and "not trusted" in refused.stderr

    shown = ptui_json(ptui, "trust", "--yes")
    assert shown["trusted"] and shown["scripts"]["hello"].startswith("echo hello")
    assert "already trusted" in ptui("trust").stdout

    # Setup runs first, in its own tab, then the agent.
    [made] = ptui_json(ptui, "new", "trusted", "--agent", "cat")
    setup_file = Path(made["worktree"]) / "setup.txt"
    wait_for(setup_file.exists, what="setup.txt")
    assert setup_file.read_text() == "setup-ran-on-trusted\n"
    wait_for(lambda: ptui_json(ptui, "ls")[1]["status"] in LIVE)

    ptui("run", "trusted", "hello")
    port = made["port"]
    wait_for(lambda: f"hello port={port}" in ptui("show", "trusted", "--tab", "hello").stdout)
    again = ptui("run", "trusted", "hello", check=False)
    assert again.returncode == 1 and "already running" in again.stderr

    # An agent editing .ptui.toml in its worktree changes nothing: the base's copy rules.
    (Path(made["worktree"]) / ".ptui.toml").write_text('[scripts]\nhello = "echo evil"\n')
    ptui("stop", "trusted")
    ptui("resume", "trusted")
    # A new commit of the file on the base branch needs trust again.
    commit_repo_config(repo, REPO_CONFIG + 'other = "echo other"\n')
    refused = ptui("run", "trusted", "other", check=False)
    assert refused.returncode == 1 and "not trusted" in refused.stderr


@pytest.mark.config_key("scripts.<name>")
def test_global_scripts_need_no_trust_and_shell_tabs(
    ptui: Runner, repo: Path, config: Path
) -> None:
    config.write_text(config.read_text() + '\n[scripts]\nmine = "echo mine in $PWD"\n')
    [info] = ptui_json(ptui, "new", "scripts", "--agent", "cat")
    ptui("run", "scripts", "mine")
    wait_for(lambda: "mine in" in ptui("show", "scripts", "--tab", "mine").stdout)
    shell = ptui_json(ptui, "shell", "scripts")
    assert shell["tab"] == "shell"
    ptui("send", "scripts", "echo from-the-shell", "--enter", "--tab", "shell")
    wait_for(lambda: "from-the-shell" in ptui("show", "scripts", "--tab", "shell").stdout)
    listed = ptui_json(ptui, "ls")
    assert listed[0]["id"] == info["id"]


def test_an_agent_missing_after_setup_says_why(ptui: Runner, repo: Path, config: Path) -> None:
    commit_repo_config(repo, REPO_CONFIG)
    with config.open("a") as toml:
        toml.write('[agents.missing]\ncommand = ["no-such-agent-cli"]\nprompt = "none"\n')
    ptui("trust", "--yes")
    ptui("new", "missing agent", "--agent", "missing")
    # Without setup the CLI would say so at once; after setup the session ends up
    # exited, and its setup tab (what the app shows) carries the reason.
    wait_for(lambda: ptui_json(ptui, "ls")[0]["status"] == "exited", what="exited")
    shown = ptui("show", "missing-agent", "--tab", "setup").stdout
    assert "ptui: agent not started: cannot start no-such-agent-cli: command not found" in shown
    agent = " ".join(ptui("show", "missing-agent").stdout.split())  # the app's first tab
    assert "ptui: agent not started: cannot start no-such-agent-cli: command not found" in agent
