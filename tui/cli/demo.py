"""`ptui demo`: a throwaway repository with three demo agents at work, then the app.

The repository (`tinycalc`) goes to `<data dir>/demo` or `--dir`, its worktrees
beside it; the agent is ptui's own demo agent, so nothing needs installing.
Running it again reuses what is there; `--reset` starts over.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tui.cli.common import connect, json_flag, print_json, table, terminal_size
from tui.demo import repo as demo_repo
from tui.demo import sessions as demo_sessions
from tui.errors import PtuiError, UsageError
from tui.protocol import SessionInfo

if TYPE_CHECKING:
    from tui.cli.common import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `ptui demo`."""
    p = subparsers.add_parser(
        "demo",
        help="try ptui: a throwaway repository with three demo agents, no agent needed",
        description="Make a small throwaway repository (tinycalc), start three sessions of "
        "ptui's built-in demo agent on it, each in its own worktree and branch, and open ptui. "
        "The agents edit files, show what they changed and ask for approval; answer them, "
        "read their diffs, merge or archive them. Running it again reuses what is there.",
    )
    p.add_argument(
        "--dir",
        metavar="PATH",
        help="folder for the demo repository and its worktrees (default: <data dir>/demo)",
    )
    p.add_argument("--no-app", action="store_true", help="only create and print; do not open ptui")
    p.add_argument(
        "--reset", action="store_true", help="archive and remove the demo's sessions, start over"
    )
    json_flag(p)
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    if getattr(args, "host", None):
        raise UsageError("ptui demo runs on this machine; drop --host")
    parent = Path(args.dir).expanduser().absolute() if args.dir else demo_repo.default_parent()
    cols, rows = terminal_size()
    existing = parent / demo_repo.REPO_NAME
    if existing.exists() and not demo_repo.is_demo_repo(existing):
        raise PtuiError(f"{existing} was not made by `ptui demo`; choose another --dir")
    with connect(args) as client:
        if args.reset:
            demo_sessions.remove_demo_sessions(client, existing)
            demo_repo.remove_demo_dir(parent)
        repo, made = demo_repo.ensure_demo_repo(parent)
        if made:  # sessions left from a demo folder deleted by hand have nothing to run
            demo_sessions.remove_demo_sessions(client, repo)
        demo_sessions.trust_demo_config(client, repo)
        sessions = demo_sessions.ensure_demo_sessions(client, repo, cols=cols, rows=rows)
    if args.json:
        print_json({"repo": str(repo), "created": made, "sessions": sessions})
        return 0
    _print_summary(repo, made, sessions)
    if args.no_app:
        return 0
    return _open_app(repo, sessions)


def _print_summary(repo: Path, made: bool, sessions: list[SessionInfo]) -> None:
    print(f"ptui demo: {'made' if made else 'reusing'} the demo repository {repo}")
    rows = [[s["id"], s["status"], s["branch"], s["task"]] for s in sessions]
    print(table(rows, ["ID", "STATUS", "BRANCH", "TASK"]))


def _open_app(repo: Path, sessions: list[SessionInfo]) -> int:
    hint = (
        f"Open them: cd {repo} && ptui   (or `ptui attach {sessions[0]['id']}`, `ptui ls`)\n"
        "Start over: ptui demo --reset"
        if sessions
        else "Start over: ptui demo --reset"
    )
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print(hint)
        return 0
    from tui.cli.app import pause_gc_for_startup, set_frame_rate
    from tui.client.connection import EarlyConnection

    set_frame_rate()
    early = EarlyConnection()  # answered while Textual imports
    pause_gc_for_startup()
    try:
        from tui.app.app import PtuiApp
    except ImportError:
        print(hint)
        return 0
    os.chdir(repo)
    app = PtuiApp(repo=repo, early=early)
    app.run()
    error = getattr(app, "exit_error", None)
    if error:
        print(f"ptui: error: {error}", file=sys.stderr)
        return 1
    return app.return_code or 0
