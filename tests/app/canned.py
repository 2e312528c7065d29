"""A canned server for snapshot tests ONLY: fixed sessions, summaries and one agent screen.

Snapshots must not depend on timing, paths or process ids, so the app is fed a
recorded-style event stream instead of a live server. The agent's screen is
made by ptui's own emulator from fixed ANSI bytes and encoded exactly as the
server encodes it. Every behaviour test runs against the real server.
"""

from __future__ import annotations

import asyncio
import copy
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import tomli_w

from tui import protocol
from tui.app.app import PtuiApp
from tui.client.async_client import AsyncClient, EventSink
from tui.protocol import Method
from tui.protocol.events import decode_event
from tui.protocol.messages import Request
from tui.term.emulator import Emulator

REPO = "/home/dev/src/shop"
WORKTREES = "/home/dev/src/shop.ptui-worktrees"


def _info(name: str, status: str, agent: str, task: str, port: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": name, "name": name, "task": task, "agent": agent, "repo": REPO,
        "branch": f"ptui/{name}", "base": "main", "worktree": f"{WORKTREES}/{name}",
        "status": status, "port": port, "created": "2025-01-01T10:00:00", "archived": False,
        "exit_code": None, "tabs": ["agent"], "worktree_missing": False, **extra,
    }  # fmt: skip


SESSIONS: list[dict[str, Any]] = [
    _info("fix-login", "busy", "claude", "Fix the login redirect loop and add a test", 41000,
          tabs=["agent", "test", "shell"]),
    _info("add-search", "waiting", "codex", "Add full-text search to the products page", 41010),
    _info("bump-deps", "idle", "aider", "Bump dependencies and fix deprecations", 41020),
    _info("old-spike", "exited", "claude", "Spike: GraphQL gateway", 41030, exit_code=1),
    _info("docs-pass", "stopped", "gemini", "Rewrite the README quick start", 41040),
]  # fmt: skip

SUMMARIES: dict[str, dict[str, Any]] = {
    "fix-login": {"added": 48, "removed": 12, "files": 3, "ahead": 2, "behind": 0, "dirty": 1,
                  "overlaps": ["add-search"], "test_running": False, "test_exit": 1},
    "add-search": {"added": 210, "removed": 4, "files": 7, "ahead": 5, "behind": 1, "dirty": 0,
                   "overlaps": ["fix-login"], "test_running": False, "test_exit": None},
    "bump-deps": {"added": 9, "removed": 9, "files": 2, "ahead": 1, "behind": 0, "dirty": 0,
                  "overlaps": [], "test_running": False, "test_exit": 0},
    "old-spike": {"added": 0, "removed": 0, "files": 0, "ahead": 0, "behind": 3, "dirty": 0,
                  "overlaps": [], "test_running": False, "test_exit": None},
    "docs-pass": {"added": 30, "removed": 22, "files": 1, "ahead": 0, "behind": 0, "dirty": 1,
                  "overlaps": [], "test_running": False, "test_exit": None},
}  # fmt: skip

# What an agent's screen looks like: colours, bold, a box, a prompt, wide characters.
AGENT_SCREEN = (
    "\x1b[1;38;5;208m✻\x1b[0m Welcome to \x1b[1mClaude Code\x1b[0m!\r\n\r\n"
    "\x1b[2m> \x1b[0mFix the login redirect loop and add a test\r\n\r\n"
    "\x1b[38;5;114m●\x1b[0m Read(\x1b[1msrc/auth/login.py\x1b[0m)\r\n"
    "  ⎿  Read 120 lines\r\n\r\n"
    "\x1b[38;5;114m●\x1b[0m Update(\x1b[1msrc/auth/login.py\x1b[0m)\r\n"
    "  ⎿  \x1b[32m+    if request.path == next_url:\x1b[0m\r\n"
    "     \x1b[32m+        next_url = '/'\x1b[0m\r\n"
    "     \x1b[31m-    return redirect(next_url)\x1b[0m\r\n\r\n"
    "\x1b[38;5;174m✽\x1b[0m Running tests… \x1b[2m(esc to interrupt)\x1b[0m 日本語 ok\r\n\r\n"
    "\x1b[38;5;244m╭────────────────────────────────────────╮\x1b[0m\r\n"
    "\x1b[38;5;244m│\x1b[0m > \x1b[7m \x1b[0m" + " " * 36 + "\x1b[38;5;244m│\x1b[0m\r\n"
    "\x1b[38;5;244m╰────────────────────────────────────────╯\x1b[0m"
)


def screen_event(session: str, tab: str, cols: int, rows: int) -> dict[str, Any]:
    """A full `screen` event, as the server sends after `session.attach`."""
    emulator = Emulator(cols=cols, rows=rows)
    emulator.feed(AGENT_SCREEN.encode())
    lines = emulator.visible_lines()
    return {
        "event": "screen",
        "data": {
            "session": session, "tab": tab, "cols": cols, "rows": rows, "full": True,
            "cursor": list(emulator.cursor),
            "lines": [[y, protocol.encode_runs(line)] for y, line in enumerate(lines)],
            "modes": asdict(emulator.modes), "title": "",
        },
    }  # fmt: skip


class CannedClient(AsyncClient):
    """Answers from the tables above; `session.attach` is followed by the canned screen."""

    def __init__(self, on_event: EventSink) -> None:
        super().__init__(on_event)
        self.notified: list[tuple[str, dict[str, object]]] = []
        self.server = {"version": protocol.VERSION, "ptui": "canned", "pid": 0, "state": "",
                       "methods": sorted(Method)}  # fmt: skip

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        if method == "events.subscribe":
            return {"sessions": copy.deepcopy(SESSIONS)}
        if method == "session.summary":
            return copy.deepcopy(SUMMARIES)
        if method == "repo.branches":
            return {
                "repo": REPO,
                "current": "main",
                "branches": ["main", "release-1.2", "ptui/fix-login"],
            }
        if method == "session.attach":
            event = screen_event(params["id"], params["tab"], params["cols"], params["rows"])
            assert self._on_event is not None
            asyncio.get_running_loop().call_soon(self._on_event, decode_event(event))
            return {"id": params["id"], "tab": params["tab"], "alive": True}
        return True

    def notify(self, request: Request[object]) -> None:
        self.notified.append((request.METHOD, request.params()))

    async def close(self) -> None:
        pass


class CannedApp(PtuiApp):
    """The real app on the canned client."""

    def __init__(self, theme: str = "ptui-dark") -> None:
        write_snapshot_config(theme)
        super().__init__(repo=Path(REPO))

    async def open_client(self) -> AsyncClient:
        return CannedClient(self.on_server_event)

    async def wait_closed(self, client: AsyncClient) -> None:
        await asyncio.Event().wait()  # the canned connection never ends


def write_snapshot_config(theme: str) -> None:
    """Agents whose commands exist everywhere (and one that does not), the theme."""
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "ptui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    agents = {
        "claude": {"command": ["sh"]},
        "codex": {"command": ["cat"]},
        "aider": {"command": ["sh"]},
        "gemini": {"command": ["no-such-agent-binary"]},
    }
    path.write_text(tomli_w.dumps({"default_agent": "claude", "agents": agents,
                                   "ui": {"theme": theme}}))  # fmt: skip
