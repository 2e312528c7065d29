"""`ptui bench ui`: the app as a user meets it, in a real terminal (tmux).

- first frame: `ptui` started in a tmux pane until `capture-pane` shows the main
  screen's sidebar listing the sessions (median of several starts). ptui's own
  bytecode is compiled first, as any earlier run or a non-editable install leaves
  it: with PYTHONDONTWRITEBYTECODE set (some containers set it) an editable
  install would otherwise compile every module again on every start. Each start
  alternates with one of the smallest Textual app (the anchor: the floor of any
  Textual app on this machine);
- session switch: alt+1 / alt+2 in turn, from the app handling the key to the
  first frame that draws the new session's terminal (after its attach answer);
- echo: a key typed into a session running `cat`, from the app handling the key
  to the first frame that draws its echo; each one followed by a host-only echo
  as `ptui bench latency` times it (client library -> server -> PTY -> screen
  event, another cat), so both are measured over the same seconds;
- frame rate: frames per second that draw the focused session's terminal while
  it prints a counter 100 times a second and another session floods output.

The last three are timed inside the app: it runs as `python -m tui.bench.ui_probe`
(the same `ptui`, with timing hooks added from outside) and logs timestamps to a
file that this process reads. Everything runs in a private HOME with its own
server and tmux socket.
"""

from __future__ import annotations

import compileall
import json
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import tui
from tui.bench.latency_bench import _KEYS, _PtuiProbe, bench_world
from tui.errors import PtuiError
from tui.protocol import messages

COLS, ROWS = 160, 45
COUNTER = "i=0; while :; do i=$((i+1)); echo count $i; sleep 0.01; done"
TARGETS: dict[str, tuple[str, float]] = {
    "first_frame_ms": ("<=", 500.0),
    "switch_median_ms": ("<=", 17.0),
    "echo_ratio": ("<=", 2.0),
    "flood_fps": (">=", 30.0),
}
Event = list[Any]
"""One probe log line: [time, kind, ...] (see tui.bench.ui_probe)."""
T = TypeVar("T")


def _progress(message: str) -> None:
    print(f"ptui bench ui: {message}", file=sys.stderr, flush=True)


def _ptui_command() -> list[str]:
    script = Path(sys.executable).with_name("ptui")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "tui"]


class _Tmux:
    """A private tmux server (its own socket) whose panes run ptui."""

    def __init__(self, root: Path) -> None:
        self.socket = str(root / "tmux.sock")
        # A session that only keeps the server up, so starting ptui costs no server start.
        self("new-session", "-d", "-s", "keep", "sleep 100000")

    def __call__(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-S", self.socket, "-f", "/dev/null", *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def start(self, name: str, command: list[str], cwd: Path) -> None:
        self("new-session", "-d", "-s", name, "-x", str(COLS), "-y", str(ROWS), "-c", str(cwd),
             shlex.join(command))  # fmt: skip

    def capture(self, name: str) -> str:
        return self("capture-pane", "-p", "-t", name)

    def keys(self, name: str, *keys: str) -> None:
        self("send-keys", "-t", name, *keys)

    def kill(self, name: str) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-session", "-t", name], capture_output=True)

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)


class _ProbeLog:
    """The probe's timestamp log, read as it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.events: list[Event] = []
        self._offset = 0
        self._partial = b""

    def poll(self) -> None:
        try:
            with self.path.open("rb") as log:
                log.seek(self._offset)
                data = log.read()
        except FileNotFoundError:
            return
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        self.events.extend(json.loads(line) for line in lines if line)

    def wait(self, found: Callable[[list[Event]], T | None], timeout: float, what: str) -> T:
        """Poll until `found(events)` returns something other than None."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            result = found(self.events)
            if result is not None:
                return result
            if time.monotonic() > deadline:
                tail = "; ".join(json.dumps(e) for e in self.events[-8:])
                raise PtuiError(f"ptui bench ui: timed out waiting for {what} (last: {tail})")
            time.sleep(0.002)


def _after(events: list[Event], start: int, kind: str, *fields: object) -> int | None:
    """Index of the first event from `start` on of `kind` whose next fields match."""
    for index in range(start, len(events)):
        event = events[index]
        if event[1] == kind and all(
            want is None or got == want for want, got in zip(fields, event[2:], strict=False)
        ):
            return index
    return None


def _shown(events: list[Event]) -> str | None:
    """The session the terminal view shows now (its last `show`)."""
    for event in reversed(events):
        if event[1] == "show":
            return str(event[2]) if event[2] is not None else None
    return None


def _switch_time(events: list[Event], mark: int) -> tuple[float, str, list[float]] | None:
    """(key -> first frame drawing the newly shown session, that session, the three
    parts: key -> show, show -> its full screen arrives, screen -> frame), once complete."""
    key = _after(events, mark, "key")
    show = None if key is None else _after(events, key, "show")
    if key is None or show is None:
        return None
    session = events[show][2]
    full = _after(events, show, "feed", session, True)
    frame = None if full is None else _after(events, full, "frame", session)
    if full is None or frame is None:
        return None
    times = [events[i][0] for i in (key, show, full, frame)]
    parts = [b - a for a, b in pairwise(times)]
    return times[-1] - times[0], session, parts


