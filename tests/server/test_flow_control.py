"""What a client costs the server is bounded, and what it may send is checked at the edge.

A session floods bells and 30 KB OSC 52 clipboard copies (the agent of
`ptui bench flood`) on a real server with real PTYs; clients that stop reading,
read slowly, or send frames built to hurt are each met with the bounded answer,
while another client's `session.list` keeps its pace. The outbox's merging rules
are checked on their own first.
"""

from __future__ import annotations

import json
import select
import socket
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import Runner, wait_for
from tui import protocol
from tui.bench.flood_bench import FLOOD_PROGRAM, rss_mb
from tui.client.connection import Client, ConnectionLost, connect_socket
from tui.server import host
from tui.server.outbox import Outbox


def event(kind: str, **data: Any) -> tuple[str, dict[str, Any], bytes]:
    return kind, data, protocol.encode({"event": kind, "data": data})


def drain(outbox: Outbox) -> list[dict[str, Any]]:
    frames = []
    while outbox:
        frames += protocol.FrameDecoder().feed(outbox.pop())
    return frames


# ------------------------------------------------------------- the outbox alone
def test_waiting_events_merge_by_what_they_say() -> None:
    """Failing, a client that stops reading would cost the server one entry per
    event: a program ringing the bell in a loop grows the server without limit."""
    outbox = Outbox()
    first, last = (protocol.encode({"id": n, "result": n}) for n in (1, 2))
    outbox.put(first)
    for n in range(1000):
        outbox.put_event(*event("bell", session="a", tab="agent", value=None, count=1))
        outbox.put_event(*event("title", session="a", tab="agent", value=f"t{n}"))
        outbox.put_event(*event("clipboard", session="a", tab="agent", value=["c", f"{n}" * 9]))
        outbox.put_event(*event("status-changed", session="a", status="busy" if n else "idle"))
    outbox.put_event(*event("bell", session="b", tab="agent", value=None, count=1))
    outbox.put_event(*event("sessions-changed", sessions=[1]))
    outbox.put_event(*event("sessions-changed", sessions=[2]))
    outbox.put(last)
    assert len(outbox) == 8 and outbox.size < 1000
    assert outbox.pop() == first  # responses keep their place and are never merged
    *frames, answer = drain(outbox)
    assert answer == {"id": 2, "result": 2}
    kinds = [(f["event"], f["data"].get("session")) for f in frames]
    assert kinds == [("bell", "a"), ("title", "a"), ("clipboard", "a"), ("status-changed", "a"),
                     ("bell", "b"), ("sessions-changed", None)]  # fmt: skip
    assert frames[0]["data"]["count"] == 1000 and frames[4]["data"]["count"] == 1
    assert frames[1]["data"]["value"] == "t999"
    assert frames[2]["data"]["value"] == ["c", "999" * 9]
    assert frames[5]["data"]["sessions"] == [2]
    assert outbox.size == 0


def test_errors_and_unknown_kinds_are_never_merged() -> None:
    """Failing, a client's error reports could be lost or merged into one another."""
    outbox = Outbox()
    for n in range(3):
        outbox.put_event(*event("error", code="failed", message=f"m{n}"))
    assert [f["data"]["message"] for f in drain(outbox)] == ["m0", "m1", "m2"]


def test_only_the_documented_events_are_published() -> None:
    """Failing, the emulator's internal reports (modify-other-keys ...) would reach
    clients as events the protocol never promised, and docs/protocol.md would lie."""
    text = (Path(__file__).parents[2] / "docs" / "protocol.md").read_text()
    table = text.split("## Events", 1)[1].split("###", 1)[0]
    documented = {
        name.strip("` ")
        for row in table.splitlines()
        if row.startswith("| `")
        for name in row.split("|")[1].split(",")
    }
    assert documented == protocol.PUBLISHED_EVENTS
    assert "modify-other-keys" not in protocol.PUBLISHED_EVENTS


# ------------------------------------------------------------ on a real server
FLOOD_AGENT = (
    f"[agents.clipflood]\ncommand = {json.dumps([sys.executable, '-c', FLOOD_PROGRAM])}\n"
    'prompt = "none"\n'
)


@pytest.fixture
def flood(ptui: Runner, config: Path, repo: Path) -> int:
    """A session named `flood` ringing and copying as fast as it can; the server's pid."""
    with config.open("a") as toml:
        toml.write(FLOOD_AGENT)
    ptui("new", "flood", "--agent", "clipflood", "--name", "flood")
    with Client() as probe:
        return int(probe.server["pid"])


