"""`ptui bench crash`: kill -9 the server inside random operations; count what is lost.

In a scratch repository under a private HOME (`bench_world`), each round:

1. creates a session with a tricky tree (`make_tricky_tree`) and takes manifests
   of it and of the main checkout;
2. starts a `Writer` in the worktree, picks an operation and a kill point from
   `OPERATIONS` (seeded; some rounds have no kill: a plain run with the writer)
   and runs the verb with `PTUI_FAULT`, so the server SIGKILLs itself there;
3. restarts: the next `ptui` command starts a fresh server, which recovers on
   its own, and checks that every manifest file and every file the writer wrote
   is in the worktree, or comes back with `ptui restore`; that a merge is all or
   nothing in the main checkout; that the verbs fitting the session's state work
   and `ptui doctor` is clean. A round where one does not is a manual step: the
   user would have had to repair something by hand.

Recovery time runs from the restarted server serving (`ptui server` has started
it; the server rolls interrupted operations forward or back in the background
from then on) to the first answer of a verb on the session that takes its lock:
`stop`, which waits for the session's recovery to finish, then succeeds on a
ready session or is refused on an archived one. It goes through the protocol
client in this process, so the ~0.1 s start-up of a `ptui` command is not in
it; the restart itself (`restart_median_ms`: process start, imports, reading the
state) is printed beside it. Everything else goes through the real `ptui` binary.

The helpers (`Ptui`, `prepare`, `crash`, `recover`) also drive
the fault walk in `tests/server/test_fault_walk.py`.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from tui.bench.latency_bench import bench_world
from tui.bench.manifest import (
    Manifest,
    Writer,
    compare,
    git_head,
    main_checkout_problems,
    make_tricky_tree,
    missing,
    take_manifest,
)
from tui.client.connection import Client
from tui.errors import PtuiError, UsageError
from tui.protocol import LifecycleState, RemoteError, messages
from tui.server.journal import FAULT_ENV, OPERATIONS

if TYPE_CHECKING:
    from tui.cli.sessions import ListedSession

UNIT_STEPS: Final = (("archive", "remove"), ("restore", "files"), ("merge", "checkout"))
"""Long steps that also take a kill at their N-th unit of work (file removed, ...)."""

SETTLING: Final = frozenset(
    {
        LifecycleState.CREATING,
        LifecycleState.ARCHIVING,
        LifecycleState.RESTORING,
        LifecycleState.MERGING,
        LifecycleState.REMOVING,
    }
)
"""States an operation passes through; recovery must leave them on its own. Not
setting-up: after a kill it means "setup runs again at the next start", which
the verbs that fit it (stop, resume, archive) handle."""

ABSENT: Final = "absent"
WRITERS: Final = ("none", "late", "stream")
"""A round's writer: none, single late writes, or a stream and late writes. Any
write during an archive makes it stop before removing (as it should), so the
kills inside removal need the rounds without one."""
PLAIN_SHARE: Final = 0.125
SETUP_SCRIPT: Final = 'printf ok > "$PTUI_WORKTREE/.setup-done"'
"""Idempotent: setup runs again after a kill, and a second run changes no file."""


def fault_points(units: int = 3) -> list[str]:
    """Every kill point: each step of each operation, and units 1..`units` of long steps."""
    points = [f"{name}:{step}" for name, op in OPERATIONS.items() for step in op.steps]
    for name, step in UNIT_STEPS:
        if name in OPERATIONS and step in OPERATIONS[name].steps:
            points += [f"{name}:{step}:{n}" for n in range(1, units + 1)]
    return points


def verb_for(op: str, sid: str, agent: str) -> list[str]:
    """The command line that runs operation `op` on session `sid`."""
    create = ["new", f"crash bench {sid}", "--name", sid, "--agent", agent]
    verbs = {
        "new": create,
        "setup": create,
        "archive": ["archive", sid],
        "restore": ["restore", sid],
        "merge": ["merge", sid],
        "commit": ["commit", sid, "-m", f"crash bench {sid}"],
        "rm": ["rm", sid, "--force"],
    }
    if op not in verbs:
        raise PtuiError(f"bench crash: no verb for the operation {op!r}; add it to verb_for")
    return verbs[op]


def lifecycle(session: ListedSession | None) -> str:
    """A listed session's lifecycle state (`absent` when it is not listed)."""
    if session is None:
        return ABSENT
    value = session.get("lifecycle")
    if not isinstance(value, str):
        raise PtuiError(f"ptui ls --json: session {session.get('id')!r} has no lifecycle")
    return value


