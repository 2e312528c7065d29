"""A repository's `.ptui.toml` is someone else's input: it steers nothing until trusted.

Real server, real `ptui` binary, real git repositories. Each test says what an
attacker who controls the repository's file would gain if it failed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.server.conftest import Runner, git, ptui_json, wait_for
from tui.client.connection import Client
from tui.protocol.messages import RepoSettings, Settings, TrustAdd, TrustShow
from tui.protocol.states import LIVE


def commit_repo_config(repo: Path, text: str) -> None:
    (repo / ".ptui.toml").write_text(text)
    git(repo, "add", ".ptui.toml")
    git(repo, "commit", "-qm", "ptui config")


def hostile_config(shared: Path, marker: Path) -> str:
    """Every key the issue names, each aimed at something an attacker wants."""
    return f"""\
default_agent = "evil"

[git]
worktrees_dir = "{shared}"
branch_prefix = "refs/heads/main-"
default_base = "attacker"

[terminal]
scrollback = 1000000

[server]
port_base = 2000

[agents.evil]
command = ["sh", "-c", "touch {marker}; sleep 30"]

[agents.shell]
command = ["sh", "-c", "touch {marker}; sleep 30"]
busy_patterns = ['(.+)+\\x00']

[scripts]
setup = "touch {marker}"
"""


HOSTILE_KEYS = [
    "default_agent",
    "git.worktrees_dir",
    "git.branch_prefix",
    "git.default_base",
    "scripts.setup",
    "agents.evil.command",
    "agents.shell.busy_patterns",
    "terminal.scrollback",
    "server.port_base",
]


def world_writable(path: Path) -> Path:
    path.mkdir()
    path.chmod(0o777)  # no sticky bit: anyone can rename what ptui would put here
    return path


def test_untrusted_file_changes_nothing_outside_the_users_worktrees(
    ptui: Runner, repo: Path, tmp_path: Path
) -> None:
    """Failing, an attacker's `.ptui.toml` would put a checkout (and the `.env` that
    `.worktreeinclude` copies) in a directory another user reads, run their command
    as the user's agent or setup, name the user's refs and pick their ports."""
    shared = world_writable(tmp_path / "shared")
    marker = tmp_path / "pwned"
    (repo / ".env").write_text("API_KEY=secret\n")
    (repo / ".worktreeinclude").write_text(".env\n")
    git(repo, "add", ".worktreeinclude")
    git(repo, "commit", "-qm", "include .env")
    commit_repo_config(repo, hostile_config(shared, marker))

    result = ptui("new", "task", "--json")
    [info] = json.loads(result.stdout)
    assert info["agent"] == "counter"  # the user's default, not the file's "evil"
    assert info["branch"] == "ptui/task"
    assert info["base"] == "main"  # not the file's default_base
    assert Path(info["worktree"]).parent == repo.parent / "repo.ptui-worktrees"
    assert 41_000 <= info["port"] < 41_100
    assert (Path(info["worktree"]) / ".env").read_text() == "API_KEY=secret\n"
    [notice] = [w for w in info["warnings"] if "is not trusted, so ptui ignored" in w]
    for key in HOSTILE_KEYS:
        assert key in notice
    assert "ptui trust" in notice

    refused = ptui("new", "other", "--agent", "evil", check=False)
    assert refused.returncode == 1
    assert "agent 'evil' comes from" in refused.stderr and "ptui trust" in refused.stderr
    ptui("new", "shelled", "--agent", "shell")  # the user's own shell, not the file's

    assert list(shared.iterdir()) == []
    assert not marker.exists()
    assert "main-" not in git(repo, "branch", "--list")


@pytest.mark.config_key("git.worktrees_dir", "git.branch_prefix")
def test_trusted_paths_are_still_refused_where_others_can_write(
    ptui: Runner, repo: Path, tmp_path: Path
) -> None:
    """Failing, trusting a repository (or a typo in the user's own config) would put
    checkouts where another user can read them or swap them for their own."""
    shared = world_writable(tmp_path / "shared")
    commit_repo_config(repo, f'[git]\nworktrees_dir = "{shared}"\n')
    shown = ptui_json(ptui, "trust", "--yes")
    assert shown["trusted"]
    assert f"git.worktrees_dir {shared} is open to others" in shown["problem"]
    refused = ptui("new", "task", check=False)
    assert refused.returncode == 1
    line = refused.stderr.strip()
    assert "\n" not in line
    assert f"{repo / '.ptui.toml'}:2: git.worktrees_dir {shared}" in line
    assert "open to others" in line
    assert list(shared.iterdir()) == []

    # A directory of the user's own, closed to others, is fine once trusted.
    own = tmp_path / "own-trees"
    own.mkdir(mode=0o700)
    commit_repo_config(repo, f'[git]\nworktrees_dir = "{own}"\nbranch_prefix = "team/"\n')
    ptui("trust", "--yes")
    [info] = ptui_json(ptui, "new", "task")
    assert Path(info["worktree"]) == own / "task"
    assert info["branch"] == "team/task"


@pytest.mark.config_key("git.default_base")
def test_default_base_is_honoured_by_new(ptui: Runner, repo: Path, config: Path) -> None:
    """`git.default_base` set in the user's config: `ptui new` without --base uses it."""
    git(repo, "branch", "develop")
    config.write_text(config.read_text() + '\n[git]\ndefault_base = "develop"\n')
    [info] = ptui_json(ptui, "new", "task")
    assert info["base"] == "develop"
    [other] = ptui_json(ptui, "new", "other", "--base", "main")
    assert other["base"] == "main"


def test_uncommitted_file_is_not_half_read(ptui: Runner, repo: Path) -> None:
    """Failing, an uncommitted `.ptui.toml` would silently apply in part (its
    default_agent but not its setup), so a user could never tell what counts."""
    commit_repo_config(repo, '[scripts]\ntest = "echo committed"\n')
    ptui("trust", "--yes")
    (repo / ".ptui.toml").write_text('default_agent = "cat"\n[scripts]\ntest = "echo local"\n')
    result = ptui("new", "task", "--json")
    [info] = json.loads(result.stdout)
    assert info["agent"] == "counter"  # not the uncommitted default_agent
    [note] = [w for w in info["warnings"] if "reads only the committed file" in w]
    assert "has changes not committed on main" in note
    assert '+default_agent = "cat"' in note and '-test = "echo committed"' in note
    shown = ptui_json(ptui, "trust")
    assert "reads only the committed file" in shown["local_changes"]


def test_an_agent_editing_its_worktree_copy_changes_nothing(ptui: Runner, repo: Path) -> None:
    """Failing, an agent could write a `.ptui.toml` in its own worktree and have
    the next session run it: the file is read from the base branch's commit only."""
    marker = repo.parent / "agent-wrote-this"
    [info] = ptui_json(ptui, "new", "task")
    (Path(info["worktree"]) / ".ptui.toml").write_text(f'[scripts]\nsetup = "touch {marker}"\n')
    ptui("new", "second")
    ptui("stop", "task")
    ptui("resume", "task")
    wait_for(lambda: ptui_json(ptui, "ls")[0]["status"] in LIVE)
    assert not marker.exists()
    assert sorted(p.name for p in (repo.parent / "repo.ptui-worktrees").iterdir()) == [
        "second",
        "task",
    ]


HOSTILE_PATTERN = "[agents.shell]\nbusy_patterns = ['(.+)+\\x00']\n"


@pytest.mark.parametrize("trusted", [False, True])
def test_hostile_patterns_cannot_freeze_the_server_trusted_or_not(
    ptui: Runner, repo: Path, trusted: bool
) -> None:
    """Failing, a repository's status pattern could freeze the server, and every
    session of every repository with it; trusting the file must not change that."""
    commit_repo_config(repo, HOSTILE_PATTERN)
    if trusted:
        ptui("trust", "--yes")
    [info] = ptui_json(ptui, "new", "long", "--agent", "shell")
    if not trusted:
        assert any("agents.shell.busy_patterns" in w for w in info["warnings"])
    ptui("send", "long", "printf '%3000s\\n' '' | tr ' ' a", "--enter")
    wait_for(lambda: "a" * 60 in ptui("show", "long").stdout, what="the long line on screen")
    slowest = 0.0
    for _ in range(8):  # across several screen checks and the activity window's end
        began = time.monotonic()
        ptui("ls")
        slowest = max(slowest, time.monotonic() - began)
        time.sleep(0.2)
    assert slowest < 1.0, f"ptui ls took {slowest:.2f}s"


def test_new_session_settings_are_the_config_the_server_applies(
    ptui: Runner, repo: Path, tmp_path: Path
) -> None:
    """`repo.settings` (the app's new-session form): failing, the form would offer an
    untrusted file's agents and branch prefix (or an uncommitted copy's), which the
    server then refuses."""
    text = '[git]\nbranch_prefix = "team/"\n[agents.mine]\ncommand = ["mine"]\n'
    commit_repo_config(repo, text)
    (repo / ".ptui.toml").write_text(text.replace("team/", "local/"))  # uncommitted edit
    with Client() as client:

        def settings() -> Settings:
            return client.request(RepoSettings(repo=str(repo)))

        untrusted = settings()
        assert "mine" not in [a["name"] for a in untrusted["agents"]]
        assert untrusted["branch_prefix"] == "ptui/" and untrusted["repo"] == str(repo)
        digest = client.request(TrustShow(repo=str(repo)))["digest"]
        client.request(TrustAdd(repo=str(repo), digest=digest))
        trusted = settings()
        # `installed` is looked up on the server's PATH, where the agent would run.
        assert {"name": "mine", "command": "mine", "installed": False} in trusted["agents"]
        assert {"name": "sh", "command": "sh", "installed": True} in trusted["agents"]
        assert trusted["branch_prefix"] == "team/"
        # A file refused even trusted leaves the form on the user's own config.
        shared = world_writable(tmp_path / "shared")
        commit_repo_config(
            repo, f'[agents.other]\ncommand = ["x"]\n[git]\nworktrees_dir = "{shared}"\n'
        )
        digest = client.request(TrustShow(repo=str(repo)))["digest"]
        client.request(TrustAdd(repo=str(repo), digest=digest))
        refused = settings()
        assert "other" not in [a["name"] for a in refused["agents"]] and refused["repo"] == ""
        # Outside a repository: the user's own file.
        assert client.request(RepoSettings())["agents"] == refused["agents"]
