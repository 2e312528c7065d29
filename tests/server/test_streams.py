"""Screen streams: attach, line updates, input, scrollback, and clients that vanish."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.server.conftest import Runner, ptui_json, wait_for
from tui.client.async_client import AsyncClient
from tui.client.connection import Client
from tui.client.mirror import ScreenMirror
from tui.protocol import Event
from tui.protocol.events import ServerEvent, TabEvent
from tui.protocol.messages import SessionAttach, SessionCreate, SessionInput, Subscribe
from tui.protocol.states import LIVE

TICK = re.compile(r"^tick (\d+)$")


def ticks(lines: list[str]) -> list[int]:
    return [int(m.group(1)) for line in lines if (m := TICK.match(line.strip()))]


def all_output(client: Client, sid: str) -> list[int]:
    """Every tick the session printed so far: scrollback, then the screen."""
    page = client.call("session.scrollback", id=sid, start=0, count=10_000)
    history = ["".join(run[0] for run in runs) for runs in page["lines"]]
    screen = client.call("session.screen", id=sid)["text"].splitlines()
    return ticks(history + screen)


def test_attach_streams_line_updates_that_rebuild_the_screen(ptui: Runner, repo: Path) -> None:
    ptui("new", "typing", "--agent", "cat")
    with Client() as client:
        client.call("session.attach", id="typing", cols=40, rows=10)
        first = client.next_event(timeout=5)
        assert first is not None and first["event"] == "screen" and first["data"]["full"]
        mirror = ScreenMirror()
        mirror.apply(first["data"])
        for word in ("alpha", "beta", "gamma"):
            client.send_input("typing", f"{word}\r".encode())
        client.send_input("typing", b"\r" * 12)  # scroll: updates carry shifts
        # cat repeats each line after the terminal's echo; type the last words once
        # it has caught up, so they stay the last thing on screen.
        wait_for(lambda: client.call("session.screen", id="typing")["cursor"] == [0, 9])
        time.sleep(0.2)
        client.send_input("typing", b"last line")

        def caught_up() -> bool:
            while (event := client.next_event(timeout=0.2)) is not None:
                if event["event"] == "screen":
                    mirror.apply(event["data"])
            return mirror.lines[mirror.cursor[1]].text == "last line"

        wait_for(caught_up, what="the echo")
        server_text = client.call("session.screen", id="typing")["text"]
        assert mirror.text() == server_text
        assert (mirror.cols, mirror.rows) == (40, 10)
        assert mirror.modes["bracketed_paste"] is False
        # Scrollback pages hold what scrolled off.
        page = client.call("session.scrollback", id="typing", start=0, count=100)
        assert page["total"] >= 3 and page["lines"][0] == [["alpha"]]


def test_paste_is_bracketed_only_when_the_program_asks(ptui: Runner, repo: Path) -> None:
    ptui("new", "paste", "--agent", "sh")
    with Client() as client:
        client.send_input("paste", b"stty -echo; printf '\\033[?2004h'; cat -v\r")
        wait_for(lambda: client.call("session.screen", id="paste")["text"].count("cat -v") == 1)
        time.sleep(0.3)
        client.call("session.paste", id="paste", text="one\ntwo")
        client.send_input("paste", b"\r")
        text = wait_for(
            lambda: "two" in (t := client.call("session.screen", id="paste")["text"]) and t
        )
        assert "^[[200~one" in text and "two^[[201~" in text


def test_kill_9_of_a_client_attached_to_10_sessions(ptui: Runner, repo: Path) -> None:
    created = ptui_json(ptui, "new", "counting", "-n", "10", "--agent", "counter")
    ids = [s["id"] for s in created]
    # A separate client process attaches to all ten, reads a little, then stops
    # reading (its socket fills) and is killed with SIGKILL mid-stream.
    script = (
        "import sys, time\n"
        "from tui.client.connection import Client\n"
        "c = Client()\n"
        "for sid in sys.argv[1:]:\n"
        "    c.call('session.attach', id=sid, cols=80, rows=24)\n"
        "c.next_event(timeout=5)\n"
        "print('attached', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, *ids], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "attached"
    with Client() as client:
        status = client.call("server.status")
        assert status["clients"] >= 2
        time.sleep(0.5)
        before = {sid: max(all_output(client, sid)) for sid in ids}
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        time.sleep(1.0)
        for sid in ids:
            seen = all_output(client, sid)
            # Still counting, and every number is there exactly once, in order.
            assert max(seen) >= before[sid] + 5, sid
            assert seen == list(range(seen[0], seen[0] + len(seen))), sid
        assert all(s["status"] in LIVE for s in client.call("session.list"))
        assert client.call("server.status")["clients"] == 1


async def test_async_client_gets_events_and_screens(ptui: Runner, repo: Path) -> None:
    events: list[ServerEvent] = []
    client = await AsyncClient.connect(on_event=events.append)
    try:
        await client.request(Subscribe())
        [info] = await client.request(
            SessionCreate(task="bell", agent="sh", repo=str(repo), cols=80, rows=24)
        )
        await client.request(SessionAttach(id=info["id"]))
        text = "printf '\\033]2;my title\\007\\a'; echo done\r"
        client.notify(SessionInput(id=info["id"], text=text))

        def kinds() -> set[str]:
            return {e.kind if isinstance(e, TabEvent) else type(e).__name__ for e in events}

        wanted = {Event.BELL, Event.TITLE, "SessionsEvent", "ScreenEvent"}
        for _ in range(100):
            if wanted <= kinds():
                break
            await asyncio.sleep(0.05)
        assert wanted <= kinds()
        title = next(e for e in events if isinstance(e, TabEvent) and e.kind is Event.TITLE)
        assert (title.session, title.tab, title.value) == (info["id"], "agent", "my title")
    finally:
        await client.close()