def is_dead(pid: int) -> bool:
    """True once `pid` is gone or a zombie (a killed server nobody has reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except FileNotFoundError:
        return True
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


def wait_dead(pid: int, timeout: float) -> bool:
    """Wait up to `timeout` seconds for `pid` to die; whether it did."""
    deadline = time.monotonic() + timeout
    while not is_dead(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def first_line(result: subprocess.CompletedProcess[str]) -> str:
    """A command's exit status and the first line it said, for a failure message."""
    text = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[0]
    return f"exit {result.returncode}: {text[:200]}"


def doctor_says(result: subprocess.CompletedProcess[str]) -> str:
    """`ptui doctor --json`'s findings on one line (its JSON spans many)."""
    try:
        found = json.dumps(json.loads(result.stdout), separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return first_line(result)
    return f"exit {result.returncode}: {found[:400]}"


class Ptui:
    """The real `ptui` binary, run in `cwd` with this process's environment minus any fault."""

    def __init__(self, cwd: Path, *, timeout: float = 120.0) -> None:
        script = Path(sys.executable).with_name("ptui")
        self.command = [str(script)] if script.is_file() else [sys.executable, "-m", "tui"]
        self.cwd = cwd
        self.timeout = timeout

    def __call__(self, *args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
        if fault is not None:
            env[FAULT_ENV] = fault
        argv = [*self.command, *args]
        try:
            return subprocess.run(
                argv, cwd=self.cwd, env=env, capture_output=True, text=True,
                timeout=self.timeout, stdin=subprocess.DEVNULL, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            # A hung verb is a finding, not a reason to stop the run.
            return subprocess.CompletedProcess(argv, 124, "", f"timed out after {self.timeout} s")

    def sessions(self) -> dict[str, ListedSession]:
        """`ptui ls --all --json` by id; raises when ls fails."""
        result = self("ls", "--all", "--json")
        if result.returncode != 0:
            raise PtuiError(f"ptui ls --all --json: {first_line(result)}")
        return {str(s["id"]): s for s in json.loads(result.stdout)}

    def server_pid(self) -> int | None:
        """The running server's pid (None when none runs; asking starts none)."""
        result = self("server", "--status", "--json")
        if result.returncode != 0:
            return None
        return int(json.loads(result.stdout)["pid"])

    def start_server(self, fault: str | None = None) -> int:
        """Start the server (its environment carrying `fault`); its pid."""
        result = self("server", "--json", fault=fault)
        try:
            return int(json.loads(result.stdout)["pid"])
        except (ValueError, KeyError, TypeError):
            raise PtuiError(
                f"bench crash: the server did not start: {first_line(result)}"
            ) from None

    def stop_server(self) -> None:
        """Stop the server without asking; kill it when that does not work."""
        result = self("server", "--stop", "--force", "--json")
        try:
            answer = json.loads(result.stdout)
        except ValueError:
            answer = {}
        if result.returncode == 0 and not answer.get("stopped"):
            return  # none was running
        pid = answer.get("pid") or self.server_pid()
        if pid is None:
            return
        if not (answer.get("stopped") and wait_dead(pid, 20)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            wait_dead(pid, 20)

    def wait_ready(self, sid: str, timeout: float = 30.0) -> ListedSession:
        """Wait until the session has left creating and setting-up; its ls entry."""
        deadline = time.monotonic() + timeout
        while True:
            session = self.sessions().get(sid)
            if lifecycle(session) == LifecycleState.READY and session is not None:
                return session
            if time.monotonic() > deadline:
                raise PtuiError(f"bench crash: {sid} not ready after {timeout} s: {session}")
            time.sleep(0.05)


def prepare(
    ptui: Ptui, sid: str, *, agent: str, seed: int, big_bytes: int
) -> tuple[Path, Manifest]:
    """A ready session with a tricky tree: its worktree and manifest."""
    result = ptui("new", f"crash bench {sid}", "--name", sid, "--agent", agent, "--json")
    if result.returncode != 0:
        raise PtuiError(f"bench crash: ptui new {sid}: {first_line(result)}")
    [created] = json.loads(result.stdout)
    if lifecycle(created) != LifecycleState.READY:  # setup still running
        created = ptui.wait_ready(sid)
    worktree = Path(created["worktree"])
    make_tricky_tree(worktree, seed=seed, big_bytes=big_bytes)
    return worktree, take_manifest(worktree)


@dataclass
class Crash:
    """A verb run with a kill point: did the server die there?"""

    point: str | None
    fired: bool
    verb: subprocess.CompletedProcess[str]


def crash(
    ptui: Ptui,
    argv: list[str],
    point: str | None,
    *,
    linger: float = 1.0,
    on_start: Callable[[], None] | None = None,
) -> Crash:
    """Run `argv` on a server started with `PTUI_FAULT=point` (none: a plain run).

    The server is started first so its pid is known; `on_start` runs just before
    the verb (to start a writer); `linger` is how long the server may take to die
    after the verb returns (setup runs after `new` has answered). No server
    carrying the fault is left running.
    """
    if point is None:
        if on_start is not None:
            on_start()
        return Crash(None, False, ptui(*argv))
    ptui.stop_server()
    pid = ptui.start_server(fault=point)
    if on_start is not None:
        on_start()
    verb = ptui(*argv, fault=point)
    fired = wait_dead(pid, 5.0 if verb.returncode != 0 else linger)
    ptui.stop_server()  # the faulted one when it never reached its point
    return Crash(point, fired, verb)


@dataclass
class Recovery:
    """What the first commands after a kill found."""

    state: str
    """The session's lifecycle state once recovered (`absent` when it is gone)."""
    first_ok_s: float | None = None
    """From the restarted server serving to its first answer to a verb on the session
    that needs the session recovered (see the module docstring)."""
    restart_s: float | None = None
    """How long `ptui server` took to start the server until it served."""
    failures: list[str] = field(default_factory=list)
    """Verbs that fit the state and failed, a stuck state, doctor's problems."""
    lost: list[str] = field(default_factory=list)
    checked: int = 0


def recover(
    ptui: Ptui,
    sid: str,
    *,
    before: Manifest | None,
    written: dict[str, bytes] | None = None,
    recreate: list[str] | None = None,
) -> Recovery:
    """Restart (the next command), then check files and the verbs that fit the state.

    `before` is the session's manifest from before the operation (None when the
    operation made the session); `recreate` is the command that must work when
    the session is gone (for `new` and `rm`: its name is free again).
    """
    written = written or {}
    found = Recovery(ABSENT)
    lost: set[str] = set()
    try:
        begun = time.monotonic()
        ptui.start_server()
        serving = time.monotonic()
        found.restart_s = serving - begun
        if _first_answer(sid):
            found.first_ok_s = time.monotonic() - serving
    except PtuiError as exc:
        found.failures.append(str(exc))

    def run(*args: str) -> subprocess.CompletedProcess[str] | None:
        result = ptui(*args)
        if result.returncode != 0:
            found.failures.append(f"ptui {' '.join(args)}: {first_line(result)}")
            return None
        return result

    def everything_lost() -> None:
        lost.update(before or {})
        lost.update(written)

    def check_files(worktree: Path) -> None:
        if not worktree.is_dir():
            everything_lost()
            return
        if before is not None:
            lost.update(compare(before, take_manifest(worktree)))
        lost.update(missing(worktree, written))

    def restore() -> bool:
        result = run("restore", sid, "--json")
        if result is None:
            everything_lost()  # they do not come back with `ptui restore`
            return False
        try:
            check_files(Path(json.loads(result.stdout)["worktree"]))
        except (ValueError, KeyError, TypeError):
            found.failures.append(f"ptui restore {sid} --json: not the session: {result.stdout}")
        return True

    try:
        session = settle(ptui, sid)
        found.state = state = lifecycle(session)
        if session is None:
            if recreate is not None:
                run(*recreate)
            elif before is not None:
                found.failures.append(f"{sid} is gone")
                everything_lost()
        elif state == LifecycleState.ARCHIVED:
            restore()
        elif state in (LifecycleState.READY, LifecycleState.SETTING_UP):
            run("stop", sid)
            check_files(Path(session["worktree"]))
            run("resume", sid)
            if run("archive", sid):
                restore()
        else:
            found.failures.append(f"{sid} stuck in {state}")
            check_files(Path(session["worktree"]))
    except PtuiError as exc:  # ls itself failed: nothing works without the user
        found.failures.append(str(exc))
    doctor = ptui("doctor", "--json")
    if doctor.returncode != 0:
        found.failures.append(f"ptui doctor --json: {doctor_says(doctor)}")
    found.lost = sorted(lost)
    found.checked = len(before or {}) + len(written)
    return found


def _first_answer(sid: str) -> bool:
    """Ask the server to stop session `sid`; True once it answered after recovering it.

    A refusal that names the session's state (archived) or says it is gone is an
    answer too: the server gives it only after the session's recovery finished.
    A lost connection or a failed recovery is not.
    """
    with Client(start=False) as client:
        try:
            client.request(messages.SessionStop(id=sid), timeout=120)
        except RemoteError as exc:
            text = str(exc)
            return "cannot stop" in text or "no session" in text
    return True


def settle(ptui: Ptui, sid: str, timeout: float = 10.0) -> ListedSession | None:
    """The session's ls entry once it has left the states an operation passes through."""
    deadline = time.monotonic() + timeout
    while True:
        session = ptui.sessions().get(sid)
        if lifecycle(session) not in SETTLING or time.monotonic() > deadline:
            return session
        time.sleep(0.05)


@dataclass
class Round:
    """One round of the benchmark and what it found."""

    index: int
    op: str
    point: str | None
    fired: bool = False
    state: str = ABSENT
    recovery_s: float | None = None
    restart_s: float | None = None
    checked: int = 0
    lost: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    refused: str = ""
    """What the verb said when it failed without a kill (a refusal can be right)."""

    def summary(self) -> str:
        how = "plain run" if self.point is None else self.point
        if self.point is not None:
            how += " killed" if self.fired else " (not reached)"
        took = f", {self.recovery_s * 1000:.0f} ms" if self.recovery_s is not None else ""
        text = (
            f"round {self.index}: {self.op} {how} -> {self.state}{took}; "
            f"{self.checked} checked, {len(self.lost)} lost"
        )
        problems = [*self.failures, *(f"lost {p}" for p in self.lost[:10])]
        if self.refused:
            problems.append(f"(the verb: {self.refused})")
        return text + "".join(f"\n    {p}" for p in problems)


def _progress(message: str) -> None:
    print(f"ptui bench crash: {message}", file=sys.stderr, flush=True)


def _one_round(
    ptui: Ptui, repo: Path, spool: Path, index: int, rng: random.Random, big_bytes: int
) -> Round:
    op = rng.choice(sorted(OPERATIONS))
    points = [p for p in fault_points() if p.split(":")[0] == op]
    point = None if rng.random() < PLAIN_SHARE else rng.choice(points)
    seed = rng.getrandbits(32)
    sid = f"r{index}"
    main_before, head_before = take_manifest(repo), git_head(repo)
    before: Manifest | None = None
    writer: Writer | None = None
    if op not in ("new", "setup"):
        worktree, before = prepare(ptui, sid, agent="cat", seed=seed, big_bytes=big_bytes)
        if op == "restore":
            archived = ptui("archive", sid)
            if archived.returncode != 0:
                raise PtuiError(f"bench crash: ptui archive {sid}: {first_line(archived)}")
        elif (mode := rng.choice(WRITERS)) != "none":
            writer = Writer(
                worktree, spool=spool, seed=seed,
                stream_seconds=rng.uniform(0.05, 1.0) if mode == "stream" else 0.0,
                late_writes=rng.randint(1, 3), late_window=rng.uniform(0.1, 2.0),
            )  # fmt: skip
    try:
        argv = verb_for(op, sid, "cat")
        linger = 10.0 if op in ("new", "setup") else 1.0
        result = crash(ptui, argv, point, linger=linger, on_start=writer.start if writer else None)
    finally:
        if writer is not None:
            writer.stop()
    # Gone is fine after new (rolled back) and rm (done): then the name must be free.
    recreate = verb_for("new", sid, "cat") if op in ("new", "setup", "rm") else None
    found = recover(
        ptui, sid, before=before, written=writer.written if writer else None, recreate=recreate
    )
    done = Round(index, op, point, fired=result.fired, state=found.state)
    if result.fired:
        done.recovery_s, done.restart_s = found.first_ok_s, found.restart_s
    done.failures = found.failures
    if not result.fired and result.verb.returncode != 0:
        done.refused = first_line(result.verb)
    if not (op == "rm" and found.state == ABSENT):  # removed on purpose: nothing comes back
        done.checked, done.lost = found.checked, found.lost
    main = main_checkout_problems(repo, main_before, head_before, may_move=op == "merge")
    done.checked += len(main_before)
    done.lost += main
    return done


def _check_bystander(ptui: Ptui, before: Manifest, done: Round) -> None:
    """A session no operation touched: recovery must leave it ready and whole."""
    session = ptui.sessions().get("bystander")
    done.checked += len(before)
    if session is None or lifecycle(session) != LifecycleState.READY:
        done.failures.append(f"bystander: {lifecycle(session)}")
        return
    now = take_manifest(Path(session["worktree"]))
    done.lost += [f"bystander: {path}" for path in compare(before, now)]


def _scratch_main(repo: Path) -> None:
    """The main checkout: an ignored .env and an empty folder beside the tracked files."""
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "ptui" / "config.toml"
    with config.open("a") as toml:
        toml.write(f"[scripts]\nsetup = {json.dumps(SETUP_SCRIPT)}\n")
    (repo / ".gitignore").write_text(".env\n")
    subprocess.run(["git", "-C", str(repo), "add", ".gitignore"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "ignore .env"], check=True)
    (repo / ".env").write_text("MAIN_SECRET=1\n")
    (repo / "empty").mkdir()


def run(*, rounds: int = 20, seed: int = 1, as_json: bool = False, big_mb: float = 20.0) -> int:
    """Run the benchmark and print its figures; returns the exit status."""
    if rounds < 1:
        raise UsageError("--rounds must be at least 1")
    if big_mb <= 0:
        raise UsageError("--big-mb must be more than 0")
    big_bytes = int(big_mb * (1 << 20))
    rng = random.Random(seed)
    done: list[Round] = []
    with bench_world("ptui-bench-crash-") as (root, repo, _flood):
        _scratch_main(repo)
        ptui = Ptui(repo)
        try:
            _progress(f"{rounds} rounds, seed {seed}, {big_mb:g} MB binaries, in {root}")
            _, bystander = prepare(ptui, "bystander", agent="cat", seed=seed, big_bytes=big_bytes)
            for index in range(1, rounds + 1):
                try:
                    one = _one_round(ptui, repo, root / "spool", index, rng, big_bytes)
                except PtuiError as exc:  # e.g. `ptui new` refused: a finding, not the end
                    one = Round(index, "?", None, failures=[str(exc)])
                _check_bystander(ptui, bystander, one)
                done.append(one)
                _progress(one.summary())
                # Worktrees of 20 MB add up over 200 rounds: remove each round's session.
                if f"r{index}" in ptui.sessions():
                    cleanup = ptui("rm", f"r{index}", "--force")
                    if cleanup.returncode != 0:
                        _progress(f"cleanup: ptui rm r{index} --force: {first_line(cleanup)}")
        finally:
            ptui.stop_server()
    times = [r.recovery_s for r in done if r.recovery_s is not None]
    restarts = [r.restart_s for r in done if r.restart_s is not None]
    failed = [r for r in done if r.lost or r.failures]
    result = {
        "rounds": len(done),
        "files_checked": sum(r.checked for r in done),
        "files_lost": sum(len(r.lost) for r in done),
        "manual_steps": sum(1 for r in done if r.failures),
        "recovery_median_ms": round(statistics.median(times) * 1000, 1) if times else None,
        "restart_median_ms": round(statistics.median(restarts) * 1000, 1) if restarts else None,
    }
    print(json.dumps(result, indent=2) if as_json else _table(result))
    if failed:
        _progress("failed rounds: " + ", ".join(f"{r.index} ({r.point or r.op})" for r in failed))
        return 1
    return 0


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def _table(result: dict[str, Any]) -> str:
    median = result["recovery_median_ms"]
    rows = [
        ("rounds", str(result["rounds"]), ""),
        ("files checked", str(result["files_checked"]), ""),
        ("files lost", str(result["files_lost"]), "goal 0"),
        ("manual steps", str(result["manual_steps"]), "goal 0"),
        ("recovery median", "-" if median is None else f"{median:.0f} ms", "goal <= 200 ms"),
        ("restart median", _ms(result["restart_median_ms"]), "server start until it serves"),
    ]
    return "\n".join(f"{name:<16} {value:>10}  {goal}".rstrip() for name, value, goal in rows)
