"""`ptui bench latency`: keystroke → echo through the session host, beside tmux.

What is timed, for ptui: a client attached to a session running `cat` sends one
key as a `session.input` notification; the clock stops when the screen update
carrying its echo arrives back at the client (socket → server → PTY → the tty's
echo → emulator → line update → socket). Keys alternate between `x` and
backspace, so the line never grows, with 20–30 ms between keys (faster than
anyone types, slower than the 60 Hz update limit, whose leading edge is what a
typist meets).

For tmux, the same in the same run: a control-mode client (`tmux -C attach`)
sends `send-keys -H` over tmux's socket and the clock stops at the `%output`
line with the echo — tmux's own client/server path, the closest match to ptui's
client library (tmux's terminal client would add drawing to a terminal).

"flood": the same while another session (tmux: another tmux session, so the
control client is not sent its output) prints agent-like output as fast as it
can, parsed but viewed by nobody. Then the server's CPU time over 10 s with 20
idle sessions, and whether 50 sessions can be created and stay alive.

Everything runs in a private temporary HOME/XDG tree with its own server.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tui.bench.workloads import agent_workload
from tui.errors import PtuiError
from tui.protocol import LIVE, messages
from tui.protocol.events import ScreenEvent, decode_event

SAMPLES = 200
_KEYS = (b"x", b"\x7f")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(values) * 1000, 3),
        "p90_ms": round(_percentile(values, 0.9) * 1000, 3),
    }


def _isolate(root: Path) -> None:
    """Point this process (and the server it starts) at a private HOME and XDG tree."""
    home = root / "home"
    for sub in ("config", "data", "state", "cache"):
        (root / sub).mkdir(parents=True)
    home.mkdir()
    run = root / "run"
    run.mkdir(mode=0o700)
    os.environ.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_STATE_HOME=str(root / "state"),
        XDG_CACHE_HOME=str(root / "cache"),
        XDG_RUNTIME_DIR=str(run),
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
    )
    os.environ.pop("PTUI_CONFIG", None)
    (home / ".gitconfig").write_text("[user]\n\tname = bench\n\temail = bench@ptui.invalid\n")


@contextlib.contextmanager
def bench_world(prefix: str) -> Iterator[tuple[Path, Path, Path]]:
    """A private HOME, XDG tree and repository for a benchmark: (root, repo, flood file).

    This process's environment points there (so does the server it starts) until
    the block ends; then it is restored and the tree removed.
    """
    saved_env = dict(os.environ)
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        _isolate(root)
        flood_file = root / "flood.bin"
        flood_file.write_bytes(agent_workload(1 << 20))
        yield root, _make_repo(root, flood_file), flood_file
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        shutil.rmtree(root, ignore_errors=True)


def _make_repo(root: Path, flood_file: Path) -> Path:
    repo = root / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "README.md").write_text("bench\n")
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "init"], check=True)
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "ptui" / "config.toml"
    config.parent.mkdir(parents=True)
    flood = f"while :; do cat {flood_file}; done"
    config.write_text(
        'default_agent = "cat"\n'
        '[agents.cat]\ncommand = ["cat"]\nprompt = "none"\n'
        f'[agents.flood]\ncommand = ["sh", "-c", {json.dumps(flood)}]\nprompt = "none"\n'
    )
    return repo


class _PtuiProbe:
    """Times echoes through ptui's client library."""

    def __init__(self, repo: Path) -> None:
        from tui.client.connection import Client

        self.repo = repo
        self.client = Client(name="bench")
        self.pid = self.client.server["pid"]
        self.client.request(
            messages.SessionCreate(
                task="echo", name="echo", agent="cat", repo=str(repo), cols=80, rows=24
            )
        )
        self.client.request(messages.SessionAttach(id="echo", cols=80, rows=24))
        self._drain(0.5)

    def _drain(self, quiet: float) -> None:
        while self.client.next_event(timeout=quiet) is not None:
            pass

    def add_echo(self, name: str) -> None:
        """Another session running cat, attached here, to sample with `session=name`."""
        self.client.request(
            messages.SessionCreate(
                task=name, name=name, agent="cat", repo=str(self.repo), cols=80, rows=24
            )
        )
        self.client.request(messages.SessionAttach(id=name, cols=80, rows=24))
        self._drain(0.5)

    def sample(self, key: bytes, session: str = "echo") -> float:
        client = self.client
        client.poll_events()  # a late update of the last sample must not answer this one
        start = time.perf_counter()
        client.send_input(session, key)
        while True:
            event = client.next_event(timeout=5)
            if event is None:
                raise PtuiError("ptui bench: no echo within 5 s")
            # Decoded as the app decodes every event it receives.
            decoded = decode_event(event)
            if isinstance(decoded, ScreenEvent) and decoded.session == session:
                return time.perf_counter() - start

    def start_flood(self) -> None:
        self.client.request(
            messages.SessionCreate(
                task="flood", name="flood", agent="flood", repo=str(self.repo), cols=200, rows=50
            )
        )

    def stop_flood(self) -> None:
        self.client.request(messages.SessionStop(id="flood"))

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def create_idle(self, count: int, prefix: str) -> None:
        for index in range(count):
            self.client.request(
                messages.SessionCreate(
                    task=prefix,
                    name=f"{prefix}-{index}",
                    agent="cat",
                    repo=str(self.repo),
                    cols=80,
                    rows=24,
                )
            )

    def close(self) -> None:
        try:
            self.client.request(messages.ServerStop(), timeout=60)
            while self.client.next_event(timeout=30) is not None:
                pass
        except PtuiError:
            pass
        self.client.close()


