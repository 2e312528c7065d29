"""`ptui record`: a tab's raw output saved as asciicast v2 by the real server, from a
real program on a real PTY; replaying the file gives the screen the server shows."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.server.conftest import AGENTS, Runner, wait_for
from tui.client.connection import Client
from tui.protocol import RemoteError
from tui.server import recording
from tui.term.emulator import Emulator

# Prints nothing until it reads a line, so a recording started before that line holds
# every byte the screen shows. Then: colours, a cursor move, a euro sign split across
# two writes (two reads on the server's side), and cat to echo what comes next.
PRINTER = (
    "read go; printf '\\033[1;32mgreen\\033[0m plain \\303\\251t\\303\\251\\n'; "
    "printf 'abc\\033[2Dx\\n'; printf '\\342\\202'; sleep 0.3; printf '\\254 euro\\n'; "
    "exec cat"
)


@pytest.fixture
def config(isolated_home: Path) -> Path:
    """The server tests' agents plus `printer`."""
    agents = {**AGENTS, "printer": {"command": ["sh", "-c", PRINTER]}}
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "ptui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    tables = {name: {"prompt": "none", **table} for name, table in agents.items()}
    path.write_text(tomli_w.dumps({"default_agent": "counter", "agents": tables}))
    return path


def read_cast(path: Path) -> tuple[dict[str, Any], list[list[Any]]]:
    header, *events = (json.loads(line) for line in path.read_text("utf-8").splitlines())
    return header, events


def replay(header: dict[str, Any], events: list[list[Any]]) -> str:
    """The screen an asciicast player shows at the end: output and resizes, in order."""
    emulator = Emulator(cols=header["width"], rows=header["height"])
    for _time, kind, data in events:
        if kind == "o":
            emulator.parse(data.encode("utf-8"))
        elif kind == "r":
            cols, rows = data.split("x")
            emulator.resize(int(cols), int(rows))
    return emulator.render_text()


def screen(client: Client, sid: str) -> dict[str, Any]:
    result: dict[str, Any] = client.call("session.screen", id=sid)
    return result


def test_a_recording_replays_to_the_servers_screen(
    ptui: Runner, repo: Path, tmp_path: Path
) -> None:
    ptui("new", "print things", "--agent", "printer", "--name", "rec")
    cast = tmp_path / "out.cast"
    with Client() as client:
        client.call("session.resize", id="rec", cols=60, rows=12)
        started = client.call("session.record", id="rec", path=str(cast))
        assert started == {
            "id": "rec", "tab": "agent", "path": str(cast), "recording": True, "events": 0,
        }  # fmt: skip
        assert cast.exists()
        client.send_input("rec", b"go\r")
        wait_for(lambda: "€ euro" in screen(client, "rec")["text"], what="the euro line")
        client.call("session.resize", id="rec", cols=50, rows=10)
        client.send_input("rec", "typed ü\r".encode())
        wait_for(lambda: screen(client, "rec")["text"].count("typed ü") == 2, what="cat's echo")
        time.sleep(0.2)
        expected = screen(client, "rec")["text"]
        state = client.call("session.record", id="rec")
        assert state["recording"] and state["path"] == str(cast) and state["events"] >= 3
        # Written within about half a second, while it records.
        wait_for(lambda: "€ euro" in cast.read_text("utf-8"), what="a flush")
        # The program ends: the file gets its exit event and is closed.
        client.send_input("rec", b"\x04")
        wait_for(lambda: not client.call("session.record", id="rec")["recording"])
    header, events = read_cast(cast)
    assert header["version"] == 2 and (header["width"], header["height"]) == (60, 12)
    assert header["env"] == {"TERM": "xterm-256color"}
    assert header["ptui"] == {"session": "rec", "tab": "agent", "agent": "printer"}
    assert isinstance(header["timestamp"], int) and abs(header["timestamp"] - time.time()) < 60
    times = [event[0] for event in events]
    assert times == sorted(times) and all(isinstance(t, float | int) for t in times)
    assert {event[1] for event in events} == {"o", "i", "r", "m"}
    # The euro sign came in two reads and is whole in the file, never U+FFFD.
    output = "".join(data for _t, kind, data in events if kind == "o")
    assert "€ euro" in output and "été" in output and "\ufffd" not in output
    assert ["r", "50x10"] in [event[1:] for event in events]
    assert [d for _t, k, d in events if k == "i"] == ["go\r", "typed ü\r", "\x04"]
    assert events[-1][1:] == ["m", "exit:0"]
    # Up to the ^D a player shows what the server showed then.
    before_eof = events[: events.index(next(e for e in events if e[1:] == ["i", "\x04"]))]
    assert replay(header, before_eof) == expected


def test_stop_closes_the_file_and_counts_the_events(
    ptui: Runner, repo: Path, tmp_path: Path
) -> None:
    ptui("new", "tick", "--agent", "counter", "--name", "ticker")
    cast = tmp_path / "ticks.cast"
    with Client() as client:
        client.call("session.record", id="ticker", path=str(cast))
        time.sleep(0.6)
        stopped = client.call("session.record", id="ticker", stop=True)
        assert stopped["recording"] is False and stopped["path"] == str(cast)
        _header, events = read_cast(cast)  # closed: every event is there
        assert stopped["events"] == sum(1 for e in events if e[1] == "o") >= 3
        assert not any(e[1] == "m" for e in events)  # stopped, not exited
        size = cast.stat().st_size
        time.sleep(0.7)
        assert cast.stat().st_size == size  # nothing more is written
        # A new recording of the same tab may start once the last one stopped.
        again = tmp_path / "again.cast"
        assert client.call("session.record", id="ticker", path=str(again))["recording"]
        client.call("session.stop", id="ticker", timeout=30)
        # Stopping the session ends the recording like an exit does.
        _header, events = read_cast(again)
        assert events[-1][1] == "m" and events[-1][2].startswith("exit:")


