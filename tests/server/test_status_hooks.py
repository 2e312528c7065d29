"""The hook layer: agents' own lifecycle hooks feed the status and the conversation id.

The engine tests run in virtual seconds (like tests/server/test_status.py's). The
end-to-end ones start the real server with a fake `claude` first on PATH that,
like Claude Code 2.1, reads the hooks of its `--settings` JSON and runs each
command through a shell with the event's JSON on stdin; what it does next is
steered through a control file, so the test can submit a prompt or end a turn.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.server.conftest import Runner, ptui_json, stop_server, wait_for
from tui.cli import hook as hook_cli
from tui.config import load_config
from tui.protocol.states import Activity
from tui.server import agent_hooks
from tui.server.status_engine import DEBOUNCE, ScreenHit, StatusEngine

BUSY, IDLE, WAITING = Activity.BUSY, Activity.IDLE, Activity.WAITING
SPINNER = "_generic.title-spinner"
_last: dict[int, float] = {}  # engine -> where its virtual clock's run stopped


def run(engine: StatusEngine, until: float, step: float = 0.05) -> list[tuple[float, str]]:
    """Evaluate every `step` from the last evaluation up to `until`; the transitions
    seen. (Signals are given in time order: each after the run up to its time.)"""
    seen = []
    t = _last.get(id(engine), engine.transitions[-1].at)
    _last[id(engine)] = until + step
    while t <= until + 1e-9:
        if engine.evaluate(t):
            seen.append((round(t, 2), str(engine.status)))
        t += step
    return seen


def idle_agent() -> StatusEngine:
    """An agent that drew its prompt and went quiet: idle by its activity."""
    engine = StatusEngine(0.0)
    engine.output(0.1)
    engine.screen(0.2, [], drawn=True)
    run(engine, 2.0)
    assert engine.status == IDLE
    return engine


# ------------------------------------------------------------ the mapping
def test_events_map_to_statuses_conservatively() -> None:
    status = agent_hooks.hook_status
    assert status("UserPromptSubmit", "") == BUSY
    assert status("Stop", "") == IDLE
    assert status("agent-turn-complete", "") == IDLE
    assert status("Notification", "permission_prompt: Claude needs your permission") == WAITING
    assert status("Notification", "idle_prompt: Claude is waiting for your input") is None
    for identity_only in ("SessionStart", "SessionEnd", "SubagentStop", "anything"):
        assert status(identity_only, "startup") is None


# ------------------------------------------------------------- the engine
def test_a_submitted_prompt_is_busy_and_a_stop_idle_by_the_hook_layer() -> None:
    engine = idle_agent()
    run(engine, 3.0)
    engine.hook(3.0, "UserPromptSubmit", BUSY)
    assert [s for _, s in run(engine, 3.5)] == ["busy"]
    assert engine.chosen.layer == "hook" and engine.chosen.rule == "UserPromptSubmit"
    # The agent works: its spinner says busy too.
    engine.title(3.6, "⠋ working", SPINNER, BUSY)
    run(engine, 5.0)
    assert engine.status == BUSY
    # Its answer is complete while output still flows: the hook knows better.
    engine.output(5.0)
    engine.hook(5.0, "Stop", IDLE)
    changes = run(engine, 5.5)
    assert changes and changes[0][1] == "idle" and changes[0][0] <= 5.0 + DEBOUNCE + 0.1
    assert engine.chosen.layer == "hook" and engine.reason == "hook Stop"


def test_evidence_only_events_leave_the_status_to_the_layers_below() -> None:
    engine = idle_agent()
    engine.hook(3.0, "SessionStart", None, "startup")
    assert run(engine, 4.0) == []
    assert engine.chosen.layer == "activity"
    assert engine.evidence()[0].reason == "hook SessionStart: startup"


def test_typing_drops_the_hook_claim() -> None:
    """Esc interrupts Claude Code without a Stop: the user's keys end the hook's say."""
    engine = idle_agent()
    engine.hook(3.0, "UserPromptSubmit", BUSY)
    run(engine, 3.5)
    assert engine.status == BUSY
    engine.input(10.0)  # Esc
    changes = run(engine, 10.5)
    assert changes and changes[-1][1] == "idle" and engine.chosen.layer == "activity"
    [hook] = [s for s in engine.evidence() if s.layer == "hook"]
    assert hook.status is None and "no longer counts: the user typed" in hook.detail


def test_a_question_on_screen_ends_a_busy_hook_claim() -> None:
    """An approval result is never hooked: the screen's question shows at once."""
    engine = StatusEngine(0.0)
    engine.title(0.1, "⠋ working", SPINNER, BUSY)
    run(engine, 0.5)
    engine.hook(1.0, "UserPromptSubmit", BUSY)
    run(engine, 1.5)
    assert engine.chosen.layer == "hook"
    ask = ScreenHit("screen", "claude.do-you-want", WAITING, "Do you want to proceed?")
    engine.screen(2.0, [ask])
    assert engine.evaluate(2.0) and engine.status == WAITING
    assert engine.chosen.layer == "screen"
    # Answered (the question leaves the screen): the spinner says busy, not the old hook.
    engine.screen(3.0, [])
    run(engine, 3.5)
    assert engine.status == BUSY and engine.chosen.layer == "title"


