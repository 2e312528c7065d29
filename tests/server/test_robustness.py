"""The server under abuse: bad frames, other users, stubborn processes, a hard kill."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import stat
import struct
import subprocess
import time
from pathlib import Path

import pytest

from tests.server.conftest import Runner, processes_with_env, ptui_json, stop_server, wait_for
from tui import paths, protocol
from tui.client import spawn
from tui.client.connection import Client
from tui.protocol.states import LIVE
from tui.server.snapshot import snapshot_path
from tui.state import StateStore


def raw_exchange(payload: bytes, *, hello: bool = False) -> list[dict[str, object]]:
    """Send `payload` on a fresh connection; return the frames until the server closes it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(str(paths.socket_path()))
    if hello:
        sock.sendall(protocol.encode({"id": 0, "method": "hello", "params": {"version": 1}}))
    sock.sendall(payload)
    sock.shutdown(socket.SHUT_WR)  # a truncated frame is truncated for good
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    return protocol.FrameDecoder().feed(data)


def body(obj: object) -> bytes:
    raw = json.dumps(obj).encode()
    return struct.pack(">I", len(raw)) + raw


@pytest.mark.parametrize(
    ("payload", "hello", "code"),
    [
        (b"\x00\x00\x00\x00", False, "bad-frame"),  # empty frame
        (struct.pack(">I", protocol.MAX_FRAME + 1), False, "too-large"),
        (struct.pack(">I", 0xFFFFFFFF) + b"x" * 100, False, "too-large"),
        (struct.pack(">I", 100) + b'{"id": 1', False, "bad-frame"),  # truncated
        (struct.pack(">I", 5) + b"{nope", False, "bad-frame"),
        (struct.pack(">I", 2) + b"\xff\xfe", False, "bad-frame"),
        (body([1, 2, 3]), False, "bad-request"),
        (body({"id": 1, "method": "session.list", "params": {}}), False, "bad-request"),
        (body({"id": 1, "method": "hello", "params": {"version": 99}}), False, "version"),
        (body({"id": 1, "method": "no.such", "params": {}}), True, "unknown-method"),
        (body({"id": "x", "method": "session.list"}), True, "bad-request"),
        (body({"id": 1, "method": "session.list", "params": []}), True, "bad-request"),
    ],
)
def test_bad_frames_get_an_error_and_a_closed_connection(
    ptui: Runner, payload: bytes, hello: bool, code: str
) -> None:
    with Client() as good:  # another client, connected throughout
        frames = raw_exchange(payload, hello=hello)
        errors = [f for f in frames if "error" in f]
        assert errors and errors[-1]["error"]["code"] == code  # type: ignore[index]
        assert isinstance(errors[-1]["error"]["message"], str)  # type: ignore[index]
        assert good.call("session.list") == []
    assert ptui("ls").returncode == 0


def test_random_bytes_never_take_the_server_down(ptui: Runner, repo: Path) -> None:
    ptui("new", "survivor", "--agent", "cat")
    rng = random.Random(1234)
    with Client() as good:
        for _ in range(40):
            size = rng.choice([1, 3, 4, 7, 64, 1000, 70_000])
            payload = bytes(rng.getrandbits(8) for _ in range(size))
            raw_exchange(payload, hello=rng.random() < 0.5)
            # A frame-shaped payload with random JSON-ish content too.
            raw_exchange(body({"id": rng.randint(0, 9), "method": "session.input",
                               "params": {"id": "survivor", "b64": "!!"}}), hello=True)  # fmt: skip
        assert [s["id"] for s in good.call("session.list")] == ["survivor"]
        good.send_input("survivor", b"still here\r")
        wait_for(lambda: "still here" in good.call("session.screen", id="survivor")["text"])


