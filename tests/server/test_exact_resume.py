"""Exact resume: a session resumes its own conversation, not the folder's latest.

Fake `claude` and `codex` executables first on PATH record their argv and behave
like the real ones with respect to ids: the fake claude writes its transcript
`~/.claude/projects/<dir>/<id>.jsonl` for `--session-id <id>` once it has a
prompt (Claude Code 2.1 writes none before the first message), the fake codex a
rollout file `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl` whose
first line is the `session_meta` record codex 0.171 writes. The real server runs
them on real PTYs; the tests read back what reached their argv.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import pytest
import tomli_w

from tests.server.conftest import Runner, ptui_json, stop_server, wait_for
from tui.config import ConfigError, load_config
from tui.server import agent_sessions as agents
from tui.session_record import SessionRecord

FAKE_CLAUDE = """\
import json, os, pathlib, re, sys, time
args = sys.argv[1:]
if args == ["--version"]:  # as the real one: the status engine reads it once
    print("2.1.197 (Claude Code)")
    sys.exit(0)
with open(os.environ["FAKE_ARGV_LOG"], "a") as log:
    log.write(json.dumps(["claude", *args]) + "\\n")
chosen = args[args.index("--session-id") + 1] if "--session-id" in args else ""
prompt = [a for i, a in enumerate(args) if not a.startswith("-")
          and (i == 0 or args[i - 1] not in ("--session-id", "--resume", "--settings"))]
if chosen and prompt:
    folder = pathlib.Path(os.environ["HOME"], ".claude", "projects",
                          re.sub(r"[^A-Za-z0-9]", "-", os.getcwd()))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{chosen}.jsonl").write_text(json.dumps({"sessionId": chosen}) + "\\n")
print("claude ready", flush=True)
while True:
    time.sleep(0.2)
"""

FAKE_CODEX = """\
import datetime as dt, json, os, pathlib, sys, time, uuid
args = sys.argv[1:]
if args == ["--version"]:
    print("codex-cli 0.171.0")
    sys.exit(0)
with open(os.environ["FAKE_ARGV_LOG"], "a") as log:
    log.write(json.dumps(["codex", *args]) + "\\n")
if args[:1] != ["resume"] and args != ["--version"]:
    sid = os.environ.get("FAKE_CODEX_ID") or str(uuid.uuid4())
    now = dt.datetime.now(dt.timezone.utc)
    home = pathlib.Path(os.environ.get("CODEX_HOME") or pathlib.Path(os.environ["HOME"], ".codex"))
    folder = home / "sessions" / now.strftime("%Y/%m/%d")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    meta = {"timestamp": stamp, "ordinal": 0, "type": "session_meta", "payload": {
        "session_id": sid, "id": sid, "timestamp": stamp, "cwd": os.getcwd(),
        "originator": "codex_cli_rs", "cli_version": "0.171.0", "source": "cli",
        "base_instructions": {"text": "x" * 30000}}}
    name = f"rollout-{now.strftime('%Y-%m-%dT%H-%M-%S')}-{sid.replace(' ', '_')}.jsonl"
    (folder / name).write_text(json.dumps(meta) + "\\n")
print("codex ready", flush=True)
while True:
    time.sleep(0.2)
"""


@pytest.fixture
def fakes(tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`claude` and `codex` on PATH (the built-in profiles run them); returns the argv log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("claude", FAKE_CLAUDE), ("codex", FAKE_CODEX)):
        path = bin_dir / name
        path.write_text(f"#!{sys.executable}\n{body}")
        path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    log = tmp_path / "argv.jsonl"
    log.touch()
    monkeypatch.setenv("FAKE_ARGV_LOG", str(log))
    return log


def argvs(log: Path) -> list[list[str]]:
    """Each run's argv, without the arguments that wire the agent's hooks to ptui
    (`--settings`, `-c notify=`: tests/server/test_status_hooks.py) and without the
    server's `--version` reads."""
    runs = [_unhooked(json.loads(line)) for line in log.read_text().splitlines()]
    return [argv for argv in runs if argv[1:] != ["--version"]]  # the server's version read