def clients_connected() -> int:
    with Client() as probe:
        return int(probe.call("server.status")["clients"]) - 1


def test_a_client_that_stops_reading_is_bounded_then_dropped_with_a_reason(flood: int) -> None:
    """Failing, one subscribed client that stops reading (a suspended app, a dead
    ssh link) would grow the server by ~10 MB a second under a bell + OSC 52 flood
    until the machine swaps, and slow every other client's answers with it."""
    with Client(name="sleeper") as sleeper, Client() as other:
        sleeper.call("events.subscribe")
        start = rss_mb(flood)
        latencies = []
        deadline = time.monotonic() + host.STALL_LIMIT + 6
        while clients_connected() > 1:  # `other` and the sleeper
            assert time.monotonic() < deadline, "the non-reader was never disconnected"
            began = time.perf_counter()
            other.call("session.list")
            latencies.append(time.perf_counter() - began)
            time.sleep(0.2)
        assert rss_mb(flood) - start < 50
        assert statistics.median(latencies) < 0.1 and max(latencies) < 0.5, latencies
        assert [s["id"] for s in other.call("session.list")] == ["flood"]
        # What it had been sent is still there to read, then why it was dropped.
        with pytest.raises(ConnectionLost, match=r"ptui: disconnected: this client stopped"):
            while True:
                sleeper.next_event(timeout=10)


def test_a_client_that_pauses_catches_up_with_merged_events(flood: int) -> None:
    """Failing, a client that looks away for two seconds would come back to a
    backlog of thousands of stale events held for it (or be dropped) instead of
    one bell event saying how many rang."""
    with Client(name="napper") as napper:
        napper.call("events.subscribe")
        time.sleep(2.0)
        bells: list[int] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(c > 1 for c in bells):
            got = napper.next_event(timeout=5)
            assert got is not None
            if got["event"] == "bell":
                bells.append(got["data"]["count"])
                assert got["data"]["session"] == "flood" and got["data"]["tab"] == "agent"
        assert max(bells) > 1
        assert napper.call("session.list")[0]["id"] == "flood"  # still served


def raw_connection(*, hello: bool = True) -> socket.socket:
    sock = connect_socket(start=True)
    sock.settimeout(10)
    if hello:
        sock.sendall(protocol.encode({"id": 0, "method": "hello", "params": {"version": 1}}))
        assert read_frames(sock, 1)[0]["id"] == 0
    return sock


def read_frames(sock: socket.socket, count: int | None = None) -> list[dict[str, Any]]:
    """`count` frames, or (None) every frame until the server closes the connection."""
    decoder = protocol.FrameDecoder()
    frames: list[dict[str, Any]] = []
    while count is None or len(frames) < count:
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        frames += decoder.feed(chunk)
    return frames


def refusal(payload: bytes, *, hello: bool = True) -> dict[str, Any]:
    """The error a fresh connection gets for `payload`; the connection is closed after it."""
    sock = raw_connection(hello=hello)
    try:
        sock.sendall(payload)
        frames = read_frames(sock)
    finally:
        sock.close()
    errors = [f for f in frames if "error" in f]
    assert errors, frames
    return errors[-1]


