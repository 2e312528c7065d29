"""One terminal of a session: a program on a PTY, its emulator, and who is watching.

Output path, built so one flooding program cannot delay another's echo:

- the PTY's fd is watched by the event loop; a wakeup reads what is there into
  the tab's input buffer and parses at most one *slice* (about `SLICE_BUDGET`
  seconds of emulator work, sized from this tab's measured parse rate);
- what is left waits in the `ParseScheduler`, which gives every busy tab one
  slice per round, with a short pause between rounds, so socket and PTY events
  are served between slices and the kernel and clients get CPU time;
- while a tab has a backlog its fd is not read, so a flooding program blocks on
  its own PTY instead of growing our memory;
- parsing only updates the emulator; changed lines are built and sent to
  viewers at most `MAX_RATE` times a second: the first change after a quiet
  spell at once (a keystroke's echo is never held), later ones merged by the
  emulator and sent when the interval is up. Nobody watching: nothing built.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Final, Protocol

from tui import protocol
from tui.protocol import messages
from tui.server.recording import Recorder
from tui.term.emulator import Emulator, TermEvent, TermModes
from tui.term.lines import Line
from tui.term.pty import PtyProcess

log = logging.getLogger("ptui.server")

MAX_RATE: Final = 60
"""Screen updates per second per tab, at most."""
SLICE_BUDGET: Final = 0.0004
"""Seconds of parsing per slice before other work gets its turn."""
_MIN_PIECE: Final = 128
# Between rounds of backlog parsing the loop sleeps this long in select(): a
# flood then leaves the CPU for the kernel's tty work and the clients that an
# echo also needs (measured: flood median 3.4 ms without, 1.4 ms with 0.3 ms).
_PAUSE: Final = 0.0003
_MAX_PIECE: Final = 16384
_BACKLOG: Final = 64 * 1024  # stop reading a PTY while this much is unparsed


class Viewer(Protocol):
    """A client connection that receives a tab's screen updates."""

    paused: bool

    def send(self, frame: bytes) -> None:
        """Queue one frame for the client."""


class ParseScheduler:
    """Round-robin parsing: each tab with a backlog parses one slice per loop turn."""

    def __init__(self) -> None:
        self._queue: collections.deque[Tab] = collections.deque()
        self._queued: set[Tab] = set()
        self._scheduled = False

    def add(self, tab: Tab) -> None:
        """Give `tab` a turn (again) after the tabs already waiting."""
        if tab not in self._queued:
            self._queued.add(tab)
            self._queue.append(tab)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_later(_PAUSE, self._run)

    def _run(self) -> None:
        self._scheduled = False
        for _ in range(len(self._queue)):
            tab = self._queue.popleft()
            self._queued.discard(tab)
            if tab.parse_slice():
                self.add(tab)