def _unhooked(argv: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        following = argv[i + 1] if i + 1 < len(argv) else ""
        if arg == "--settings" or (arg == "-c" and following.startswith("notify=")):
            skip = True
            continue
        out.append(arg)
    return out


def info(run: Runner, sid: str) -> dict[str, object]:
    [found] = [s for s in ptui_json(run, "ls", "--all") if s["id"] == sid]
    return found


@pytest.mark.config_key(
    "agents.<name>.session_id_args",
    "agents.<name>.resume_session",
    "agents.<name>.session_store",
)
def test_claude_is_started_with_an_id_that_survives_a_restart_and_resumes_it(
    ptui: Runner, fakes: Path
) -> None:
    ptui("new", "fix the login", "--name", "cl", "--agent", "claude")
    wait_for(lambda: argvs(fakes), what="claude started")
    [started] = argvs(fakes)
    assert started[:2] == ["claude", "--session-id"] and started[3:] == ["fix the login"]
    chosen = started[2]
    assert agents.valid_session_id(chosen) and len(chosen) == 36
    wait_for(lambda: info(ptui, "cl")["agent_session"] == chosen, what="id confirmed")

    stop_server()  # the next command starts a new server from the state file
    assert info(ptui, "cl")["agent_session"] == chosen
    resumed = ptui("resume", "cl")
    assert "no conversation id" not in resumed.stderr, resumed.stderr
    wait_for(lambda: len(argvs(fakes)) == 2, what="claude resumed")
    assert argvs(fakes)[1] == ["claude", "--resume", chosen]


def test_codex_id_is_read_from_its_rollout_and_resumed(ptui: Runner, fakes: Path) -> None:
    ptui("new", "add tests", "--name", "cx", "--agent", "codex")
    wait_for(lambda: argvs(fakes), what="codex started")
    assert argvs(fakes) == [["codex", "add tests"]]
    sessions = Path(os.environ["HOME"]) / ".codex" / "sessions"
    wait_for(lambda: list(sessions.rglob("rollout-*.jsonl")), what="the rollout file")
    [rollout] = sessions.rglob("rollout-*.jsonl")
    written = json.loads(rollout.read_text().splitlines()[0])["payload"]["id"]
    wait_for(lambda: info(ptui, "cx")["agent_session"] == written, what="id found")

    stop_server()
    assert info(ptui, "cx")["agent_session"] == written
    resumed = ptui("resume", "cx")
    assert "warning" not in resumed.stderr, resumed.stderr
    wait_for(lambda: len(argvs(fakes)) == 2, what="codex resumed")
    assert argvs(fakes)[1] == ["codex", "resume", written]


def test_without_a_known_id_resume_falls_back_and_says_so(ptui: Runner, fakes: Path) -> None:
    # No task: the fake (like Claude Code) writes no conversation, so the id it was
    # given is never confirmed, and resuming it would fail.
    ptui("new", "", "--name", "empty", "--agent", "claude")
    wait_for(lambda: argvs(fakes), what="claude started")
    ptui("stop", "empty")
    assert info(ptui, "empty")["agent_session"] == ""
    resumed = ptui("resume", "empty")
    assert (
        "no conversation id is known for this session: resuming with `claude --continue` "
        "(the latest conversation in this folder)" in resumed.stderr
    ), resumed.stderr
    wait_for(lambda: len(argvs(fakes)) == 2, what="claude resumed")
    assert argvs(fakes)[1] == ["claude", "--continue"]


@pytest.mark.parametrize("hostile", ["--help", "a b; rm -rf ~"])
def test_a_hostile_id_in_a_rollout_is_refused(
    ptui: Runner, fakes: Path, monkeypatch: pytest.MonkeyPatch, hostile: str
) -> None:
    monkeypatch.setenv("FAKE_CODEX_ID", hostile)  # the server (and its agents) inherit it
    ptui("new", "task", "--name", "bad", "--agent", "codex")
    wait_for(lambda: argvs(fakes), what="codex started")
    assert list((Path(os.environ["HOME"]) / ".codex" / "sessions").rglob("rollout-*"))
    time.sleep(1.5)  # past the first lookup
    ptui("stop", "bad")  # and the last one, when the agent ends
    assert info(ptui, "bad")["agent_session"] == ""
    resumed = ptui("resume", "bad")
    assert "no conversation id is known" in resumed.stderr
    wait_for(lambda: len(argvs(fakes)) == 2, what="codex resumed")
    assert argvs(fakes)[1] == ["codex", "resume", "--last"]
    assert all(hostile not in argv for argv in argvs(fakes))


# ------------------------------------------------------------- the parts
def rollout(
    sessions: Path, sid: str, cwd: Path, began: dt.datetime, *, first: str | None = None
) -> Path:
    folder = sessions / began.strftime("%Y/%m/%d")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"rollout-{began.strftime('%Y-%m-%dT%H-%M-%S')}-{sid}.jsonl"
    stamp = began.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    payload = {"id": sid, "timestamp": stamp, "cwd": str(cwd), "source": "cli"}
    meta = {"timestamp": stamp, "type": "session_meta", "payload": payload}
    path.write_text((json.dumps(meta) if first is None else first) + "\n{}\n")
    return path


def test_the_newest_rollout_of_the_worktree_since_the_start_wins(tmp_path: Path) -> None:
    sessions, here, there = tmp_path / "sessions", tmp_path / "wt", tmp_path / "other"
    here.mkdir()
    there.mkdir()
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    old = rollout(sessions, "before-start", here, start - dt.timedelta(hours=2))
    os.utime(old, (start.timestamp() - 7200, start.timestamp() - 7200))
    rollout(sessions, "first", here, start + dt.timedelta(seconds=10))
    rollout(sessions, "newest", here, start + dt.timedelta(seconds=60))
    rollout(sessions, "other-cwd", there, start + dt.timedelta(seconds=90))
    rollout(sessions, "sub", here, start + dt.timedelta(seconds=95)).write_text(
        json.dumps({"type": "session_meta", "payload": {
            "id": "sub", "cwd": str(here), "timestamp": (start + dt.timedelta(seconds=95))
            .isoformat(), "source": {"subagent": "review"}}}) + "\n"
    )  # fmt: skip
    assert agents.find_codex(sessions, here, start.timestamp()) == "newest"
    assert agents.find_codex(sessions, there, start.timestamp()) == "other-cwd"
    assert agents.find_codex(sessions, here, time.time() + 3600) is None
    # The file from before the start is ignored even when it was touched since.
    os.utime(old)
    assert agents.find_codex(sessions, here, start.timestamp()) == "newest"


def test_a_truncated_or_foreign_first_line_is_skipped(tmp_path: Path) -> None:
    sessions, here = tmp_path / "sessions", tmp_path / "wt"
    here.mkdir()
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    rollout(sessions, "good", here, start + dt.timedelta(seconds=1))
    cut = rollout(sessions, "cut", here, start + dt.timedelta(seconds=30))
    cut.write_text(cut.read_text().splitlines()[0][:40])  # no newline: still being written
    rollout(sessions, "junk", here, start + dt.timedelta(seconds=31), first="{not json")
    rollout(sessions, "other", here, start + dt.timedelta(seconds=32), first='{"type":"x"}')
    huge = rollout(sessions, "huge", here, start + dt.timedelta(seconds=33))
    huge.write_text('{"pad": "' + "x" * agents.FIRST_LINE_MAX + '"}\n')
    assert agents.find_codex(sessions, here, start.timestamp()) == "good"


def test_claude_ids_are_confirmed_by_their_transcript(tmp_path: Path) -> None:
    config_dir = tmp_path / ".claude"
    sid = agents.new_session_id()
    env = {"CLAUDE_CONFIG_DIR": str(config_dir)}
    assert agents.lookup("claude", env, tmp_path, 0.0, sid) is None
    (config_dir / "projects" / "-some-dir").mkdir(parents=True)
    (config_dir / "projects" / "-some-dir" / f"{sid}.jsonl").write_text("{}\n")
    assert agents.lookup("claude", env, tmp_path, 0.0, sid) == sid
    # Without a store the chosen id is taken as it is (gemini).
    assert agents.lookup("", env, tmp_path, 0.0, sid) == sid


def test_only_a_plain_id_becomes_an_argument() -> None:
    argv = ["codex", "resume", "{session}", "x{session}"]
    assert agents.fill_session(argv, "0199a-b.c:d_e") == [
        "codex", "resume", "0199a-b.c:d_e", "x{session}",
    ]  # fmt: skip
    for bad in ("--help", "-x", "", "a b", "a/b", "x" * 129, "id\n"):
        assert not agents.valid_session_id(bad)
        with pytest.raises(ValueError):
            agents.fill_session(argv, bad)


def test_the_profile_keys_merge_key_by_key_and_are_checked(isolated_home: Path) -> None:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "ptui" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(tomli_w.dumps({"agents": {"claude": {"resume_session": []}}}))
    claude = load_config().agent("claude")
    assert claude.resume_session == () and claude.session_id_args == ("--session-id", "{session}")
    for bad in (
        {"resume_session": ["x", "--id={session}"]},
        {"session_id_args": ["--session-id"]},
        {"session_store": "vim"},
    ):
        path.write_text(tomli_w.dumps({"agents": {"claude": bad}}))
        with pytest.raises(ConfigError):
            load_config()


def test_rows_written_before_the_field_still_load() -> None:
    row = {"id": "s", "name": "s", "repo": "/r", "worktree": "/w", "branch": "ptui/s"}
    assert SessionRecord.from_dict(row).agent_session == ""
    record = SessionRecord.from_dict({**row, "agent_session": "abc-1"})
    assert SessionRecord.from_dict(record.to_dict()).agent_session == "abc-1"
    with pytest.raises(ValueError, match="agent_session"):
        SessionRecord.from_dict({**row, "agent_session": 5})
