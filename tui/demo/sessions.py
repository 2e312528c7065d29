"""The demo's sessions: three demo agents on the demo repository, through the server.

`ensure_demo_sessions` is idempotent: a demo task that already has a live session
keeps it, a stopped or exited one is resumed, and only a missing (or archived)
one gets a new session. `remove_demo_sessions` archives and removes every
session of the demo repository, for `ptui demo --reset`.
"""

from __future__ import annotations

from pathlib import Path

from tui.client.connection import Client
from tui.demo.repo import DEMO_TASKS
from tui.protocol import Activity, SessionInfo, messages

DEMO_AGENT = "demo"


def _same_path(a: str | Path, b: Path) -> bool:
    return Path(a).resolve() == b.resolve()


def demo_sessions(client: Client, repo: Path, *, archived: bool = False) -> list[SessionInfo]:
    """Every session of `repo` the server knows (archived ones only if asked)."""
    sessions = client.request(messages.SessionList(all=archived))
    return [s for s in sessions if _same_path(s["repo"], repo)]


def trust_demo_config(client: Client, repo: Path) -> bool:
    """Trust the demo's `.ptui.toml` (ptui wrote it); True if it was not trusted yet."""
    shown = client.request(messages.TrustShow(repo=str(repo)))
    if shown["trusted"] or not shown["digest"]:
        return False
    client.request(messages.TrustAdd(repo=str(repo), digest=shown["digest"]))
    return True


def ensure_demo_sessions(client: Client, repo: Path, *, cols: int, rows: int) -> list[SessionInfo]:
    """One live session per demo task; returns the demo repository's live sessions."""
    existing = demo_sessions(client, repo, archived=True)
    taken = {s["name"] for s in existing}
    for demo in DEMO_TASKS:
        mine = [s for s in existing if s["task"] == demo.task and s["status"] != Activity.ARCHIVED]
        if not mine:
            # An archived session keeps its name and branch: the new one takes the next.
            name, number = demo.name, 1
            while name in taken:
                number += 1
                name = f"{demo.name}-{number}"
            taken.add(name)
            client.request(
                messages.SessionCreate(
                    task=demo.task,
                    name=name,
                    agent=DEMO_AGENT,
                    repo=str(repo),
                    cols=cols,
                    rows=rows,
                )
            )
        elif (
            all(s["status"] in (Activity.STOPPED, Activity.EXITED) for s in mine)
            and not mine[0]["worktree_missing"]
        ):
            client.request(messages.SessionResume(id=mine[0]["id"], cols=cols, rows=rows))
    return demo_sessions(client, repo)


def remove_demo_sessions(client: Client, repo: Path) -> int:
    """Archive (which stops) and remove every session of `repo`; returns how many."""
    sessions = demo_sessions(client, repo, archived=True)
    for session in sessions:
        if session["status"] != Activity.ARCHIVED and not session["worktree_missing"]:
            client.request(messages.SessionArchive(id=session["id"]))
        # The demo's own throwaway sessions: their work goes with them, as asked.
        client.request(messages.SessionRemove(id=session["id"], force=True))
    return len(sessions)
