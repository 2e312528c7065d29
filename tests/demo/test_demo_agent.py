"""The demo agent on a real PTY: banner, real edits, the approval question read as
*waiting* by the demo profile, `y`/`n`, the prompt, Ctrl-C, `--resume`."""

from __future__ import annotations

import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.config import load_config
from tui.demo.agent import QUESTION, pick_target, plan_changes
from tui.protocol.states import Activity
from tui.server.status import RuleSet, read_screen
from tui.term.emulator import Emulator
from tui.term.pty import PtyProcess

TASK = "add a power operator to the parser"
PARSER = "def parse(text):\n    return text\n"


class AgentRun:
    """The demo agent on a PTY, its output fed to ptui's emulator."""

    def __init__(self, cwd: Path, *args: str, speed: str = "0") -> None:
        argv = [*load_config(None).agent("demo").command, *args]
        env = {"PTUI_DEMO_SPEED": speed, "PTUI_SESSION": "demo-test", "PTUI_PORT": "41000"}
        self.proc = PtyProcess.spawn(argv, cwd=cwd, env=env, cols=100, rows=30)
        self.emulator = Emulator(cols=100, rows=30)
        self.output = b""

    def pump(self, timeout: float) -> None:
        select.select([self.proc.fd], [], [], timeout)
        data = self.proc.read()
        self.output += data
        self.emulator.feed(data)

    def screen(self) -> str:
        return self.emulator.render_text()

    def wait_for(self, needle: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while needle not in self.screen():
            if time.monotonic() > deadline or self.proc.eof:
                raise AssertionError(f"{needle!r} not on screen:\n{self.screen()}")
            self.pump(0.05)
        return self.screen()

    def wait_prompt(self, timeout: float = 10.0) -> str:
        """Wait until the last line on screen is the empty `> ` prompt."""
        deadline = time.monotonic() + timeout
        while self.screen().rstrip().rsplit("\n", 1)[-1] != ">":
            if time.monotonic() > deadline or self.proc.eof:
                raise AssertionError(f"no prompt on screen:\n{self.screen()}")
            self.pump(0.05)
        return self.screen()

    def type(self, text: str) -> None:
        self.proc.write(text.encode())

    def wait_exit(self, timeout: float = 10.0) -> int | None:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.pump(0.02)
        self.pump(0)
        return self.proc.poll()

    def status(self, *, active: bool = False) -> str:
        """What the demo's shipped rules read on its screen (output activity decides
        when they say nothing, as in the server's engine)."""
        demo = load_config(None).agent("demo")
        hits = read_screen(self.screen(), RuleSet("demo", demo.command).books)
        said = {h.status for h in hits}
        for status in (Activity.WAITING, Activity.BUSY):
            if status in said:
                return status
        return Activity.BUSY if active else Activity.IDLE


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    (path / "calc").mkdir(parents=True)
    (path / "calc" / "parser.py").write_text(PARSER)
    (path / "README.md").write_text("# calc\n")
    return path


@pytest.fixture
def run(project: Path) -> Iterator[type[AgentRun]]:
    runs: list[AgentRun] = []

    class Tracked(AgentRun):
        def __init__(self, cwd: Path, *args: str, speed: str = "0") -> None:
            super().__init__(cwd, *args, speed=speed)
            runs.append(self)

    yield Tracked
    for agent in runs:
        agent.proc.stop(grace=0.5)


def test_works_on_its_task_and_waits_for_approval(project: Path, run: type[AgentRun]) -> None:
    agent = run(project, TASK)
    screen = agent.wait_for(QUESTION)
    assert "ptui demo agent" in screen
    assert f"task: {TASK}" in screen
    assert "session demo-test · ports from 41000" in screen
    assert "3 files changed" in screen
    # Real edits in its working directory.
    parser = (project / "calc" / "parser.py").read_text()
    assert parser.startswith(PARSER)
    assert "def demo_add_a_power_operator_to_the_parser() -> str:" in parser
    assert (project / "notes" / "add-a-power-operator-to-the-parser.md").is_file()
    assert (project / "CHANGELOG.md").read_text().endswith(f"- {TASK}\n")
    # Colours of every depth, CR + EL redraws, a bell with the question, a title.
    for marker in (b"\x1b[38;2;", b"\x1b[38;5;", b"\x1b[32m", b"\r\x1b[2K", b"\a", b"\x1b]0;"):
        assert marker in agent.output
    # The demo profile reads the question as waiting, even while output flows.
    assert agent.status(active=True) == Activity.WAITING
    assert agent.emulator.title == f"demo agent: {TASK}"


def test_yes_keeps_the_edits_and_shows_the_prompt(project: Path, run: type[AgentRun]) -> None:
    agent = run(project, TASK)
    agent.wait_for(QUESTION)
    agent.type("y\r")  # Enter after the key belongs to the answer, not to the prompt
    screen = agent.wait_prompt()
    assert "✓ done" in screen
    assert QUESTION not in screen  # answered questions leave the screen
    assert agent.status() == Activity.IDLE
    assert "demo_add_a_power_operator" in (project / "calc" / "parser.py").read_text()
    assert screen.count("\n>") == 1  # one prompt: the Enter was not a second line

    # Each line at the prompt is a new task, with its own question.
    agent.type("document the README\r")
    agent.wait_for("Edit README.md")
    agent.wait_for(QUESTION)
    assert agent.status() == Activity.WAITING
    assert "## Document the README" in (project / "README.md").read_text()
    agent.type("y")
    agent.wait_prompt()
    agent.type("exit\r")
    assert agent.wait_exit() == 0


def test_no_puts_the_files_back(project: Path, run: type[AgentRun]) -> None:
    agent = run(project, TASK)
    agent.wait_for(QUESTION)
    agent.type("x")  # not an answer: ignored
    agent.type("n")
    assert "✗ reverted" in agent.wait_prompt()
    assert (project / "calc" / "parser.py").read_text() == PARSER
    assert not (project / "notes").exists()
    assert not (project / "CHANGELOG.md").exists()


def test_busy_while_thinking_and_ctrl_c_exits_cleanly(project: Path, run: type[AgentRun]) -> None:
    agent = run(project, TASK, speed="0.5")  # slow: the spinner runs for seconds
    screen = agent.wait_for("ctrl+c to interrupt")
    assert agent.status() == Activity.BUSY
    assert "Reading the code" in screen
    agent.type("\x03")
    assert agent.wait_exit() in (0, 130)
    text = agent.output.decode(errors="replace")
    assert "interrupted" in text
    assert "Traceback" not in text
    assert b"\x1b[?25h" in agent.output.split(b"interrupted")[0][-40:]  # cursor shown again


def test_ctrl_d_at_the_prompt_exits_zero(project: Path, run: type[AgentRun]) -> None:
    agent = run(project, "--resume")
    agent.wait_prompt()
    agent.type("\x04")
    assert agent.wait_exit() == 0


def test_resume_says_resumed_and_prompts(project: Path, run: type[AgentRun]) -> None:
    resume = load_config(None).agent("demo").resume_argv()
    assert resume[-1] == "--resume"
    agent = run(project, *resume[len(load_config(None).agent("demo").command) :])
    screen = agent.wait_prompt()
    assert "resumed" in screen
    assert QUESTION not in screen
    assert agent.status() == Activity.IDLE
    assert not (project / "CHANGELOG.md").exists()  # nothing done without a task


def test_profile_starts_the_agent_with_this_python() -> None:
    demo = load_config(None).agent("demo")
    assert demo.command[0] == sys.executable
    assert demo.argv_for("-v please")[-1] == " -v please"  # never read as an option


# ------------------------------------------------------------------ choosing files
def test_target_is_the_file_the_task_names(project: Path) -> None:
    (project / "tests").mkdir()
    (project / "tests" / "test_parser.py").write_text("")
    assert pick_target(project, TASK) == "calc/parser.py"
    assert pick_target(project, "update the readme") == "README.md"
    assert pick_target(project, "write more tests for the parser") == "tests/test_parser.py"
    assert pick_target(project, "something unrelated") == "calc/parser.py"


def test_an_empty_directory_gets_a_new_module(tmp_path: Path) -> None:
    changes = plan_changes(tmp_path, "Hello, world!")
    assert [(c.path, c.status) for c in changes] == [
        ("hello_world.py", "A"),
        ("notes/hello-world.md", "A"),
        ("CHANGELOG.md", "A"),
    ]
    compile(changes[0].after, "hello_world.py", "exec")  # valid Python


def test_the_same_task_twice_gives_distinct_functions(project: Path) -> None:
    for change in plan_changes(project, TASK):
        (project / change.path).parent.mkdir(parents=True, exist_ok=True)
        (project / change.path).write_text(change.after)
    again = plan_changes(project, TASK)
    assert [c.path for c in again] == ["calc/parser.py", "CHANGELOG.md"]  # note unchanged
    assert "def demo_add_a_power_operator_to_the_parser_2()" in again[0].after
    compile(again[0].after, "parser.py", "exec")


def test_the_spinner_never_wraps_on_a_narrow_terminal(project: Path) -> None:
    argv = [*load_config(None).agent("demo").command, TASK]
    proc = PtyProcess.spawn(argv, cwd=project, env={"PTUI_DEMO_SPEED": "0"}, cols=30, rows=20)
    emulator = Emulator(cols=30, rows=20)
    try:
        deadline = time.monotonic() + 10
        while QUESTION[:20] not in emulator.render_text() and time.monotonic() < deadline:
            select.select([proc.fd], [], [], 0.05)
            emulator.feed(proc.read())
        screen = emulator.render_text()
        assert "Thought for" in screen
        assert "Reading the" not in screen  # every spinner frame was cleared
    finally:
        proc.stop(grace=0.5)


def test_the_agent_loads_nothing_but_the_standard_library() -> None:
    # It starts once per demo session: no textual, pygit2 or ptui layers to import.
    code = (
        "import sys, tui.demo.agent\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'rich', 'pygit2', 'pyte')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