def _echo_time(events: list[Event], mark: int, session: str) -> float | None:
    """Key -> first frame drawing `session` after its next screen update."""
    key = _after(events, mark, "key")
    feed = None if key is None else _after(events, key, "feed", session)
    frame = None if feed is None else _after(events, feed, "frame", session)
    if key is None or frame is None:
        return None
    elapsed: float = events[frame][0] - events[key][0]
    return elapsed


# The anchor for the first frame: the smallest Textual app, one line of text. Its
# first frame is the floor every Textual app starts from on this machine (Python,
# importing Textual, the driver); ptui's figure minus it is ptui's own start-up.
MINIMAL_TEXTUAL_APP = """
from textual.app import App, ComposeResult
from textual.widgets import Static
class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("minimal textual app")
Minimal().run()
"""


def _first_frames(
    tmux: _Tmux, repo: Path, names: list[str], runs: int
) -> tuple[list[float], list[float], list[float]]:
    """Seconds from starting `ptui` until any frame and until one listing `names`, and
    from starting the minimal Textual app until its text shows; the two alternate."""
    any_frame, listed, minimal = [], [], []
    for run in range(runs):
        seen, done = _until_shown(tmux, f"first-{run}", _ptui_command(), repo, names)
        any_frame.append(seen)
        listed.append(done)
        anchor = [sys.executable, "-c", MINIMAL_TEXTUAL_APP]
        minimal.append(_until_shown(tmux, f"anchor-{run}", anchor, repo, ["minimal textual"])[1])
    return any_frame, listed, minimal


def _until_shown(
    tmux: _Tmux, pane: str, command: list[str], cwd: Path, names: list[str]
) -> tuple[float, float]:
    """Start `command` in a new pane: seconds until anything shows, and until all `names` do."""
    started = time.monotonic()
    tmux.start(pane, command, cwd)
    deadline = started + 30
    seen: float | None = None
    while True:
        screen = tmux.capture(pane)
        if seen is None and screen.strip():
            seen = time.monotonic() - started
        if all(name in screen for name in names):
            break
        if time.monotonic() > deadline:
            raise PtuiError(f"ptui bench ui: {names} not on screen after 30 s:\n{screen}")
        time.sleep(0.002)
    done = time.monotonic() - started
    tmux.kill(pane)
    time.sleep(0.3)
    return (seen if seen is not None else done), done


