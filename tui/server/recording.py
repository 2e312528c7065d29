"""Saving a tab's raw output as an asciicast v2 file (`ptui record`), headless.

A `Recorder` hangs off a `Tab` (`tab.recorder`) while it records; the tab calls it with
the bytes read from the PTY (before parsing), the input written to the program, each
resize and the program's end. The file is asciicast v2
(https://docs.asciinema.org/manual/asciicast/v2/): a JSON header line, then one JSON
array per event: `[t, "o", text]` output, `[t, "i", text]` input, `[t, "r", "COLSxROWS"]`
resize, `[t, "m", "exit:CODE"]` the end (then the file is closed). `asciinema play FILE`
plays it.

Writing never holds up the event loop: events are encoded into a buffer that a worker
thread writes out every `FLUSH_INTERVAL` seconds (sooner once `FLUSH_SIZE` bytes wait),
one write at a time. A program that floods faster than the disk takes it would grow that
buffer without end, so past `MAX_PENDING` bytes the recording stops (what was buffered is
still written) and the server log says why; so does a write error. Neither touches the
session.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final

from tui.errors import PtuiError
from tui.protocol import messages

if TYPE_CHECKING:
    from tui.server.tab import Tab

log = logging.getLogger("ptui.server")

FLUSH_INTERVAL: Final = 0.5
"""Seconds events wait in memory before they are written, at most (unless the disk lags)."""
FLUSH_SIZE: Final = 1 << 20
"""Bytes waiting that start a write at once: a flood is written in pieces, not held."""
MAX_PENDING: Final = 16 << 20
"""Bytes buffered and being written past which the disk is too slow: the recording stops."""
TERM: Final = "xterm-256color"
"""What every program on a ptui PTY is told it runs in (`tui.term.pty`)."""


class Recorder:
    """One tab's recording: events in, buffered, written by a worker thread."""

    def __init__(
        self,
        path: Path,
        file: BinaryIO,
        *,
        cols: int,
        rows: int,
        session: str,
        tab: str,
        agent: str,
        on_end: Callable[[Recorder], None] = lambda recorder: None,
    ) -> None:
        self.path = path
        self.events = 0
        """Output events recorded so far."""
        self.error = ""
        """Why the recording stopped by itself ("" while it runs or when stopped as asked)."""
        self._file = file
        self._on_end = on_end
        self._label = f"recording of {session}/{tab} to {path}"
        self._size = (cols, rows)
        self._start = time.monotonic()
        # Incremental: a character split between two reads is decoded whole, not as two
        # replacement characters.
        self._out = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._in = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer: list[bytes] = []
        self._pending = 0  # bytes in _buffer
        self._writing = 0  # bytes the worker is writing now (0: none in flight)
        self._timer: asyncio.TimerHandle | None = None
        self._ending = False  # no more events; the last write closes the file
        self._done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        header = {
            "version": 2,
            "width": cols,
            "height": rows,
            "timestamp": int(time.time()),
            "env": {"TERM": TERM},
            "ptui": {"session": session, "tab": tab, "agent": agent},
        }
        self._add(json.dumps(header, ensure_ascii=False))

    @property
    def recording(self) -> bool:
        """Events are still taken (not stopping, stopped or failed)."""
        return not self._ending

    # ----------------------------------------------------------- events
    def output(self, data: bytes) -> None:
        """Bytes the program wrote (as read from the PTY)."""
        if self._ending:
            return
        text = self._out.decode(data)
        if text:
            self.events += 1
            self._event("o", text)

    def input(self, data: bytes) -> None:
        """Bytes written to the program (keys, pastes, `ptui send`)."""
        if self._ending:
            return
        text = self._in.decode(data)
        if text:
            self._event("i", text)

    def resize(self, cols: int, rows: int) -> None:
        """The terminal's size now; recorded only when it changed."""
        if (cols, rows) != self._size:
            self._size = (cols, rows)
            self._event("r", f"{cols}x{rows}")

    def exited(self, code: int | None) -> None:
        """The program ended: record it and close the file."""
        if self._ending:
            return
        self._drain_decoders()
        self._event("m", f"exit:{code if code is not None else -1}")
        self._end()

    async def stop(self) -> None:
        """Stop as asked: write what is left, close the file, and return once closed."""
        if not self._ending:
            self._drain_decoders()
            self._end()
        await asyncio.shield(self._done)

    def _drain_decoders(self) -> None:
        # A program that ends inside a character: its bytes are shown as U+FFFD.
        if tail := self._out.decode(b"", final=True):
            self.events += 1
            self._event("o", tail)
        if tail := self._in.decode(b"", final=True):
            self._event("i", tail)

    def _event(self, kind: str, text: str) -> None:
        if self._ending:
            return
        elapsed = round(time.monotonic() - self._start, 6)
        self._add(json.dumps([elapsed, kind, text], ensure_ascii=False))

    def _add(self, line: str) -> None:
        data = (line + "\n").encode("utf-8", "surrogateescape")
        self._buffer.append(data)
        self._pending += len(data)
        if self._pending + self._writing > MAX_PENDING:
            # The disk does not keep up with this program: stop rather than grow.
            self._fail(
                f"the disk did not keep up ({(self._pending + self._writing) >> 20} MiB waiting)"
            )
            return
        if self._writing:
            return  # the write in flight starts the next one when it is done
        if self._pending >= FLUSH_SIZE:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_INTERVAL, self._flush)

    # ---------------------------------------------------------- writing
    def _flush(self, *, close: bool = False) -> None:
        """Hand what is buffered to a worker thread (one write in flight at a time)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._writing or (not self._buffer and not close):
            return
        chunk = b"".join(self._buffer)
        self._buffer.clear()
        self._pending = 0
        self._writing = max(1, len(chunk))
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, _write, self._file, chunk, close)
        future.add_done_callback(lambda done: self._written(done, close))

    def _written(self, done: asyncio.Future[None], closed: bool) -> None:
        self._writing = 0
        error = done.exception() if not done.cancelled() else None
        if error is not None:
            self._ending = True
            self.error = self.error or f"cannot write {self.path}: {error}"
            log.warning("%s stopped: %s", self._label, self.error)
            self._buffer.clear()
            self._pending = 0
            if not closed:
                with contextlib.suppress(OSError):
                    self._file.close()
            self._finished()
        elif closed:
            self._finished()
        elif self._ending:
            self._flush(close=True)
        elif self._pending >= FLUSH_SIZE:
            self._flush()
        elif self._buffer and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_INTERVAL, self._flush)

    def _fail(self, why: str) -> None:
        self.error = why
        log.warning("%s stopped: %s", self._label, why)
        self._end()

    def _end(self) -> None:
        """Take no more events; the last write (now, or after the one in flight) closes."""
        self._ending = True
        if not self._writing:
            self._flush(close=True)

    def _finished(self) -> None:
        if not self._done.done():
            self._done.set_result(None)
            self._on_end(self)


def _write(file: BinaryIO, chunk: bytes, close: bool) -> None:
    """In a worker thread: write `chunk`, and close the file if asked."""
    try:
        if chunk:
            file.write(chunk)
            file.flush()
    finally:
        if close:
            file.close()


# -------------------------------------------------------------- requests
def _create(path: Path) -> BinaryIO:
    """Create `path` for writing; it must not exist (nothing is ever overwritten)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        raise PtuiError(f"{path} already exists; record to a new file") from None
    except OSError as exc:
        raise PtuiError(f"cannot create {path}: {exc.strerror or exc}") from None
    return os.fdopen(fd, "wb")


