"""`ptui doctor`: find (and with --fix repair) every mismatch between ptui's records,
its journal of operations, git and the disk."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from tui.cli.common import connect, json_flag, print_json
from tui.errors import UsageError
from tui.protocol import messages

if TYPE_CHECKING:
    from tui.cli.common import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `ptui doctor`."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "doctor",
        help="find and repair mismatches between sessions, git and the disk",
        description="List every mismatch between ptui's session records, its journal of "
        "operations, git and the disk: an unreadable state database, half-done operations, "
        "worktrees, branches, archives or tars that belong to no session, sessions whose "
        "worktree is gone, and processes of sessions that are not running. --fix repairs "
        "them without deleting anything that is not saved elsewhere first: unclaimed work "
        "becomes a session again (stopped, or archived: `ptui restore` opens it; a stray tar "
        "becomes an archived session too, the tar kept in the recovery folder), an "
        "unreadable database is moved aside and rebuilt from git. Looks in the "
        "repositories of every session and in the current one. "
        "Exit 0 when clean, 1 when something remains, 2 on error.",
    )
    p.add_argument("--fix", action="store_true", help="repair what can be repaired")
    p.add_argument(
        "--repo",
        action="append",
        default=None,
        metavar="PATH",
        help="also look in this repository (repeatable; default: the current directory)",
    )
    json_flag(p)
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    repos = [os.path.abspath(r) for r in args.repo] if args.repo else _current_repo()
    for repo in repos:
        if not os.path.isdir(repo):
            raise UsageError(f"--repo {repo}: no such directory")
    with connect(args) as client:
        result = client.request(messages.Doctor(repos=repos, fix=args.fix), timeout=600)
    remaining = result["remaining"]
    if args.json:
        print_json(result)
        return 1 if remaining else 0
    for problem in result["problems"]:
        where = f" [{problem['session']}]" if problem["session"] else ""
        line = f"{problem['kind']}{where}: {problem['message']}"
        if problem["fixed"]:
            line += f" -> {problem['fixed']}"
        print(line)
    for note in result["notes"]:
        print(f"note: {note}")
    if not result["problems"]:
        print("ptui doctor: no problems found")
    elif remaining:
        hint = "" if args.fix else "; `ptui doctor --fix` repairs what it can"
        print(f"ptui doctor: {len(remaining)} problem(s) remain{hint}")
    else:
        print("ptui doctor: everything repaired")
    return 1 if remaining else 0


def _current_repo() -> list[str]:
    """The repository around the current directory, if there is one."""
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return [str(folder)]
    return []
