"""The demo agent: an interactive program that works like a coding agent, offline.

`python -m tui.demo.agent [--fast] [--resume] [TASK]` runs on a PTY the way real
agents do, so every part of ptui has something to show without any agent
installed: a coloured banner (truecolour), a spinner (CR + EL redraws, 256
colours) with a busy marker, real edits of files in its working directory (the
session's worktree), a diff summary (16 colours), then the question
"Apply these changes? [y/n]" with a bell — the `demo` profile's waiting pattern.
`y` keeps the edits (nothing is committed: the user reviews and merges through
ptui); `n` puts the files back. Then it shows a `> ` prompt where each line is a
new small task. `--resume` says "resumed" and shows the prompt. Ctrl-C exits
cleanly (status 130); end of input or `exit` exits 0.

`--fast`, or `PTUI_DEMO_SPEED=0`, skips every delay (tests); `PTUI_DEMO_SPEED=4`
works four times faster than normal.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import re
import select
import shutil
import sys
import termios
import time
import tty
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

SPEED_ENV = "PTUI_DEMO_SPEED"
"""How fast the agent works: 1 normal, 4 four times faster, 0 no delays at all."""
QUESTION = "Apply these changes? [y/n]"
"""The approval question; the `demo` profile's waiting pattern matches it."""
BUSY_HINT = "ctrl+c to interrupt"
"""Shown beside the spinner while working; the `demo` profile's busy pattern."""
PROMPT = "> "

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
RED = "\x1b[31m"
GREEN = "\x1b[32m"
YELLOW = "\x1b[33m"
CLEAR_LINE = "\r\x1b[2K"
HIDE_CURSOR = "\x1b[?25l"
SHOW_CURSOR = "\x1b[?25h"

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
SPINNER_COLOURS = (39, 45, 51, 87, 123, 159, 123, 87, 51, 45)  # 256-colour cyan ramp
STEPS = ("Reading the code", "Planning the change", "Writing the change")
FRAMES_PER_STEP = 8
FRAME_SECONDS = 0.1

# Directories never searched for a file to edit: tools', dependencies', ptui's notes.
_SKIP_DIRS = frozenset(
    {"node_modules", "__pycache__", "venv", "build", "dist", "target", "notes", "site-packages"}
)
_MAX_FILES = 2000


def fg256(index: int) -> str:
    """SGR for a 256-colour foreground."""
    return f"\x1b[38;5;{index}m"


def rgb(red: int, green: int, blue: int) -> str:
    """SGR for a truecolour foreground."""
    return f"\x1b[38;2;{red};{green};{blue}m"


def gradient(text: str, start: tuple[int, int, int], end: tuple[int, int, int]) -> str:
    """`text` with a truecolour gradient from `start` to `end`, one colour per character."""
    steps = max(1, len(text) - 1)
    out = []
    for i, char in enumerate(text):
        colour = (round(a + (b - a) * i / steps) for a, b in zip(start, end, strict=True))
        out.append(rgb(*colour) + char)
    return "".join(out) + RESET


def display_width(text: str) -> int:
    """Terminal cells `text` takes (wide CJK characters count 2)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fit(text: str, width: int) -> str:
    """`text` cut to `width` cells (with an ellipsis) and padded to exactly `width`."""
    if display_width(text) > width:
        while text and display_width(text) > width - 1:
            text = text[:-1]
        text += "…"
    return text + " " * (width - display_width(text))


def clean_task(text: str) -> str:
    """One printable line: control characters (escape sequences) removed, spaces folded."""
    printable = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(printable.split())


def slugify(task: str) -> str:
    """`Add a --verbose flag!` -> `add-a-verbose-flag` (at most 40 characters)."""
    slug = re.sub(r"[^a-z0-9]+", "-", task.lower()).strip("-")[:40].strip("-")
    return slug or "task"


# ------------------------------------------------------------------ file edits
@dataclass(frozen=True)
class FileChange:
    """One file the agent writes: its text before (None: a new file) and after."""

    path: str
    """Relative to the agent's working directory, with `/` separators."""
    before: str | None
    after: str

    @property
    def status(self) -> str:
        """`A` for a new file, `M` for a modified one (as in `git status`)."""
        return "A" if self.before is None else "M"

    def counts(self) -> tuple[int, int]:
        """(lines added, lines removed)."""
        old = (self.before or "").splitlines()
        added = removed = 0
        for line in difflib.ndiff(old, self.after.splitlines()):
            added += line.startswith("+ ")
            removed += line.startswith("- ")
        return added, removed


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) >= 3}


def _related(path_word: str, task_words: set[str]) -> bool:
    # "tests" is related to "test", "parser" to "parse": a shared prefix of 4+ letters.
    for word in task_words:
        short, long = sorted((path_word, word), key=len)
        if short == long or (len(short) >= 4 and long.startswith(short)):
            return True
    return False


