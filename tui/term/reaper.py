"""Process families: find, kill and reap everything a PTY session started.

When an agent's PTY goes away only the session leader gets SIGHUP; background
jobs, `setsid` children and double-forked daemons survive, and `killpg` misses
every one that left the process group. So each session is a `ProcessFamily`:

- its members are the leader's descendants, plus any process still in the
  leader's session (sid), plus any process seen as a member before (pid and
  start time, so a reused pid never matches), plus our own direct children whose
  environment carries the session's `PTUI_PTY_ID` token (an orphan reparented to
  us after a double fork, seen for the first time);
- with `enable_subreaper()` the owning process becomes the reaper of every
  orphan below it, so nothing escapes to init and every zombie can be reaped.

Processes are found by scanning `/proc/<pid>/stat` (ppid, pgid, sid, start
time). `/proc/<pid>/task/*/children` would be cheaper but depends on
CONFIG_PROC_CHILDREN, which some kernels (this VM's included) leave out, and the
sid / seen-before tests need the whole table anyway.

Rules kept throughout: never signal a process that is not a member (signals go
through a pidfd checked against the recorded start time), and never `waitpid`
anything but a member that is our own child — other children of the host (a
`subprocess.Popen` it is waiting for) keep their exit status. Linux only; on
other systems the helpers report that they cannot help and do nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

__all__ = [
    "ENV_TOKEN",
    "ProcInfo",
    "ProcessFamily",
    "enable_subreaper",
    "is_subreaper",
    "process_table",
    "processes_with_token",
    "read_proc",
    "reap_orphans",
    "signal_exact",
]

# prctl(2) options, from <linux/prctl.h>.
_PR_SET_CHILD_SUBREAPER: Final = 36
_PR_GET_CHILD_SUBREAPER: Final = 37

ENV_TOKEN: Final = "PTUI_PTY_ID"
"""Environment variable carrying a session's random token into its processes."""


def _prctl(option: int, arg: int | ctypes.c_int | ctypes._Pointer[ctypes.c_int]) -> int:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return -1
    result: int = prctl(option, arg, 0, 0, 0)
    return result


def enable_subreaper() -> bool:
    """Make this process the reaper of orphans among its descendants.

    Without it, a `setsid` child or double-forked daemon of an agent is
    reparented to init once its parent dies: it can still be killed (if it was
    seen) but never reaped by us. Returns False where prctl is unavailable.
    """
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1) == 0


def is_subreaper() -> bool:
    """Whether this process is currently a child subreaper."""
    value = ctypes.c_int(0)
    if _prctl(_PR_GET_CHILD_SUBREAPER, ctypes.pointer(value)) != 0:
        return False
    return value.value != 0


@dataclass(frozen=True)
class ProcInfo:
    """One line of `/proc/<pid>/stat`, the fields process tracking needs."""

    pid: int
    ppid: int
    pgid: int
    sid: int
    state: str
    start: int
    """Start time in clock ticks since boot: with pid, a process's identity."""

    @property
    def zombie(self) -> bool:
        """Exited but not yet reaped by its parent."""
        return self.state in ("Z", "X")


def _parse_stat(pid: int, data: bytes) -> ProcInfo | None:
    # The command name is in parentheses and may itself contain ") ", so split
    # at the last one; field 3 (state) follows it.
    _, _, rest = data.rpartition(b")")
    fields = rest.split()
    if len(fields) < 20:
        return None
    return ProcInfo(
        pid=pid,
        ppid=int(fields[1]),
        pgid=int(fields[2]),
        sid=int(fields[3]),
        state=fields[0].decode("ascii", "replace"),
        start=int(fields[19]),
    )


