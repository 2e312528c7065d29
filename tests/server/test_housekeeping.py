"""The session host's housekeeping, in process with real processes and a real
repository: what a dead server left is killed by identity, a tab can be waited
on however it ends, background work is kept and its failures logged, and a commit
waits for the session's lock like every other operation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.server.conftest import config, repo  # noqa: F401  (fixtures)
from tui import paths
from tui.protocol import messages
from tui.server.manager import SessionManager
from tui.server.session import Session
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


@contextlib.asynccontextmanager
async def serving(manager: SessionManager) -> AsyncIterator[SessionManager]:
    """Exit statuses collected on SIGCHLD, as the host does; everything stopped after."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGCHLD, manager.child_exited)
    try:
        yield manager
    finally:
        await manager.shutdown()
        loop.remove_signal_handler(signal.SIGCHLD)


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


def new_session(manager: SessionManager, worktree: Path) -> Session:
    record = SessionRecord(id="s", name="s", repo=worktree, branch="ptui/s", worktree=worktree)
    session = manager.sessions["s"] = manager.new_session(record)
    return session


async def test_a_tab_whose_program_exits_can_be_waited_on(tmp_path: Path) -> None:
    async with serving(SessionManager(quiet)) as manager:
        session = new_session(manager, tmp_path)
        quick = session.spawn("quick", ["sh", "-c", "exit 3"], {})
        assert await asyncio.wait_for(quick.wait_ended(), 10) == 3


async def test_a_tab_stopped_by_ptui_wakes_whoever_waits_on_it(tmp_path: Path) -> None:
    """Stop, archive, rm, a server stop: an agent waiting on a setup stopped meanwhile
    must not wait forever. No SIGCHLD handler here: the stop itself collects the exit
    status, the path on which the tab's exit callback never runs."""
    manager = SessionManager(quiet)
    session = new_session(manager, tmp_path)
    slow = session.spawn("slow", ["sleep", "60"], {})
    waiting = asyncio.create_task(slow.wait_ended())
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await session.stop_tabs(["slow"])
    assert await asyncio.wait_for(waiting, 5) is not None
    assert slow.proc is not None and processes_with_token(slow.proc.token) == []


async def test_background_work_is_kept_until_done_and_its_failure_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    manager = SessionManager(quiet)
    release = asyncio.Event()

    async def fails() -> None:
        await release.wait()
        raise RuntimeError("the disk is full")

    manager.in_background("session s: starting the agent after setup", fails())
    assert len(manager.background) == 1  # held here: the loop keeps only weak references
    with caplog.at_level(logging.ERROR, logger="ptui.server"):
        release.set()
        for _ in range(5):
            await asyncio.sleep(0)
    assert manager.background == set()
    assert "session s: starting the agent after setup failed" in caplog.text
    assert "the disk is full" in caplog.text


@pytest.mark.usefixtures("config", "repo")  # the repository is the working directory
async def test_a_commit_waits_for_the_sessions_lock() -> None:
    async with serving(SessionManager(quiet)) as manager:
        manager.load()
        [info] = await manager.create(
            messages.SessionCreate(task="work", agent="cat", repo=str(Path.cwd()))
        )
        session = manager.sessions[info["id"]]
        (session.record.worktree / "work.txt").write_text("done\n")
        async with session.lock:  # another operation (merge, archive, rm) under way
            committing = asyncio.create_task(manager.commit(session.id, "the work"))
            await asyncio.sleep(0.3)
            assert not committing.done()
        committed = await asyncio.wait_for(committing, 20)
        assert committed["id"] == session.id and len(committed["commit"]) == 40
