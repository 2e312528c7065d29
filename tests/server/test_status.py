"""Status detection: screen patterns of each built-in agent, output activity, exit."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w

from tests.server.conftest import Runner, ptui_json, wait_for
from tui.config import load_config
from tui.server.status import BUSY, IDLE, WAITING, classify

# Screens as each agent draws them (texts from their own UIs; trimmed).
SCREENS = {
    "claude": {
        BUSY: "✻ Herding… (12s · ↑ 1.2k tokens · esc to interrupt)\n\n> \n",
        WAITING: "Bash command\n  npm test\nDo you want to proceed?\n❯ 1. Yes\n  2. No\n",
        IDLE: "╭───────────────╮\n│ >             │\n╰───────────────╯\n  ? for shortcuts\n",
    },
    "codex": {
        BUSY: "• Working (4s • esc to interrupt)\n\n▌ Ask Codex to do anything\n",
        WAITING: "Would you like to run the following command?\n  $ pytest\n› 1. Yes, proceed\n",
        IDLE: "▌ Ask Codex to do anything\n⏎ send   ⇧⏎ newline\n",
    },
    "aider": {
        WAITING: "Add README.md to the chat? (Y)es/(N)o [Yes]: \n",
        IDLE: "Aider v0.60\nModel: gpt-4o\n",
    },
    "gemini": {
        BUSY: "⠏ Thinking about the code (esc to cancel, 3s)\n",
        WAITING: "Allow execution of: 'npm test'?\n● 1. Yes, allow once\n",
        IDLE: "> Type your message or @path/to/file\n",
    },
    "opencode": {
        BUSY: "Generating... esc interrupt\n",
        WAITING: "Permission required\n  Allow once   Always allow   Reject\n",
        IDLE: "> \n  ctrl+p commands\n",
    },
    "shell": {IDLE: "$ ls\nREADME.md\n$ \n"},
}


@pytest.mark.parametrize(
    ("agent", "expected"), [(a, s) for a, screens in SCREENS.items() for s in screens]
)
def test_builtin_profiles_read_their_screens(agent: str, expected: str) -> None:
    profile = load_config(None).agent(agent)
    text = SCREENS[agent][expected]
    got = classify(text, waiting=profile.waiting_patterns, busy=profile.busy_patterns, active=False)
    assert got == expected


def test_activity_means_busy_and_waiting_wins() -> None:
    assert classify("anything", waiting=(), busy=(), active=True) == BUSY
    assert classify("anything", waiting=(), busy=(), active=False) == IDLE
    claude = load_config(None).agent("claude")
    both = SCREENS["claude"][WAITING] + SCREENS["claude"][BUSY]
    assert classify(both, waiting=claude.waiting_patterns, busy=claude.busy_patterns,
                    active=True) == WAITING  # fmt: skip


def test_live_status_follows_the_agent(ptui: Runner, repo: Path, config: Path) -> None:
    script = (
        "echo 'thinking (esc to interrupt)'; sleep 1; clear; echo 'Proceed? [y/n]'; "
        "read answer; clear; echo got $answer; sleep 2; exit 3"
    )
    asker = {
        "command": ["sh", "-c", script],
        "prompt": "none",
        "busy_patterns": ["esc to interrupt"],
        "waiting_patterns": [r"Proceed\? \[y/n\]"],
    }
    config.write_text(config.read_text() + "\n" + tomli_w.dumps({"agents": {"asker": asker}}))
    ptui("new", "asking", "--agent", "asker")

    def status() -> str:
        return str(ptui_json(ptui, "ls")[0]["status"])

    wait_for(lambda: status() == "waiting", what="waiting")
    ptui("send", "asking", "y", "--enter")
    wait_for(lambda: status() == "idle" or status() == "busy", what="after answer")
    wait_for(lambda: status() == "exited", what="exit")
    [info] = ptui_json(ptui, "ls")
    assert info["exit_code"] == 3
    assert "exited(3)" in ptui("ls").stdout
    assert "got y" in ptui("show", "asking").stdout
