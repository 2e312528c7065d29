"""Session verbs: new, ls, show, send, stop, resume, archive, restore, rm, commit,
merge, diff, run, shell, trust — each one request to the session host.

Human output by default, `--json` for scripts. A session is named by its id (the
session name, see `ptui ls`) or any unique prefix of it.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, TypedDict

from tui.cli.common import connect, json_flag, print_json, table, terminal_size
from tui.errors import PtuiError
from tui.protocol import Activity, LifecycleState, SessionInfo, messages

if TYPE_CHECKING:
    from tui.cli.common import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add the session verbs."""
    p = subparsers.add_parser(
        "new",
        help="start agent sessions on a task, each in its own worktree and branch",
        description="Create a branch and worktree from BASE, run the setup script (if the "
        "repository's scripts are trusted), give the session a block of ports and start the "
        "agent on TASK. With -n COUNT, COUNT sessions on COUNT branches work on the same task.",
    )
    p.add_argument("task", metavar="TASK", help="what the agent should do (the prompt)")
    p.add_argument("--agent", "-a", help="agent profile (default: default_agent from config)")
    p.add_argument("--base", "-b", help="branch, tag or commit to start from (default: current)")
    p.add_argument("--name", help="session name (default: made from the task)")
    p.add_argument("-n", "--count", type=int, default=1, help="how many sessions (default 1)")
    p.add_argument("--repo", default=None, help="repository (default: the current directory)")
    json_flag(p)
    p.set_defaults(func=cmd_new)

    p = subparsers.add_parser(
        "ls",
        help="list sessions",
        description="List sessions: id, state, agent, branch, port, task. --all adds archived. "
        "STATE is the agent's activity (starting, busy, waiting, idle, limited, exited, "
        "stopped; `ptui status ID --explain` says why) when the session "
        "is ready, else its lifecycle state: creating, setting-up, archiving, archived, "
        "restoring, merging, removing, or damaged (see `ptui doctor`).",
    )
    p.add_argument("--all", action="store_true", help="include archived sessions")
    json_flag(p)
    p.set_defaults(func=cmd_ls)

    p = subparsers.add_parser(
        "show",
        help="print a session's screen",
        description="Print the current screen of a session's tab (the last screen if stopped).",
    )
    p.add_argument("id", metavar="ID", help="session id or unique prefix")
    p.add_argument("--ansi", action="store_true", help="keep colours as SGR codes")
    p.add_argument("--tab", default="agent", help="tab to show (default: agent)")
    json_flag(p)
    p.set_defaults(func=cmd_show)

    p = subparsers.add_parser(
        "send",
        help="type text into a session",
        description="Send TEXT to the session's agent as if typed; --enter presses Enter after.",
    )
    p.add_argument("id", metavar="ID", help="session id or unique prefix")
    p.add_argument("text", metavar="TEXT", help="text to type")
    p.add_argument("--enter", action="store_true", help="press Enter after the text")
    p.add_argument("--tab", default="agent", help="tab to type into (default: agent)")
    p.set_defaults(func=cmd_send)

    for verb, helptext, more in (
        ("stop", "stop a session's agent, scripts and every process they started", ""),
        (
            "resume",
            "restart a stopped session's agent with its resume command",
            " A setup script that never finished (the server stopped during it) runs again "
            "first. Refused while setup runs.",
        ),
        (
            "archive",
            "stop a session, save all its files and remove its worktree",
            " Every file is saved first (tracked, staged, untracked and ignored), then only "
            "what was saved is removed; if a file changes meanwhile, the worktree is left "
            "whole and nothing is archived. During setup, the agent then never starts.",
        ),
        ("restore", "bring an archived session's worktree back, byte for byte", ""),
    ):
        p = subparsers.add_parser(
            verb, help=helptext, description=helptext[0].upper() + helptext[1:] + "." + more
        )
        p.add_argument("id", metavar="ID", help="session id or unique prefix")
        json_flag(p)
        p.set_defaults(func=cmd_lifecycle, verb_name=verb)

    p = subparsers.add_parser(
        "rm",
        help="delete a session: its worktree, branch and archive",
        description="Delete a session. Without --force only a session whose branch is merged "
        "into its base with nothing uncommitted (in its worktree or its archive); otherwise it "
        "says what would be lost and changes nothing. Takes the whole id, never a prefix.",
    )
    p.add_argument("id", metavar="ID", help="the session's whole id")
    p.add_argument(
        "--force",
        action="store_true",
        help="delete it even with unmerged or uncommitted work (that work is lost)",
    )
    json_flag(p)
    p.set_defaults(func=cmd_lifecycle, verb_name="rm")

    p = subparsers.add_parser(
        "commit",
        help="commit everything in a session's worktree on its branch",
        description="Stage all changes (untracked files too, ignored ones not) and commit.",
    )
    p.add_argument("id", metavar="ID", help="session id or unique prefix")
    p.add_argument("-m", "--message", required=True, help="commit message")
    json_flag(p)
    p.set_defaults(func=cmd_commit)

    p = subparsers.add_parser(
        "merge",
        help="merge a session's branch into its base",
        description="Commit the session's uncommitted work, then land its branch on the base "
        "branch. Refused (nothing changes) on conflicts or a dirty base checkout.",
    )
    p.add_argument("id", metavar="ID", help="session id or unique prefix")
    p.add_argument(
        "--strategy",
        choices=("ff", "merge", "squash"),
        default="merge",
        help="ff: fast-forward only; merge: merge commit (default); squash: one commit",
    )
    p.add_argument("-m", "--message", help="message of the merge or squash commit")
    json_flag(p)
    p.set_defaults(func=cmd_merge)

    p = subparsers.add_parser(
        "diff",
        help="show what a session changed against its base",
        description="The session's changes since it left its base, committed and not.",
    )
    p.add_argument("id", metavar="ID", help="session id or unique prefix")
    p.add_argument("--stat", action="store_true", help="only the `git diff --stat` summary")
    json_flag(p)
    p.set_defaults(func=cmd_diff)

    p = subparsers.add_parser(
        "run",
        help="run a script from [scripts] in a session (as a new tab)",
        description="Run SCRIPT (a name from [scripts]) in the session's worktree on its own "
        "terminal tab, with PTUI_PORT and friends set. Repository scripts need `ptui trust`.",
    )
    p.add_argument("id", metavar="ID", help="session id or unique prefix")
    p.add_argument("script", metavar="SCRIPT", help="script name")
    json_flag(p)
    p.set_defaults(func=cmd_run)

    p = subparsers.add_parser(
        "shell",
        help="open a shell tab in a session's worktree",
        description="Start $SHELL in the session's worktree as a new tab; attach with --tab.",
    )
    p.add_argument("id", metavar="ID", help="session id or unique prefix")
    json_flag(p)
    p.set_defaults(func=cmd_shell)

    p = subparsers.add_parser(
        "trust",
        help="review and trust this repository's .ptui.toml",
        description="Show the .ptui.toml committed on the base branch and, once you agree, "
        "trust that exact content. Until then ptui ignores every key of it that could run "
        "code, move files, name branches, open ports or cost CPU (scripts, setup, agents, "
        "status patterns, [git], default_agent, scrollback, port_base) and says which. "
        "Only the committed file counts, never an uncommitted copy. "
        "A changed file needs trust again.",
    )
    p.add_argument("--repo", default=None, help="repository (default: the current directory)")
    p.add_argument("--base", default=None, help="branch to read .ptui.toml from (default: current)")
    p.add_argument("--yes", "-y", action="store_true", help="trust without asking")
    json_flag(p)
    p.set_defaults(func=cmd_trust)