def test_a_spinner_that_starts_again_ends_an_idle_hook_claim() -> None:
    engine = StatusEngine(0.0)
    engine.title(0.1, "⠋ working", SPINNER, BUSY)
    run(engine, 0.5)
    engine.title(1.0, "✳ Claude Code", "", None)  # spinner stopped: idle below
    engine.hook(1.0, "Stop", IDLE)
    run(engine, 1.5)
    assert engine.status == IDLE and engine.chosen.layer == "hook"
    engine.title(2.0, "⠙ working", SPINNER, BUSY)  # working again, no hook said so
    changes = run(engine, 2.5)
    assert changes and changes[-1][1] == "busy" and engine.chosen.layer == "title"


def test_a_hook_agreeing_below_keeps_its_claim_while_nothing_changes() -> None:
    """The claim holds only against the decision below it *when it fired*: later
    frames of the same spinner change nothing."""
    engine = StatusEngine(0.0)
    engine.title(0.1, "⠋ working", SPINNER, BUSY)
    engine.hook(0.2, "UserPromptSubmit", BUSY)
    for i in range(20):
        engine.title(0.3 + i * 0.1, "⠙⠹⠸"[i % 3] + " working", SPINNER, BUSY)
        engine.output(0.3 + i * 0.1)
    run(engine, 3.0)
    assert engine.status == BUSY and engine.chosen.layer == "hook"


def test_a_permission_notification_waits_at_once_and_exit_still_wins() -> None:
    engine = idle_agent()
    detail = "permission_prompt: Claude needs your permission to use Bash"
    engine.hook(3.0, "Notification", agent_hooks.hook_status("Notification", detail), detail)
    assert engine.evaluate(3.0) and engine.status == WAITING  # no debounce for waiting
    engine.exited(4.0, 0)
    engine.evaluate(4.0)
    assert engine.status == Activity.EXITED


# ------------------------------------------------------------ ptui hook
def test_hook_payloads_of_both_agents_are_read() -> None:
    claude = {
        "session_id": "75043e06-3ee1-4e39-a0b6-51a4cb380da7",
        "hook_event_name": "Notification",
        "cwd": "/w",
        "message": "Claude needs your permission to use Bash",
        "notification_type": "permission_prompt",
    }
    assert hook_cli.hook_params("Notification", json.dumps(claude)) == {
        "event": "Notification",
        "agent_session": claude["session_id"],
        "detail": "permission_prompt: Claude needs your permission to use Bash",
    }
    codex = {"type": "agent-turn-complete", "thread-id": "b5f6c1c2-1111", "turn-id": "1"}
    assert hook_cli.hook_params("notify", json.dumps(codex)) == {
        "event": "agent-turn-complete",
        "agent_session": "b5f6c1c2-1111",
        "detail": "",
    }
    assert hook_cli.hook_params("Stop", "not json")["event"] == "Stop"
    assert hook_cli.hook_params("Stop", "[1, 2]")["agent_session"] == ""


