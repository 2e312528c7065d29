"""The `ptui` command: argparse front end that dispatches to one module per verb.

Each verb module exposes `register(subparsers)`, which adds its parser and sets
`func` (a callable taking the parsed namespace and returning an exit status).
Business logic lives in the layers below; this package only parses and prints.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tui import __version__
from tui.errors import PtuiError, UsageError

# Verb modules, in the order `ptui --help` lists them.
VERB_MODULES = (
    "tui.cli.sessions",
    "tui.cli.attach",
    "tui.cli.record",
    "tui.cli.server",
    "tui.cli.doctor",
    "tui.cli.replay",
    "tui.cli.bench",
    "tui.cli.demo",
    "tui.cli.status",
    "tui.cli.hook",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser with every verb registered."""
    parser = argparse.ArgumentParser(
        prog="ptui",
        description=(
            "Run many coding agents in parallel, each in its own git worktree and "
            "branch, from one terminal UI."
        ),
        epilog="Without a verb, ptui opens the terminal UI in the current repository. "
        "Run `ptui VERB --help` for the options of one verb.",
    )
    parser.add_argument("--version", action="version", version=f"ptui {__version__}")
    parser.add_argument(
        "--host",
        metavar="[USER@]HOST",
        help="talk to the ptui server on HOST through `ssh HOST ptui proxy` "
        "(ssh options: --ssh-config, or the ssh command line in $PTUI_SSH)",
    )
    parser.add_argument(
        "--ssh-config",
        metavar="FILE",
        help="ssh config file for --host (passed to ssh as -F FILE)",
    )
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB")
    for name in VERB_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ptui` console script; returns the exit status."""
    if not sys.platform.startswith("linux"):
        # The server tells its clients apart by SO_PEERCRED and finds processes in
        # /proc: elsewhere every connection would be refused, so say why instead.
        print(
            f"ptui: error: ptui runs on Linux only (it needs SO_PEERCRED and /proc); "
            f"this is {sys.platform}",
            file=sys.stderr,
        )
        return 1
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        from tui.cli.app import run_app  # no verb: the terminal UI

        func = run_app
    try:
        status: int = func(args)
    except UsageError as exc:
        print(f"ptui: error: {exc}", file=sys.stderr)
        return 2
    except PtuiError as exc:
        print(f"ptui: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ptui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error worth a traceback.
        return 0
    return status
