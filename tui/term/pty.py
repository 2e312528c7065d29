"""PTY processes: run an agent on a pseudo-terminal, read, write, resize, stop.

A thin, non-blocking layer over `ptyprocess` for an event loop that owns many
sessions (the session host):

- reads return everything available at once, because the kernel hands a PTY's
  output over in ~4 KB pieces and parsing per piece wastes the emulator's time;
- writes are queued and flushed as far as the kernel takes them, so a 1 MB paste
  never blocks the host; the owner calls `flush()` when the fd is writable;
- `stop()` ends the whole session — process group, `setsid` children,
  double-forked daemons — and reaps what it can (see `tui.term.reaper`).

The child starts in its own session (ptyprocess calls `setsid`), so the leader's
pid is also its process group id and session id.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import shutil
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Final

import ptyprocess

from tui.errors import PtuiError
from tui.term.reaper import (
    ENV_TOKEN,
    ProcessFamily,
    ProcInfo,
    enable_subreaper,
    reap_child,
    reap_orphans,
)

__all__ = ["PtyProcess", "enable_subreaper", "reap_orphans"]

READ_CAP: Final = 1 << 20
"""At most this much is read per `read()`, so one flooding session cannot starve the rest."""
_READ_CHUNK: Final = 1 << 16
_WRITE_CHUNK: Final = 1 << 16
_TRACK_INTERVAL: Final = 2.0  # seconds between descendant scans from poll()
_KILL_WAIT: Final = 2.0  # seconds to wait for SIGKILLed processes to be gone
_TICK: Final = 0.02

# Variables describing the *outer* terminal (or multiplexer). The program runs
# on our PTY now; inheriting these would make it size itself from a stale
# COLUMNS or speak a protocol (tmux passthrough, iTerm2 keys) we do not.
_OUTER_TERMINAL_ENV: Final = (
    "COLUMNS",
    "LINES",
    "TMUX",
    "TMUX_PANE",
    "STY",
    "TERM_PROGRAM",
    "TERM_PROGRAM_VERSION",
    "TERM_SESSION_ID",
    "ITERM_SESSION_ID",
    "KITTY_WINDOW_ID",
    "KITTY_PID",
    "VTE_VERSION",
    "WT_SESSION",
    "WEZTERM_PANE",
    "ALACRITTY_WINDOW_ID",
)

# Signals the host may ignore or block (Python ignores SIGPIPE; a server may
# ignore SIGHUP). Ignored dispositions and the mask survive exec, so the agent
# would inherit them: `yes | head` would spin, and stop() could not hang it up.
_RESET_SIGNALS: Final = (
    signal.SIGPIPE,
    signal.SIGXFSZ,
    signal.SIGHUP,
    signal.SIGINT,
    signal.SIGQUIT,
    signal.SIGTERM,
    signal.SIGTSTP,
    signal.SIGTTIN,
    signal.SIGTTOU,
    signal.SIGCHLD,
    signal.SIGWINCH,
)


def _reset_child_signals() -> None:
    """Runs in the forked child before exec: default dispositions, nothing blocked."""
    for sig in _RESET_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def _session_env(extra: Mapping[str, str] | None, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _OUTER_TERMINAL_ENV}
    env["TERM"] = "xterm-256color"
    env["COLORTERM"] = "truecolor"
    env.update(extra or {})
    env[ENV_TOKEN] = token
    return env


def _resolve_program(command: str, path: str, cwd: Path) -> str | None:
    """The executable `command` names, looked up as exec will: in PATH, or from cwd."""
    if "/" in command:
        candidate = cwd / command
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        return None
    return shutil.which(command, path=path)


def _check_size(cols: int, rows: int) -> tuple[int, int]:
    if not (0 < cols <= 0xFFFF and 0 < rows <= 0xFFFF):
        raise ValueError(f"terminal size {cols}x{rows} out of range")
    return cols, rows


class PtyProcess:
    """One program running on its own PTY, driven without ever blocking."""

    fd: int
    """The PTY master, non-blocking; poll it for readable (and writable while
    `pending_output()` is non-zero)."""
    pid: int
    """The session leader: also the process group and session id."""
    eof: bool
    """The PTY reported end of file: no process holds its terminal any more."""

    def __init__(self, proc: ptyprocess.PtyProcess, token: str, argv: Sequence[str]) -> None:
        """Wrap an already spawned ptyprocess; use `PtyProcess.spawn`."""
        self._proc = proc
        self.pid = int(proc.pid)
        self.fd = int(proc.fd)
        self.argv = tuple(argv)
        self.eof = False
        os.set_blocking(self.fd, False)
        os.set_inheritable(self.fd, False)
        self._family = ProcessFamily(self.pid, token)
        self._outgoing = bytearray()
        self._drained = bytearray()  # output read while stopping, handed out by read()
        self._status: int | None = None
        self._closed = False
        self._stopped = False
        self._last_track = time.monotonic()

    @classmethod
    def spawn(
        cls,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        cols: int = 80,
        rows: int = 24,
    ) -> PtyProcess:
        """Start `argv` in `cwd` on a new PTY of `cols` x `rows`.

        The environment is ours minus the outer terminal's variables, with
        `TERM=xterm-256color`, `COLORTERM=truecolor`, then `env` on top (the
        caller's `PTUI_*`), and `PTUI_PTY_ID` so orphans can be recognised.
        Raises PtuiError naming the command or directory if it cannot start.
        """
        if not argv:
            raise PtuiError("cannot start a session: the command is empty")
        command = argv[0]
        cols, rows = _check_size(cols, rows)
        cwd = Path(cwd)
        # Checked before forking: a failing chdir in the forked child would run
        # the host's Python code in the child instead of reporting an error.
        if not cwd.is_dir():
            raise PtuiError(f"cannot start {command}: working directory {cwd} does not exist")
        token = secrets.token_hex(8)
        full_env = _session_env(env, token)
        program = _resolve_program(command, full_env.get("PATH", os.defpath), cwd)
        if program is None:
            raise PtuiError(f"cannot start {command}: command not found")
        try:
            proc = ptyprocess.PtyProcess.spawn(
                [program, *argv[1:]],
                cwd=str(cwd),
                env=full_env,
                dimensions=(rows, cols),
                preexec_fn=_reset_child_signals,
            )
        except OSError as error:
            raise PtuiError(f"cannot start {command}: {error.strerror or error}") from error
        return cls(proc, token, argv)

    @property
    def token(self) -> str:
        """The session's random token: `PTUI_PTY_ID` in the environment of every
        process it starts (how its leftovers are found after a crash)."""
        return self._family.token

    # -- output -------------------------------------------------------------

    def _read_available(self) -> bytes:
        if self._closed or self.eof:
            return b""
        chunks: list[bytes] = []
        total = 0
        while total < READ_CAP:
            try:
                chunk = os.read(self.fd, _READ_CHUNK)
            except BlockingIOError:
                break
            except OSError:
                # EIO: the last holder of the terminal side has gone.
                self.eof = True
                break
            if not chunk:
                self.eof = True
                break
            chunks.append(chunk)
            total += len(chunk)
        return b"".join(chunks)

    def read(self) -> bytes:
        """Everything the program has written that is available now (up to 1 MiB).

        Returns b"" when there is nothing; at end of file also sets `eof`.
        """
        data = self._read_available()
        if self._drained:
            data = bytes(self._drained) + data
            self._drained.clear()
        return data

    # -- input --------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue `data` for the program and send what the kernel takes now."""
        if self._closed:
            return
        self._outgoing += data
        self.flush()

    def flush(self) -> bool:
        """Write queued input as far as the kernel takes it; True when none is left."""
        if self._closed:
            self._outgoing.clear()
            return True
        while self._outgoing:
            try:
                written = os.write(self.fd, self._outgoing[:_WRITE_CHUNK])
            except BlockingIOError:
                return False
            except OSError:
                # EIO: nobody is left to read the input; keeping it would only grow.
                self._outgoing.clear()
                return True
            del self._outgoing[:written]
        return True

    def pending_output(self) -> int:
        """Bytes queued for the program that the kernel has not taken yet."""
        return len(self._outgoing)

    def resize(self, cols: int, rows: int) -> None:
        """Set the terminal size; the kernel sends SIGWINCH to the foreground group."""
        cols, rows = _check_size(cols, rows)
        if self._closed:
            return
        # OSError: the terminal is already gone; nothing is left to resize.
        with contextlib.suppress(OSError):
            self._proc.setwinsize(rows, cols)

    # -- lifecycle ----------------------------------------------------------

    def poll(self) -> int | None:
        """The leader's exit code (negative signal number if killed), or None if running."""
        if self._status is None:
            status = reap_child(self.pid)
            if status is not None:
                self._set_status(status)
            elif time.monotonic() - self._last_track >= _TRACK_INTERVAL:
                # Remember descendants while they are still below the leader, so
                # they are known even if they escape before stop().
                self._last_track = time.monotonic()
                self._family.members(deep=False)
        return self._status

    def _set_status(self, status: int) -> None:
        self._status = status
        self._family.mark_leader_reaped()
        # ptyprocess must not wait for (or signal) a pid that is no longer ours.
        self._proc.terminated = True

    def descendants(self) -> list[int]:
        """Pids of every live or unreaped process of this session except the leader.

        That is the leader's descendants plus anything that left the tree but
        still belongs to the session (see `tui.term.reaper.ProcessFamily`).
        """
        return sorted(self._family.members())

    def stop(self, grace: float = 2.0) -> int | None:
        """End the session and every process it started; returns the exit status.

        SIGHUP and SIGTERM go to the leader's process group and SIGTERM to every
        other member; after `grace` seconds whatever is left gets SIGKILL, and
        members that are our children are reaped. Output printed meanwhile is
        kept for `read()`. Blocks for up to `grace` plus about two seconds, so an
        event loop should run it in a thread. The master fd is closed at the end.
        Returns None only if the leader could not be reaped (stuck in the kernel).
        """
        if self._stopped:
            return self._status
        family = self._family
        self.poll()
        members = family.members()
        if self._status is None:
            self._signal_group(signal.SIGHUP)
            self._signal_group(signal.SIGTERM)
            self._signal_group(signal.SIGCONT)
            strays = [m for m in members.values() if m.pgid != self.pid]
        else:
            strays = list(members.values())
        family.signal(strays, signal.SIGTERM)
        family.signal(strays, signal.SIGCONT)  # a stopped process cannot act on TERM

        deadline = time.monotonic() + max(grace, 0.0)
        while not self._settled() and time.monotonic() < deadline:
            self._wait(_TICK)

        deadline = time.monotonic() + _KILL_WAIT
        while True:
            self.poll()
            members = family.members()
            family.reap(members.values())
            if self._status is not None and not _unfinished(members):
                break
            if time.monotonic() >= deadline:
                break
            if self._status is None:
                self._signal_group(signal.SIGKILL)
            family.signal((m for m in members.values() if not m.zombie), signal.SIGKILL)
            self._wait(_TICK)

        self._drain()
        self._close_fd()
        self._stopped = True
        if self._status is not None and not _unfinished(family.members()):
            family.close()
        return self._status

    def _settled(self) -> bool:
        """Leader reaped and no member left running (reaping our zombie members)."""
        self.poll()
        # Shallow: everything found by the deep scan before signalling is
        # remembered; the kill rounds scan deeply again for late escapees.
        members = self._family.members(deep=False)
        self._family.reap(members.values())
        return self._status is not None and not _unfinished(members)

    def _signal_group(self, sig: int) -> None:
        # Only while the leader is unreaped: until then its pid (our process
        # group id) cannot belong to anyone else.
        if self._status is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, sig)

    def _drain(self) -> None:
        """Keep reading while stopping: a program blocked on a full PTY cannot exit."""
        data = self._read_available()
        if data:
            self._drained += data
            if len(self._drained) > READ_CAP:
                del self._drained[: len(self._drained) - READ_CAP]

    def _wait(self, timeout: float) -> None:
        self._drain()
        if self._closed or self.eof:
            time.sleep(timeout)
        else:
            select.select([self.fd], [], [], timeout)

    def _close_fd(self) -> None:
        if not self._closed:
            self._closed = True
            self.eof = True
            self._outgoing.clear()
            self._proc.fileobj.close()
            # Tell ptyprocess it is closed, or its __del__ would try to kill the pid.
            self._proc.closed = True

    def __enter__(self) -> PtyProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _unfinished(members: dict[int, ProcInfo]) -> bool:
    """Members still running, or exited and waiting for us to reap them."""
    me = os.getpid()
    return any(not m.zombie or m.ppid == me for m in members.values())
