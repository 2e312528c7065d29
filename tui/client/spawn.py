"""Starting the local server on demand, and finding or signalling the one that runs.

The client's half of `tui.server.daemon`: `start_server()` launches `python -m tui
server --foreground --detach --ready-fd N` in a new session and waits for its one
line on the pipe `N` (`ready <pid>`, `running <pid>` when another server won the
race, or `error: <one line>`). `running_pid()` reads the pid from the server's
single-instance lock (`tui.paths.server_lock_file`), held while it runs. Nothing
here imports the session host: a client starts it as a separate process.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import subprocess
import sys
import time

from tui import paths
from tui.errors import ServerError

START_TIMEOUT = 20.0
"""Seconds a started server has to say it serves."""


def running_pid() -> int | None:
    """The pid of the running server (its lock is held), else None."""
    try:
        fd = os.open(paths.server_lock_file(), os.O_RDONLY | os.O_CLOEXEC)
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
    log_file = paths.server_log_file()
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


def signal_server(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def is_missing_socket(exc: OSError) -> bool:
    """Whether connecting failed because no server is there (vs. a real problem)."""
    return exc.errno in (errno.ENOENT, errno.ECONNREFUSED)
