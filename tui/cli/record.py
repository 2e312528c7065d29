"""`ptui record`: save a session tab's raw output as an asciicast v2 file, or stop.

The server writes the file (`tui.server.recording`); this module resolves FILE to an
absolute path, asks, and prints one line.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from tui.cli.common import connect, json_flag, print_json
from tui.errors import UsageError
from tui.protocol import messages

if TYPE_CHECKING:
    from tui.cli.common import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `ptui record`."""
    p = subparsers.add_parser(
        "record",
        help="save a session's terminal output to a file (asciicast v2)",
        description="Start saving everything the program on a session's tab prints, as it "
        "arrives from its terminal, to FILE in asciicast v2 format, with what is typed into "
        "it, resizes and its exit; `asciinema play FILE` plays it back. The file is written "
        "by the ptui server, on the server's machine (with --host, on that machine), and "
        "must not exist yet; FILE is taken relative to the current directory. The recording "
        "ends when the program exits or with `ptui record ID --stop`.",
    )
    p.add_argument("id", metavar="ID", help="session id or unique prefix")
    p.add_argument("file", metavar="FILE", nargs="?", help="the new file to write")
    p.add_argument("--stop", action="store_true", help="stop recording and close the file")
    p.add_argument("--tab", default="agent", help="tab to record (default: agent)")
    json_flag(p)
    p.set_defaults(func=cmd_record)


def cmd_record(args: argparse.Namespace) -> int:
    if args.stop == bool(args.file):
        raise UsageError("give FILE to start recording, or --stop to end it (not both)")
    # Made absolute here, where "relative to the current directory" means something;
    # with --host it names a path on the remote machine all the same.
    path = os.path.abspath(os.path.expanduser(args.file)) if args.file else ""
    with connect(args) as client:
        answer = client.request(
            messages.SessionRecord(id=args.id, tab=args.tab, path=path, stop=args.stop)
        )
    if args.json:
        print_json(answer)
        return 0
    sid, tab = answer["id"], answer["tab"]
    tab_flag = f" --tab {tab}" if tab != "agent" else ""
    if args.stop:
        count = answer["events"]
        print(
            f"{sid}: stopped recording {answer['path']} ({count} output "
            f"event{'s' if count != 1 else ''}; play it: asciinema play {answer['path']})"
        )
    else:
        print(
            f"{sid}: recording tab {tab} to {answer['path']} on the server's machine "
            f"(stop: ptui record {sid}{tab_flag} --stop)"
        )
    return 0
