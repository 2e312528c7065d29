"""Helpers shared by the verbs that talk to the session host."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from typing import TYPE_CHECKING, TypeAlias

from tui.client.connection import Client
from tui.errors import UsageError

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
    """What each verb module's `register` adds its parser to."""


def connect(args: argparse.Namespace, *, start: bool = True, check_state: bool = True) -> Client:
    """A client for the server the command line names (local, or `--host` over ssh).

    `check_state=False` also talks to a local server of another HOME (to stop it).
    """
    host = getattr(args, "host", None)
    ssh_config = getattr(args, "ssh_config", None)
    if ssh_config and not host:
        raise UsageError("--ssh-config needs --host")
    return Client(host, start=start, ssh_config=ssh_config, check_state=check_state)


def json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def terminal_size() -> tuple[int, int]:
    """The calling terminal's (cols, rows), or 120x36 when there is none."""
    size = shutil.get_terminal_size((120, 36))
    return size.columns, size.lines


def table(rows: list[list[str]], header: list[str]) -> str:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = []
    for row in [header, *rows]:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths[:-1], strict=True)]
        out.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(out)