def run(*, as_json: bool, samples: int = 40) -> int:
    """Run the benchmark and print its figures; returns the exit status."""
    if shutil.which("tmux") is None:
        raise PtuiError("ptui bench ui: needs tmux (apt-get install tmux)")
    probe: _PtuiProbe | None = None
    tmux: _Tmux | None = None
    with bench_world("ptui-bench-ui-") as (root, repo, _flood_file):
        try:
            config = Path(os.environ["XDG_CONFIG_HOME"]) / "ptui" / "config.toml"
            with config.open("a") as toml:
                toml.write(f'[agents.counter]\ncommand = ["sh", "-c", {json.dumps(COUNTER)}]\n')
                toml.write('prompt = "none"\n')

            probe = _PtuiProbe(repo)  # creates the session "echo" running cat
            probe.client.request(messages.SessionDetach(id="echo"))  # the app types into it
            probe.client.request(messages.SessionCreate(
                task="counter", name="counter", agent="counter", repo=str(repo),
                cols=COLS, rows=ROWS,
            ))  # fmt: skip
            tmux = _Tmux(root)

            _progress("compiling ptui's bytecode, as a first run leaves it")
            compileall.compile_dir(Path(tui.__file__).parent, quiet=1)
            _progress(
                "time to the first frame listing the sessions (5 starts of ptui in tmux, "
                "each followed by a minimal Textual app)"
            )
            first_any, first, minimal = _first_frames(tmux, repo, ["echo", "counter"], runs=5)

            _progress("starting ptui with timing hooks")
            log = _ProbeLog(root / "probe.log")
            tmux.start("ui", [sys.executable, "-m", "tui.bench.ui_probe", str(log.path)], repo)
            log.wait(lambda ev: _shown(ev) and _after(ev, 0, "frame"), 30, "ptui to show a session")
            time.sleep(1.0)
            # Learn which session alt+1 and alt+2 show (a key for the shown one shows nothing).
            by_key: dict[str, str] = {}
            for key in ("M-1", "M-2"):
                mark = len(log.events)
                tmux.keys("ui", key)
                time.sleep(1.0)
                log.poll()
                by_key[key] = str(_shown(log.events))
            if sorted(by_key.values()) != ["counter", "echo"]:
                raise PtuiError(f"ptui bench ui: alt+1 and alt+2 showed {by_key}")

            _progress(f"session switch, {samples} times")
            switches, parts = [], []
            for index in range(samples):
                key = "M-1" if index % 2 == 0 else "M-2"  # alt+2 is showing now
                time.sleep(random.uniform(0.08, 0.12))
                mark = len(log.events)
                tmux.keys("ui", key)
                took, _, split = log.wait(partial(_switch_time, mark=mark), 10, "a switch")
                switches.append(took)
                parts.append(split)

            _progress(
                f"echo through the app, {samples} keys, each followed by one host-only "
                "echo (client library -> server -> cat -> screen event)"
            )
            echo_key = next(k for k, s in by_key.items() if s == "echo")
            counter_key = next(k for k, s in by_key.items() if s == "counter")
            tmux.keys("ui", echo_key)
            time.sleep(0.5)
            tmux.keys("ui", "Enter")  # from the sidebar into the terminal
            time.sleep(0.5)
            probe.add_echo("host-echo")  # the host-only figure's own cat
            echoes: list[float] = []
            host: list[float] = []
            for index in range(samples):
                time.sleep(random.uniform(0.03, 0.05))
                log.poll()
                mark = len(log.events)
                tmux.keys("ui", "x" if index % 2 == 0 else "BSpace")
                echo = partial(_echo_time, mark=mark, session="echo")
                echoes.append(log.wait(echo, 10, "an echo"))
                # Side by side, so a slow stretch of the machine weighs on both.
                time.sleep(random.uniform(0.01, 0.02))
                host.append(probe.sample(_KEYS[index % 2], "host-echo"))

            _progress("frame rate of a counter while another session floods (3 s)")
            probe.client.request(messages.SessionCreate(
                task="flood", name="flood", agent="flood", repo=str(repo), cols=200, rows=50,
            ))  # fmt: skip
            tmux.keys("ui", counter_key)
            time.sleep(1.5)
            log.poll()
            start = time.monotonic()
            time.sleep(3.0)
            log.poll()
            frames = [e[0] for e in log.events if e[1] == "frame" and e[2] == "counter"]
            frames = [t for t in frames if t >= start]
            fps = (len(frames) - 1) / (frames[-1] - frames[0]) if len(frames) > 1 else 0.0
        finally:
            if tmux is not None:
                tmux.close()
            if probe is not None:
                probe.close()

    host_ms = statistics.median(host) * 1000
    echo_ms = statistics.median(echoes) * 1000
    result = {
        "first_frame_ms": round(statistics.median(first) * 1000, 1),
        "switch_median_ms": round(statistics.median(switches) * 1000, 2),
        "echo_median_ms": round(echo_ms, 2),
        "host_echo_median_ms": round(host_ms, 3),
        "echo_ratio": round(echo_ms / host_ms, 2) if host_ms else 0.0,
        "flood_fps": round(fps, 1),
        # Where the time goes, for whoever makes it faster:
        "first_any_frame_ms": round(statistics.median(first_any) * 1000, 1),
        "minimal_textual_first_frame_ms": round(statistics.median(minimal) * 1000, 1),
        "first_frame_runs_ms": [round(t * 1000) for t in first],
        "minimal_textual_runs_ms": [round(t * 1000) for t in minimal],
        "switch_parts_median_ms": {
            name: round(statistics.median(p[i] for p in parts) * 1000, 2)
            for i, name in enumerate(("key_to_show", "show_to_screen", "screen_to_frame"))
        },
    }
    if as_json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(_table(result))
    return 0


def _table(result: dict[str, Any]) -> str:
    rows = [
        ("time to first frame (ms)", "first_frame_ms"),
        ("session switch, median (ms)", "switch_median_ms"),
        ("keystroke -> echo in the app, median (ms)", "echo_median_ms"),
        ("keystroke -> echo, host only, median (ms)", "host_echo_median_ms"),
        ("echo: app / host only", "echo_ratio"),
        ("frames/s, another session flooding", "flood_fps"),
    ]
    lines = [f"{'measure':44} {'ptui':>9}  target"]
    for label, key in rows:
        value = result[key]
        target = ""
        if key in TARGETS:
            op, limit = TARGETS[key]
            met = value <= limit if op == "<=" else value >= limit
            target = f"{op} {limit:g}  {'ok' if met else 'MISSED'}"
        lines.append(f"{label:44} {value:>9g}  {target}".rstrip())
    lines.append(
        f"  (first frame of any kind: {result['first_any_frame_ms']:g} ms; a minimal "
        f"Textual app's, same run: {result['minimal_textual_first_frame_ms']:g} ms)"
    )
    pairs = zip(result["first_frame_runs_ms"], result["minimal_textual_runs_ms"], strict=True)
    runs = ", ".join(f"{a}/{b}" for a, b in pairs)
    lines.append(f"  (each start, ptui/minimal, ms: {runs})")
    split = ", ".join(f"{k} {v:g} ms" for k, v in result["switch_parts_median_ms"].items())
    lines.append(f"  (switch: {split})")
    return "\n".join(lines)
