"""Running the server: detach, one per user, log.

- A client (`tui.client.spawn.start_server`) launches `python -m tui server
  --foreground --detach --ready-fd N` in a new session; that process forks once
  more so the server is nobody's child, and reports through the pipe `N` either
  `ready <pid>`, `running <pid>` (another server won the race) or `error: <one line>`.
- One server per user: an `flock` on `<socket dir>/server.lock` (released by the
  kernel if the server dies), which also holds the server's pid.
- The socket is created 0600 (umask) inside the 0700 socket directory; the
  server is a child subreaper, so no process of a session escapes it.
- The log is `<state dir>/logs/server.log`, rotated at `server.log_max_bytes`.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
import logging.handlers
import os
import signal
import socket
import sys
from pathlib import Path

from tui import paths
from tui.errors import PtuiError, ServerError

log = logging.getLogger("ptui.server")


# ------------------------------------------------------------------ server side
def _report(fd: int | None, line: str) -> None:
    if fd is None:
        print(line, file=sys.stderr)
        return
    with contextlib.suppress(OSError):
        os.write(fd, (line + "\n").encode())
        os.close(fd)


def _lock_holder() -> int:
    """The pid the server holding the lock wrote into it (0 if unreadable)."""
    with contextlib.suppress(OSError):
        text = paths.server_lock_file().read_text().strip()
        if text.isdigit():
            return int(text)
    return 0


def _take_lock() -> int | None:
    """Hold the single-instance lock; None if another server has it."""
    fd = os.open(paths.server_lock_file(), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
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
    log_file = paths.server_log_file()
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
            _report(ready_fd, f"running {_lock_holder()}")
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
