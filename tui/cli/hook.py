"""`ptui hook EVENT [PAYLOAD]`: run by an agent's own lifecycle hook, not by people.

ptui starts Claude Code and Codex with hooks that run this (`tui.server.agent_hooks`
wires them, as `python -P -m tui.cli.hook EVENT`: only what it needs is imported).
It reads the hook's JSON — Claude Code writes it to stdin, Codex `notify` passes
it as the last argument — and sends `session.hook` for the session in
`$PTUI_SESSION` with the agent's conversation id.

A hook must never hold up or break its agent: everything is given up after
`DEADLINE` seconds, nothing is ever printed (Claude Code adds a hook's stdout to
the conversation, and an older Codex let its notify program write on the
terminal), and the exit status is 0 whatever happened — no server, no session,
a payload that is not JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from tui.cli.common import Subparsers

DEADLINE: Final = 1.0
"""Seconds the whole hook may take (reading, connecting, the server's answer)."""
PAYLOAD_MAX: Final = 1 << 20
"""Bytes of payload read at most (a Stop carries the last answer; the id comes first)."""


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "hook",
        help="(run by an agent's own hooks) report a lifecycle event to ptui",
        description="Report one of an agent's lifecycle events to the ptui server, for "
        "the session in $PTUI_SESSION. ptui wires this into the agents it starts (the "
        "profile's `hooks` key): Claude Code runs it with the event's JSON on stdin, "
        "Codex `notify` with the JSON as its last argument. It prints nothing, gives up "
        f"after {DEADLINE:g}s and always exits 0, so it can never hold up the agent.",
    )
    p.add_argument("event", metavar="EVENT", help="the agent's event name (SessionStart, notify)")
    p.add_argument("payload", metavar="PAYLOAD", nargs="?", help="the event's JSON (else stdin)")
    p.set_defaults(func=cmd_hook)


def cmd_hook(args: argparse.Namespace) -> int:
    return run([args.event, *([args.payload] if args.payload is not None else [])])


def run(argv: Sequence[str]) -> int:
    """Report the event `argv` names; 0 always (a hook must not fail its agent)."""
    deadline = time.monotonic() + DEADLINE
    try:
        session = os.environ.get("PTUI_SESSION", "")
        if not session or not argv:
            return 0
        raw = argv[1] if len(argv) > 1 else _read_stdin(deadline)
        params = hook_params(argv[0], raw)
        _send(session, params, deadline)
    except Exception:  # nothing a hook hits may reach the agent
        pass
    return 0


def hook_params(event: str, raw: str) -> dict[str, str]:
    """The `session.hook` params from a hook's argv event name and JSON payload.

    The payload's own name wins (`hook_event_name` of Claude Code, `type` of a
    Codex notification); its id is `session_id` (Claude) or `thread-id` (Codex).
    """
    try:
        payload = json.loads(raw) if raw.strip() else {}
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}

    def text(*keys: str) -> str:
        for key in keys:
            value = payload.get(key)
            if isinstance(value, str) and value:
                return value
        return ""

    detail = text("message", "source", "reason")
    kind = text("notification_type")
    if kind:
        detail = f"{kind}: {detail}" if detail else kind
    return {
        "event": (text("hook_event_name", "type") or event)[:64],
        "agent_session": text("session_id", "thread-id", "thread_id")[:200],
        "detail": detail[:300],
    }


def _read_stdin(deadline: float) -> str:
    """Stdin, up to `PAYLOAD_MAX` bytes or the deadline; "" when it is a terminal or
    closed (Codex gives none)."""
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return ""
    if os.isatty(fd):
        return ""
    chunks: list[bytes] = []
    size = 0
    while size < PAYLOAD_MAX:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def _send(session: str, params: dict[str, str], deadline: float) -> None:
    """hello, then session.hook, and wait for its answer until the deadline."""
    from tui import paths, protocol
    from tui.protocol.messages import SessionHook

    request = SessionHook(id=session, **params)
    if not paths.runtime_dir().is_dir():
        return  # no server ever ran here (and a hook creates nothing)
    path = paths.socket_path()  # checks the directory is ours alone
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        sock.connect(str(path))
        hello = {"id": 1, "method": "hello", "params": {"version": protocol.VERSION}}
        hook = {"id": 2, "method": str(request.METHOD), "params": request.params()}
        sock.sendall(protocol.encode(hello) + protocol.encode(hook))
        decoder = protocol.FrameDecoder()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            sock.settimeout(left)
            data = sock.recv(65536)
            if not data:
                return
            if any(m.get("id") == 2 for m in decoder.feed(data)):
                return


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
