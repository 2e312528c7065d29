"""The session host's housekeeping, in process with real processes: what a dead
server left is killed by identity."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tui import paths
from tui.server.manager import SessionManager
from tui.state import SessionRecord, StateStore
from tui.term.reaper import ENV_TOKEN, processes_with_token


def quiet(_kind: object, _data: object) -> None:
    """No client is connected: events go nowhere."""


@contextlib.contextmanager
def sleeper(token: str) -> Iterator[subprocess.Popen[bytes]]:
    """A process carrying a session token, as an agent's child would."""
    proc = subprocess.Popen(["sleep", "60"], env={**os.environ, ENV_TOKEN: token})
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


async def test_a_restarted_server_kills_what_the_dead_one_left_and_nothing_else(
    tmp_path: Path,
) -> None:
    token = secrets.token_hex(8)
    with sleeper(token) as leftover, sleeper(secrets.token_hex(8)) as bystander:
        assert [info.pid for info in processes_with_token(token)] == [leftover.pid]
        record = SessionRecord(
            id="gone", name="gone", repo=tmp_path, branch="ptui/gone", worktree=tmp_path,
            status="busy",
        )  # fmt: skip
        record.extra.update({"pid": leftover.pid, "pty_token": token})
        StateStore(paths.state_file()).put(record)

        manager = SessionManager(quiet)
        manager.load()
        assert leftover.wait(timeout=5) == -signal.SIGKILL
        assert bystander.poll() is None  # another session's process: left alone
        kept = manager.sessions["gone"].record
        assert kept.status == "stopped" and "pty_token" not in kept.extra
