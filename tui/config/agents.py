"""Agent profiles: what `[agents.<name>]` becomes, and the profiles ptui ships.

`BUILTIN_AGENTS` are kept in TOML shape so the user's tables merge onto them key by
key (`tui.config.load` does the merge and reports a missing command at its line);
`AgentProfile.from_table` turns one merged table into the profile the server runs.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tui.patterns import NO_PATTERNS, PatternSet, compile_patterns


@dataclass(frozen=True)
class AgentProfile:
    """`[agents.<name>]`: how to start, resume and read one kind of agent."""

    name: str
    command: tuple[str, ...]
    """Argument vector that starts the agent (never a shell string)."""
    prompt: str = "arg"
    """How the task reaches it: arg, flag:<flag>, stdin (typed after start) or none."""
    resume: tuple[str, ...] = ()
    """Argument vector that resumes its last conversation; empty: rerun `command`."""
    busy_patterns: PatternSet = NO_PATTERNS
    """Patterns (RE2 syntax) that, found in the screen text, mean it is working."""
    waiting_patterns: PatternSet = NO_PATTERNS
    """Patterns that mean it is waiting for the user (checked before busy)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment variables for the agent."""
    session_id_args: tuple[str, ...] = ()
    """Arguments appended to `command` with a fresh id for `{session}`, naming the
    conversation at start; empty: the agent picks its own id."""
    resume_session: tuple[str, ...] = ()
    """Argument vector that resumes one known conversation (`{session}`: its id);
    empty: `resume` is used."""
    session_store: str = ""
    """Where the agent keeps its conversations, to find or confirm the id
    (`tui.config.schema.SESSION_STORES`); "" reads nothing."""
    auto_continue: bool = False
    """After a usage limit with a shown reset time, type `continue_text` once it passed."""
    continue_text: str = "continue"
    hooks: str = ""
    """Whose lifecycle hooks report to `ptui hook` (`tui.config.schema.HOOK_KINDS`):
    the conversation id and, with care, the status; "" wires none."""

    @classmethod
    def from_table(cls, name: str, table: Mapping[str, Any]) -> AgentProfile:
        """The profile a validated TOML table describes; every key must be present
        (the loader fills the schema's defaults in first)."""
        return cls(
            name=name,
            command=tuple(table["command"]),
            prompt=table["prompt"],
            resume=tuple(table["resume"]),
            busy_patterns=compile_patterns(table["busy_patterns"]),
            waiting_patterns=compile_patterns(table["waiting_patterns"]),
            env=dict(table["env"]),
            session_id_args=tuple(table["session_id_args"]),
            resume_session=tuple(table["resume_session"]),
            session_store=table["session_store"],
            auto_continue=table["auto_continue"],
            continue_text=table["continue_text"],
            hooks=table["hooks"],
        )

    def argv_for(self, task: str) -> list[str]:
        """The argument vector that starts this agent on `task`."""
        argv = list(self.command)
        if not task or self.prompt in ("stdin", "none"):
            return argv
        # A task starting with "-" would be parsed as an option; a leading space
        # changes nothing for the model and everything for the argument parser.
        text = f" {task}" if task.startswith("-") else task
        if self.prompt.startswith("flag:"):
            argv.append(self.prompt.removeprefix("flag:"))
        argv.append(text)
        return argv

    def resume_argv(self) -> list[str]:
        """The argument vector that resumes the agent's last conversation."""
        return list(self.resume or self.command)

    @property
    def tracks_sessions(self) -> bool:
        """Whether ptui can learn which conversation of the agent a session has."""
        return bool(self.resume_session) and bool(self.session_id_args or self.session_store)

    @property
    def types_prompt(self) -> bool:
        """Whether the task is typed into the PTY after start (prompt = "stdin")."""
        return self.prompt == "stdin"


# Built-in agent profiles, in the same shape as TOML so user tables merge onto them.
# Flags were checked against each tool's documentation. Their screens are read by
# the rules shipped in tui/server/rules/ (versioned by the agent's release); the
# profile's own busy_patterns / waiting_patterns are the user's layer above those.
BUILTIN_AGENTS: dict[str, dict[str, Any]] = {
    "claude": {
        "command": ["claude"],
        "prompt": "arg",  # `claude "task"` starts an interactive session on it
        "resume": ["claude", "--continue"],
        "busy_patterns": [],
        "waiting_patterns": [],
        "env": {},
        # `--session-id <uuid>` names the conversation; it is written (and can be
        # resumed) only from its first message: ~/.claude/projects/*/<id>.jsonl.
        "session_id_args": ["--session-id", "{session}"],
        "resume_session": ["claude", "--resume", "{session}"],
        "session_store": "claude",
        "auto_continue": False,
        "continue_text": "continue",
        # --settings adds hooks that run `ptui hook` beside the user's own.
        "hooks": "claude",
    },
    "codex": {
        "command": ["codex"],
        "prompt": "arg",
        "resume": ["codex", "resume", "--last"],
        "busy_patterns": [],
        "waiting_patterns": [],
        "env": {},
        # No id flag at start: the id is read from the rollout file it writes.
        "session_id_args": [],
        "resume_session": ["codex", "resume", "{session}"],
        "session_store": "codex",
        "auto_continue": False,
        "continue_text": "continue",
        # -c notify=[...] runs `ptui hook` after each turn (not over the user's).
        "hooks": "codex",
    },
    "aider": {
        "command": ["aider"],
        # `--message` sends one message and then exits, so the task is typed instead.
        "prompt": "stdin",
        "resume": ["aider", "--restore-chat-history"],
        "busy_patterns": [],
        "waiting_patterns": [],
        "env": {},
        # No id: aider keeps one chat history per directory (.aider.chat.history.md in
        # the worktree), so --restore-chat-history already is this session's.
        "session_id_args": [],
        "resume_session": [],
        "session_store": "",
        "auto_continue": False,
        "continue_text": "continue",
        "hooks": "",
    },
    "gemini": {
        "command": ["gemini"],
        "prompt": "flag:--prompt-interactive",  # -i: run the prompt, stay interactive
        "resume": ["gemini", "--resume", "latest"],
        "busy_patterns": [],
        "waiting_patterns": [],
        "env": {},
        # gemini 0.61: --session-id <uuid> starts a conversation with that id and
        # --resume <uuid> finds it among this folder's; its files are not read.
        "session_id_args": ["--session-id", "{session}"],
        "resume_session": ["gemini", "--resume", "{session}"],
        "session_store": "",
        "auto_continue": False,
        "continue_text": "continue",
        "hooks": "",
    },
    "opencode": {
        "command": ["opencode"],
        # Some 1.0 releases only prefill the prompt box with --prompt (needs Enter).
        "prompt": "flag:--prompt",
        "resume": ["opencode", "--continue"],
        "busy_patterns": [],
        "waiting_patterns": [],
        "env": {},
        # No id flag at start: the id is read from its SQLite database.
        "session_id_args": [],
        "resume_session": ["opencode", "--session", "{session}"],
        "session_store": "opencode",
        "auto_continue": False,
        "continue_text": "continue",
        "hooks": "",
    },
    "demo": {
        # ptui's own demo agent (tui.demo.agent), so `ptui demo` needs nothing installed;
        # command and resume are filled with this Python at load time (see _demo_argv).
        "command": [],
        "prompt": "arg",
        "resume": [],
        "busy_patterns": [],
        "waiting_patterns": [],
        "env": {},
        "session_id_args": [],
        "resume_session": [],
        "session_store": "",
        "auto_continue": False,
        "continue_text": "continue",
        "hooks": "",
    },
    "shell": {
        "command": [],  # filled with $SHELL (else /bin/sh) at load time
        "prompt": "none",  # a task is a description, never a command to run
        "resume": [],
        "busy_patterns": [],
        "waiting_patterns": [],
        "env": {},
        "session_id_args": [],
        "resume_session": [],
        "session_store": "",
        "auto_continue": False,
        "continue_text": "continue",
        "hooks": "",
    },
}


def _demo_argv() -> list[str]:
    """The demo agent run by this very Python (it ships inside ptui).

    `-P`: the worktree the agent runs in is not put on `sys.path`, so a project
    with its own `tui` package cannot stand in for ptui's.
    """
    return [sys.executable, "-P", "-m", "tui.demo.agent"]


def builtin_tables() -> dict[str, dict[str, Any]]:
    """A fresh copy of `BUILTIN_AGENTS` with the commands only known at run time filled
    in: the shell from `$SHELL` (else /bin/sh), the demo agent from this Python."""
    tables = copy.deepcopy(BUILTIN_AGENTS)
    tables["shell"]["command"] = [os.environ.get("SHELL") or "/bin/sh"]
    tables["demo"]["command"] = _demo_argv()
    tables["demo"]["resume"] = [*_demo_argv(), "--resume"]
    return tables
