"""A catastrophic screen pattern in the config cannot freeze the server.

`(.+)+\\x00` against one long line makes Python's backtracking `re` run for
ever, on the event loop, so every later ptui command timed out. Compiled by
`tui.patterns` (RE2) and matched off the loop, it costs microseconds and the
server keeps answering.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.conftest import Runner, wait_for
from tui.client import spawn
from tui.client.connection import Client


@contextlib.contextmanager
def server_killed_on_failure() -> Iterator[None]:
    """On failure, kill the server: a frozen one would hang the shared teardown
    too (its hello waits without a timeout), so a regression fails in seconds."""
    try:
        yield
    except BaseException:
        if (pid := spawn.running_pid()) is not None:
            os.kill(pid, signal.SIGKILL)
        raise


def slowest_answer(client: Client, seconds: float) -> float:
    """The longest `session.list` round trip while polling for `seconds`."""
    slowest = 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.monotonic()
        client.call("session.list", timeout=5)
        slowest = max(slowest, time.monotonic() - start)
        time.sleep(0.05)
    return slowest


def test_a_catastrophic_pattern_does_not_freeze_the_server(
    ptui: Runner, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The global config is trusted as it is: its patterns reach the status engine.
    # A TOML literal string, so the regex gets the escape \x00, not a NUL.
    config = tmp_path / "hostile.toml"
    config.write_text("[agents.shell]\nbusy_patterns = ['(.+)+\\x00']\n")
    monkeypatch.setenv("PTUI_CONFIG", str(config))
    ptui("new", "hostile", "--agent", "shell")
    with server_killed_on_failure(), Client() as client:
        client.send_input("hostile", b"printf '%3000s\\n' '' | tr ' ' a\r")
        wait_for(
            lambda: "a" * 60 in client.call("session.screen", id="hostile", timeout=5)["text"],
            what="the long line on screen",
        )
        # Long enough for several screen checks and the end of the activity window.
        slowest = slowest_answer(client, 3.0)
        assert slowest < 1.0, f"session.list took {slowest:.2f}s"
        # The status engine still works: nothing on screen says busy, nothing moves.
        wait_for(lambda: client.call("session.list", timeout=5)[0]["status"] == "idle", what="idle")