class _TmuxProbe:
    """Times echoes through a tmux control-mode client, same keys, same pacing."""

    def __init__(self, root: Path) -> None:
        self.socket = str(root / "tmux.sock")
        self._tmux("new-session", "-d", "-s", "bench", "-x", "80", "-y", "24", "cat")
        self.pane = self._tmux("display-message", "-p", "-t", "bench", "#{pane_id}").strip()
        self.proc = subprocess.Popen(
            ["tmux", "-S", self.socket, "-C", "attach", "-t", "bench"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.out = self.proc.stdout.fileno()
        self.inp = self.proc.stdin.fileno()
        self._buffer = b""
        self._drain(0.5)

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-S", self.socket, "-f", "/dev/null", *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def _lines(self, timeout: float) -> list[bytes]:
        if not select.select([self.out], [], [], timeout)[0]:
            return []
        self._buffer += os.read(self.out, 65536)
        *lines, self._buffer = self._buffer.split(b"\n")
        return lines

    def _drain(self, quiet: float) -> None:
        while self._lines(quiet):
            pass

    def sample(self, key: bytes) -> float:
        prefix = f"%output {self.pane} ".encode()
        start = time.perf_counter()
        os.write(self.inp, f"send-keys -t {self.pane} -H {key.hex()}\n".encode())
        deadline = start + 5
        while time.perf_counter() < deadline:
            for line in self._lines(max(0.0, deadline - time.perf_counter())):
                if line.startswith(prefix):
                    return time.perf_counter() - start
        raise PtuiError("ptui bench: tmux sent no echo within 5 s")

    def start_flood(self, flood_file: Path) -> None:
        self._tmux(
            "new-session",
            "-d",
            "-s",
            "flood",
            "-x",
            "200",
            "-y",
            "50",
            f"while :; do cat {flood_file}; done",
        )

    def stop_flood(self) -> None:
        self._tmux("kill-session", "-t", "flood")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)


def _measure(probe: _PtuiProbe | _TmuxProbe, samples: int) -> list[float]:
    rng = random.Random(7)
    times = []
    for index in range(samples):
        time.sleep(rng.uniform(0.020, 0.030))
        times.append(probe.sample(_KEYS[index % 2]))
    return times


def run(*, vs_tmux: bool, as_json: bool, samples: int = SAMPLES) -> int:
    """Run the benchmark and print its figures; returns the exit status."""
    if vs_tmux and shutil.which("tmux") is None:
        raise PtuiError("ptui bench latency --vs-tmux: tmux is not installed")
    probe: _PtuiProbe | None = None
    tmux: _TmuxProbe | None = None
    with bench_world("ptui-bench-") as (root, repo, flood_file):
        try:
            probe = _PtuiProbe(repo)
            tmux = _TmuxProbe(root) if vs_tmux else None
            result: dict[str, Any] = {}

            idle = _measure(probe, samples)
            result["idle"] = _summary(idle)
            if tmux is not None:
                result["idle"]["tmux_median_ms"] = _summary(_measure(tmux, samples))["median_ms"]

            probe.start_flood()
            time.sleep(1.0)
            flood = _measure(probe, samples)
            probe.stop_flood()
            result["flood"] = _summary(flood)
            if tmux is not None:
                tmux.start_flood(flood_file)
                time.sleep(1.0)
                result["flood"]["tmux_median_ms"] = _summary(_measure(tmux, samples))["median_ms"]
                tmux.stop_flood()

            probe.create_idle(20, "idle")
            time.sleep(3.0)  # let start-up timers (status settling, snapshots) fire once
            before, started = probe.cpu_seconds(), time.monotonic()
            time.sleep(10.0)
            used = probe.cpu_seconds() - before
            elapsed = time.monotonic() - started
            result["idle_cpu_percent_20_sessions"] = round(100 * used / elapsed, 2)

            probe.create_idle(29, "more")  # echo + 20 idle + 29 more = 50 sessions
            time.sleep(2.0)
            sessions = probe.client.request(messages.SessionList())
            alive = sum(1 for s in sessions if s["status"] in LIVE)
            result["sessions_alive_of_50"] = min(alive, 50)
        finally:
            if tmux is not None:
                tmux.close()
            if probe is not None:
                probe.close()

    if as_json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    for case in ("idle", "flood"):
        figures = result[case]
        line = (
            f"{case:5}  ptui median {figures['median_ms']:.3f} ms, p90 {figures['p90_ms']:.3f} ms"
        )
        if "tmux_median_ms" in figures:
            line += f"; tmux median {figures['tmux_median_ms']:.3f} ms"
        print(line)
    print(f"server CPU with 20 idle sessions: {result['idle_cpu_percent_20_sessions']}% of a core")
    print(f"sessions alive: {result['sessions_alive_of_50']} of 50")
    return 0
