"""`ptui server` (start, --status, --stop) and `ptui proxy` (the ssh end of --host)."""

from __future__ import annotations

import argparse
import signal
from typing import Any

from tui.cli.common import connect, json_flag, print_json
from tui.errors import PtuiError, UsageError
from tui.server.client import ServerNotRunning


def register(subparsers: Any) -> None:
    """Add `ptui server` and `ptui proxy`."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "server",
        help="start, check or stop the session host",
        description="The session host owns every session's terminal and outlives every "
        "client. Any ptui command starts it when needed; without options this starts it "
        "(if not running) and says where it is.",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--status", action="store_true", help="say whether it runs (exit 1 if not)")
    group.add_argument("--stop", action="store_true", help="stop it and every session's programs")
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
    from tui.server import daemon

    if args.foreground:
        if args.host:
            raise UsageError("--foreground runs a server here; it cannot be used with --host")
        return daemon.serve(ready_fd=args.ready_fd, detach=args.detach)
    if args.stop:
        return _stop(args)
    try:
        # --status also reports a server of another HOME (the socket is per user).
        with connect(args, start=not args.status, check_state=not args.status) as client:
            status = client.call("server.status")
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
        if "state" in status:
            print(f"state: {status['state']}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    from tui.server import daemon

    try:
        client = connect(args, start=False, check_state=False)  # whoever's it is
    except ServerNotRunning:
        print("ptui server: not running")
        return 0
    with client:
        pid = int(client.server.get("pid", 0))
        client.call("server.stop", timeout=30)
        # The server closes every connection once all sessions are stopped.
        try:
            while client.next_event(timeout=30) is not None:
                pass
        except PtuiError:
            pass
    if args.host is None and not daemon.wait_stopped(pid):
        daemon.signal_server(pid, signal.SIGTERM)
        raise PtuiError(f"the ptui server (pid {pid}) did not stop in time; sent SIGTERM")
    print(f"ptui server: stopped (pid {pid})")
    return 0


def cmd_proxy(args: argparse.Namespace) -> int:
    if args.host:
        raise UsageError("proxy bridges to the local server; it cannot be used with --host")
    from tui.server.proxy import run_proxy

    return run_proxy()
