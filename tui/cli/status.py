"""`ptui status ID [--explain] [--json]`: what a session's agent is doing, and why.

The status engine (tui.server.status_engine) decides from layered signals; this
verb prints its decision, the layer and rule that made it, what they saw and
when, and the last transitions.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING

from tui.cli.common import connect, json_flag, print_json
from tui.protocol import messages

if TYPE_CHECKING:
    from tui.cli.common import Subparsers


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "status",
        help="what a session's agent is doing, and why",
        description="Print the agent's status (starting, busy, waiting, idle, limited, "
        "exited; stopped or archived when it does not run) and the reason in one line. "
        "--explain adds the signal of every layer (process, output activity, bell, "
        "OSC 9/777/133, window title, the agent's screen rules, your own patterns, hooks) "
        "with the time it was seen, and the last transitions.",
    )
    p.add_argument("id", metavar="ID", help="session id or unique prefix")
    p.add_argument("--explain", action="store_true", help="every layer's signal and the history")
    json_flag(p)
    p.set_defaults(func=cmd_status)


def _clock(at: float) -> str:
    return dt.datetime.fromtimestamp(at).strftime("%H:%M:%S.%f")[:-3]


def cmd_status(args: argparse.Namespace) -> int:
    with connect(args) as client:
        report = client.request(messages.SessionStatus(id=args.id))
    if args.json:
        print_json(report)
        return 0
    line = f"{report['id']}: {report['status']}"
    if report["limited_until"]:
        line += f" (resets {report['limited_until']})"
    if report["reason"]:
        line += f" — {report['reason']}"
    print(line)
    if not args.explain:
        return 0
    chosen = report["chosen"]
    if chosen is not None:
        print(f"  chosen by: {chosen['layer']} / {chosen['rule']} at {_clock(chosen['at'])}")
    version = report["agent_version"] or "unknown"
    rules = report["rules"] or "none shipped for this agent"
    print(f"  agent: {report['agent'] or '-'} (version: {version}); rules: {rules}")
    if report["evidence"]:
        print("  signals now (strongest first):")
        for signal in report["evidence"]:
            detail = signal["detail"].strip().replace("\n", " ")
            print(
                f"    {_clock(signal['at'])}  {signal['layer']:<10} {signal['rule']:<28} {detail}"
            )
    if report["transitions"]:
        print("  transitions (oldest first):")
        for change in report["transitions"]:
            print(
                f"    {_clock(change['at'])}  -> {change['status']:<8} "
                f"by {change['layer']} / {change['rule']}"
            )
    return 0
