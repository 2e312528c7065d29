"""A model of the session lifecycle, checked against the real `ptui` after every step.

Hypothesis picks sequences of new / write a file / archive / restore / rm /
kill -9 the server, runs each with the real binary against the real server, and
after every step checks that `ptui ls --all --json` lists exactly the model's
sessions in the model's states, that an archived session has no worktree, and
that every file written into a ready session is there with its content (so a
file that went through archive, restore or a kill came back whole).

Short by default (3 examples of 8 steps, each from one session); `pytest --soak`
runs 50 examples of 20 steps.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.server.conftest import stop_server
from tui.bench.crash_bench import Ptui, first_line, lifecycle, wait_dead
from tui.bench.manifest import UNICODE_NAME
from tui.state import LifecycleState

MAX_SESSIONS = 3
INDEX = st.integers(0, MAX_SESSIONS - 1)
PATHS = ["a.txt", "deep/er/b.bin", ".env", UNICODE_NAME, "run.sh"]


@dataclass
class Modelled:
    """What the model expects of one session."""

    worktree: Path
    archived: bool = False
    files: dict[str, bytes] = field(default_factory=dict)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


class LifecycleMachine(RuleBasedStateMachine):
    """The sessions of one repository; each example gets a repository of its own."""

    base: Path
    examples = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        self.prefix = f"e{next(self.examples)}s"
        self.repo = self.base / self.prefix
        self.repo.mkdir()
        git(self.repo, "init", "-q")
        (self.repo / "README.md").write_text("model\n")
        (self.repo / ".gitignore").write_text(".env\n")
        git(self.repo, "add", ".")
        git(self.repo, "commit", "-qm", "init")
        self.ptui = Ptui(self.repo, timeout=60)
        self.model: dict[str, Modelled] = {}
        self.names = itertools.count()

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.ptui(*args)
        assert result.returncode == 0, f"ptui {' '.join(args)}: {first_line(result)}"
        return result

    def pick(self, index: int, *, archived: bool | None = None) -> str:
        """The `index`-th session (wrapping) of those in the asked state."""
        ids = sorted(
            sid for sid, s in self.model.items() if archived is None or s.archived == archived
        )
        return ids[index % len(ids)]

    def any_in(self, archived: bool) -> bool:
        return any(s.archived == archived for s in self.model.values())

    @initialize()
    def first_session(self) -> None:
        # A short run starts with something to write into, archive and restore.
        self.new()

    @precondition(lambda self: len(self.model) < MAX_SESSIONS)
    @rule()
    def new(self) -> None:
        sid = f"{self.prefix}{next(self.names)}"
        self.run("new", f"model {sid}", "--name", sid, "--agent", "cat")
        self.model[sid] = Modelled(Path(self.ptui.wait_ready(sid)["worktree"]))

    @precondition(lambda self: self.any_in(archived=False))
    @rule(index=INDEX, path=st.sampled_from(PATHS), content=st.binary(max_size=64))
    def write(self, index: int, path: str, content: bytes) -> None:
        session = self.model[self.pick(index, archived=False)]
        target = session.worktree / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        if path == "run.sh":
            target.chmod(0o755)
        session.files[path] = content

    @precondition(lambda self: self.any_in(archived=False))
    @rule(index=INDEX)
    def archive(self, index: int) -> None:
        sid = self.pick(index, archived=False)
        self.run("archive", sid)
        self.model[sid].archived = True

    @precondition(lambda self: self.any_in(archived=True))
    @rule(index=INDEX)
    def restore(self, index: int) -> None:
        sid = self.pick(index, archived=True)
        self.run("restore", sid)
        self.model[sid].archived = False

    @precondition(lambda self: bool(self.model))
    @rule(index=INDEX)
    def rm(self, index: int) -> None:
        sid = self.pick(index)
        self.run("rm", sid, "--force")
        del self.model[sid]

    @rule()
    def kill_the_server(self) -> None:
        pid = self.ptui.server_pid() or self.ptui.start_server()
        os.kill(pid, signal.SIGKILL)
        assert wait_dead(pid, 10), f"the server {pid} outlived SIGKILL"

    @invariant()
    def ptui_agrees_with_the_model(self) -> None:
        listed = {sid: s for sid, s in self.ptui.sessions().items() if sid.startswith(self.prefix)}
        assert sorted(listed) == sorted(self.model)
        for sid, expected in self.model.items():
            state = lifecycle(listed[sid])
            if expected.archived:
                assert state == LifecycleState.ARCHIVED, f"{sid}: {state}"
                assert not expected.worktree.exists(), f"{sid}: archived, worktree still there"
                continue
            assert state == LifecycleState.READY, f"{sid}: {state}"
            for path, content in expected.files.items():
                target = expected.worktree / path
                assert target.is_file() and target.read_bytes() == content, f"{sid}: {path}"
            if "run.sh" in expected.files:
                assert os.access(expected.worktree / "run.sh", os.X_OK), f"{sid}: run.sh mode"

    def teardown(self) -> None:
        # Leave the next example a light server: each session runs an agent.
        for sid in list(self.model):
            self.ptui("rm", sid, "--force")


def test_every_rule_in_turn(server: None, tmp_path: Path) -> None:
    """The same machine through a fixed story, so every rule runs in every CI run."""

    class Machine(LifecycleMachine):
        base = tmp_path

    machine = Machine()
    story = [
        machine.first_session,
        lambda: machine.write(0, "a.txt", b"one"),
        lambda: machine.write(0, UNICODE_NAME, b"\xff\x00two"),
        lambda: machine.write(0, "run.sh", b"#!/bin/sh\necho hi\n"),
        machine.new,
        lambda: machine.write(1, ".env", b"SECRET=1\n"),
        lambda: machine.archive(0),
        machine.kill_the_server,
        lambda: machine.restore(0),
        lambda: machine.write(0, "deep/er/b.bin", b"\x00" * 64),
        lambda: machine.archive(0),
        lambda: machine.archive(0),  # the other one: both archived
        machine.kill_the_server,
        lambda: machine.restore(1),
        lambda: machine.rm(0),
        machine.new,
        lambda: machine.rm(0),
    ]
    try:
        for step in story:
            step()
            machine.ptui_agrees_with_the_model()
        assert len(machine.model) == 1
    finally:
        machine.teardown()
        Ptui(tmp_path).stop_server()
        stop_server()


def test_the_lifecycle_model_holds(
    server: None, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    soak = bool(request.config.getoption("--soak"))

    class Machine(LifecycleMachine):
        base = tmp_path

    try:
        run_state_machine_as_test(
            Machine,
            settings=settings(
                max_examples=50 if soak else 3,
                stateful_step_count=20 if soak else 8,
                deadline=None,
                database=None,  # the examples run in a throwaway HOME; nothing to replay
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        Ptui(tmp_path).stop_server()
        stop_server()