def test_another_user_cannot_connect(
    ptui: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Realistic traversal: the runtime dir's parents are open to everyone (like
    # /tmp or /run/user), so the *only* barrier is ptui's own 0700 socket
    # directory; pytest's tmp_path is 0700 and would hide everything by itself.
    shared = Path("/tmp") / f"ptui-test-{os.getpid()}-{tmp_path.name}"
    shared.mkdir(mode=0o755)
    try:
        os.chmod(shared, 0o755)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))
        ptui("server")
        sock_dir = paths.socket_dir()
        sock_path = sock_dir / paths.SOCKET_NAME
        assert stat.S_IMODE(sock_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE(sock_path.stat().st_mode) == 0o600
        probe = (
            "import socket, struct, json, sys\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            "try:\n"
            "    s.connect(sys.argv[1])\n"
            "except OSError as e:\n"
            "    print('refused', e.errno); sys.exit(0)\n"
            "b = json.dumps({'id': 0, 'method': 'hello', 'params': {'version': 1}}).encode()\n"
            "try:\n"
            "    s.sendall(struct.pack('>I', len(b)) + b)\n"
            "except BrokenPipeError:\n"
            "    pass  # the server may have said no and closed already\n"
            "data = b''\n"
            "while chunk := s.recv(4096): data += chunk\n"
            "print('answer', data[4:].decode())\n"
        )
        as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                     "/usr/bin/python3", "-c", probe, str(sock_path)]  # fmt: skip
        out = subprocess.run(as_nobody, capture_output=True, text=True, timeout=30)
        assert out.stdout.startswith("refused 13"), out  # EACCES at the 0700 directory
        # Second lock: even with the directory and socket opened up by mistake,
        # the server checks the peer's uid (SO_PEERCRED) and says no.
        os.chmod(sock_dir, 0o755)
        os.chmod(sock_path, 0o666)
        out = subprocess.run(as_nobody, capture_output=True, text=True, timeout=30)
        assert out.stdout.startswith("answer"), out
        answer = json.loads(out.stdout.split(" ", 1)[1])
        assert answer["error"]["code"] == "denied"
        os.chmod(sock_dir, 0o700)
        assert ptui("ls").returncode == 0  # the owner is still served
    finally:
        os.chmod(shared, 0o700)
        os.chmod(shared / "ptui", 0o700)
        stop_server()
        subprocess.run(["rm", "-rf", str(shared)], check=False)


def test_no_process_survives_stop_archive_or_server_stop(ptui: Runner, repo: Path) -> None:
    for name in ("one", "two", "three"):
        ptui("new", name, "--agent", "stubborn", "--name", name)
    for name in ("one", "two", "three"):
        # Leader + its setsid child (which ignores TERM and HUP) + their sleeps.
        wait_for(lambda n=name: len(processes_with_env(f"PTUI_SESSION={n}")) >= 3)
    ptui("stop", "one")
    assert processes_with_env("PTUI_SESSION=one") == []
    ptui("archive", "two")
    assert processes_with_env("PTUI_SESSION=two") == []
    ptui("server", "--stop", "--force")
    assert processes_with_env("PTUI_SESSION=three") == []
    assert spawn.running_pid() is None


def test_server_killed_hard_comes_back_with_stopped_sessions(ptui: Runner, repo: Path) -> None:
    ptui("new", "survive restart", "--agent", "counter")
    (worktree,) = (Path(s["worktree"]) for s in ptui_json(ptui, "ls"))
    wait_for(lambda: "tick 20" in ptui("show", "survive").stdout)
    # The snapshot is written a moment after the screen changes.
    wait_for(lambda: "tick 20" in snapshot_path("survive-restart").read_text()
             if snapshot_path("survive-restart").exists() else False)  # fmt: skip
    pid = spawn.running_pid()
    assert pid
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: spawn.running_pid() is None)
    [info] = ptui_json(ptui, "ls")  # starts a new server
    assert info["status"] == "stopped" and spawn.running_pid() not in (None, pid)
    screen = ptui("show", "survive").stdout
    assert "tick 20" in screen
    # Leftover processes of the dead server's session were killed at start.
    wait_for(lambda: processes_with_env("PTUI_SESSION=survive-restart") == [])
    ptui("resume", "survive")
    wait_for(lambda: "resumed" in ptui("show", "survive").stdout)
    assert ptui_json(ptui, "ls")[0]["status"] in LIVE
    # A worktree that vanished is flagged, never recreated.
    ptui("stop", "survive")
    subprocess.run(["rm", "-rf", str(worktree)], check=True)
    [info] = ptui_json(ptui, "ls")
    result = ptui("resume", "survive", check=False)
    assert result.returncode == 1 and "missing" in result.stderr
    assert "worktree missing" in ptui("ls").stdout
    assert not worktree.exists()


def test_state_survives_in_the_state_file(ptui: Runner, repo: Path) -> None:
    ptui("new", "persisted", "--agent", "cat")
    [record] = StateStore(paths.state_file()).load()
    assert record.id == "persisted" and record.agent == "cat"
    ptui("server", "--stop", "--force")
    [record] = StateStore(paths.state_file()).load()
    assert record.status == "stopped"
    time.sleep(0.1)
    assert ptui_json(ptui, "ls")[0]["id"] == "persisted"
