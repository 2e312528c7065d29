"""`ptui replay FILE`: feed a byte file through the emulator and print the final screen."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tui.errors import PtuiError, UsageError

if TYPE_CHECKING:
    from tui.cli.common import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `ptui replay`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "replay",
        help="feed a byte file through the terminal emulator and print the final screen",
        description=(
            "Feed FILE (raw bytes a program wrote to its terminal; '-' for stdin) through "
            "ptui's emulator and print the final screen: plain text, or with --ansi, text "
            "with SGR codes that reproduce the screen's colours."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="byte file to replay, or - for stdin")
    parser.add_argument("--cols", type=int, default=200, help="screen width (default 200)")
    parser.add_argument("--rows", type=int, default=50, help="screen height (default 50)")
    parser.add_argument("--ansi", action="store_true", help="keep colours as SGR codes")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Replay the file and print the screen."""
    from tui.term.emulator import Emulator

    if not (1 <= args.cols <= 1000) or not (1 <= args.rows <= 1000):
        raise UsageError(f"--cols and --rows must be 1..1000 (got {args.cols}x{args.rows})")
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise PtuiError(f"{args.file}: cannot read: {exc.strerror or exc}") from None
    emulator = Emulator(cols=args.cols, rows=args.rows)
    emulator.feed(data)
    text = emulator.render_ansi() if args.ansi else emulator.render_text()
    sys.stdout.write(text)
    return 0
