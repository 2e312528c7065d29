"""Record a real agent's terminal stream as asciicast v2, and look inside recordings.

A developer tool for the status corpus (tests/status/corpus/README.md); pytest does not
collect it. Recording runs the agent on a real PTY behind ptui's own emulator, which
answers the agent's terminal queries (cursor position, DA, colours) exactly as ptui's
server does; an agent waiting for those replies would otherwise never draw.

Record::

    python tests/status/record.py --out corpus/codex/signin.cast --agent codex \\
        --cols 120 --rows 36 --home /tmp/h-codex --cwd /tmp/h-codex/project \\
        --env OPENAI_API_KEY=sk-dummy --keys 'wait-for "Sign in"; wait 3; end' -- codex

Script steps (a file with one per line, or `--keys` separated by `;`):
`wait SECONDS`, `send "TEXT"` (Python escapes: "\\r", "\\x03", "\\x1b[B"),
`wait-for "TEXT" [TIMEOUT]` (until the rendered screen contains TEXT),
`wait-quiet SECONDS [TIMEOUT]` (until no output for SECONDS), `resize COLS ROWS`,
`wait-exit [TIMEOUT]`, `end` (stop the program). Lines starting with `#` are comments.

Look::

    python tests/status/record.py --show FILE.cast --at 4.5     # the screen at 4.5 s
    python tests/status/record.py --find TEXT FILE.cast [--after T] [--absent]
    python tests/status/record.py --titles FILE.cast           # window title changes
    python tests/status/record.py --timeline FILE.cast         # every screen change
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import json
import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import ptyprocess

from tui.term.emulator import Emulator

POLL = 0.02  # seconds between reads while a step waits
DEFAULT_TIMEOUT = 30.0


# ------------------------------------------------------------------ script


@dataclass
class Step:
    """One script step: its verb and arguments, as written."""

    verb: str
    args: list[str]


def parse_script(text: str, separator: str = "\n") -> list[Step]:
    """Steps from a script file's text (one per line) or `--keys` (`;` between)."""
    steps = []
    for raw in text.split(separator):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line)
        verb, args = words[0], words[1:]
        if verb not in {"wait", "send", "wait-for", "wait-quiet", "resize", "wait-exit", "end"}:
            raise SystemExit(f"unknown script step: {line!r}")
        steps.append(Step(verb, args))
    return steps


def unescape(text: str) -> str:
    """`send` text with Python escapes decoded ("\\r" is a carriage return)."""
    return text.encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


# ---------------------------------------------------------------- recorder


