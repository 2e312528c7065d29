"""`ptui bench terminal`: the PTY -> emulator -> line-model pipeline beside tmux.

Both sides consume the same bytes in the same run: ptui spawns `cat FILE` on a
real PTY (ptui's `PtyProcess`), feeds each coalesced read to an `Emulator` and
takes the changed lines (the line model the session host ships to clients);
tmux runs `cat FILE` in a detached pane of a private server. tmux's own start-up
(an empty file, same command) is measured and subtracted, which favours tmux.
Medians of several runs are reported. The machines here are noisy and their
speed drifts for seconds at a time, so the ratio is the median of each run's
own ratio (a ptui run and the tmux run right after it, which the same drift
hits), and which side goes first alternates.

Scrollback memory: 10,000 full 200-column coloured lines pushed through each;
ptui's is measured with tracemalloc on the history, tmux's as the growth of the
tmux server's resident memory over an empty pane.
"""

from __future__ import annotations

import gc
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from tui.bench.workloads import agent_workload, redraw_workload, scrollback_lines
from tui.errors import PtuiError
from tui.term.emulator import Emulator
from tui.term.pty import PtyProcess

COLS, ROWS = 200, 50
RUNS = 5


def tune_gc() -> None:
    """Raise the gen-0 threshold: retained scrollback lines make cyclic GC cost ~16%."""
    gc.set_threshold(100_000, 50, 100)


def ptui_pipeline(path: Path) -> float:
    """Seconds for `cat path` on a PTY through emulator and line model, until EOF."""
    emulator = Emulator(cols=COLS, rows=ROWS)
    start = time.perf_counter()
    proc = PtyProcess.spawn(["cat", str(path)], cwd=path.parent, cols=COLS, rows=ROWS)
    # Like the session host: parse every read, build line updates at most 60 times
    # a second (what an attached client is sent), and once at the end.
    frame = 1 / 60
    next_frame = start
    try:
        fd = proc.fd
        while True:
            select.select([fd], [], [], 1.0)
            data = proc.read()
            if data:
                emulator.parse(data)
                now = time.perf_counter()
                if now >= next_frame:
                    emulator.take_changes()
                    next_frame = now + frame
            elif proc.eof:
                break
    finally:
        proc.stop(grace=0.5)
    emulator.take_changes(force=True)
    return time.perf_counter() - start