class Tab:
    """A program on a PTY with its emulator; dead tabs keep their last screen."""

    def __init__(
        self,
        session_id: str,
        name: str,
        emulator: Emulator,
        scheduler: ParseScheduler,
        *,
        on_output: Callable[[], None] = lambda: None,
        on_exit: Callable[[Tab], None] = lambda tab: None,
        on_event: Callable[[Tab, TermEvent], None] = lambda tab, event: None,
        on_screen: Callable[[], None] = lambda: None,
    ) -> None:
        self.session_id = session_id
        self.name = name
        self.emulator = emulator
        self.proc: PtyProcess | None = None
        self.exit_code: int | None = None
        self.viewers: set[Viewer] = set()
        self._scheduler = scheduler
        self._on_output = on_output
        self._on_exit = on_exit
        self._on_event = on_event
        self._on_screen = on_screen
        self._inbuf = bytearray()
        self._reading = False
        self._rate = 1_000_000.0  # bytes/s the emulator parses for this tab (estimate)
        self._last_flush = 0.0
        self._flush_handle: asyncio.TimerHandle | None = None
        self._sync_handle: asyncio.TimerHandle | None = None
        self._sent_modes: TermModes | None = None
        self._sent_title: str | None = None
        self._ended = asyncio.Event()
        self.recorder: Recorder | None = None
        """Saving this tab's raw output to a file (`ptui record`), or None."""

    # ------------------------------------------------------------ lifecycle
    @property
    def alive(self) -> bool:
        """A program is running (or at least not yet reaped) on this tab."""
        return self.proc is not None and self.exit_code is None

    def start(self, proc: PtyProcess) -> None:
        """Attach a freshly spawned program and start reading its output."""
        self.proc = proc
        self.exit_code = None
        self._ended.clear()
        self._inbuf.clear()
        loop = asyncio.get_running_loop()
        loop.add_reader(proc.fd, self._on_readable)
        self._reading = True

    def detach_proc(self) -> PtyProcess | None:
        """Stop reading and hand the process over (to be stopped in a thread)."""
        proc = self.proc
        if proc is not None and self._reading:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(proc.fd)
            self._reading = False
        return proc

    def finish(self, code: int | None, leftover: bytes = b"") -> None:
        """The program is gone: parse its last output and show the final screen."""
        if leftover:
            self._inbuf += leftover
            if self.recorder is not None:
                self.recorder.output(leftover)
        while self._inbuf:
            self._parse(len(self._inbuf))
        if code is not None or self.exit_code is None:
            self.exit_code = code if code is not None else -1
        if self.recorder is not None:
            self.recorder.exited(self.exit_code)
        self._screen_changed()
        self.flush(force=True)
        self._ended.set()

    async def wait_ended(self) -> int | None:
        """Wait until the program has ended, on its own or stopped by ptui; its exit code.

        Unlike the `on_exit` callback (the program exited by itself), this also wakes
        when the tab is stopped, so nothing waits forever on a stopped session.
        """
        await self._ended.wait()
        return self.exit_code

    def note(self, text: str) -> None:
        """Show a line from ptui itself below the program's output (in bold red)."""
        self.emulator.parse(f"\r\n\x1b[1;31mptui: {text}\x1b[0m\r\n".encode())
        self._screen_changed()

    def poll_exit(self) -> None:
        """Check (on SIGCHLD or EOF) whether the program has exited."""
        proc = self.proc
        if proc is None or self.exit_code is not None:
            return
        code = proc.poll()
        if code is not None and (proc.eof or not self._reading):
            self._exited(code)

    def _exited(self, code: int) -> None:
        self.detach_proc()
        assert self.proc is not None
        leftover = self.proc.read()
        self.finish(code, leftover)
        self._on_exit(self)

    # --------------------------------------------------------------- output
    def _on_readable(self) -> None:
        proc = self.proc
        if proc is None:
            return
        data = proc.read()
        if data:
            self._inbuf += data
            if self.recorder is not None:  # the one cost of recording when there is none
                self.recorder.output(data)
        if proc.eof:
            self.detach_proc()
            code = proc.poll()
            if code is not None:
                self._exited(code)
                return
            # EOF before the exit status: SIGCHLD (poll_exit) completes it.
        elif len(self._inbuf) > _BACKLOG and self._reading:
            asyncio.get_running_loop().remove_reader(proc.fd)
            self._reading = False
        if self._inbuf and self.parse_slice():
            self._scheduler.add(self)

    def parse_slice(self) -> bool:
        """Parse about one slice of the backlog; True if more is left."""
        budget = max(_MIN_PIECE, min(_MAX_PIECE, int(self._rate * SLICE_BUDGET)))
        deadline = time.perf_counter() + SLICE_BUDGET
        while self._inbuf:
            self._parse(budget)
            if time.perf_counter() >= deadline:
                break
        proc = self.proc
        if (
            not self._reading
            and proc is not None
            and not proc.eof
            and self.exit_code is None
            and len(self._inbuf) < _BACKLOG // 2
        ):
            asyncio.get_running_loop().add_reader(proc.fd, self._on_readable)
            self._reading = True
        return bool(self._inbuf)

    def _parse(self, size: int) -> None:
        piece = bytes(self._inbuf[:size])
        del self._inbuf[:size]
        start = time.perf_counter()
        # Parse only: line updates are built when they are sent (at most MAX_RATE
        # a second, and only while someone watches), from everything since.
        self.emulator.parse(piece)
        elapsed = time.perf_counter() - start
        if elapsed > 0:
            # A slow EMA: one odd piece must not make the next slice huge.
            self._rate = 0.8 * self._rate + 0.2 * (len(piece) / elapsed)
        replies = self.emulator.take_replies()
        if replies and self.proc is not None and self.alive:
            self.proc.write(replies)
        for event in self.emulator.take_events():
            self._on_event(self, event)
        self._on_output()
        self._screen_changed()

    def _sync_due(self) -> None:
        self._sync_handle = None
        self.flush()

    # ---------------------------------------------------------------- input
    def write(self, data: bytes) -> None:
        """Send input to the program (dropped when it is not running)."""
        if self.proc is not None and self.alive:
            self.proc.write(data)
            if self.recorder is not None:
                self.recorder.input(data)
            if self.proc.pending_output():
                self._watch_writable()

    def _watch_writable(self) -> None:
        proc = self.proc
        assert proc is not None
        loop = asyncio.get_running_loop()

        def writable() -> None:
            if proc.flush() or not self.alive:
                with contextlib.suppress(ValueError, OSError):
                    loop.remove_writer(proc.fd)

        loop.add_writer(proc.fd, writable)

    def resize(self, cols: int, rows: int) -> None:
        """Resize the emulator and the PTY (the program gets SIGWINCH)."""
        self.emulator.resize(cols, rows)
        if self.proc is not None and self.alive:
            self.proc.resize(self.emulator.cols, self.emulator.rows)
        if self.recorder is not None:
            self.recorder.resize(self.emulator.cols, self.emulator.rows)
        self._screen_changed()

    # -------------------------------------------------------------- viewers
    def add_viewer(self, viewer: Viewer) -> None:
        """Start sending updates to `viewer`, beginning with the whole screen."""
        self.flush(force=True)  # others get what is pending first, the newcomer the whole screen
        self.viewers.add(viewer)
        viewer.send(self.full_frame())

    def remove_viewer(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)

    def full_frame(self) -> bytes:
        """A screen event holding every line, the cursor, modes and title."""
        emulator = self.emulator
        lines = {y: line for y, line in enumerate(emulator.visible_lines())}
        return self._frame(lines, 0, full=True, force_meta=True)

    def _screen_changed(self) -> None:
        """The screen may have changed: save it later, and update viewers soon."""
        self._on_screen()
        if not self.viewers or self._flush_handle is not None:
            return
        now = time.monotonic()
        wait = 1.0 / MAX_RATE - (now - self._last_flush)
        if wait <= 0:
            self.flush()  # leading edge: the first change goes out at once
        else:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_at(loop.time() + wait, self.flush)

    def flush(self, force: bool = False) -> None:
        """Send what changed since the last update to every viewer now.

        Without viewers the changes are dropped: whoever attaches next gets the
        whole screen. A frame held by synchronized output is sent when released,
        or when its time-out passes (unless `force`).
        """
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        changes = self.emulator.take_changes(force=force)
        if changes is None:
            remaining = self.emulator.hold_remaining
            if remaining > 0 and self._sync_handle is None:
                # When the hold runs out, not a whole time-out after this flush: the
                # frame may have been held since long before.
                loop = asyncio.get_running_loop()
                self._sync_handle = loop.call_later(remaining, self._sync_due)
            return
        if not self.viewers:
            return
        scroll = min(changes.scrolled, self.emulator.rows)
        frame = self._frame(changes.lines, scroll, full=changes.full)
        self._last_flush = time.monotonic()
        for viewer in list(self.viewers):
            if not viewer.paused:
                viewer.send(frame)

    def _frame(
        self, lines: dict[int, Line], scrolled: int, *, full: bool, force_meta: bool = False
    ) -> bytes:
        emulator = self.emulator
        data: dict[str, object] = {
            "session": self.session_id,
            "tab": self.name,
            "cols": emulator.cols,
            "rows": emulator.rows,
            "cursor": list(emulator.cursor),
            "lines": [[y, protocol.encode_runs(line)] for y, line in sorted(lines.items())],
        }
        if full:
            data["full"] = True
        if scrolled:
            data["scrolled"] = scrolled
        modes = emulator.modes
        if force_meta or modes != self._sent_modes:
            data["modes"] = asdict(modes)
            if not force_meta:
                self._sent_modes = modes
        title = emulator.title
        if force_meta or title != self._sent_title:
            data["title"] = title
            if not force_meta:
                self._sent_title = title
        if self.exit_code is not None:
            data["exit_code"] = self.exit_code
        return protocol.encode({"event": protocol.Event.SCREEN, "data": data})

    # ------------------------------------------------------------ reading
    def screen_text(self) -> str:
        return self.emulator.render_text()

    def scrollback(self, start: int, count: int) -> messages.Scrollback:
        """A page of scrollback lines (0 = oldest) plus the total."""
        total = self.emulator.history_size
        start = max(0, min(start, total))
        stop = max(start, min(total, start + max(0, count)))
        lines = self.emulator.history_lines(start, stop)
        return {
            "total": total,
            "start": start,
            "lines": [protocol.encode_runs(line) for line in lines],
        }


def decode_input(request: messages.SessionInput) -> bytes:
    """Input bytes from a request: `b64` (any bytes) if given, else `text` (UTF-8)."""
    if request.b64 is not None:
        return base64.b64decode(request.b64, validate=True)
    return (request.text or "").encode("utf-8", "surrogateescape")