def frame_of(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


@pytest.mark.parametrize(
    "body",
    [b"[" * 200_000, b"[" * 100 + b"]" * 100,
     b'{"id": 1, "params": ' + b"[" * 65 + b"]" * 65 + b"}", b"[" + b'"x",' * 100_001 + b'"x"]'],
    ids=["200k-open", "100-deep", "65-deep-params", "100k-strings"],
)  # fmt: skip
def test_deep_or_huge_json_is_a_bad_frame_and_others_are_served(ptui: Runner, body: bytes) -> None:
    """Failing, one frame of `[` x 200,000 would crash the connection's handler with
    a RecursionError (or a frame of millions of tiny lists would take the loop
    for seconds and hundreds of MB), instead of one clear error."""
    with Client() as good:
        error = refusal(frame_of(body))
        assert error["id"] is None and error["error"]["code"] == protocol.BAD_FRAME
        assert good.call("session.list") == []
        # Nesting within the limit is fine, brackets in strings do not count.
        deep_ok = {"x": json.loads("[" * 60 + "]" * 60), "t": "[" * 1000}
        assert good.call("session.list", **deep_ok) == []


@pytest.mark.parametrize(
    ("message", "hello", "code"),
    [
        ({"id": True, "method": "session.list", "params": {}}, True, protocol.BAD_REQUEST),
        ({"id": -1, "method": "session.list", "params": {}}, True, protocol.BAD_REQUEST),
        ({"id": 1.5, "method": "session.list", "params": {}}, True, protocol.BAD_REQUEST),
        ({"id": 1, "method": 7, "params": {}}, True, protocol.BAD_REQUEST),
        ({"id": 1, "method": "session.list", "params": None}, True, protocol.BAD_REQUEST),
        ({"id": 1, "method": "hello", "params": {"version": True}}, False,
         protocol.VERSION_MISMATCH),
        ({"id": 1, "method": "hello", "params": {"version": 1.0}}, False,
         protocol.VERSION_MISMATCH),
    ],
)  # fmt: skip
def test_fields_of_the_wrong_type_are_refused(
    ptui: Runner, message: dict[str, Any], hello: bool, code: str
) -> None:
    """Failing, `true` would pass for 1 (a bool is an int in Python): a client could
    skip the version handshake or get answers under an id it cannot match."""
    error = refusal(protocol.encode(message), hello=hello)
    assert error["error"]["code"] == code
    assert error["id"] in (None, message["id"])
    assert ptui("ls").returncode == 0


def test_half_sent_frames_are_bounded_in_total(ptui: Runner) -> None:
    """Failing, ten connections each sending half of a 15 MiB frame (and never the
    rest) would make the server hold 150 MB, a hundred of them 1.5 GB."""
    big = 15 << 20
    with Client() as probe:
        pid = int(probe.server["pid"])
    start = rss_mb(pid)
    socks = [raw_connection() for _ in range(10)]
    try:
        refused = []
        for sock in socks:
            sock.sendall(struct.pack(">I", big) + b" " * (1 << 20))
            if select.select([sock], [], [], 0.5)[0]:
                refused.append(read_frames(sock)[-1]["error"]["code"])
        # 64 MiB in total: four of them fit, the others are told and closed.
        assert refused == [protocol.TOO_LARGE] * 6
        assert rss_mb(pid) - start < 100
        with Client() as good:
            assert good.call("session.list") == []
    finally:
        for sock in socks:
            sock.close()

    # Closed connections give their share back: a whole 15 MiB frame is read again.
    def whole_frame_served() -> bool:
        try:
            with Client() as good:
                return bool(good.call("session.list", pad=" " * (big - 100)) == [])
        except (protocol.RemoteError, ConnectionLost):
            return False  # the server has not seen all of them close yet

    wait_for(whole_frame_served, timeout=5)


def test_internal_emulator_events_never_reach_a_client(
    ptui: Runner, config: Path, repo: Path
) -> None:
    """Failing, every client would receive the emulator's private reports
    (modify-other-keys, scrollback-cleared): noise outside the protocol that a
    program could also use to flood clients through a path nothing bounds."""
    script = "sleep 0.3; printf '\\033[>4;1m\\033[3J\\033[>4;2m\\033]0;marker\\007\\007'; exec cat"
    with config.open("a") as toml:
        toml.write(
            f'[agents.private]\ncommand = ["sh", "-c", {json.dumps(script)}]\nprompt = "none"\n'
        )
    with Client(name="watcher") as watcher:
        watcher.call("events.subscribe")
        ptui("new", "private", "--agent", "private", "--name", "private")
        kinds = []
        deadline = time.monotonic() + 10
        while "bell" not in kinds:
            assert time.monotonic() < deadline, kinds
            got = watcher.next_event(timeout=10)
            if got is not None:
                kinds.append(got["event"])
        assert "title" in kinds
        assert set(kinds) <= protocol.PUBLISHED_EVENTS, kinds


def test_bench_flood_runs_on_a_real_server(tmp_path: Path) -> None:
    """Failing, `ptui bench flood` (the figure that shows a non-reader cannot grow
    the server) would break unnoticed, and a regression would go unmeasured."""
    ptui_binary = str(Path(sys.executable).with_name("ptui"))
    result = subprocess.run(
        [ptui_binary, "bench", "flood", "--seconds", "2", "--json"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["rss_growth_mb"] < 50 and figures["ls_max_ms"] < 100
    assert figures["ls_samples"] >= 3 and figures["nonreader_bytes"] > 0