# --------------------------------------------------------------------- verbs
def cmd_new(args: argparse.Namespace) -> int:
    cols, rows = terminal_size()
    repo = os.path.abspath(args.repo) if args.repo else os.getcwd()
    with connect(args) as client:
        created = client.request(
            messages.SessionCreate(
                task=args.task,
                agent=args.agent,
                base=args.base,
                name=args.name,
                count=args.count,
                repo=repo,
                cols=cols,
                rows=rows,
            )
        )
    if args.json:
        print_json(created)
        return 0
    for info in created:
        print(
            f"{info['id']}: {info['agent']} on {info['branch']} in {info['worktree']} "
            f"(PTUI_PORT={info['port']})"
        )
        for warning in info.get("warnings", []):
            print("  warning: " + warning.replace("\n", "\n    "), file=sys.stderr)
    return 0


class ListedSession(TypedDict):
    """One session as `ptui ls --json` prints it: what scripts (and the crash bench) read."""

    id: str
    name: str
    task: str
    agent: str
    branch: str
    base: str
    worktree: str
    status: str
    """The agent's activity (`tui.protocol.Activity`)."""
    reason: str
    """Why the status engine chose it (`ptui status ID --explain` says more)."""
    limited_until: str
    """With status limited: the reset time the agent showed ("" if none)."""
    lifecycle: str
    """The session's lifecycle state (`tui.protocol.LifecycleState`)."""
    port: int
    created: str
    exit_code: int | None
    agent_session: str
    """The agent's own conversation id that `ptui resume` continues ("" when unknown)."""


