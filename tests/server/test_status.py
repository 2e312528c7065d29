"""Status detection: screen patterns of each built-in agent, output activity, exit."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from pathlib import Path

import pytest
import tomli_w

from tests.server.conftest import Runner, ptui_json, wait_for
from tui.config import load_config
from tui.patterns import NO_PATTERNS, PatternSet, compile_patterns
from tui.protocol.states import Activity
from tui.server import status as st
from tui.server.status import StatusTracker, classify

BUSY, WAITING, IDLE = Activity.BUSY, Activity.WAITING, Activity.IDLE

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
    assert classify("anything", waiting=NO_PATTERNS, busy=NO_PATTERNS, active=True) == BUSY
    assert classify("anything", waiting=NO_PATTERNS, busy=NO_PATTERNS, active=False) == IDLE
    claude = load_config(None).agent("claude")
    both = SCREENS["claude"][WAITING] + SCREENS["claude"][BUSY]
    assert classify(both, waiting=claude.waiting_patterns, busy=claude.busy_patterns,
                    active=True) == WAITING  # fmt: skip


class Screen:
    """A screen for a tracker: its text, and the statuses it reported."""

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.reads = 0
        self.changes: list[str] = []

    def read(self) -> str:
        self.reads += 1
        return self.text


class CountingSet(PatternSet):
    """A pattern set that counts its matches."""

    searches = 0

    def search(self, text: str) -> int | None:
        CountingSet.searches += 1
        return super().search(text)


def counting(patterns: list[str]) -> CountingSet:
    compiled = compile_patterns(patterns)
    return CountingSet(compiled.sources, compiled._matcher)


async def settle(screen: Screen, want: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not screen.changes or screen.changes[-1] != want:
        assert time.monotonic() < deadline, f"status {screen.changes} never became {want}"
        await asyncio.sleep(0.02)


async def test_tracker_reads_the_screen_after_output() -> None:
    screen = Screen("working...")
    tracker = StatusTracker(
        screen.read, screen.changes.append, waiting=["Proceed\\?"], busy=["esc to interrupt"]
    )
    screen.text = "Proceed? [y/n]"
    tracker.output()
    await settle(screen, WAITING)
    screen.text = "thinking (esc to interrupt)"
    tracker.output()
    await settle(screen, BUSY)
    screen.text = "$ "
    tracker.output()
    await settle(screen, IDLE, timeout=st.ACTIVE_WINDOW + 2)
    tracker.close()


async def test_a_screen_already_matched_is_not_matched_again() -> None:
    screen = Screen("nothing to see")
    CountingSet.searches = 0
    tracker = StatusTracker(
        screen.read, screen.changes.append, waiting=counting(["ask"]), busy=counting(["spin"])
    )
    await settle(screen, IDLE, timeout=st.ACTIVE_WINDOW + 2)
    searched = CountingSet.searches
    assert searched >= 2  # waiting then busy, once
    for _ in range(5):
        tracker.evaluate()
        await asyncio.sleep(0.01)
    assert CountingSet.searches == searched
    assert screen.reads >= 6
    tracker.close()


class FailingSet(PatternSet):
    """A real compiled set whose match fails, as RE2's does when its DFA runs out of
    memory (fault injection: the failure cannot be provoked on demand)."""

    def search(self, text: str) -> int | None:
        raise RuntimeError("DFA out of memory")


async def test_a_failing_match_falls_back_to_activity_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    compiled = compile_patterns(["Proceed\\?"])
    screen = Screen("Proceed? [y/n]")
    with caplog.at_level(logging.WARNING, logger="ptui.server"):
        tracker = StatusTracker(
            screen.read,
            screen.changes.append,
            waiting=FailingSet(compiled.sources, compiled._matcher),
        )
        tracker.output()
        await settle(screen, IDLE, timeout=st.ACTIVE_WINDOW + 2)  # activity alone decided
        screen.text = "Proceed? again"
        tracker.output()
        await asyncio.sleep(st.CHECK_DELAY * 3)
    failures = [r for r in caplog.records if "could not be matched" in r.getMessage()]
    assert len(failures) == 1
    assert "DFA out of memory" in failures[0].getMessage()
    tracker.close()


async def test_without_patterns_the_screen_is_never_read() -> None:
    screen = Screen("anything")
    tracker = StatusTracker(screen.read, screen.changes.append)
    tracker.evaluate()
    assert screen.reads == 0
    await settle(screen, IDLE, timeout=st.ACTIVE_WINDOW + 2)
    tracker.close()


def random_screen(seed: int, rows: int = 30) -> str:
    rng = random.Random(seed)
    return "".join("".join(rng.choice("ab") for _ in range(300)) + "\n" for _ in range(rows))


# Patterns built to defeat RE2's DFA, within every limit: over random text of a
# and b, linear and yet a good part of a second for 30 rows.
HOSTILE = [f"[ab]*a[ab]{{20}}c{i}" for i in range(64)]


async def test_a_slow_match_never_blocks_the_event_loop() -> None:
    start = time.perf_counter()
    assert compile_patterns(HOSTILE).search(random_screen(1)) is None
    assert time.perf_counter() - start > 0.05  # or this test proves nothing

    screen = Screen(random_screen(2))  # a fresh set and text: a cold DFA again
    tracker = StatusTracker(screen.read, screen.changes.append, waiting=HOSTILE)
    tracker.evaluate()
    start, worst_lag = time.perf_counter(), 0.0
    while tracker._matching:
        before = time.perf_counter()
        await asyncio.sleep(0.005)
        worst_lag = max(worst_lag, time.perf_counter() - before - 0.005)
    assert time.perf_counter() - start > 0.05  # the match ran while the loop ticked
    assert worst_lag < 0.05, f"the loop stalled {worst_lag * 1000:.0f} ms"
    tracker.close()


async def test_a_slow_match_delays_the_next_one() -> None:
    screen = Screen("first")
    tracker = StatusTracker(screen.read, screen.changes.append, waiting=["never"])
    tracker._not_before = time.monotonic() + 10  # as after a 2.5 s match
    screen.text = "second"
    tracker.evaluate()
    assert tracker._check is not None
    assert tracker._check.when() - asyncio.get_running_loop().time() > 9
    tracker.close()


@pytest.mark.config_key("agents.<name>.waiting_patterns")
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


@pytest.mark.config_key("agents.<name>.busy_patterns")
def test_busy_pattern_keeps_a_quiet_agent_busy(ptui: Runner, repo: Path, config: Path) -> None:
    """A spinner-less agent that says it works: busy on its words, not on its output
    (without the pattern, the same quiet screen is idle once output stops)."""
    script = "echo 'thinking hard (esc to interrupt)'; sleep 60"
    agents = {
        "worker": {"command": ["sh", "-c", script], "busy_patterns": ["esc to interrupt"]},
        "plain": {"command": ["sh", "-c", script]},
    }
    config.write_text(config.read_text() + "\n" + tomli_w.dumps({"agents": agents}))
    ptui("new", "worker", "--agent", "worker")
    ptui("new", "plain", "--agent", "plain")

    def statuses() -> dict[str, str]:
        return {s["id"]: s["status"] for s in ptui_json(ptui, "ls")}

    wait_for(lambda: statuses()["plain"] == "idle", what="the plain agent idle")
    time.sleep(0.5)  # well past the worker's last output too
    assert statuses()["worker"] == "busy"
