"""`ptui attach ID`: the session's terminal in this terminal until the detach key."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from tui.cli.common import connect

if TYPE_CHECKING:
    from tui.cli.common import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `ptui attach`."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "attach",
        help="show a session full screen and type into it (detach: ctrl+])",
        description="Take over this terminal to show the session's tab and send it every key, "
        "like `tmux attach`. Press the detach key (ctrl+] by default) to come back; the "
        "session keeps running. Your terminal's size becomes the session's.",
    )
    p.add_argument("id", metavar="ID", help="session id or unique prefix")
    p.add_argument("--tab", default="agent", help="tab to show (default: agent)")
    p.add_argument("--detach-key", default="ctrl+]", help="key that detaches (default: ctrl+])")
    p.set_defaults(func=cmd_attach)


def cmd_attach(args: argparse.Namespace) -> int:
    from tui.client.attach import attach, detach_key_bytes

    detach_key_bytes(args.detach_key)  # a bad key is a usage error before anything else
    with connect(args) as client:
        message = attach(client, args.id, args.tab, args.detach_key)
    print(message)
    return 0