def _listed(session: SessionInfo) -> ListedSession:
    """What `ptui ls --json` prints of one session."""
    return {
        "id": session["id"],
        "name": session["name"],
        "task": session["task"],
        "agent": session["agent"],
        "branch": session["branch"],
        "base": session["base"],
        "worktree": session["worktree"],
        "status": session["status"],
        "reason": session["reason"],
        "limited_until": session["limited_until"],
        "lifecycle": session["lifecycle"],
        "port": session["port"],
        "created": session["created"],
        "exit_code": session["exit_code"],
        "agent_session": session["agent_session"],
    }


def _state(session: SessionInfo) -> str:
    """The STATE column: the agent's activity when the session is ready, else its lifecycle."""
    state: str = session["status"]
    if state == Activity.EXITED and session["exit_code"] is not None:
        state = f"exited({session['exit_code']})"
    if state == Activity.LIMITED and session["limited_until"]:
        state = f"limited(until {session['limited_until']})"
    lifecycle = session["lifecycle"]
    if lifecycle == LifecycleState.SETTING_UP:
        state = f"setting-up, {state}"
    elif lifecycle not in (LifecycleState.READY, LifecycleState.ARCHIVED):
        state = lifecycle
    if session["worktree_missing"]:
        state += " (worktree missing)"
    return state


def cmd_ls(args: argparse.Namespace) -> int:
    with connect(args) as client:
        sessions = client.request(messages.SessionList(all=args.all))
    if args.json:
        print_json([_listed(s) for s in sessions])
        return 0
    if not sessions:
        print("no sessions (start one with `ptui new TASK`)")
        return 0
    rows = []
    for s in sessions:
        task = s["task"] if len(s["task"]) <= 50 else s["task"][:47] + "..."
        rows.append([s["id"], _state(s), s["agent"], s["branch"], str(s["port"] or "-"), task])
    print(table(rows, ["ID", "STATUS", "AGENT", "BRANCH", "PORT", "TASK"]))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with connect(args) as client:
        screen = client.request(messages.SessionScreen(id=args.id, tab=args.tab, ansi=args.ansi))
    if args.json:
        print_json(screen)
        return 0
    text = screen["text"].rstrip("\n")
    # Trailing blank rows say nothing; a screen's own blank lines inside stay.
    sys.stdout.write("\n".join(line.rstrip() for line in text.rstrip().split("\n")) + "\n")
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    text = args.text + ("\r" if args.enter else "")
    with connect(args) as client:
        client.request(messages.SessionInput(id=args.id, tab=args.tab, text=text))
    return 0


_DONE = {
    "stop": "stopped",
    "resume": "resumed",
    "archive": "archived",
    "restore": "restored",
    "rm": "removed",
}
"""What each lifecycle verb says it did."""


def cmd_lifecycle(args: argparse.Namespace) -> int:
    """stop, resume, archive, restore and rm: one request, one line (`--json`: the answer)."""
    verb, sid = args.verb_name, args.id
    detail = ""
    lost: list[str] = []
    warnings: list[str] = []
    answer: SessionInfo | messages.Removed
    with connect(args) as client:
        if verb == "rm":
            removed = client.request(messages.SessionRemove(id=sid, force=args.force))
            answer, lost = removed, removed["lost"]
        else:
            info: SessionInfo
            if verb == "archive":
                archived = client.request(messages.SessionArchive(id=sid))
                detail = (
                    f" ({archived['files_saved']} files in the snapshot, "
                    f"{archived['ignored_saved']} ignored)"
                )
                info = archived
            elif verb == "restore":
                info = client.request(messages.SessionRestore(id=sid))
                detail = f" at {info['worktree']} (stopped; `ptui resume {info['id']}` to start it)"
            elif verb == "resume":
                cols, rows = terminal_size()
                info = client.request(messages.SessionResume(id=sid, cols=cols, rows=rows))
            else:
                info = client.request(messages.SessionStop(id=sid))
            answer, warnings = info, info.get("warnings", [])
    if args.json:
        print_json(answer)
        return 0
    print(f"{answer['id']}: {_DONE[verb]}{detail}")
    for path in lost:
        print(f"  deleted: {path}")
    for warning in warnings:
        print(f"  warning: {warning}", file=sys.stderr)
    return 0