@pytest.mark.parametrize("session", ["", "some-session"])
def test_ptui_hook_without_a_server_exits_0_at_once_and_says_nothing(
    isolated_home: Path, session: str
) -> None:
    env = {**os.environ, "PTUI_SESSION": session}
    for argv in (
        [sys.executable, "-P", "-m", "tui.cli.hook", "Stop"],
        [str(Path(sys.executable).with_name("ptui")), "hook", "Stop"],
    ):
        start = time.monotonic()
        done = subprocess.run(
            argv, input=b'{"session_id": "abc"}', capture_output=True, env=env, timeout=10
        )
        assert done.returncode == 0 and done.stdout == b"" and done.stderr == b""
        assert time.monotonic() - start < 3.0  # Python's start-up, not a wait


def test_ptui_hook_gives_up_on_a_server_that_never_answers(isolated_home: Path) -> None:
    """A socket that accepts and never answers (a hung server) costs the deadline."""
    import socket

    from tui import paths

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(paths.socket_path()))
    listener.listen(1)
    try:
        start = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-P", "-m", "tui.cli.hook", "notify", '{"type": "x"}'],
            capture_output=True,
            env={**os.environ, "PTUI_SESSION": "s"},
            stdin=subprocess.DEVNULL,
            timeout=10,
        )
        took = time.monotonic() - start
    finally:
        listener.close()
    assert done.returncode == 0 and done.stdout == b"" and done.stderr == b""
    assert hook_cli.DEADLINE <= took < hook_cli.DEADLINE + 3.0


# ------------------------------------------------------------- wiring
def test_claude_hooks_run_this_ptui_through_a_shell() -> None:
    settings = json.loads(agent_hooks.claude_settings())
    assert set(settings["hooks"]) == set(agent_hooks.CLAUDE_EVENTS)
    [[hook]] = [group["hooks"] for group in settings["hooks"]["Stop"]]
    assert hook["type"] == "command"
    assert shlex.split(hook["command"]) == [sys.executable, "-P", "-m", "tui.cli.hook", "Stop"]


def test_codex_notify_is_a_toml_array_and_never_replaces_the_users(tmp_path: Path) -> None:
    import tomllib

    key, _, value = agent_hooks.codex_notify().partition("=")
    assert key == "notify"
    assert tomllib.loads(f"v = {value}")["v"] == agent_hooks.hook_command("notify")
    home = tmp_path / "codex"
    home.mkdir()
    assert agent_hooks.hook_args("codex", {"CODEX_HOME": str(home)})[0] == "-c"
    (home / "config.toml").write_text('notify = ["notify-send"]\n')
    assert agent_hooks.hook_args("codex", {"CODEX_HOME": str(home)}) == []
    assert agent_hooks.hook_args("", {}) == []


# --------------------------------------------------- the real server, end to end
FAKE_CLAUDE = """\
import json, os, pathlib, re, subprocess, sys, time
args = sys.argv[1:]
with open(os.environ["FAKE_ARGV_LOG"], "a") as log:
    log.write(json.dumps(["claude", *args]) + "\\n")
hooks = json.loads(args[args.index("--settings") + 1])["hooks"] if "--settings" in args else {}
sid = args[args.index("--session-id") + 1] if "--session-id" in args else ""
sid = sid or (args[args.index("--resume") + 1] if "--resume" in args else "")

def fire(event, **extra):
    payload = {"session_id": sid, "transcript_path": "", "cwd": os.getcwd(),
               "hook_event_name": event, **extra}
    for group in hooks.get(event, []):
        for hook in group["hooks"]:
            subprocess.run(hook["command"], shell=True, input=json.dumps(payload).encode(),
                           timeout=hook.get("timeout", 60))

def transcript():
    folder = pathlib.Path(os.environ["HOME"], ".claude", "projects",
                          re.sub(r"[^A-Za-z0-9]", "-", os.getcwd()))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{sid}.jsonl").write_text(json.dumps({"sessionId": sid}) + "\\n")

fire("SessionStart", source="startup")
print("claude ready", flush=True)
control = pathlib.Path(os.environ["FAKE_CONTROL"])
done = 0
while True:
    lines = control.read_text().splitlines() if control.exists() else []
    for line in lines[done:]:
        if line == "prompt":
            fire("UserPromptSubmit", prompt="(the task)")
            transcript()
        elif line == "stop":
            fire("Stop", stop_hook_active=False)
        elif line == "ask":
            fire("Notification", message="Claude needs your permission to use Bash",
                 notification_type="permission_prompt")
    done = len(lines)
    time.sleep(0.05)
"""


