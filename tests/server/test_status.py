"""Status detection: the status engine's layers, its rules on each agent's screens,
the tracker on the event loop, and the live status of real sessions."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from pathlib import Path
from typing import ClassVar

import pytest
import tomli_w

from tests.server.conftest import Runner, ptui_json, wait_for
from tui.config import load_config
from tui.patterns import PatternSet, compile_patterns
from tui.protocol.states import Activity
from tui.server import status as st
from tui.server.status import RuleSet, StatusTracker, read_screen
from tui.server.status_engine import (
    ACTIVE_WINDOW,
    DEBOUNCE,
    LOOK_DELAY,
    STARTING_MAX,
    ScreenHit,
    StatusEngine,
)
from tui.term.emulator import Emulator

BUSY, WAITING, IDLE = Activity.BUSY, Activity.WAITING, Activity.IDLE
STARTING, LIMITED, EXITED = Activity.STARTING, Activity.LIMITED, Activity.EXITED

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
def test_shipped_rules_read_their_screens(agent: str, expected: str) -> None:
    profile = load_config(None).agent(agent)
    rules = RuleSet(agent, profile.command)
    hits = read_screen(SCREENS[agent][expected], rules.books)
    said = {h.status for h in hits if h.status in (BUSY, WAITING)}
    if expected == IDLE:
        assert not said, hits
    else:
        assert expected in said, hits


def test_every_shipped_rule_file_loads() -> None:
    from tui.server.status_rules import shipped_books

    books = shipped_books()
    for agent in ("claude", "codex", "gemini", "opencode", "aider", "demo", "_generic"):
        assert agent in books, f"no rules for {agent}"
    assert all(book.rules or book.title_rules for book in books.values())


def test_a_bad_rule_file_is_refused_naming_the_rule() -> None:
    from tui.server.status_rules import RuleError, load_rules

    bad = 'agent = "x"\n[[screen]]\nid = "oops"\nstatus = "waiting"\nrow = "(a"\n'
    with pytest.raises(RuleError, match=r"x.toml: pattern \[0\]"):
        load_rules("x.toml", bad)
    worse = 'agent = "x"\n[[screen]]\nid = "oops"\nstatus = "sleepy"\nrow = "a"\n'
    with pytest.raises(RuleError, match=r"screen\[0\] \(oops\): status must be one of"):
        load_rules("x.toml", worse)


def test_rules_follow_the_agent_version() -> None:
    from tui.server.status_rules import load_rules, parse_version, version_in

    book = load_rules(
        "v.toml",
        'agent = "v"\n'
        '[[screen]]\nid = "old"\nstatus = "waiting"\nrow = "Allow command"\nversions = "<0.40"\n'
        '[[screen]]\nid = "new"\nstatus = "waiting"\nrow = "Would you like"\nversions = ">=0.40"\n',
    )
    assert parse_version("codex-cli 0.46.0") == (0, 46, 0)
    assert version_in((0, 46, 0), ">=0.40, <0.60") and not version_in((0, 39, 9), ">=0.40")
    assert [r.name for r in book.for_version((0, 46, 0)).rules] == ["v.new"]
    assert [r.name for r in book.for_version((0, 12, 0)).rules] == ["v.old"]
    assert len(book.for_version(None).rules) == 2  # unknown version: every rule


def test_a_question_holds_only_on_the_cursors_row() -> None:
    from tui.server.status_rules import load_rules

    book = load_rules(
        "q.toml",
        'agent = "q"\n[[screen]]\nid = "yes-no"\nstatus = "waiting"\n'
        'row = "\\\\(Y\\\\)es/\\\\(N\\\\)o"\ncursor = true\n',
    )
    screen = "Add file? (Y)es/(N)o [Yes]: y\nok\n> "
    assert read_screen(screen, [book]) == []  # answered: the cursor is on the prompt
    assert [h.rule for h in read_screen(screen, [book], cursor_row=0)] == ["q.yes-no"]


def test_a_limit_notice_far_from_the_cursor_is_old_news() -> None:
    rules = RuleSet("codex").books
    notice = "■ You've hit your usage limit. Upgrade to Pro, or\n  try again at 3:45 PM.\n"
    hits = read_screen(notice + "› Ask Codex to do anything", rules)
    limit = [h for h in hits if h.status == LIMITED]
    assert limit and limit[0].resets == "at 3:45 PM"  # the time wrapped to the next row
    later = notice + "\n".join(f"output {i}" for i in range(10)) + "\n› Ask Codex to do anything"
    assert [h.status for h in read_screen(later, rules)] == [IDLE]


# ----------------------------------------------------------------- the engine
# The engine keeps no time of its own: these drive it in virtual seconds.


def run(engine: StatusEngine, until: float, step: float = 0.05) -> list[tuple[float, str]]:
    """Evaluate every `step` up to `until`; the transitions seen."""
    seen = []
    t = engine.transitions[-1].at
    while t <= until + 1e-9:
        if engine.evaluate(t):
            seen.append((round(t, 2), str(engine.status)))
        t += step
    return seen


def test_an_agent_starts_then_works_then_idles() -> None:
    engine = StatusEngine(0.0)
    assert engine.status == STARTING
    for t in (0.1, 0.5, 1.0):
        engine.output(t)
    assert run(engine, 2.4) == []  # the screen is still blank: starting
    engine.screen(1.0, [], drawn=True)
    assert run(engine, 2.8)[-1][1] == IDLE  # quiet for ACTIVE_WINDOW (+ debounce)
    engine.output(3.0)
    changes = run(engine, 3.5)
    assert changes and changes[0][1] == BUSY and changes[0][0] <= 3.0 + DEBOUNCE + 0.05
    assert "activity" in engine.reason


def test_a_blank_screen_is_starting_for_a_while() -> None:
    engine = StatusEngine(0.0)
    engine.output(0.5)
    engine.screen(0.6, [], drawn=False)
    assert run(engine, STARTING_MAX - 1) == []
    assert run(engine, STARTING_MAX + 1)[-1][1] == IDLE  # it draws nothing at all


def test_echo_of_typing_is_not_work() -> None:
    engine = StatusEngine(0.0)
    engine.screen(0.0, [], drawn=True)
    run(engine, 2.0)
    assert engine.status == IDLE
    engine.input(2.0)
    engine.output(2.05)
    assert run(engine, 3.0) == []


def test_a_spinner_glitch_does_not_flap() -> None:
    engine = StatusEngine(0.0)
    spinner = ("_generic.title-spinner", BUSY)
    engine.title(0.1, "⠋ fixing", *spinner)
    run(engine, 0.5)
    assert engine.status == BUSY
    engine.title(0.52, "fixing", "", None)  # one odd frame
    engine.title(0.58, "⠙ fixing", *spinner)
    assert run(engine, 1.0) == []
    engine.title(1.0, "✳ Claude Code", "", None)  # the spinner stopped for good
    changes = run(engine, 1.5)
    assert changes == [(round(1.0 + DEBOUNCE, 2), "idle")] or changes[0][1] == IDLE
    assert "spinner-stopped" in engine.reason


def test_a_question_on_screen_shows_at_once_and_wins() -> None:
    engine = StatusEngine(0.0)
    engine.title(0.1, "⠋ working", "_generic.title-spinner", BUSY)
    run(engine, 0.5)
    ask = ScreenHit("screen", "claude.do-you-want", WAITING, "Do you want to proceed?")
    engine.screen(0.6, [ask])
    assert engine.evaluate(0.6)  # no debounce for a question
    assert engine.status == WAITING
    assert engine.reason == "screen claude.do-you-want: Do you want to proceed?"


def test_an_empty_prompt_does_not_outrank_a_spinning_title() -> None:
    engine = StatusEngine(0.0)
    prompt = ScreenHit("screen", "claude.prompt", IDLE, "> ")
    engine.screen(0.1, [prompt])
    engine.title(0.1, "⠋ working", "_generic.title-spinner", BUSY)
    run(engine, 0.5)
    assert engine.status == BUSY


def test_the_users_rules_outrank_the_shipped_ones() -> None:
    engine = StatusEngine(0.0)
    shipped = ScreenHit("screen", "codex.working", BUSY, "Working (3s")
    mine = ScreenHit("user-rules", "codex.waiting_patterns[0]", WAITING, "Deploy?")
    engine.screen(0.1, [shipped, mine])
    engine.evaluate(0.1)
    assert engine.status == WAITING and engine.chosen.layer == "user-rules"


def test_a_limit_shows_its_reset_time() -> None:
    engine = StatusEngine(0.0)
    limit = ScreenHit("screen", "claude.limit", LIMITED, "5-hour limit reached ∙ resets 3pm", "3pm")
    engine.screen(0.2, [limit])
    assert engine.evaluate(0.2) and engine.status == LIMITED
    assert engine.limited_until == "3pm"
    engine.screen(5.0, [])
    engine.output(5.0)
    run(engine, 6.0)
    assert engine.status != LIMITED and engine.limited_until == ""


def test_a_bell_is_evidence_not_a_status() -> None:
    """BEL asks for attention both when an agent is done and when it asks: the
    layers above tell which, the bell only shows in the explanation."""
    engine = StatusEngine(0.0)
    engine.screen(0.0, [], drawn=True)
    run(engine, 2.0)
    engine.bell(2.0)
    assert run(engine, 2.5) == []
    assert engine.status == IDLE
    assert [s.layer for s in engine.evidence()][:2] == ["bell", "activity"]
    engine.input(3.0)
    assert "bell" not in [s.layer for s in engine.evidence()]


def test_osc_progress_and_prompt_marks() -> None:
    engine = StatusEngine(0.0)
    engine.progress(0.1, "3;0")
    run(engine, 0.5)
    assert engine.status == BUSY and engine.chosen.rule == "osc9;4"
    engine.prompt_mark(2.0, "A")
    run(engine, 2.5)
    assert engine.status == IDLE and engine.chosen.rule == "osc133;A"
    engine.prompt_mark(3.0, "C")
    run(engine, 3.5)
    assert engine.status == BUSY


def test_a_notification_asking_for_permission_is_waiting() -> None:
    assert st.notification_status("", "Claude needs your permission to use Bash") == WAITING
    assert st.notification_status("Codex", "Agent turn complete") is None
    engine = StatusEngine(0.0)
    engine.screen(0.0, [], drawn=True)
    run(engine, 2.0)
    engine.notification(2.1, "", "Claude needs your permission to use Bash", WAITING)
    assert engine.evaluate(2.1) and engine.status == WAITING


def test_exit_is_final_and_explained() -> None:
    engine = StatusEngine(0.0)
    engine.title(0.1, "⠋ working", "_generic.title-spinner", BUSY)
    run(engine, 0.5)
    engine.exited(0.6, 2)
    assert engine.evaluate(0.6) and engine.status == EXITED
    assert engine.reason == "process exited: the process exited with code 2"
    layers = [s.layer for s in engine.evidence()]
    assert layers[0] == "process" and "title" in layers
    assert [t.status for t in engine.transitions] == [STARTING, BUSY, EXITED]


# ---------------------------------------------------------------- the tracker
class Agent:
    """A real emulator the tracker reads, and the statuses it reported."""

    def __init__(self, rows: int = 10) -> None:
        self.emulator = Emulator(cols=60, rows=rows)
        self.changes: list[str] = []

    def write(self, tracker: StatusTracker, text: str) -> None:
        self.emulator.parse(text.replace("\n", "\r\n").encode())
        tracker.output()


class CountingSet(PatternSet):
    """A pattern set that remembers every text it matched."""

    texts: ClassVar[list[str]] = []

    def matches(self, text: str) -> list[int]:
        CountingSet.texts.append(text)
        return super().matches(text)


def counting(patterns: list[str]) -> CountingSet:
    compiled = compile_patterns(patterns)
    return CountingSet(compiled.sources, compiled._matcher)


def rules(waiting: list[str] | PatternSet = (), busy: list[str] | PatternSet = ()) -> RuleSet:
    def compiled(p: list[str] | PatternSet) -> PatternSet:
        return p if isinstance(p, PatternSet) else compile_patterns(list(p))

    return RuleSet("tester", ["tester"], waiting=compiled(waiting), busy=compiled(busy))


async def settle(agent: Agent, want: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not agent.changes or agent.changes[-1] != want:
        assert time.monotonic() < deadline, f"status {agent.changes} never became {want}"
        await asyncio.sleep(0.02)


async def test_tracker_reads_the_screen_after_output() -> None:
    agent = Agent()
    tracker = StatusTracker(
        agent.emulator, agent.changes.append, rules(["Proceed\\?"], ["esc to interrupt"])
    )
    agent.write(tracker, "Proceed? [y/n]")
    await settle(agent, WAITING)
    agent.write(tracker, "\x1b[2J\x1b[Hthinking (esc to interrupt)")
    await settle(agent, BUSY)
    agent.write(tracker, "\x1b[2J\x1b[H$ ")
    await settle(agent, IDLE, timeout=ACTIVE_WINDOW + 2)
    tracker.close()


async def test_the_shipped_rules_are_read_on_the_loop_without_the_thread() -> None:
    agent = Agent()
    tracker = StatusTracker(agent.emulator, agent.changes.append, RuleSet("claude"))
    agent.write(tracker, "Bash command\n  npm test\nDo you want to proceed?\n❯ 1. Yes")
    await asyncio.sleep(LOOK_DELAY / 2)
    assert not tracker._matching
    await settle(agent, WAITING)
    assert tracker.reason == "screen claude.do-you-want: Do you want to proceed?"
    tracker.close()


async def test_only_the_rows_that_changed_are_matched() -> None:
    agent = Agent(rows=30)
    CountingSet.texts = []
    tracker = StatusTracker(agent.emulator, agent.changes.append, rules(counting(["ask me"])))
    agent.write(tracker, "".join(f"line {i}\n" for i in range(29)))
    await asyncio.sleep(LOOK_DELAY * 4)
    first = len(CountingSet.texts)
    assert first >= 29
    CountingSet.texts = []
    agent.write(tracker, "\x1b[5;1Hrow five changed")
    await asyncio.sleep(LOOK_DELAY * 4)
    assert CountingSet.texts == ["row five changed"]
    # A scroll moves what was matched with the rows: only the new row is read.
    CountingSet.texts = []
    agent.write(tracker, "\x1b[30;1H\nask me now")
    await settle(agent, WAITING)
    assert CountingSet.texts == ["ask me now"]
    tracker.close()


async def test_the_status_reader_and_the_viewers_each_see_every_change() -> None:
    emulator = Emulator(cols=20, rows=5)
    emulator.take_status_rows()
    emulator.take_changes()
    emulator.parse(b"\x1b[2;1Hb")
    changes = emulator.take_changes()  # a viewer's frame first
    assert changes is not None and list(changes.lines) == [1]
    emulator.parse(b"\x1b[4;1Hd")
    assert emulator.take_status_rows() == (0, [1, 3])
    changes = emulator.take_changes()
    assert changes is not None and list(changes.lines) == [3]
    emulator.parse(b"\x1b[5;1H\n\nx")  # two scrolls, then a row
    assert emulator.take_status_rows() == (2, [3, 4])
    assert emulator.take_status_rows() == (0, [])
    emulator.resize(30, 6)
    assert emulator.take_status_rows() == (0, None)


class FailingSet(PatternSet):
    """A real compiled set whose match fails, as RE2's does when its DFA runs out of
    memory (fault injection: the failure cannot be provoked on demand)."""

    def matches(self, text: str) -> list[int]:
        raise RuntimeError("DFA out of memory")


async def test_a_failing_match_falls_back_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    compiled = compile_patterns(["Proceed\\?"])
    agent = Agent()
    with caplog.at_level(logging.WARNING, logger="ptui.server"):
        tracker = StatusTracker(
            agent.emulator,
            agent.changes.append,
            rules(FailingSet(compiled.sources, compiled._matcher)),
        )
        agent.write(tracker, "Proceed? [y/n]")
        await settle(agent, IDLE, timeout=ACTIVE_WINDOW + 2)  # activity alone decided
        agent.write(tracker, "\nProceed? again")
        await asyncio.sleep(LOOK_DELAY * 4)
    failures = [r for r in caplog.records if "could not be matched" in r.getMessage()]
    assert len(failures) == 1
    assert "DFA out of memory" in failures[0].getMessage()
    tracker.close()


async def test_without_rules_no_row_is_matched() -> None:
    agent = Agent()
    CountingSet.texts = []
    tracker = StatusTracker(agent.emulator, agent.changes.append, RuleSet("nobody"))
    assert tracker.rules.books == []
    agent.write(tracker, "anything")
    await settle(agent, IDLE, timeout=ACTIVE_WINDOW + 2)
    tracker.close()


def random_rows(seed: int, rows: int = 30) -> str:
    rng = random.Random(seed)
    return "\n".join("".join(rng.choice("ab") for _ in range(300)) for _ in range(rows))


# Patterns built to defeat RE2's DFA, within every limit: over random text of a
# and b, linear and yet a good part of a second for 30 rows.
HOSTILE = [f"[ab]*a[ab]{{20}}c{i}" for i in range(64)]


async def test_a_slow_match_never_blocks_the_event_loop() -> None:
    start = time.perf_counter()
    assert compile_patterns(HOSTILE).search(random_rows(1)) is None
    assert time.perf_counter() - start > 0.05  # or this test proves nothing

    agent = Agent(rows=30)
    agent.emulator = Emulator(cols=300, rows=30)
    tracker = StatusTracker(agent.emulator, agent.changes.append, rules(HOSTILE))
    agent.emulator.parse(random_rows(2).replace("\n", "\r\n").encode())
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
    agent = Agent()
    CountingSet.texts = []
    tracker = StatusTracker(agent.emulator, agent.changes.append, rules(counting(["never"])))
    tracker._not_before = time.monotonic() + 10  # as after a 2.5 s match
    agent.write(tracker, "second")
    await asyncio.sleep(LOOK_DELAY * 5)
    assert CountingSet.texts == []  # the look waits
    assert tracker._timer is not None  # for the engine's own deadline (quiet window)
    tracker._not_before = 0.0
    agent.write(tracker, "!")
    await asyncio.sleep(LOOK_DELAY * 5)
    assert CountingSet.texts and CountingSet.texts[-1] == "second!"
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
    why = ptui("status", "asking", "--explain").stdout
    assert why.startswith("asking: waiting — user-rules asker.waiting_patterns[0]: Proceed? [y/n]")
    assert "transitions (oldest first):" in why and "-> waiting" in why
    report = ptui_json(ptui, "status", "asking")
    assert report["chosen"]["layer"] == "user-rules"
    assert report["chosen"]["detail"] == "Proceed? [y/n]"
    assert report["transitions"][0]["status"] == "starting"
    [listed] = ptui_json(ptui, "ls")
    assert listed["reason"] == report["reason"]
    ptui("send", "asking", "y", "--enter")
    wait_for(lambda: status() == "idle" or status() == "busy", what="after answer")
    wait_for(lambda: status() == "exited", what="exit")
    [info] = ptui_json(ptui, "ls")
    assert info["exit_code"] == 3
    assert "exited(3)" in ptui("ls").stdout
    assert "got y" in ptui("show", "asking").stdout
    after = ptui_json(ptui, "status", "asking")
    assert after["status"] == "exited"
    assert after["reason"] == "process exited: the process exited with code 3"
    assert after["transitions"][-1]["status"] == "exited"
    assert "exited with code 3" in after["transitions"][-1]["detail"]


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


LIMITED_CODEX = (
    "printf '%s\\n%s\\n' \"■ You've hit your usage limit. Upgrade to Pro, or try again in "
    '2 seconds." \'› Ask Codex to do anything\'; read line; echo "got $line"; sleep 30'
)


@pytest.mark.config_key("agents.<name>.auto_continue", "agents.<name>.continue_text")
def test_auto_continue_types_once_the_limit_has_reset(
    ptui: Runner, repo: Path, config: Path
) -> None:
    """A profile named codex reads Codex's limit notice with the shipped rules;
    with auto_continue the server types continue_text once its reset time passed."""
    agents = {
        "codex": {
            "command": ["sh", "-c", LIMITED_CODEX],
            "prompt": "none",
            "auto_continue": True,
            "continue_text": "go on",
        },
    }
    config.write_text(config.read_text() + "\n" + tomli_w.dumps({"agents": agents}))
    ptui("new", "limited", "--agent", "codex")

    def info() -> dict[str, object]:
        return dict(ptui_json(ptui, "ls")[0])

    wait_for(lambda: info()["status"] == "limited", what="limited")
    assert info()["limited_until"] == "in 2 seconds"
    assert "limited(until in 2 seconds)" in ptui("ls").stdout
    wait_for(lambda: "got go on" in ptui("show", "limited").stdout, timeout=15, what="continue")
    # Typed once: the screen shows one answer.
    assert ptui("show", "limited").stdout.count("got go on") == 1


def test_without_auto_continue_a_limit_waits_for_the_user(
    ptui: Runner, repo: Path, config: Path
) -> None:
    agents = {"codex": {"command": ["sh", "-c", LIMITED_CODEX], "prompt": "none"}}
    config.write_text(config.read_text() + "\n" + tomli_w.dumps({"agents": agents}))
    ptui("new", "limited", "--agent", "codex")
    wait_for(lambda: ptui_json(ptui, "ls")[0]["status"] == "limited", what="limited")
    time.sleep(4)  # past the reset time and its grace
    assert "got" not in ptui("show", "limited").stdout
    assert ptui_json(ptui, "ls")[0]["status"] == "limited"