def test_refusals_create_nothing(ptui: Runner, repo: Path, tmp_path: Path) -> None:
    ptui("new", "tick", "--agent", "counter", "--name", "ticker")
    existing = tmp_path / "taken.cast"
    existing.write_text("keep me\n")
    with Client() as client:

        def refused(**params: Any) -> str:
            with pytest.raises(RemoteError) as info:
                client.call("session.record", id="ticker", **params)
            return str(info.value)

        assert "must be absolute" in refused(path="relative.cast")
        assert not (repo / "relative.cast").exists()
        assert "does not exist" in refused(path=str(tmp_path / "no" / "such" / "x.cast"))
        assert not (tmp_path / "no").exists()
        assert "already exists" in refused(path=str(existing))
        assert existing.read_text() == "keep me\n"
        assert "not being recorded" in refused(stop=True)
        first = tmp_path / "first.cast"
        client.call("session.record", id="ticker", path=str(first))
        second = tmp_path / "second.cast"
        assert "already being recorded to " + str(first) in refused(path=str(second))
        assert not second.exists()
        client.call("session.record", id="ticker", stop=True)
        client.call("session.stop", id="ticker", timeout=30)
        assert "not running" in refused(path=str(second))
        assert not second.exists()


def test_the_cli_records_and_stops(ptui: Runner, repo: Path, tmp_path: Path) -> None:
    ptui("new", "tick", "--agent", "counter", "--name", "ticker")
    # FILE is relative to the caller's directory: the CLI makes it absolute.
    started = ptui("record", "ticker", "ticks.cast").stdout
    cast = repo / "ticks.cast"
    assert started.strip() == (
        f"ticker: recording tab agent to {cast} on the server's machine "
        "(stop: ptui record ticker --stop)"
    )
    time.sleep(0.5)
    stopped = ptui("record", "tick", "--stop").stdout.strip()
    _header, events = read_cast(cast)
    count = sum(1 for e in events if e[1] == "o")
    assert stopped == (
        f"ticker: stopped recording {cast} ({count} output events; play it: asciinema play {cast})"
    )
    assert "asciinema play FILE" in " ".join(ptui("record", "--help").stdout.split())
    # Errors: one line, a non-zero status, no traceback.
    for args in (("ticker", "ticks.cast"), ("ticker", "--stop"), ("ticker",), ("nope", "x.cast")):
        failed = ptui("record", *args, check=False)
        assert failed.returncode != 0, args
        lines = failed.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ptui: error: "), (args, failed.stderr)
        assert "Traceback" not in failed.stderr


# ------------------------------------------------ a slow or failing disk (in-process)
class SlowFile:
    """A file whose writes take `delay` seconds each (a disk that does not keep up)."""

    def __init__(self, delay: float, error: OSError | None = None) -> None:
        self.delay = delay
        self.error = error
        self.data = bytearray()
        self.closed = threading.Event()

    def write(self, data: bytes) -> int:
        time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        self.data += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed.set()


def make_recorder(file: SlowFile, ended: list[recording.Recorder]) -> recording.Recorder:
    return recording.Recorder(
        Path("/nowhere.cast"), file, cols=80, rows=24, session="s", tab="agent",  # type: ignore[arg-type]
        agent="sh", on_end=ended.append,
    )  # fmt: skip


async def test_a_flood_faster_than_the_disk_stops_the_recording_not_the_server(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(recording, "MAX_PENDING", 4 << 20)
    file, ended = SlowFile(0.3), []
    recorder = make_recorder(file, ended)
    chunk = b"x" * 65536
    started = time.monotonic()
    for _ in range(400):  # 25 MiB, far more than the cap
        recorder.output(chunk)
        await asyncio.sleep(0)
    assert time.monotonic() - started < 1.0  # the loop was never held by a write
    assert not recorder.recording and "did not keep up" in recorder.error
    assert recorder._pending <= (4 << 20) + 2 * len(chunk)  # bounded, never all 25 MiB
    await asyncio.wait_for(recorder.stop(), 10)
    assert ended == [recorder] and file.closed.is_set()
    assert "did not keep up" in caplog.text
    lines = file.data.decode().splitlines()
    assert json.loads(lines[0])["version"] == 2 and all(json.loads(line) for line in lines)


async def test_a_write_error_stops_the_recording_with_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    file, ended = SlowFile(0.0, OSError(errno.ENOSPC, "No space left on device")), []
    recorder = make_recorder(file, ended)
    recorder.output(b"hello")
    await asyncio.wait_for(recorder.stop(), 5)
    assert ended == [recorder] and file.closed.is_set()
    assert "No space left on device" in recorder.error and "No space left" in caplog.text
    recorder.output(b"more")  # a stopped recorder takes nothing and raises nothing
    assert recorder.events == 1