def candidate_files(cwd: Path) -> list[str]:
    """Python and Markdown files under `cwd` the agent may edit (hidden dirs skipped)."""
    found: list[str] = []
    for root, dirs, files in os.walk(cwd):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        rel = Path(root).relative_to(cwd)
        if len(rel.parts) > 4:
            dirs.clear()
        for name in sorted(files):
            if name.endswith((".py", ".md")) and name != "CHANGELOG.md":
                found.append((rel / name).as_posix())
        if len(found) >= _MAX_FILES:
            break
    return found


def pick_target(cwd: Path, task: str) -> str | None:
    """The file a task is about: most path words related to the task's words.

    Ties go to Python files, then shallower paths; with no related file, the first
    Python file outside the tests. None when there is no candidate at all.
    """
    files = candidate_files(cwd)
    if not files:
        return None
    words = _words(task)

    def score(path: str) -> tuple[int, bool, int, str]:
        related = sum(_related(w, words) for w in _words(path.replace("_", " ")))
        return (-related, not path.endswith(".py"), path.count("/"), path)

    best = min(files, key=score)
    if score(best)[0] < 0:
        return best
    code = [f for f in files if f.endswith(".py") and not _words(f) & {"test", "tests"}]
    return min(code, key=score) if code else best


def _unique_name(base: str, text: str) -> str:
    name, number = base, 1
    while f"def {name}(" in text:
        number += 1
        name = f"{base}_{number}"
    return name


def _addition(path: str, before: str, task: str) -> str:
    """What the agent appends to `path` for `task`."""
    slug = slugify(task).replace("-", "_")
    sentence = re.sub(r'["\\]', "", task)
    if path.endswith(".md"):
        return f"\n## {sentence[:1].upper()}{sentence[1:]}\n\nWritten by the ptui demo agent.\n"
    if any(part in ("test", "tests") for part in _words(path)):
        name = _unique_name(f"test_{slug}", before)
        body = f"    assert {task!r}\n"
        signature = f"def {name}() -> None:\n"
    else:
        name = _unique_name(f"demo_{slug}", before)
        body = f"    return {task!r}\n"
        signature = f"def {name}() -> str:\n"
    return f'\n\n{signature}    """{sentence}"""\n{body}'


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        return None


def plan_changes(cwd: Path, task: str) -> list[FileChange]:
    """The edits for `task`: its target file, a plan in `notes/`, a CHANGELOG line.

    Computed only; `apply_changes` writes them.
    """
    slug = slugify(task)
    changes: list[FileChange] = []
    target = pick_target(cwd, task) or f"{slug.replace('-', '_')}.py"
    before = _read(cwd / target)
    text = before or ""
    if text and not text.endswith("\n"):
        text += "\n"
    addition = _addition(target, text, task)
    changes.append(FileChange(target, before, text + addition if text else addition.lstrip("\n")))
    note = f"notes/{slug}.md"
    plan = (
        f"# {task}\n\nPlan written by the ptui demo agent:\n\n"
        f"1. Read `{target}`.\n2. Change it: {task}.\n3. Note the change in CHANGELOG.md.\n"
    )
    note_before = _read(cwd / note)
    if note_before != plan:
        changes.append(FileChange(note, note_before, plan))
    log_before = _read(cwd / "CHANGELOG.md")
    log_text = log_before if log_before is not None else "# Changelog\n\n"
    if log_text and not log_text.endswith("\n"):
        log_text += "\n"
    changes.append(FileChange("CHANGELOG.md", log_before, f"{log_text}- {task}\n"))
    return changes


def apply_changes(cwd: Path, changes: Sequence[FileChange]) -> None:
    """Write every change's new text (making folders as needed)."""
    for change in changes:
        path = cwd / change.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(change.after, encoding="utf-8")


def revert_changes(cwd: Path, changes: Sequence[FileChange]) -> None:
    """Put every file back as it was: old text restored, new files (and folders) removed."""
    for change in reversed(changes):
        path = cwd / change.path
        if change.before is not None:
            path.write_text(change.before, encoding="utf-8")
            continue
        path.unlink(missing_ok=True)
        parent = path.parent
        while parent != cwd and cwd in parent.parents:
            try:
                parent.rmdir()  # only succeeds when empty: nothing else is touched
            except OSError:
                break
            parent = parent.parent


# ------------------------------------------------------------------ the program
@contextlib.contextmanager
def cbreak(fd: int) -> Iterator[bool]:
    """Keys one at a time without echo while inside; yields False if `fd` is no terminal."""
    try:
        saved = termios.tcgetattr(fd)
    except termios.error:
        yield False
        return
    # TCSANOW: the default TCSAFLUSH would drop a key typed just before.
    tty.setcbreak(fd, termios.TCSANOW)
    try:
        yield True
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


