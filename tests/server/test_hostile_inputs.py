"""Hostile repository contents, names and program output, against the real server.

Part of the security suite (with test_untrusted_repo.py, test_flow_control.py,
test_hostile_patterns.py and test_robustness.py's other-uid test). Each test says
what an attacker would gain if it failed.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.server.conftest import PTUI, Runner, git, ptui_json, wait_for
from tui.client import spawn


def files_under(root: Path) -> set[str]:
    """Every path under `root` but ptui's own state and socket (home/, run/)."""
    names = {str(p.relative_to(root)) for p in root.rglob("*")}
    return {n for n in names if n.split("/")[0] not in ("home", "run")}


def test_worktreeinclude_copies_nothing_from_outside_the_repository(
    ptui: Runner, repo: Path, tmp_path: Path
) -> None:
    """Failing, a repository could make ptui copy the user's files from outside it
    (keys, other projects) into a checkout an agent reads and may commit."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "id_rsa").write_text("PRIVATE KEY\n")
    (repo / ".gitignore").write_text(".env\nlinked\nlinkdir\nsecret*\n")
    (repo / "linked").symlink_to(outside / "id_rsa")
    (repo / "linkdir").symlink_to(outside)
    (repo / ".worktreeinclude").write_text(
        f"../outside/id_rsa\n{outside}/id_rsa\n/../../outside\nlinked\nlinkdir\nlinkdir/**\n**\n"
    )
    git(repo, "add", ".gitignore", ".worktreeinclude")
    git(repo, "commit", "-qm", "hostile include")
    before = files_under(tmp_path)

    [info] = ptui_json(ptui, "new", "task")
    worktree = Path(info["worktree"])
    # Symlinks are copied as symlinks: the content never enters the checkout.
    assert (worktree / "linked").is_symlink() and (worktree / "linkdir").is_symlink()
    regular = [p for p in worktree.rglob("*") if p.is_file() and not p.is_symlink()]
    assert all("PRIVATE KEY" not in p.read_text(errors="replace") for p in regular)
    assert not (worktree / "id_rsa").exists()
    created = files_under(tmp_path) - before
    assert {name.split("/")[0] for name in created} <= {"repo", "repo.ptui-worktrees"}, created


HOSTILE_NAMES = [
    "../../escape",
    "/etc/passwd",
    "-rf",
    "--help",
    "..",
    "a/../../b",
    "x\x1b]52;c;aGk=\x07",
    "ref@{1}",
    "HEAD",
    "name.lock",
    "x" * 300,
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_session_names_are_refused_in_one_line(
    ptui: Runner, repo: Path, tmp_path: Path, name: str
) -> None:
    """Failing, a name could put a checkout or a ref outside ptui's places, pass an
    option to git, or write escape sequences into the user's terminal."""
    before = files_under(tmp_path)
    result = ptui("new", "task", f"--name={name}", check=False)
    assert result.returncode in (1, 2), result
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "\x1b" not in result.stderr  # the name is shown escaped, never replayed
    assert files_under(tmp_path) == before
    assert git(repo, "branch", "--list").split() == ["*", "main"]


@pytest.mark.parametrize(
    "task",
    [
        "$(touch pwned)",
        "`touch pwned`; rm -rf ~",
        "../../../etc",
        "--version",
        "\x1b[2J\x1b]0;x\x07",
    ],
)
def test_hostile_tasks_become_safe_names_and_run_nothing(
    ptui: Runner, repo: Path, tmp_path: Path, task: str
) -> None:
    """Failing, a task (pasted from an issue someone else wrote) would run as a
    shell command or name a path outside the worktrees directory."""
    result = ptui("new", "--agent", "echo-task", "--json", "--", task, check=False)
    if result.returncode == 0:
        [info] = json.loads(result.stdout)
        assert Path(info["worktree"]).parent == repo.parent / "repo.ptui-worktrees"
        assert info["branch"].startswith("ptui/") and ".." not in info["branch"]
        wait_for(lambda: ptui("show", info["id"]).stdout.strip(), what="the agent's screen")
    else:
        assert "\n" not in result.stderr.strip()
    assert not (repo / "pwned").exists() and not (tmp_path / "pwned").exists()
    assert not list(repo.parent.rglob("pwned"))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


HOSTILE_OUTPUT = r"""
import sys, time
out = sys.stdout.buffer
out.write(b"\x1b]52;c;" + b"QUFB" * (4 * 1024 * 1024) + b"\x07")   # a 16 MB clipboard
out.write(b"\x1b]0;" + b"t" * (8 * 1024 * 1024))                   # a title that never ends
out.write(b"\x07")
out.write(b"\x1b[" + b"1;" * 200_000 + b"m")                         # 200k CSI parameters
out.write(b"\x1b[" + b"9" * 100_000 + b"C")                          # a 100k-digit parameter
out.write(b"\x1bP" + b"q" * (4 * 1024 * 1024) + b"\x1b\\")            # a 4 MB DCS
out.write(b"still-here\n")
out.flush()
time.sleep(60)
"""


def test_hostile_escape_sequences_cost_bounded_memory_and_no_freeze(
    ptui: Runner, repo: Path, config: Path
) -> None:
    """Failing, a program (or a file an agent cats) could freeze the server for
    every session or grow it until the machine swaps."""
    command = json.dumps([sys.executable, "-c", HOSTILE_OUTPUT])
    config.write_text(config.read_text() + f"\n[agents.hostile]\ncommand = {command}\n")
    ptui("new", "calm")
    pid = spawn.running_pid()
    assert pid is not None
    start = rss_mb(pid)
    ptui("new", "hostile", "--agent", "hostile")
    wait_for(lambda: "still-here" in ptui("show", "hostile").stdout, timeout=60, what="output")
    began = time.monotonic()
    ptui("ls")
    assert time.monotonic() - began < 1.0
    assert rss_mb(pid) - start < 100, (start, rss_mb(pid))


def test_socket_directory_made_by_someone_else_is_refused(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failing, whoever made the socket directory first could plant a fake server
    that reads every key the user types into their agents."""
    runtime = Path(os.environ["XDG_RUNTIME_DIR"])
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    planted = runtime / "ptui"
    planted.mkdir()
    planted.chmod(0o777)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    result = subprocess.run([PTUI, "ls"], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "open to others" in result.stderr
    assert "chmod 700" in result.stderr
    assert stat.S_IMODE(planted.stat().st_mode) == 0o777  # refused, not "fixed" behind their back
    assert list(planted.iterdir()) == []
