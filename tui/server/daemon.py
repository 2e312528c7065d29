"""Running the server: start on demand, detach, one per user, log, stop.

- `start_server()` (called by any ptui command that finds no server) launches
  `python -m tui server --foreground --detach --ready-fd N` in a new session; that
  process forks once more so the server is nobody's child, and reports through the
  pipe `N` either `ready <pid>`, `running <pid>` (another server won the race) or
  `error: <one line>`.
- One server per user: an `flock` on `<socket dir>/server.lock` (released by the
  kernel if the server dies), which also holds the server's pid.
- The socket is created 0600 (umask) inside the 0700 socket directory; the
  server is a child subreaper, so no process of a session escapes it.
- The log is `<state dir>/logs/server.log`, rotated at `server.log_max_bytes`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import logging
import logging.handlers
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tui import paths
from tui.errors import PtuiError

log = logging.getLogger("ptui.server")

LOCK_NAME = "server.lock"
LOG_NAME = "server.log"
START_TIMEOUT = 20.0


class ServerError(PtuiError):
    """The server could not be started, reached or stopped."""


def lock_path() -> Path:
    return paths.socket_dir() / LOCK_NAME


def running_pid() -> int | None:
    """The pid of the running server (its lock is held), else None."""
    try:
        fd = os.open(lock_path(), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 32, 0).decode(errors="replace").strip()
            return int(text) if text.isdigit() else 0
        return None
    finally:
        os.close(fd)


# ------------------------------------------------------------------ client side
def start_server() -> int:
    """Start a detached server and wait until it serves; returns its pid."""
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tui",
                "server",
                "--foreground",
                "--detach",
                "--ready-fd",
                str(write_fd),
            ],
            pass_fds=(write_fd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        os.close(read_fd)
        os.close(write_fd)
        raise ServerError(f"cannot start the ptui server: {exc.strerror or exc}") from None
    os.close(write_fd)
    try:
        report = _read_report(read_fd, START_TIMEOUT)
    finally:
        os.close(read_fd)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    word, _, rest = report.partition(" ")
    if word in ("ready", "running") and rest.strip().isdigit():
        return int(rest)
    if word == "error:":
        raise ServerError(f"the ptui server did not start: {rest}")
    log_file = paths.log_dir() / LOG_NAME
    raise ServerError(f"the ptui server did not start (no answer); see {log_file}")


def _read_report(fd: int, timeout: float) -> str:
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").strip()


def wait_stopped(pid: int, timeout: float = 20.0) -> bool:
    """Wait until the server's lock is released (it has fully exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running_pid() is None:
            return True
        time.sleep(0.02)
    return False


# ------------------------------------------------------------------ server side
def _report(fd: int | None, line: str) -> None:
    if fd is None:
        print(line, file=sys.stderr)
        return
    with contextlib.suppress(OSError):
        os.write(fd, (line + "\n").encode())
        os.close(fd)


def _take_lock() -> int | None:
    """Hold the single-instance lock; None if another server has it."""
    fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _setup_logging(detached: bool) -> Path:
    from tui.config import load_config

    max_bytes = load_config(None).server.log_max_bytes
    log_dir = paths.log_dir()
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    log_file = log_dir / LOG_NAME
    handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=max_bytes, backupCount=3)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("ptui")
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    if detached:
        # Anything written to stderr (a crash in a C extension, a warning) lands
        # next to the log instead of nowhere.
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.close(null)
        err = os.open(log_dir / "server.stderr", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(err, 2)
        os.close(err)
    return log_file


def _bind(path: Path) -> socket.socket:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # we hold the lock: whatever is there is a dead server's
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)  # created 0600: no window in which others could connect
    try:
        sock.bind(str(path))
    except OSError as exc:
        sock.close()
        raise ServerError(f"{path}: cannot create socket: {exc.strerror or exc}") from None
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(128)
    sock.setblocking(False)
    return sock


def serve(*, ready_fd: int | None, detach: bool) -> int:
    """Run the server in this process until it is stopped; returns the exit status."""
    if detach and os.fork():
        os._exit(0)  # the launcher's child exits; the server continues, parentless
    try:
        sock_dir = paths.socket_dir()
        lock_fd = _take_lock()
        if lock_fd is None:
            _report(ready_fd, f"running {running_pid() or 0}")
            return 0
        _setup_logging(detach)
        sock = _bind(sock_dir / paths.SOCKET_NAME)
    except (PtuiError, OSError) as exc:
        message = str(exc) if isinstance(exc, PtuiError) else f"{exc.strerror or exc}"
        _report(ready_fd, "error: " + " ".join(message.split()))
        return 1

    from tui.server.host import Host
    from tui.term.pty import enable_subreaper

    enable_subreaper()
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    # Long-lived and allocation-heavy (line models): fewer young-generation
    # collections, each still short enough not to show in a keystroke's echo,
    # and nothing imported so far is ever scanned again.
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 100)

    import asyncio

    host = Host(sock, sock_dir / paths.SOCKET_NAME)
    try:
        asyncio.run(host.run(lambda: _report(ready_fd, f"ready {os.getpid()}")))
    except PtuiError as exc:
        log.error("%s", exc)
        _report(ready_fd, "error: " + " ".join(str(exc).split()))
        return 1
    except Exception:
        log.exception("server crashed")
        _report(ready_fd, "error: the server crashed; see the log")
        return 1
    finally:
        os.close(lock_fd)
    return 0


def signal_server(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def is_missing_socket(exc: OSError) -> bool:
    """Whether connecting failed because no server is there (vs. a real problem)."""
    return exc.errno in (errno.ENOENT, errno.ECONNREFUSED)