class DemoAgent:
    """One run of the demo agent on its terminal."""

    def __init__(
        self, cwd: Path, *, speed: float = 1.0, stdin: int = 0, stdout: BinaryIO | None = None
    ) -> None:
        self.cwd = cwd
        self.speed = speed
        self._in = stdin
        self._out = stdout or sys.stdout.buffer
        self._pending = b""  # input read but not used yet

    # ---------------------------------------------------------- output
    def write(self, text: str) -> None:
        self._out.write(text.encode("utf-8", "replace"))
        self._out.flush()

    def pause(self, seconds: float) -> None:
        if self.speed > 0:
            time.sleep(seconds / self.speed)

    def banner(self, task: str, *, resumed: bool = False) -> None:
        cols = shutil.get_terminal_size((80, 24)).columns
        inner = max(20, min(cols, 76) - 4)
        warm, cool = (255, 140, 90), (140, 110, 255)
        rows = [gradient("✻ ptui demo agent", (255, 200, 80), (255, 90, 160))]
        widths = [display_width("✻ ptui demo agent")]
        lines: list[tuple[str, str]] = []
        if task:
            lines.append((BOLD, f"task: {task}"))
        if resumed:
            lines.append((GREEN, "↻ resumed: type a new task at the prompt"))
        lines.append((DIM, f"in:   {self.cwd}"))
        session, port = os.environ.get("PTUI_SESSION"), os.environ.get("PTUI_PORT")
        if session:
            lines.append((DIM, f"session {session} · ports from {port or '?'}"))
        for style, text in lines:
            rows.append(style + fit(text, inner) + RESET)
            widths.append(inner)
        edge = gradient("─" * (inner + 2), warm, cool)
        out = [rgb(*warm) + "╭" + edge + rgb(*cool) + "╮" + RESET]
        for row, width in zip(rows, widths, strict=True):
            pad = " " * max(0, inner - width)
            out.append(f"{rgb(*warm)}│{RESET} {row}{pad} {rgb(*cool)}│{RESET}")
        out.append(rgb(*warm) + "╰" + edge + rgb(*cool) + "╯" + RESET)
        self.write("\n".join(out) + "\n")

    def think(self, task: str) -> None:
        """The spinner: one line redrawn in place (CR + EL) with the busy marker."""
        started = time.monotonic()
        frames = FRAMES_PER_STEP if self.speed > 0 else 1
        self.write(HIDE_CURSOR)
        frame = 0
        for step in STEPS:
            for _ in range(frames):
                spin = fg256(SPINNER_COLOURS[frame % len(SPINNER_COLOURS)])
                label = f"{step}…"
                detail = f" ({time.monotonic() - started:.0f}s · {BUSY_HINT})"
                room = shutil.get_terminal_size((80, 24)).columns - 3
                if display_width(label + detail) > room:
                    # A line that wraps leaves copies behind: CR + EL clears one row.
                    label, detail = fit(label, max(1, room)).rstrip(), ""
                self.write(
                    f"{CLEAR_LINE}{spin}{SPINNER[frame % len(SPINNER)]}{RESET} "
                    f"{BOLD}{label}{RESET}{DIM}{detail}{RESET}"
                )
                frame += 1
                self.pause(FRAME_SECONDS)
        elapsed = time.monotonic() - started
        self.write(f"{CLEAR_LINE}{GREEN}✓{RESET} Thought for {elapsed:.1f}s{SHOW_CURSOR}\n")

    def summary(self, changes: Sequence[FileChange]) -> None:
        """`git diff --stat` style: path | count +++--- and a total line."""
        width = max(len(c.path) for c in changes)
        added_total = removed_total = 0
        for change in changes:
            added, removed = change.counts()
            added_total += added
            removed_total += removed
            bar = f"{GREEN}{'+' * min(added, 30)}{RED}{'-' * min(removed, 30)}{RESET}"
            colour = GREEN if change.status == "A" else YELLOW
            self.write(
                f" {colour}{change.status}{RESET} {change.path.ljust(width)} | "
                f"{added + removed:3} {bar}\n"
            )
        files = len(changes)
        self.write(
            f" {files} file{'s' if files != 1 else ''} changed, "
            f"{GREEN}{added_total} insertions(+){RESET}, {RED}{removed_total} deletions(-){RESET}\n"
        )

    # ---------------------------------------------------------- input
    def _fill(self) -> bool:
        """Read more input into the buffer; False at end of input."""
        try:
            data = os.read(self._in, 4096)
        except OSError:  # EIO: the terminal is gone
            data = b""
        self._pending += data
        return bool(data)

    def read_line(self) -> str | None:
        """The next line typed (without its newline), or None at end of input."""
        while b"\n" not in self._pending and b"\r" not in self._pending:
            if not self._fill():
                if not self._pending:
                    return None
                line, self._pending = self._pending, b""
                return line.decode("utf-8", "replace")
        line, _, self._pending = re.split(rb"(\r\n|\r|\n)", self._pending, maxsplit=1)
        return line.decode("utf-8", "replace")

    def ask(self, question: str) -> bool:
        """Show `question`, then read y or n: one key on a terminal, else a line.

        Raises EOFError at end of input.
        """
        with cbreak(self._in) as is_tty:
            # The terminal is in cbreak mode before the question shows, so the
            # answer is never echoed or held back waiting for Enter.
            self.write(question)
            while True:
                if not is_tty:
                    line = self.read_line()
                    if line is None:
                        raise EOFError
                    key = line.strip()[:1].lower()
                else:
                    if not self._pending and not self._fill():
                        raise EOFError
                    key = self._pending[:1].decode("latin-1").lower()
                    self._pending = self._pending[1:]
                if key in ("y", "n"):
                    break
            if is_tty:
                # "y" + Enter typed together: the Enter belongs to the answer.
                if not self._pending and select.select([self._in], [], [], 0.1)[0]:
                    self._fill()
                self._pending = self._pending.lstrip(b"\r\n")
        return key == "y"

    # ---------------------------------------------------------- the work
    def work(self, task: str) -> None:
        """Think, edit files, show the summary, ask; keep or put back the edits."""
        self.write(f"\x1b]0;demo agent: {task[:60]}\x07")
        self.think(task)
        changes = plan_changes(self.cwd, task)
        for change in changes:
            verb = "Create" if change.status == "A" else "Edit"
            self.write(f"{fg256(141)}●{RESET} {verb} {BOLD}{change.path}{RESET}\n")
            apply_changes(self.cwd, [change])
            self.pause(0.25)
        self.write("\n")
        self.summary(changes)
        approved = self.ask(f"\n\a{BOLD}{YELLOW}{QUESTION}{RESET} ")
        # The question goes once answered, as in real agents: a waiting pattern on
        # screen must mean the agent still waits.
        self.write(CLEAR_LINE)
        if approved:
            self.write(
                f"{GREEN}✓ done{RESET}: {len(changes)} files changed in this worktree, nothing "
                "committed. Review the diff and merge it from ptui.\n"
            )
        else:
            revert_changes(self.cwd, changes)
            self.write(f"{RED}✗ reverted{RESET}: the files are back as they were.\n")

    def run(self, task: str, *, resumed: bool = False) -> int:
        """The whole session: banner, the first task (if any), then the prompt loop."""
        self.banner(task, resumed=resumed)
        if task:
            self.work(task)
        hint = True
        while True:
            if hint:
                self.write(f"\n{DIM}Type a new task, or exit.{RESET}\n")
            self.write(f"{BOLD}{fg256(39)}{PROMPT}{RESET}")
            line = self.read_line()
            if line is None:
                self.write("\nbye\n")
                return 0
            next_task = clean_task(line)
            hint = bool(next_task)
            if next_task in ("exit", "quit"):
                self.write("bye\n")
                return 0
            if next_task:
                self.work(next_task)


