"""PtyProcess on real PTYs: output, input with backpressure, resize, exit status, stop.

The orphan tests run their scenario in a separate Python process that turns on
the child subreaper (`enable_subreaper()`), as the session host does: the
setting is process-wide, so turning it on in pytest itself would make every
orphan of every other test our zombie. The pytest process never enables it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.errors import PtuiError
from tui.term.pty import PtyProcess
from tui.term.reaper import read_proc


def read_until(proc: PtyProcess, needle: bytes, timeout: float = 5.0) -> bytes:
    """Read (waiting on the fd) until `needle` shows up or EOF; returns all output."""
    output = b""
    deadline = time.monotonic() + timeout
    while needle not in output and time.monotonic() < deadline:
        select.select([proc.fd], [], [], 0.05)
        output += proc.read()
        if proc.eof:
            break
    return output


def wait_exit(proc: PtyProcess, timeout: float = 5.0) -> int | None:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        proc.read()  # keep the PTY drained so the program can finish writing
        time.sleep(0.01)
    return proc.poll()


@pytest.fixture
def spawned(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Spawn helper that stops every process it started, whatever the test did."""
    procs: list[PtyProcess] = []

    def spawn(script: str, **kwargs: object) -> PtyProcess:
        proc = PtyProcess.spawn(["/bin/sh", "-c", script], cwd=tmp_path, **kwargs)  # type: ignore[arg-type]
        procs.append(proc)
        return proc

    yield spawn
    for proc in procs:
        proc.stop(grace=0.2)


def test_echo_reads_output_and_exit_zero(spawned) -> None:  # type: ignore[no-untyped-def]
    proc = spawned("echo hi")
    assert b"hi" in read_until(proc, b"hi")
    assert wait_exit(proc) == 0


def test_environment_and_working_directory(spawned, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "7")  # the outer terminal's size must not leak in
    proc = spawned(
        'echo "env:$TERM:$COLORTERM:$PTUI_SESSION:${COLUMNS-unset}:$PTUI_PTY_ID"; pwd',
        env={"PTUI_SESSION": "fix-bug"},
    )
    output = read_until(proc, str(tmp_path).encode()).decode()
    fields = output.split("env:", 1)[1].split("\r\n", 1)[0].split(":")
    assert fields[:4] == ["xterm-256color", "truecolor", "fix-bug", "unset"]
    assert len(fields[4]) == 16  # the session token used to recognise orphans
    assert str(tmp_path) in output


def test_exit_status_code_and_signal(spawned) -> None:  # type: ignore[no-untyped-def]
    assert wait_exit(spawned("exit 3")) == 3
    assert wait_exit(spawned("kill -TERM $$")) == -signal.SIGTERM


def test_read_coalesces_many_kernel_chunks(spawned) -> None:  # type: ignore[no-untyped-def]
    # The PTY hands output over in ~4 KB pieces; one read() must join them.
    proc = spawned("head -c 30000 /dev/zero | tr '\\0' x; echo; echo done; sleep 5")
    time.sleep(0.5)  # let everything land in the kernel's buffer
    select.select([proc.fd], [], [], 2)
    first = proc.read()
    assert len(first) > 8192
    assert b"done" in first + read_until(proc, b"done")


def test_resize_is_seen_by_the_program(spawned) -> None:  # type: ignore[no-untyped-def]
    proc = spawned("stty size; read line; stty size", cols=120, rows=40)
    assert b"40 120" in read_until(proc, b"40 120")
    proc.resize(100, 30)
    proc.write(b"\r")
    assert b"30 100" in read_until(proc, b"30 100")
    with pytest.raises(ValueError):
        proc.resize(0, 10)


def test_megabyte_write_never_blocks_and_drains(spawned) -> None:  # type: ignore[no-untyped-def]
    proc = spawned("exec cat >/dev/null")
    data = (b"x" * 1023 + b"\n") * 1024
    started = time.perf_counter()
    proc.write(data)
    assert time.perf_counter() - started < 0.05
    assert 0 < proc.pending_output() < len(data)  # the kernel took some, not all

    deadline = time.monotonic() + 20
    while proc.pending_output() and time.monotonic() < deadline:
        # What the session host's loop does: flush when writable, read the echo.
        readable, writable, _ = select.select([proc.fd], [proc.fd], [], 0.1)
        if readable:
            proc.read()
        if writable:
            proc.flush()
    assert proc.pending_output() == 0
    assert proc.flush() is True


def test_write_after_exit_is_dropped(spawned) -> None:  # type: ignore[no-untyped-def]
    proc = spawned("exit 0")
    assert wait_exit(proc) == 0
    proc.write(b"too late\r" * 10000)  # must neither raise nor block
    proc.stop(grace=0.1)
    proc.write(b"after stop")
    assert proc.flush() is True
    assert proc.pending_output() == 0