def read_proc(pid: int) -> ProcInfo | None:
    """The process's current stat line, or None once it has been reaped."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return _parse_stat(pid, stat.read())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def process_table() -> dict[int, ProcInfo]:
    """Every process visible in /proc, by pid."""
    table: dict[int, ProcInfo] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if name.isdecimal():
            info = read_proc(int(name))
            if info is not None:
                table[info.pid] = info
    return table


def signal_exact(info: ProcInfo, sig: int) -> bool:
    """Send `sig` to exactly the process `info` describes; False if it is gone.

    A pidfd pins the process, and its start time is checked after pinning, so a
    pid reused by an unrelated process in the meantime is never signalled.
    """
    try:
        pidfd = os.pidfd_open(info.pid)
    except ProcessLookupError:
        return False
    except (OSError, AttributeError):
        # No pidfd (old kernel): the start-time check narrows the race to microseconds.
        current = read_proc(info.pid)
        if current is None or current.start != info.start:
            return False
        try:
            os.kill(info.pid, sig)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    try:
        current = read_proc(info.pid)
        if current is None or current.start != info.start:
            return False
        signal.pidfd_send_signal(pidfd, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False
    finally:
        os.close(pidfd)


def _environ_has(pid: int, entry: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as environ:
            return entry in environ.read().split(b"\0")
    except OSError:
        return False


def processes_with_token(token: str) -> list[ProcInfo]:
    """Every process but this one whose environment carries session `token`.

    What is left of a session whose owner died without stopping it: a recorded
    pid may have been reused by anything since, the random token cannot. Signal
    them with `signal_exact`, which also spares a pid reused after this scan.
    """
    marker = f"{ENV_TOKEN}={token}".encode()
    me = os.getpid()
    return [
        info
        for info in process_table().values()
        if info.pid != me and _environ_has(info.pid, marker)
    ]


class ProcessFamily:
    """Every process one PTY session started, however it tried to leave."""

    def __init__(self, leader: int, token: str) -> None:
        self.leader = leader
        self.token = token
        self._marker = f"{ENV_TOKEN}={token}".encode()
        self._seen: dict[int, int] = {}  # pid -> start time of members seen before
        leader_info = read_proc(leader)
        # Nothing of this session can be older than its leader: only younger
        # processes are worth opening /proc/<pid>/environ for.
        self._leader_start = leader_info.start if leader_info is not None else 0
        self._leader_reaped = False
        # The leader's pid names its session for as long as any process is in
        # it (the kernel will not reuse a pid still in use as a sid); once the
        # session empties after the leader is reaped, sid matching stops.
        self._sid_valid = True
        _families[leader] = self

    def mark_leader_reaped(self) -> None:
        """The leader's exit status has been collected; its pid may be reused."""
        self._leader_reaped = True

    def members(
        self, table: dict[int, ProcInfo] | None = None, *, deep: bool = True
    ) -> dict[int, ProcInfo]:
        """Live (or unreaped) members other than the leader, remembered for later.

        `deep` looks for the session token in every younger process's
        environment (finds a double-forked daemon that went to init without ever
        being seen); otherwise only our own children are checked, which is
        enough with the subreaper and cheap enough for a periodic tick.
        """
        if table is None:
            table = process_table()
        me = os.getpid()
        leaders = set(_families)
        roots: list[int] = []
        if not self._leader_reaped and self.leader in table:
            roots.append(self.leader)
        sid_alive = False
        for info in table.values():
            if info.pid in leaders or info.pid in (me, 1):
                continue
            in_session = self._sid_valid and info.sid == self.leader
            sid_alive = sid_alive or in_session
            if (
                in_session
                or self._seen.get(info.pid) == info.start
                or (
                    (deep or info.ppid == me)
                    and info.start >= self._leader_start
                    and not info.zombie
                    and _environ_has(info.pid, self._marker)
                )
            ):
                roots.append(info.pid)
        if self._leader_reaped and not sid_alive:
            self._sid_valid = False

        children: dict[int, list[int]] = {}
        for info in table.values():
            children.setdefault(info.ppid, []).append(info.pid)
        found: dict[int, ProcInfo] = {}
        while roots:
            pid = roots.pop()
            if pid in found or pid == me:
                continue
            found[pid] = table[pid]
            roots.extend(children.get(pid, ()))
        for leader in leaders:
            found.pop(leader, None)
        self._seen = {pid: info.start for pid, info in found.items()}
        return found

    def signal(self, members: Iterable[ProcInfo], sig: int) -> None:
        """Send `sig` to each member (never to anything else)."""
        for info in members:
            signal_exact(info, sig)

    def reap(self, members: Iterable[ProcInfo]) -> list[int]:
        """Collect the exit status of members that are our children and have exited."""
        me = os.getpid()
        reaped: list[int] = []
        for info in members:
            if info.ppid != me:
                continue
            try:
                pid, _ = os.waitpid(info.pid, os.WNOHANG)
            except ChildProcessError:
                continue
            if pid:
                reaped.append(pid)
        return reaped

    def close(self) -> None:
        """Stop tracking this family (its leader is reaped and no member is left)."""
        if _families.get(self.leader) is self:
            del _families[self.leader]


# Live families by leader pid. Weak: a family lives as long as its PtyProcess.
_families: weakref.WeakValueDictionary[int, ProcessFamily] = weakref.WeakValueDictionary()


def reap_orphans() -> list[int]:
    """Reap exited orphans of every live session; returns the pids reaped.

    With the subreaper on, an agent's orphaned children become ours; when they
    exit they stay zombies until someone waits for them. Call this from the
    owner's SIGCHLD handling or a periodic tick. Children of ours that belong to
    no session (and session leaders, whose status `PtyProcess.poll` collects)
    are left alone. The scan also remembers live orphans, so they are known
    members when their session is stopped.
    """
    if not _families:
        return []
    table = process_table()
    reaped: list[int] = []
    for family in list(_families.values()):
        reaped += family.reap(family.members(table, deep=False).values())
    return reaped


def reap_child(pid: int) -> int | None:
    """Non-blocking waitpid of our child `pid`: its exit code (-signal), or None.

    Returns 255 when the status was already collected by someone else (ECHILD),
    which only happens if the host ignores SIGCHLD or waits for any child.
    """
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return 255
    if done == 0:
        return None
    return os.waitstatus_to_exitcode(status)
