"""`ptui bench flood`: a client that stops reading, while a session floods events.

In a private HOME/XDG tree with its own server (`bench_world`), one session runs
an agent that prints BEL and a 30 KB OSC 52 clipboard copy in a tight loop, so
the server has a bell and a clipboard event to publish thousands of times a
second. One raw socket client says hello, subscribes to events and never reads
again. For `seconds`, every ~0.5 s:

- the server's resident memory (`VmRSS` in /proc/PID/status);
- a fresh connection's hello + `session.list` (what `ptui ls` asks), the goal;
- every other round, the real `ptui ls` process, beside the same process timed
  before the flood began (its ~100 ms of Python start-up is the same in both, so
  the difference is what the flood costs a user);
- `server.status`'s client count, which drops when the server gives up on the
  non-reader.

Then the non-reader reads what it was sent: the bytes, and the server's reason
for closing, if one came. Goals: RSS grows at most 50 MB and `ls` answers in
under 100 ms; the exit status is 1 when either is missed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from tui import paths, protocol
from tui.bench.crash_bench import wait_dead
from tui.bench.latency_bench import bench_world
from tui.client.connection import Client
from tui.errors import PtuiError, UsageError
from tui.protocol import Method, messages

RSS_GOAL_MB: Final = 50.0
LS_GOAL_MS: Final = 100.0
SAMPLE_EVERY: Final = 0.5
CLIPBOARD_BYTES: Final = 30_000
AGENT: Final = "clipflood"

# The flooding agent: BEL, then OSC 52 with 30 KB of text, as fast as the PTY takes it.
FLOOD_PROGRAM: Final = f"""
import base64, sys
text = ("ptui clipboard flood " * {CLIPBOARD_BYTES // 21 + 1})[:{CLIPBOARD_BYTES}]
chunk = ("\\x07\\x1b]52;c;" + base64.b64encode(text.encode()).decode() + "\\x07").encode()
out = sys.stdout.buffer
while True:
    out.write(chunk)
    out.flush()
"""


@dataclass
class FloodResult:
    """The figures `ptui bench flood` prints."""

    seconds: float
    rss_start_mb: float
    rss_end_mb: float
    rss_peak_mb: float
    rss_growth_mb: float
    ls_median_ms: float
    ls_max_ms: float
    ls_samples: int
    ptui_ls_idle_ms: float
    """Median wall time of the `ptui ls` process before the flood."""
    ptui_ls_flood_ms: float
    """Median wall time of the `ptui ls` process during the flood."""
    nonreader_disconnected: bool
    nonreader_disconnected_after_s: float | None
    nonreader_bytes: int
    nonreader_reason: str | None


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` in MB (VmRSS), 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class NonReader:
    """A raw connection that says hello, subscribes to events, then stops reading."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(str(paths.socket_path()))
        self.decoder = protocol.FrameDecoder()
        self.received = 0
        self.frames: list[dict[str, Any]] = []
        for request_id, method, params in (
            (1, Method.HELLO, {"version": protocol.VERSION, "client": "bench-nonreader"}),
            (2, Method.EVENTS_SUBSCRIBE, {}),
        ):
            self.sock.sendall(protocol.encode({"id": request_id, "method": method,
                                               "params": params}))  # fmt: skip
            while not any(f.get("id") == request_id for f in self.frames):
                self._read_some()

    def _read_some(self) -> bool:
        try:
            data = self.sock.recv(1 << 18)
        except (ConnectionResetError, TimeoutError):
            data = b""
        if not data:
            return False
        self.received += len(data)
        with contextlib.suppress(protocol.ProtocolError):
            self.frames += [f for f in self.decoder.feed(data) if "event" not in f]
        return True

    def drain(self, limit: float) -> None:
        """Read what the server sent (until it closes, or `limit` seconds)."""
        self.sock.settimeout(1.0)
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and self._read_some():
            pass

    def reason(self) -> str | None:
        """The message of the error the server closed this connection with, if it came."""
        for frame in reversed(self.frames):
            error = frame.get("error")
            if frame.get("id") is None and isinstance(error, dict):
                return str(error.get("message"))
        return None

    def close(self) -> None:
        self.sock.close()


def _ls_once() -> float:
    """Seconds for a fresh connection's hello and session.list."""
    start = time.perf_counter()
    with Client(start=False, name="bench-ls") as client:
        client.request(messages.SessionList(), timeout=30)
    return time.perf_counter() - start


def _ptui_ls_once() -> float:
    """Seconds for the real `ptui ls` process, start-up included."""
    script = Path(sys.executable).with_name("ptui")
    argv = [str(script), "ls"] if script.exists() else [sys.executable, "-m", "tui", "ls"]
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, timeout=60)
    return time.perf_counter() - start


def _write_agent() -> None:
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "ptui" / "config.toml"
    command = [sys.executable, "-c", FLOOD_PROGRAM]
    with config.open("a") as toml:
        toml.write(f'[agents.{AGENT}]\ncommand = {json.dumps(command)}\nprompt = "none"\n')


def measure(repo: Path, seconds: float) -> FloodResult:
    """Run the flood against the server of this process's environment."""
    monitor = Client(name="bench-monitor")
    pid = monitor.server["pid"]
    nonreader: NonReader | None = None
    try:
        nonreader = NonReader()
        clients_with = monitor.request(messages.ServerStatusRequest())["clients"]
        idle_ls = [_ptui_ls_once() for _ in range(5)]
        rss_start = rss_mb(pid)
        monitor.request(messages.SessionCreate(task="flood", name="flood", agent=AGENT,
                                               repo=str(repo), cols=80, rows=24))  # fmt: skip
        started = time.monotonic()
        peak, latencies, flood_ls = rss_start, [], []
        gone_after: float | None = None
        while (now := time.monotonic()) - started < seconds:
            peak = max(peak, rss_mb(pid))
            # Before this round's ls: the last one's connection has long closed.
            clients = monitor.request(messages.ServerStatusRequest(), timeout=30)["clients"]
            if gone_after is None and clients < clients_with:
                gone_after = time.monotonic() - started
            latencies.append(_ls_once())
            if len(latencies) % 2 == 0:
                flood_ls.append(_ptui_ls_once())
            time.sleep(max(0.0, SAMPLE_EVERY - (time.monotonic() - now)))
        rss_end = rss_mb(pid)
        peak = max(peak, rss_end)
        monitor.request(messages.SessionStop(id="flood"), timeout=30)
        nonreader.drain(limit=3.0)
        return FloodResult(
            seconds=round(seconds, 1),
            rss_start_mb=round(rss_start, 1),
            rss_end_mb=round(rss_end, 1),
            rss_peak_mb=round(peak, 1),
            rss_growth_mb=round(rss_end - rss_start, 1),
            ls_median_ms=round(statistics.median(latencies) * 1000, 1),
            ls_max_ms=round(max(latencies) * 1000, 1),
            ls_samples=len(latencies),
            ptui_ls_idle_ms=round(statistics.median(idle_ls) * 1000, 1),
            ptui_ls_flood_ms=round(statistics.median(flood_ls or [0.0]) * 1000, 1),
            nonreader_disconnected=gone_after is not None,
            nonreader_disconnected_after_s=None if gone_after is None else round(gone_after, 1),
            nonreader_bytes=nonreader.received,
            nonreader_reason=nonreader.reason(),
        )
    finally:
        if nonreader is not None:
            nonreader.close()
        _stop(monitor, pid)


def _stop(monitor: Client, pid: int) -> None:
    """Stop the bench's server; kill it when it does not go."""
    with contextlib.suppress(PtuiError, OSError):
        monitor.request(messages.ServerStop(), timeout=20)
    monitor.close()
    if not wait_dead(pid, 20):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        wait_dead(pid, 5)


def run(*, seconds: float = 12.0, as_json: bool = False) -> int:
    """Run the benchmark and print its figures; 1 when a goal is missed."""
    if seconds < 1:
        raise UsageError("--seconds must be at least 1")
    with bench_world("ptui-bench-flood-") as (_root, repo, _flood):
        _write_agent()
        result = measure(repo, seconds)
    if as_json:
        print(json.dumps(asdict(result), indent=2))
    else:
        print(_table(result))
    missed = result.rss_growth_mb > RSS_GOAL_MB or result.ls_max_ms >= LS_GOAL_MS
    return 1 if missed else 0


def _table(r: FloodResult) -> str:
    if r.nonreader_disconnected:
        gone = f"disconnected after {r.nonreader_disconnected_after_s:g} s"
    else:
        gone = f"still connected after {r.seconds:g} s"
    reason = f'"{r.nonreader_reason}"' if r.nonreader_reason else "none received"
    rows = [
        ("server RSS", f"{r.rss_start_mb:.1f} MB -> {r.rss_end_mb:.1f} MB "
         f"(peak {r.rss_peak_mb:.1f})", ""),
        ("RSS growth", f"{r.rss_growth_mb:.1f} MB", f"goal <= {RSS_GOAL_MB:g} MB"),
        ("ls latency", f"median {r.ls_median_ms:.1f} ms, max {r.ls_max_ms:.1f} ms "
         f"({r.ls_samples} samples)", f"goal < {LS_GOAL_MS:g} ms"),
        ("ptui ls", f"median {r.ptui_ls_flood_ms:.1f} ms under the flood, "
         f"{r.ptui_ls_idle_ms:.1f} ms before it", "the process, start-up included"),
        ("non-reader", gone, ""),
        ("it was sent", f"{r.nonreader_bytes / 1e6:.2f} MB", "read after the run"),
        ("its reason", reason, ""),
    ]  # fmt: skip
    return "\n".join(f"{name:<12} {value}  {goal}".rstrip() for name, value, goal in rows)
