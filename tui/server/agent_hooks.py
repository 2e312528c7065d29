"""The agents' own lifecycle hooks: wired at start, heard through `ptui hook`.

An agent run by ptui is started with its hooks pointing at `ptui hook EVENT`
(`wire`, per the profile's `hooks` key), which sends `session.hook` to this
server with the agent's own conversation id. What it brings:

- identity: the conversation the agent is in now (after a `/clear` or `/resume`
  inside it too), kept in `SessionRecord.agent_session` for exact resume;
- status, with care (`hook_status`): hooks report a prompt submitted and a turn
  ended, but not an interrupt (Esc fires no Stop in Claude Code 2.1) nor the
  answer to a permission question, so the status engine drops a hook's claim as
  soon as the user types or the layers below change (`tui.server.status_engine`).

Verified against the agents themselves:

- Claude Code 2.1 `--settings '<json>'` adds settings, and hooks from it run
  beside the user's own (both SessionStart hooks fired); each command hook gets
  the event's JSON on stdin (`session_id`, `hook_event_name`, `cwd`, and for
  Notification `message`, `notification_type`); exit 0 with stdout empty adds
  nothing to the conversation, and its stderr is not shown;
- Codex `notify` (`-c notify=[...]`, a TOML array): the program gets one JSON
  argument `{"type": "agent-turn-complete", "thread-id": ..., "cwd": ...}`
  after each turn, its stdin closed. Setting it replaces the user's own
  `notify`, so it is only wired when their config.toml sets none.

Gemini CLI and opencode have hooks of their own only in their settings files
and plugins, which ptui does not write: their profiles wire none.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from tui.config.schema import HOOK_KINDS as HOOK_KINDS
from tui.protocol.states import Activity
from tui.server import agent_sessions

if TYPE_CHECKING:
    from tui.protocol import messages
    from tui.server.manager import SessionManager
    from tui.server.session import Session

log = logging.getLogger("ptui.server")

CLAUDE_EVENTS: Final = ("SessionStart", "UserPromptSubmit", "Stop", "Notification")
"""The Claude Code hook events ptui listens to."""
CLAUDE_TIMEOUT: Final = 5
"""Seconds Claude Code gives a hook command (`ptui hook` gives up after one)."""

CONFIRM_DELAYS: Final = (1.0, 3.0)
"""Seconds between looks for the conversation a hook named: Claude Code writes it
just after UserPromptSubmit's hooks ran."""

_STATUS: Final[Mapping[str, Activity]] = {
    "UserPromptSubmit": Activity.BUSY,  # Claude Code: a prompt went to the model
    "Stop": Activity.IDLE,  # Claude Code: its answer is complete
    "agent-turn-complete": Activity.IDLE,  # Codex notify
}


def hook_status(event: str, detail: str) -> Activity | None:
    """The status a hook event stands for; None: evidence or identity only.

    A Notification waits only when it asks for a permission (its type or text
    says so): Claude Code also notifies that it has been idle a while, which the
    other layers already tell. SessionStart/SessionEnd name the conversation.
    """
    if event == "Notification":
        return Activity.WAITING if "permission" in detail.lower() else None
    return _STATUS.get(event)


# ------------------------------------------------------------------ wiring
def hook_command(event: str) -> list[str]:
    """The argv an agent's hook runs: this very Python, so no PATH is needed.

    `-P`: the worktree (the hook's cwd) is not put on `sys.path`, so a project
    with a `tui` package of its own cannot stand in for ptui's.
    """
    return [sys.executable, "-P", "-m", "tui.cli.hook", event]


def claude_settings() -> str:
    """The `--settings` JSON: one command hook per event in `CLAUDE_EVENTS`.

    Claude Code runs a hook command through a shell, so every word is quoted;
    nothing in it comes from the user or the task.
    """
    hooks = {
        event: [
            {
                "hooks": [
                    {
                        "type": "command",
                        "command": shlex.join(hook_command(event)),
                        "timeout": CLAUDE_TIMEOUT,
                    }
                ]
            }
        ]
        for event in CLAUDE_EVENTS
    }
    return json.dumps({"hooks": hooks}, separators=(",", ":"))


def codex_notify() -> str:
    """`-c notify=[...]`'s value, a TOML array (JSON strings are TOML strings)."""
    return "notify=" + json.dumps(hook_command("notify"))


def codex_user_notify(env: Mapping[str, str]) -> bool:
    """Whether the user's Codex config sets `notify` (ptui's would replace it)."""
    home = env.get("CODEX_HOME") or str(Path(env.get("HOME") or "~").expanduser() / ".codex")
    try:
        with open(Path(home) / "config.toml", "rb") as f:
            return "notify" in tomllib.load(f)
    except FileNotFoundError:
        return False
    except (OSError, tomllib.TOMLDecodeError):
        return True  # unreadable: do not risk replacing what it may set


def hook_args(kind: str, env: Mapping[str, str]) -> list[str]:
    """The arguments that wire an agent of `kind` (the profile's `hooks`) to ptui."""
    if kind == "claude":
        return ["--settings", claude_settings()]
    if kind == "codex":
        if codex_user_notify(env):
            log.info("codex: your config.toml sets notify; ptui does not replace it")
            return []
        return ["-c", codex_notify()]
    return []


def wire(kind: str, argv: Sequence[str], at: int | None, env: Mapping[str, str]) -> list[str]:
    """`argv` with the hook arguments inserted at `at` (None: appended)."""
    extra = hook_args(kind, {**os.environ, **env})
    if not extra:
        return list(argv)
    at = len(argv) if at is None else at
    return [*argv[:at], *extra, *argv[at:]]


# --------------------------------------------------------------- receiving
def receive(manager: SessionManager, request: messages.SessionHook) -> bool:
    """A hook of `request.id`'s agent fired: tell its status tracker, and keep the
    conversation id it names. True when the session's agent runs."""
    session = manager.find(request.id)
    event, detail = request.event[:64], request.detail[:300]
    tracker = session.tracker
    running = session.running and tracker is not None
    if running and tracker is not None:
        tracker.hook(event, hook_status(event, detail), detail)
    if request.agent_session:
        # In the background: the hook (and Claude Code's prompt with it) waits for
        # this answer, and confirming the id may take seconds.
        manager.in_background(
            f"session {session.id}: the conversation id its hook named",
            _remember(manager, session, request.agent_session),
        )
    return running


async def _remember(manager: SessionManager, session: Session, agent_session: str) -> None:
    """Keep the conversation id a hook reported, once the agent's store confirms it
    (Claude Code writes a conversation only from its first message, and resuming
    one it never wrote fails)."""
    profile = session.profile
    if profile is None or not profile.resume_session:
        return
    if not agent_sessions.valid_session_id(agent_session):
        log.warning("session %s: refusing hook id %r", session.id, agent_session[:80])
        return
    if session.record.agent_session == agent_session:
        session.hooked_session = agent_session
        return
    if profile.session_store in agent_sessions.CONFIRMING:
        env = {**os.environ, **profile.env}
        store, worktree = profile.session_store, session.record.worktree
        for delay in (0.0, *CONFIRM_DELAYS):
            await asyncio.sleep(delay)
            if session.profile is not profile:
                return  # the agent ended or was started again meanwhile
            found = await asyncio.to_thread(
                agent_sessions.lookup, store, env, worktree, 0.0, agent_session
            )
            if found == agent_session:
                break
        else:
            return  # never written (no prompt yet): a later hook brings it again
    session.hooked_session = agent_session
    session.record.agent_session = agent_session
    await manager.save_async(session)
    manager.changed()