@pytest.mark.parametrize(
    ("argv", "cwd_name", "message"),
    [
        (["no-such-agent-xyz", "--flag"], ".", "cannot start no-such-agent-xyz: command not found"),
        (["sh"], "missing", "working directory"),
        ([], ".", "command is empty"),
    ],
)
def test_spawn_errors_are_one_line(
    tmp_path: Path, argv: list[str], cwd_name: str, message: str
) -> None:
    with pytest.raises(PtuiError, match=message) as error:
        PtyProcess.spawn(argv, cwd=tmp_path / cwd_name)
    assert "\n" not in str(error.value)
    if cwd_name == "missing":
        assert str(tmp_path / "missing") in str(error.value)


def test_command_is_found_on_the_sessions_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "my-agent"
    tool.write_text("#!/bin/sh\necho agent-ran\n")
    tool.chmod(0o755)
    proc = PtyProcess.spawn(["my-agent"], cwd=tmp_path, env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
    try:
        assert b"agent-ran" in read_until(proc, b"agent-ran")
    finally:
        proc.stop(grace=0.2)


def test_stop_hangs_up_the_leader(spawned) -> None:  # type: ignore[no-untyped-def]
    proc = spawned("echo ready; exec sleep 1000")
    read_until(proc, b"ready")
    started = time.monotonic()
    assert proc.stop(grace=2.0) == -signal.SIGHUP
    assert time.monotonic() - started < 1.0  # no waiting out the grace period
    assert proc.stop() == -signal.SIGHUP  # idempotent
    assert read_proc(proc.pid) is None


def test_stop_kills_a_leader_that_ignores_hup_and_term(spawned) -> None:  # type: ignore[no-untyped-def]
    proc = spawned('trap "" HUP TERM; echo ready; while :; do sleep 1; done')
    read_until(proc, b"ready")
    started = time.monotonic()
    assert proc.stop(grace=0.3) == -signal.SIGKILL
    assert time.monotonic() - started >= 0.3


def test_output_printed_while_stopping_is_kept(spawned) -> None:  # type: ignore[no-untyped-def]
    proc = spawned('trap "echo goodbye; exit 0" HUP TERM; echo ready; while :; do sleep 0.05; done')
    assert b"ready" in read_until(proc, b"ready")
    assert proc.stop(grace=2.0) == 0
    assert b"goodbye" in proc.read()
    assert proc.read() == b""


def test_descendants_lists_the_tree(spawned) -> None:  # type: ignore[no-untyped-def]
    proc = spawned("sleep 1000 & sleep 1000 & echo ready; wait")
    read_until(proc, b"ready")
    deadline = time.monotonic() + 5
    while len(proc.descendants()) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    children = proc.descendants()
    assert len(children) == 2
    assert proc.pid not in children
    proc.stop(grace=0.3)
    assert all(read_proc(pid) is None or read_proc(pid).zombie for pid in children)  # type: ignore[union-attr]


# -- orphans: run in a subprocess that is a child subreaper ----------------------

# The session: a setsid child, a child ignoring TERM and HUP, and a double-forked
# setsid daemon; each writes its pid to a file in the session's cwd.
SESSION_SCRIPT = r"""
setsid sh -c 'echo $$ > setsid.pid; exec sleep 1000' &
sh -c 'trap "" TERM HUP; echo $$ > stubborn.pid; exec sleep 1000' &
"$PY" -c 'import os
if os.fork(): os._exit(0)
os.setsid()
if os.fork(): os._exit(0)
open("daemon.pid", "w").write(str(os.getpid()))
os.execvp("sleep", ["sleep", "1000"])'
echo ready
wait
"""

ORPHAN_HOST = r"""
import json, os, subprocess, sys, time
from pathlib import Path
from tui.term.pty import PtyProcess, enable_subreaper, reap_orphans
from tui.term.reaper import is_subreaper, read_proc

work, mode, script = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
report = {"subreaper": enable_subreaper() and is_subreaper() if mode == "subreaper" else False}
# Children of the host that belong to no session: stop() must leave them alone,
# and must not steal the exit status of one that has already exited.
bystander = subprocess.Popen(["sleep", "1000"])
finished = subprocess.Popen(["sh", "-c", "exit 7"])
time.sleep(0.1)

def state(pid):
    info = read_proc(pid)
    return None if info is None else [info.state, info.ppid == os.getpid()]

for variant, prefix in (("polite", ""), ("stubborn", "trap '' TERM HUP\n")):
    cwd = work / variant
    cwd.mkdir()
    proc = PtyProcess.spawn(["/bin/sh", "-c", prefix + script], cwd=cwd, env={"PY": sys.executable})
    pids, deadline = {}, time.monotonic() + 10
    while len(pids) < 3 and time.monotonic() < deadline:
        proc.read()
        for name in ("setsid", "stubborn", "daemon"):
            pid_file = cwd / f"{name}.pid"
            text = pid_file.read_text().strip() if pid_file.exists() else ""
            if text:
                pids[name] = int(text)
        time.sleep(0.02)
    time.sleep(0.1)  # let the daemon's intermediate parent exit
    started = time.monotonic()
    status = proc.stop(grace=0.3)
    elapsed = time.monotonic() - started
    time.sleep(0.2)
    report[variant] = {
        "status": status,
        "elapsed": elapsed,
        "pids": pids,
        "after": {name: state(pid) for name, pid in pids.items()},
        "leader": state(proc.pid),
    }

report["orphans_reaped_later"] = reap_orphans()
report["bystander_running"] = bystander.poll() is None
bystander.kill()
report["bystander_status"] = bystander.wait()
report["finished_status"] = finished.wait()
print(json.dumps(report))
"""


# A stuck host prints where it is stuck instead of timing out silently.
HOST_PRELUDE = "import faulthandler; faulthandler.dump_traceback_later(40, exit=True)\n"


def run_host(tmp_path: Path, mode: str, code: str, *args: str) -> dict:  # type: ignore[type-arg]
    result = subprocess.run(
        [sys.executable, "-c", HOST_PRELUDE + code, str(tmp_path), mode, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_stop_leaves_no_orphans_with_subreaper(tmp_path: Path) -> None:
    report = run_host(tmp_path, "subreaper", ORPHAN_HOST, SESSION_SCRIPT)
    assert report["subreaper"] is True
    for variant in ("polite", "stubborn"):
        outcome = report[variant]
        assert sorted(outcome["pids"]) == ["daemon", "setsid", "stubborn"], outcome
        # Gone means reaped: no process and no zombie left, the leader included.
        assert outcome["after"] == dict.fromkeys(outcome["pids"]), outcome
        assert outcome["leader"] is None
        for pid in outcome["pids"].values():
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    assert report["polite"]["status"] == -signal.SIGHUP
    assert report["stubborn"]["status"] == -signal.SIGKILL
    assert report["stubborn"]["elapsed"] >= 0.3
    assert report["orphans_reaped_later"] == []  # stop() already reaped everything
    # Processes outside the sessions were neither killed nor reaped by us.
    assert report["bystander_running"] is True
    assert report["bystander_status"] == -signal.SIGKILL
    assert report["finished_status"] == 7


def test_stop_kills_escaped_children_even_without_subreaper(tmp_path: Path) -> None:
    # Without the subreaper the orphans belong to init: stop() still finds and
    # kills them (same session, or seen before), but cannot reap them itself.
    report = run_host(tmp_path, "plain", ORPHAN_HOST, SESSION_SCRIPT)
    assert report["subreaper"] is False
    for variant in ("polite", "stubborn"):
        outcome = report[variant]
        for name, after in outcome["after"].items():
            assert after is None or (after[0] == "Z" and after[1] is False), (variant, name, after)
    assert report["bystander_running"] is True
    assert report["finished_status"] == 7


# An orphan that outlives its session's leader and exits later is our zombie
# until reap_orphans() runs; the host's other children keep their status.
REAP_HOST = r"""
import json, os, subprocess, sys, time
from pathlib import Path
from tui.term.pty import PtyProcess, enable_subreaper, reap_orphans
from tui.term.reaper import read_proc

work = Path(sys.argv[1])
assert enable_subreaper()
finished = subprocess.Popen(["sh", "-c", "exit 7"])
script = '''"$PY" -c 'import os, time
if os.fork(): os._exit(0)
os.setsid()
if os.fork(): os._exit(0)
open("daemon.pid", "w").write(str(os.getpid()))
time.sleep(1.0)'
# Leave only once the daemon is out of our session: a leader exiting earlier
# would hang up the daemon's first child before it could setsid.
while [ ! -s daemon.pid ]; do sleep 0.02; done
exit 0
'''
proc = PtyProcess.spawn(["/bin/sh", "-c", script], cwd=work, env={"PY": sys.executable})
deadline = time.monotonic() + 10
while proc.poll() is None and time.monotonic() < deadline:
    proc.read()
    time.sleep(0.02)
daemon = int((work / "daemon.pid").read_text())
report = {"leader_status": proc.poll()}
report["daemon_parent_is_us"] = read_proc(daemon).ppid == os.getpid()
report["reaped_while_alive"] = reap_orphans()  # the periodic tick: remembers the daemon
deadline = time.monotonic() + 10
while read_proc(daemon).state != "Z" and time.monotonic() < deadline:
    time.sleep(0.05)
report["reaped"] = reap_orphans()
report["daemon_after"] = read_proc(daemon) is not None
report["stop_status"] = proc.stop(grace=0.1)
report["finished_status"] = finished.wait()
report["daemon"] = daemon
print(json.dumps(report))
"""


def test_reap_orphans_collects_exited_orphans_only(tmp_path: Path) -> None:
    report = run_host(tmp_path, "subreaper", REAP_HOST)
    assert report["leader_status"] == 0
    assert report["daemon_parent_is_us"] is True
    assert report["reaped_while_alive"] == []
    assert report["reaped"] == [report["daemon"]]
    assert report["daemon_after"] is False
    assert report["stop_status"] == 0
    assert report["finished_status"] == 7