@dataclass
class Recorder:
    """Runs one program on a PTY, answers it through an Emulator, writes the cast."""

    proc: ptyprocess.PtyProcess
    emulator: Emulator
    out: TextIO
    start: float = field(default_factory=time.monotonic)
    last_output: float = field(default_factory=time.monotonic)
    exit_code: int | None = None
    eof: bool = False

    def __post_init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        os.set_blocking(self.proc.fd, False)

    def event(self, code: str, data: str) -> None:
        stamp = round(time.monotonic() - self.start, 3)
        self.out.write(json.dumps([stamp, code, data], ensure_ascii=False) + "\n")

    def pump(self, seconds: float) -> None:
        """Read, answer and record output for `seconds` (or until the program is gone)."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self.eof:
                self._reap()
                time.sleep(min(left, POLL))
                continue
            ready, _, _ = select.select([self.proc.fd], [], [], min(left, POLL))
            if ready:
                self._read()

    def _read(self) -> None:
        chunks = []
        while True:
            try:
                chunk = os.read(self.proc.fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:
                self.eof = True
                break
            chunks.append(chunk)
        data = b"".join(chunks)
        if data:
            self.last_output = time.monotonic()
            self.emulator.parse(data)
            replies = self.emulator.take_replies()
            if replies:
                with contextlib.suppress(OSError):
                    os.write(self.proc.fd, replies)
            text = self._decoder.decode(data)
            if text:
                self.event("o", text)
        if self.eof:
            tail = self._decoder.decode(b"", final=True)
            if tail:
                self.event("o", tail)
            self._reap()

    def _reap(self) -> None:
        if self.exit_code is not None:
            return
        try:
            pid, status = os.waitpid(self.proc.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.proc.pid, 0
        if pid:
            self.exit_code = os.waitstatus_to_exitcode(status)
            self.proc.terminated = True
            self.event("m", f"exit:{self.exit_code}")

    def alive(self) -> bool:
        return self.exit_code is None

    # -- steps --------------------------------------------------------------

    def run(self, steps: list[Step]) -> None:
        for step in steps:
            if not self.alive() and step.verb not in {"end", "wait-exit", "wait"}:
                print(f"record: program ended before {step.verb} {step.args}", file=sys.stderr)
                break
            getattr(self, "step_" + step.verb.replace("-", "_"))(*step.args)

    def step_wait(self, seconds: str) -> None:
        self.pump(float(seconds))

    def step_send(self, text: str) -> None:
        data = unescape(text)
        self.event("i", data)
        os.write(self.proc.fd, data.encode("utf-8"))
        self.pump(0)

    def step_wait_for(self, text: str, timeout: str = str(DEFAULT_TIMEOUT)) -> None:
        deadline = time.monotonic() + float(timeout)
        while text not in self.emulator.render_text():
            if time.monotonic() > deadline or not self.alive():
                print(f"record: timed out waiting for {text!r}", file=sys.stderr)
                print(self.emulator.render_text(), file=sys.stderr)
                return
            self.pump(POLL)

    def step_wait_quiet(self, seconds: str, timeout: str = str(DEFAULT_TIMEOUT)) -> None:
        deadline = time.monotonic() + float(timeout)
        while time.monotonic() - self.last_output < float(seconds):
            if time.monotonic() > deadline or not self.alive():
                print(f"record: never quiet for {seconds}s", file=sys.stderr)
                return
            self.pump(POLL)

    def step_resize(self, cols: str, rows: str) -> None:
        self.event("r", f"{cols}x{rows}")
        self.emulator.resize(int(cols), int(rows))
        self.proc.setwinsize(int(rows), int(cols))
        self.pump(0)

    def step_wait_exit(self, timeout: str = str(DEFAULT_TIMEOUT)) -> None:
        deadline = time.monotonic() + float(timeout)
        while self.alive() and time.monotonic() < deadline:
            self.pump(POLL)

    def step_end(self) -> None:
        if not self.alive():
            return
        # The whole session: agents start helpers (MCP servers, a node child) in it.
        for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            for _ in range(50):
                self.pump(POLL)
                if not self.alive():
                    return


def agent_version(argv: list[str], env: dict[str, str], cwd: str) -> str:
    """The first line `CMD --version` prints."""
    try:
        done = subprocess.run(
            [argv[0], "--version"], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if lines else "unknown"


def clean_env(home: str, extra: list[str]) -> dict[str, str]:
    """A small, reproducible environment: nothing of the recording machine's own."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": home,
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "USER": "user",
        "SHELL": "/bin/bash",
    }
    for item in extra:
        key, _, value = item.partition("=")
        env[key] = value
    return env


def record(args: argparse.Namespace) -> None:
    argv = args.command
    home = args.home or os.environ.get("HOME", "/")
    cwd = args.cwd or os.getcwd()
    env = clean_env(home, args.env)
    program = shutil.which(argv[0], path=env["PATH"])
    if program is None:
        raise SystemExit(f"record: {argv[0]}: command not found")
    version = args.agent_version or agent_version([program], env, cwd)
    if args.script:
        steps = parse_script(Path(args.script).read_text())
    else:
        steps = parse_script(args.keys or "", separator=";")
    header: dict[str, Any] = {
        "version": 2,
        "width": args.cols,
        "height": args.rows,
        "timestamp": int(time.time()),
        "env": {"TERM": "xterm-256color"},
        "ptui": {
            "agent": args.agent,
            "agent_version": version,
            "synthetic": False,
            "how": args.how,
        },
    }
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(header, ensure_ascii=False) + "\n")
        proc = ptyprocess.PtyProcess.spawn(
            [program, *argv[1:]], cwd=cwd, env=env, dimensions=(args.rows, args.cols)
        )
        recorder = Recorder(proc, Emulator(cols=args.cols, rows=args.rows), out)
        recorder.run(steps)
        recorder.step_end()
        # Where the recording stops: a user looking at the screen after the exit.
        recorder.event("m", "end")
    print(recorder.emulator.render_text())
    print(f"record: wrote {out_path} (exit {recorder.exit_code})", file=sys.stderr)