class Tmux:
    """A private tmux server for measurements (never the user's own)."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("tmux")
        if binary is None:
            raise PtuiError("tmux is not installed: needed for --vs-tmux (apt-get install tmux)")
        self.binary = binary
        self.socket = f"ptui-bench-{os.getpid()}"
        self.conf = workdir / "tmux.conf"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.binary, "-L", self.socket, "-f", str(self.conf), *args],
            capture_output=True,
            text=True,
            check=False,
        )

    def cat_seconds(self, path: Path, history: int = 2000) -> float:
        """Seconds for a fresh tmux pane to consume `cat path` (server start included)."""
        # history-limit applies to panes created after it is set: hence the config file.
        self.conf.write_text(f"set -g history-limit {history}\n")
        channel = f"done-{os.getpid()}"
        command = f"cat '{path}'; {self.binary} -L {self.socket} wait-for -S {channel}; sleep 600"
        start = time.perf_counter()
        created = self.run("new-session", "-d", "-x", str(COLS), "-y", str(ROWS), "-s", "bench",
                           command)  # fmt: skip
        if created.returncode != 0:
            raise PtuiError(f"tmux new-session failed: {created.stderr.strip()}")
        self.run("wait-for", channel)
        return time.perf_counter() - start

    def server_rss(self) -> int:
        pid = self.run("display", "-p", "-t", "bench", "#{pid}").stdout.strip()
        if not pid.isdigit():
            raise PtuiError("tmux did not report its server pid (is the bench pane running?)")
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def kill(self) -> None:
        """Stop the server and wait until it is gone, so the next one starts clean."""
        self.run("kill-server")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.run("ls").returncode == 0:
            time.sleep(0.02)


def tmux_pipeline(tmux: Tmux, path: Path, empty: Path) -> float:
    """tmux seconds for the workload minus its start-up with an empty file.

    On a busy machine the start-up can vary by more than a small workload costs,
    leaving nothing (or less) after the subtraction: that pair is measured again,
    and a workload that never shows above the noise is refused, not reported as
    infinitely fast.
    """
    for _ in range(5):
        total = tmux.cat_seconds(path)
        tmux.kill()
        base = tmux.cat_seconds(empty)
        tmux.kill()
        if total - base > 0.001:
            return total - base
    raise PtuiError(
        f"{path.name}: tmux's start-up varies more than the workload costs; use a larger --mb"
    )


def ptui_scrollback_bytes_per_line(lines: int = 10_000) -> float:
    """Bytes of history per 200-column line, measured with tracemalloc."""
    data = scrollback_lines(lines)
    emulator = Emulator(cols=COLS, rows=ROWS, scrollback=lines)
    # Warm the style table and caches so only the stored lines are counted.
    emulator.feed(scrollback_lines(ROWS * 2, seed=3))
    emulator.screen.history.clear()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    emulator.feed(data)
    emulator.take_changes(force=True)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    stored = len(emulator.screen.history)
    return (after - before) / max(stored, 1)


def tmux_scrollback_bytes_per_line(tmux: Tmux, workdir: Path, lines: int = 10_000) -> float:
    """tmux server RSS growth per line of history (10,000-line history limit)."""
    data_path = workdir / "scrollback.bin"
    data_path.write_bytes(scrollback_lines(lines))
    empty = workdir / "empty.bin"
    tmux.cat_seconds(empty, history=lines)
    base = tmux.server_rss()
    tmux.kill()
    tmux.cat_seconds(data_path, history=lines)
    time.sleep(0.3)
    full = tmux.server_rss()
    tmux.kill()
    return (full - base) / lines


def run(*, workload: str | None, vs_tmux: bool, as_json: bool, mb: float) -> int:
    """Run the benchmark and print its figures."""
    tune_gc()
    size = int(mb * 1024 * 1024)
    if size <= 0:
        raise PtuiError(f"--mb must be positive (got {mb})")
    with tempfile.TemporaryDirectory(prefix="ptui-bench-") as tmp:
        workdir = Path(tmp)
        empty = workdir / "empty.bin"
        empty.write_bytes(b"")
        cases: dict[str, Path] = {}
        if workload in (None, "agent"):
            cases["agent"] = workdir / "agent.bin"
            cases["agent"].write_bytes(agent_workload(size))
        if workload in (None, "redraw"):
            cases["redraw"] = workdir / "redraw.bin"
            cases["redraw"].write_bytes(redraw_workload(size, cols=COLS, rows=ROWS))
        if workload not in (None, "agent", "redraw"):
            path = Path(workload).expanduser()
            if not path.is_file():
                raise PtuiError(f"--workload {workload}: not agent, redraw or a readable file")
            cases[path.name] = path
        tmux = Tmux(workdir) if vs_tmux else None
        results: dict[str, dict[str, Any]] = {}
        for name, path in cases.items():
            size_mb = path.stat().st_size / 1e6
            print(f"bench: {name} ({size_mb:.1f} MB) ...", file=sys.stderr, flush=True)
            ours: list[float] = []
            theirs: list[float] = []
            for run_no in range(RUNS):
                if tmux is not None and run_no % 2:
                    theirs.append(size_mb / tmux_pipeline(tmux, path, empty))
                ours.append(size_mb / ptui_pipeline(path))
                if tmux is not None and not run_no % 2:
                    theirs.append(size_mb / tmux_pipeline(tmux, path, empty))
            entry: dict[str, Any] = {"mb_s": round(statistics.median(ours), 2)}
            if theirs:
                entry["tmux_mb_s"] = round(statistics.median(theirs), 2)
                pairs = [round(a / b, 3) for a, b in zip(ours, theirs, strict=True)]
                entry["ratio"] = statistics.median(pairs)
                entry["run_ratios"] = pairs
            results[name] = entry
        print("bench: scrollback memory ...", file=sys.stderr, flush=True)
        report: dict[str, object] = dict(results)
        report["scrollback_bytes_per_line"] = round(ptui_scrollback_bytes_per_line())
        if tmux is not None:
            report["tmux_scrollback_bytes_per_line"] = round(
                tmux_scrollback_bytes_per_line(tmux, workdir)
            )
        lines_ms = full_frame_ms()
        strips_ms = full_frame_strips_ms()
        report["frame_to_lines_ms"] = round(lines_ms, 3)
        report["frame_to_strips_ms"] = round(strips_ms, 3)
        # The whole conversion a view pays for a screen where every row is new.
        report["frame_total_ms"] = round(lines_ms + strips_ms, 3)
    if as_json:
        print(json.dumps(report))
        return 0
    print(f"ptui bench terminal — {COLS}x{ROWS}, median of {RUNS} runs (ratio: of paired runs)")
    print(f"{'workload':<12}{'ptui MB/s':>12}{'tmux MB/s':>12}{'ratio':>9}")
    for name, entry in results.items():
        tmux_mb = f"{entry['tmux_mb_s']:.2f}" if "tmux_mb_s" in entry else "-"
        ratio = f"{entry['ratio']:.2f}x" if "ratio" in entry else "-"
        print(f"{name:<12}{entry['mb_s']:>12.2f}{tmux_mb:>12}{ratio:>9}")
    line = f"scrollback: {report['scrollback_bytes_per_line']} bytes/line (200 columns)"
    if "tmux_scrollback_bytes_per_line" in report:
        line += f", tmux {report['tmux_scrollback_bytes_per_line']} bytes/line"
    print(line)
    print(f"full 200x50 frame to line model: {report['frame_to_lines_ms']} ms")
    print(f"full 200x50 frame, line model to styled strips: {report['frame_to_strips_ms']} ms")
    print(f"full 200x50 frame to styled strips, total: {report['frame_total_ms']} ms")
    return 0


def full_frame_ms() -> float:
    """Median ms to turn a full, busy 200x50 screen into line models (every line dirty)."""
    emulator = Emulator(cols=COLS, rows=ROWS)
    emulator.feed(redraw_workload(200_000, cols=COLS, rows=ROWS))
    times = []
    for _ in range(30):
        emulator.screen.changed = [True] * ROWS
        start = time.perf_counter()
        emulator.take_changes(force=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def full_frame_strips_ms() -> float:
    """Median ms to turn a full, busy 200x50 screen into the app's styled strips.

    What the terminal view does when every row is new: each line's runs become
    Rich segments with cached styles, one Textual `Strip` per row.
    """
    from tui.app.widgets.terminal_render import StripRenderer

    emulator = Emulator(cols=COLS, rows=ROWS)
    emulator.feed(redraw_workload(200_000, cols=COLS, rows=ROWS))
    lines = emulator.visible_lines()
    renderer = StripRenderer()
    for line in lines:  # warm the style cache, as a running view has it
        renderer.strip(line, COLS)
    times = []
    for _ in range(30):
        start = time.perf_counter()
        for line in lines:
            renderer.strip(line, COLS)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)
