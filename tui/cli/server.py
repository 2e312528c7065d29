"""`ptui server` (start, --status, --stop) and `ptui proxy` (the ssh end of --host).

Stopping the server stops every running agent, so `--stop` asks first when agents
run (on a terminal) and refuses without one, unless `--force` says so.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING

from tui.cli.common import connect, json_flag, print_json
from tui.client import spawn
from tui.client.connection import Client, ServerNotRunning
from tui.errors import PtuiError, UsageError
from tui.protocol import LIVE, SessionInfo, messages

if TYPE_CHECKING:
    from tui.cli.common import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `ptui server` and `ptui proxy`."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "server",
        help="start, check or stop the session host",
        description="The session host owns every session's terminal and outlives every "
        "client. Any ptui command starts it when needed; without options this starts it "
        "(if not running) and says where it is. --stop stops it and every running agent: "
        "sessions keep their worktrees and branches and come back stopped (resume restarts "
        "an agent). When agents run, --stop lists them and asks first on a terminal, and "
        "without a terminal refuses (exit 1) unless --force is given.",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--status", action="store_true", help="say whether it runs (exit 1 if not)")
    group.add_argument(
        "--stop",
        action="store_true",
        help="stop it and every running agent; asks first when agents run (exit 1 if not stopped)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="with --stop: stop running agents without asking (for scripts)",
    )
    group.add_argument(
        "--foreground", action="store_true", help="run the server in this process (for debugging)"
    )
    p.add_argument("--detach", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    json_flag(p)
    p.set_defaults(func=cmd_server)

    p = subparsers.add_parser(
        "proxy",
        help="bridge stdin/stdout to the local server (what --host runs over ssh)",
        description="Copy frames between stdin/stdout and the local server's socket, starting "
        "the server if needed. `ptui --host box CMD` runs `ssh box ptui proxy`.",
    )
    p.set_defaults(func=cmd_proxy)


def cmd_server(args: argparse.Namespace) -> int:
    if args.force and not args.stop:
        raise UsageError("--force only goes with --stop")
    if args.foreground:
        if args.host:
            raise UsageError("--foreground runs a server here; it cannot be used with --host")
        from tui.server import daemon  # the session host itself: only in its own process

        return daemon.serve(ready_fd=args.ready_fd, detach=args.detach)
    if args.stop:
        return _stop(args)
    try:
        # --status also reports a server of another HOME (the socket is per user).
        with connect(args, start=not args.status, check_state=not args.status) as client:
            status = client.request(messages.ServerStatusRequest())
    except ServerNotRunning:
        if args.json:
            print_json({"running": False})
        else:
            print("ptui server: not running")
        return 1
    if args.json:
        print_json({"running": True, **status})
    else:
        print(
            f"ptui server: running, pid {status['pid']}, {status['sessions']} sessions "
            f"({status['live_sessions']} running), {status['clients']} clients"
        )
        print(f"socket: {status['socket']}")
        print(f"log: {status['log']}")
        print(f"state: {status['state']}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    try:
        client = connect(args, start=False, check_state=False)  # whoever's it is
    except ServerNotRunning:
        if args.json:
            print_json({"running": False, "stopped": False, "agents": []})
        else:
            print("ptui server: not running")
        return 0
    with client:
        pid = client.server["pid"]
        agents = _running_agents(client)
        ids = [a["id"] for a in agents]
        if agents and not args.force and not _confirm(agents):
            if args.json:
                print_json({"running": True, "stopped": False, "pid": pid, "agents": ids})
            else:
                print("ptui server: not stopped")
            return 1
        client.request(messages.ServerStop(), timeout=30)
        # The server closes every connection once all sessions are stopped.
        try:
            while client.next_event(timeout=30) is not None:
                pass
        except PtuiError:
            pass
    if args.host is None and not spawn.wait_stopped(pid):
        spawn.signal_server(pid, signal.SIGTERM)
        raise PtuiError(f"the ptui server (pid {pid}) did not stop in time; sent SIGTERM")
    if args.json:
        print_json({"running": False, "stopped": True, "pid": pid, "agents": ids})
    elif agents:
        print(f"ptui server: stopped (pid {pid}) and its {_count(agents)} ({', '.join(ids)})")
    else:
        print(f"ptui server: stopped (pid {pid})")
    return 0


def _running_agents(client: Client) -> list[SessionInfo]:
    """The sessions whose agent runs (busy, waiting or idle), as `session.list` gives them."""
    if not client.request(messages.ServerStatusRequest())["live_sessions"]:
        return []  # one cheap question when nothing runs
    return [s for s in client.request(messages.SessionList()) if s["status"] in LIVE]


def _count(agents: list[SessionInfo]) -> str:
    return f"{len(agents)} agent" + ("" if len(agents) == 1 else "s")


def _confirm(agents: list[SessionInfo]) -> bool:
    """Ask on the terminal whether to stop these agents; refuse when nobody can answer."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        ids = ", ".join(a["id"] for a in agents)
        raise PtuiError(
            f"the server runs {_count(agents)} ({ids}); stop them first or pass --force"
        )
    rows = [[a["id"], a["agent"], str(a["status"])] for a in agents]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for row in rows:
        print(f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2]}")
    these = "this agent" if len(agents) == 1 else f"these {len(agents)} agents"
    try:
        answer = input(f"Stop the server and {these}? [y/N] ")
    except EOFError:  # ctrl-d answers no
        print()
        return False
    return answer.strip().lower() in ("y", "yes")


def cmd_proxy(args: argparse.Namespace) -> int:
    if args.host:
        raise UsageError("proxy bridges to the local server; it cannot be used with --host")
    from tui.client.proxy import run_proxy

    return run_proxy()