# ------------------------------------------------------------------ replay


def read_cast(path: Path) -> tuple[dict[str, Any], list[list[Any]]]:
    """A cast's header and events."""
    with path.open(encoding="utf-8") as handle:
        header = json.loads(handle.readline())
        events = [json.loads(line) for line in handle if line.strip()]
    return header, events


def replay(path: Path) -> Iterator[tuple[float, list[Any], Emulator]]:
    """Each event of a cast with the emulator's state after it."""
    header, events = read_cast(path)
    emulator = Emulator(cols=header["width"], rows=header["height"])
    for event in events:
        stamp, code, data = event
        if code == "o":
            emulator.parse(data.encode("utf-8"))
            emulator.take_replies()
        elif code == "r":
            cols, rows = data.split("x")
            emulator.resize(int(cols), int(rows))
        yield stamp, event, emulator


def show(path: Path, at: float) -> None:
    last = None
    screen = ""
    title = ""
    for stamp, _event, emulator in replay(path):
        if stamp > at:
            break
        last = stamp
        screen = emulator.render_text()
        title = emulator.title
    print(f"-- {path} at {at}: last event {last}, title {title!r}")
    print(screen.rstrip("\n"))


def find(path: Path, text: str, after: float, absent: bool) -> None:
    for stamp, _event, emulator in replay(path):
        if stamp < after:
            continue
        shown = text in emulator.render_text() or text in emulator.title
        if shown != absent:
            print(stamp)
            return
    print("not found")
    raise SystemExit(1)


def timeline(path: Path) -> None:
    """Each event that changed the screen or title, with the first changed line."""
    before: list[str] = []
    title = ""
    for stamp, event, emulator in replay(path):
        if event[1] != "o":
            print(f"{stamp:9.3f} [{event[1]}] {event[2]!r}")
            continue
        after = emulator.render_text().splitlines()
        changed = [line for i, line in enumerate(after) if i >= len(before) or before[i] != line]
        if emulator.title != title:
            title = emulator.title
            print(f"{stamp:9.3f} title {title!r}")
        if changed or len(after) != len(before):
            first = next((line.strip() for line in changed if line.strip()), "")
            print(f"{stamp:9.3f} {len(changed):3d} lines  {first[:90]}")
        before = after


def titles(path: Path) -> None:
    previous = None
    for stamp, event, emulator in replay(path):
        if emulator.title != previous:
            previous = emulator.title
            print(f"{stamp:9.3f} {previous!r}")
        if event[1] != "o":
            print(f"{stamp:9.3f} [{event[1]}] {event[2]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out")
    parser.add_argument("--agent")
    parser.add_argument("--agent-version", help="skip running CMD --version")
    parser.add_argument("--how", default="", help="one line for the header: how it was made")
    parser.add_argument("--cols", type=int, default=120)
    parser.add_argument("--rows", type=int, default=36)
    parser.add_argument("--home", help="HOME for the program (a throwaway directory)")
    parser.add_argument("--cwd", help="working directory (a throwaway git repo)")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE, repeatable")
    parser.add_argument("--script", help="a script file, one step per line")
    parser.add_argument("--keys", help="script steps separated by ';'")
    parser.add_argument("--show", metavar="CAST")
    parser.add_argument("--at", type=float, default=float("inf"))
    parser.add_argument("--find", nargs=2, metavar=("TEXT", "CAST"))
    parser.add_argument("--after", type=float, default=0.0)
    parser.add_argument("--absent", action="store_true", help="--find: first time TEXT is gone")
    parser.add_argument("--titles", metavar="CAST")
    parser.add_argument("--timeline", metavar="CAST", help="every screen change, one a line")
    parser.add_argument("command", nargs="*")
    args = parser.parse_args()
    if args.show:
        show(Path(args.show), args.at)
    elif args.find:
        find(Path(args.find[1]), args.find[0], args.after, args.absent)
    elif args.timeline:
        timeline(Path(args.timeline))
    elif args.titles:
        titles(Path(args.titles))
    else:
        if not (args.out and args.agent and args.command):
            parser.error("recording needs --out, --agent and -- CMD")
        record(args)


if __name__ == "__main__":
    main()
