"""Fixtures for the session host: a real repository, a config with test agents,
the real `ptui` binary, and a server that is always stopped after the test.

Every test gets its own HOME and XDG dirs (tests/conftest.py), hence its own
server socket and state file; the server a test starts is stopped (and, if it
does not answer, killed) when the test ends, so no process outlives it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tui.client import spawn
from tui.client.connection import Client, ServerNotRunning
from tui.errors import PtuiError

PTUI = str(Path(sys.executable).with_name("ptui"))

# Agents that behave like the real thing in the ways the tests need, in a few
# lines of shell: a counter that never stops, cat for echo, a shell, and one that
# ignores SIGTERM/SIGHUP and leaves a setsid grandchild behind.
COUNTER = "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done"
AGENTS: dict[str, dict[str, Any]] = {
    "counter": {
        "command": ["sh", "-c", COUNTER],
        "resume": ["sh", "-c", "echo resumed; " + COUNTER],
    },
    "cat": {"command": ["cat"]},
    "sh": {"command": ["sh"]},
    "echo-task": {
        "command": [
            "sh",
            "-c",
            'echo "task: $1"; echo "port=$PTUI_PORT session=$PTUI_SESSION base=$PTUI_BASE"; '
            "pwd; exec cat",
            "agent",
        ],
        "prompt": "arg",
    },
    "stubborn": {
        "command": [
            "sh",
            "-c",
            "trap '' TERM HUP; setsid sh -c 'trap \"\" TERM HUP; while :; do sleep 1; done' & "
            "while :; do sleep 1; done",
        ],
    },
}
CONFIG = tomli_w.dumps(
    {
        "default_agent": "counter",
        "agents": {name: {"prompt": "none", **table} for name, table in AGENTS.items()},
    }
)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path, isolated_home: Path) -> Path:
    """A repository with one commit on main, the test's working directory."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    (path / "README.md").write_text("hello\n")
    (path / ".gitignore").write_text(".env\n")
    git(path, "add", ".")
    git(path, "commit", "-qm", "init")
    os.chdir(path)
    return path


@pytest.fixture
def config(isolated_home: Path) -> Path:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "ptui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONFIG)
    return path


def stop_server() -> None:
    """Stop this test's server; kill it if it does not answer."""
    try:
        pid = spawn.running_pid()
    except PtuiError:  # the test removed its runtime dir (and stopped its server)
        return
    if pid is None:
        return
    try:
        with Client(start=False) as client:
            client.call("server.stop", timeout=20)
    except (ServerNotRunning, Exception):
        pass
    if not spawn.wait_stopped(pid, timeout=20) and pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def server(repo: Path, config: Path) -> Iterator[None]:
    """A repository, the test config, and the server stopped at the end."""
    yield
    stop_server()


Runner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def ptui(server: None) -> Runner:
    """Run the real `ptui` binary; `check=True` asserts exit 0 (prints stderr otherwise)."""

    def run(*args: str, check: bool = True, timeout: float = 60, **kw: Any) -> Any:
        result = subprocess.run(
            [PTUI, *args], capture_output=True, text=True, timeout=timeout, **kw
        )
        if check:
            assert result.returncode == 0, f"ptui {' '.join(args)}: {result.stderr}"
        return result

    return run


def ptui_json(run: Runner, *args: str) -> Any:
    return json.loads(run(*args, "--json").stdout)


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Poll `predicate` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)


def processes_with_env(marker: str) -> list[int]:
    """Pids whose environment holds `marker` (e.g. `PTUI_SESSION=x`)."""
    found = []
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as env:
                if needle in env.read().split(b"\0"):
                    with open(f"/proc/{entry}/stat", "rb") as stat:
                        state = stat.read().rsplit(b")", 1)[1].split()[0]
                    if state != b"Z":
                        found.append(int(entry))
        except OSError:
            continue
    return found