def cmd_commit(args: argparse.Namespace) -> int:
    with connect(args) as client:
        result = client.request(messages.SessionCommit(id=args.id, message=args.message))
    if args.json:
        print_json(result)
    else:
        print(f"{result['id']}: committed {result['commit'][:12]}")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    with connect(args) as client:
        result = client.request(
            messages.SessionMerge(id=args.id, strategy=args.strategy, message=args.message)
        )
    if args.json:
        print_json(result)
        return 0
    if result["committed"]:
        print(f"{result['id']}: committed uncommitted work as {result['committed'][:12]}")
    count = len(result["files"])
    print(
        f"{result['id']}: merged into {result['base']} ({result['strategy']}): "
        f"{result['old_commit'][:12]}..{result['new_commit'][:12]}, "
        f"{count} file{'s' if count != 1 else ''} changed"
    )
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    with connect(args) as client:
        result = client.request(messages.SessionDiff(id=args.id, stat=args.stat or args.json))
    if args.json:
        print_json(
            {
                "id": result["id"],
                "merge_base": result["merge_base"],
                "files": result["files"],
                "summary": result["summary"],
            }
        )
        return 0
    if not result["files"]:
        print(f"{result['id']}: no changes")
        return 0
    sys.stdout.write((result["stat"] if args.stat else result["patch"]).rstrip("\n") + "\n")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    with connect(args) as client:
        result = client.request(messages.SessionRun(id=args.id, script=args.script))
    if args.json:
        print_json(result)
    else:
        print(
            f"{result['id']}: running {args.script!r} in tab {result['tab']!r} "
            f"(watch: ptui attach {result['id']} --tab {result['tab']})"
        )
    return 0


def cmd_shell(args: argparse.Namespace) -> int:
    with connect(args) as client:
        result = client.request(messages.SessionShell(id=args.id))
    if args.json:
        print_json(result)
    else:
        print(
            f"{result['id']}: shell in tab {result['tab']!r} "
            f"(ptui attach {result['id']} --tab {result['tab']})"
        )
    return 0


def cmd_trust(args: argparse.Namespace) -> int:
    repo = os.path.abspath(args.repo) if args.repo else os.getcwd()
    with connect(args) as client:
        shown = client.request(messages.TrustShow(repo=repo, base=args.base))
        if not args.json and shown["local_changes"]:
            print(f"note: {shown['local_changes']}", file=sys.stderr)
        if not shown["digest"]:
            raise PtuiError(
                f"{shown['repo']} has no .ptui.toml on {shown['base']}: nothing to trust"
            )
        if shown["trusted"]:
            if args.json:
                print_json(shown)
            else:
                print(f"{shown['repo']}/.ptui.toml on {shown['base']} is already trusted")
            return 0
        if not args.yes:
            if not sys.stdin.isatty():
                raise PtuiError("not a terminal: review the file and run `ptui trust --yes`")
            print(f"--- {shown['repo']}/.ptui.toml on {shown['base']} ---")
            print(shown["text"].rstrip("\n"))
            print("---")
            ignored = ", ".join(shown["ignored"]) or "nothing"
            print(f"Until you trust it, ptui ignores: {ignored}")
            if shown["problem"]:
                print(f"Even trusted, ptui will refuse it: {shown['problem']}")
            names = ", ".join(shown["scripts"]) or "none"
            answer = input(
                f"Trust this file: its settings apply and its scripts may run ({names})? [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                print("not trusted")
                return 1
        result = client.request(
            messages.TrustAdd(repo=repo, base=args.base, digest=shown["digest"])
        )
    if args.json:
        print_json(result)
    else:
        print(f"trusted {result['repo']}/.ptui.toml (sha256 {result['digest'][:16]}...)")
    return 0