@pytest.fixture
def fake_claude(tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`claude` first on PATH (the built-in profile runs it); returns its control file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    path = bin_dir / "claude"
    path.write_text(f"#!{sys.executable}\n{FAKE_CLAUDE}")
    path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_ARGV_LOG", str(tmp_path / "argv.jsonl"))
    control = tmp_path / "control"
    control.touch()
    monkeypatch.setenv("FAKE_CONTROL", str(control))
    return control


def argvs() -> list[list[str]]:
    """Each run's argv (not the server's `claude --version`)."""
    log = Path(os.environ["FAKE_ARGV_LOG"])
    lines = log.read_text().splitlines() if log.exists() else []
    return [argv for argv in map(json.loads, lines) if argv[1:] != ["--version"]]


def tell(control: Path, what: str) -> None:
    with control.open("a") as f:
        f.write(what + "\n")


def status(run: Runner, sid: str) -> Any:
    """`ptui status ID --json`."""
    return ptui_json(run, "status", sid)


def chosen(run: Runner, sid: str) -> tuple[object, object]:
    report = status(run, sid)
    pick = report["chosen"]
    assert isinstance(pick, dict)
    return report["status"], (pick["layer"], pick["rule"])


def info(run: Runner, sid: str) -> dict[str, object]:
    [found] = [s for s in ptui_json(run, "ls", "--all") if s["id"] == sid]
    return found


@pytest.mark.config_key("agents.<name>.hooks")
def test_claude_hooks_bring_its_id_and_turns_to_the_server(ptui: Runner, fake_claude: Path) -> None:
    ptui("new", "", "--name", "hk", "--agent", "claude")
    wait_for(argvs, what="claude started")
    [started] = argvs()
    assert "--settings" in started
    chosen_id = started[started.index("--session-id") + 1]
    # SessionStart came with the id, but no conversation is written before the first
    # prompt, and resuming an unwritten one fails: the id is not kept yet.
    wait_for(
        lambda: any(s["layer"] == "hook" for s in status(ptui, "hk")["evidence"]),
        what="SessionStart heard",
    )
    assert info(ptui, "hk")["agent_session"] == ""

    tell(fake_claude, "prompt")
    wait_for(lambda: chosen(ptui, "hk") == ("busy", ("hook", "UserPromptSubmit")), what="busy")
    tell(fake_claude, "stop")
    wait_for(lambda: chosen(ptui, "hk") == ("idle", ("hook", "Stop")), what="idle by Stop")
    wait_for(lambda: info(ptui, "hk")["agent_session"] == chosen_id, what="id kept")
    tell(fake_claude, "ask")
    wait_for(lambda: chosen(ptui, "hk") == ("waiting", ("hook", "Notification")), what="asks")

    # Typing ends the hook's say (an interrupt fires no hook at all).
    ptui("send", "hk", "x")
    wait_for(lambda: chosen(ptui, "hk")[1][0] != "hook", what="hook claim dropped")

    stop_server()
    assert info(ptui, "hk")["agent_session"] == chosen_id
    ptui("resume", "hk")
    wait_for(lambda: len(argvs()) == 2, what="claude resumed")
    resumed = argvs()[1]
    assert resumed[:3] == ["claude", "--resume", chosen_id] and "--settings" in resumed


def test_without_hooks_claude_gets_no_settings(
    ptui: Runner, fake_claude: Path, config: Path
) -> None:
    config.write_text(tomli_w.dumps({"agents": {"claude": {"hooks": ""}}}))
    assert load_config(None).agent("claude").hooks == ""
    ptui("new", "", "--name", "plain", "--agent", "claude")
    wait_for(argvs, what="claude started")
    assert "--settings" not in argvs()[0]
    time.sleep(0.5)
    assert not any(s["layer"] == "hook" for s in status(ptui, "plain")["evidence"])