def _check_path(raw: str) -> Path:
    """The file a request names, refused (one line) unless it can be a new recording."""
    path = Path(raw)
    if not path.is_absolute():
        raise PtuiError(f"the recording's path must be absolute, not {raw!r}")
    if not path.parent.is_dir():
        raise PtuiError(f"cannot record to {path}: folder {path.parent} does not exist")
    if path.exists() or path.is_symlink():
        raise PtuiError(f"{path} already exists; record to a new file")
    return path


def _answer(session: str, tab: Tab, path: str, recorder: Recorder | None) -> messages.Recording:
    return {
        "id": session,
        "tab": tab.name,
        "path": path,
        "recording": recorder is not None and recorder.recording,
        "events": recorder.events if recorder is not None else 0,
    }


async def record(
    tab: Tab, *, session: str, agent: str, path: str, stop: bool
) -> messages.Recording:
    """`session.record`: start recording `tab` to `path`, stop (`stop`), or say how it is.

    Refused, with nothing created: a relative path, a missing folder, an existing file,
    a tab already recorded, a tab whose program is not running.
    """
    current = tab.recorder
    where = f"session {session!r} tab {tab.name!r}"
    if stop:
        if path:
            raise PtuiError("give a path to start recording, or stop, not both")
        if current is None:
            raise PtuiError(f"{where} is not being recorded")
        await current.stop()
        # The file just finished: where it is and how much it holds.
        answer = _answer(session, tab, str(current.path), current)
        answer["recording"] = False
        return answer
    if not path:
        return _answer(session, tab, str(current.path) if current else "", current)
    if current is not None:
        raise PtuiError(
            f"{where} is already being recorded to {current.path} "
            f"(stop that first: ptui record {session} --stop)"
        )
    if not tab.alive:
        raise PtuiError(f"{where} is not running: there is nothing to record")
    target = _check_path(path)
    file = await asyncio.to_thread(_create, target)
    if tab.recorder is not None or not tab.alive:  # changed while the file was made
        file.close()
        with contextlib.suppress(OSError):
            target.unlink()
        raise PtuiError(f"{where} is already being recorded, or stopped meanwhile")

    def ended(recorder: Recorder) -> None:
        if tab.recorder is recorder:
            tab.recorder = None

    cols, rows = tab.emulator.cols, tab.emulator.rows
    recorder = Recorder(
        target, file, cols=cols, rows=rows, session=session, tab=tab.name, agent=agent,
        on_end=ended,
    )  # fmt: skip
    tab.recorder = recorder
    log.info("recording %s/%s to %s", session, tab.name, target)
    return _answer(session, tab, str(target), recorder)