def _speed(fast: bool) -> float:
    if fast:
        return 0.0
    try:
        value = float(os.environ.get(SPEED_ENV, "") or 1.0)
    except ValueError:
        value = 1.0
    return value if 0 <= value <= 1000 else 1.0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m tui.demo.agent`; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m tui.demo.agent",
        description="ptui's demo agent: edits files in the current directory like a "
        "coding agent would, asks before keeping them, then takes new tasks at a prompt.",
    )
    parser.add_argument("task", nargs="*", help="what to work on (words are joined)")
    parser.add_argument("--resume", action="store_true", help='say "resumed" and show the prompt')
    parser.add_argument("--fast", action="store_true", help=f"no delays (as {SPEED_ENV}=0)")
    args = parser.parse_args(argv)
    agent = DemoAgent(Path.cwd(), speed=_speed(args.fast))
    try:
        return agent.run(clean_task(" ".join(args.task)), resumed=args.resume)
    except KeyboardInterrupt:
        with contextlib.suppress(OSError):
            agent.write(f"{RESET}{SHOW_CURSOR}\ninterrupted, bye\n")
        return 130
    except EOFError:
        with contextlib.suppress(OSError):
            agent.write(f"{RESET}{SHOW_CURSOR}\nbye\n")
        return 0
    except OSError as exc:  # the terminal went away, or a file could not be written
        with contextlib.suppress(OSError):
            agent.write(f"{RESET}{SHOW_CURSOR}\ndemo agent: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
