"""The focused session at a glance: where it works, on what branch, doing what.

Line 1: repository → worktree. Line 2: branch ← base, agent, status, commits
ahead/behind the base, uncommitted files, the test script's result, the port.
Line 3: the task.
"""

from __future__ import annotations

import os
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tui.app.widgets.session_list import STATUS_ICONS
from tui.protocol import Activity, SessionInfo
from tui.protocol.messages import Summary


def short_path(path: str) -> str:
    """`path` with the home directory written as `~`."""
    home = os.path.expanduser("~")
    if home not in ("", "/") and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path


def worktree_path(repo: str, worktree: str) -> str:
    """The worktree as seen from the repository: `../shop.ptui-worktrees/fix` when beside it."""
    parent = os.path.dirname(repo.rstrip(os.sep))
    if parent and os.path.dirname(os.path.dirname(worktree)) == parent:
        return os.path.join("..", os.path.relpath(worktree, parent))
    return short_path(worktree)


class SessionHeader(Widget):
    """Three lines about the session shown in the terminal view."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "session-header--label",
        "session-header--branch",
        "session-header--task",
        "session-header--starting",
        "session-header--busy",
        "session-header--limited",
        "session-header--waiting",
        "session-header--idle",
        "session-header--exited",
        "session-header--stopped",
        "session-header--archived",
        "session-header--warning",
    }
    DEFAULT_CSS = """
    SessionHeader {
        height: 3; padding: 0 1; background: $panel;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    SessionHeader > .session-header--label { color: $foreground 60%; }
    SessionHeader > .session-header--branch { color: $secondary; text-style: bold; }
    SessionHeader > .session-header--task { text-style: italic; }
    SessionHeader > .session-header--starting { color: $session-idle; text-style: italic; }
    SessionHeader > .session-header--busy { color: $session-busy; }
    SessionHeader > .session-header--limited { color: $warning; text-style: bold; }
    SessionHeader > .session-header--waiting { color: $session-waiting; text-style: bold; }
    SessionHeader > .session-header--idle { color: $session-idle; }
    SessionHeader > .session-header--exited { color: $session-exited; }
    SessionHeader > .session-header--stopped { color: $session-stopped; }
    SessionHeader > .session-header--archived { color: $session-stopped; }
    SessionHeader > .session-header--warning { color: $warning; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.info: SessionInfo | None = None
        self.summary: Summary | None = None

    def show(self, info: SessionInfo | None, summary: Summary | None = None) -> None:
        self.info = info
        self.summary = summary
        self.refresh()

    def render(self) -> Text:
        info, summary = self.info, self.summary
        style = self.get_component_rich_style
        if info is None:
            return Text("No session selected", style("session-header--label"))
        label = style("session-header--label")
        first = Text(no_wrap=True, overflow="ellipsis")
        first.append(short_path(info["repo"]))
        first.append(" → ", label)
        first.append(worktree_path(info["repo"], info["worktree"]))
        if info["worktree_missing"]:
            first.append(" (missing)", style("session-header--warning"))

        status = info["status"]
        status_style = style(f"session-header--{status}") if status in STATUS_ICONS else None
        second = Text(no_wrap=True, overflow="ellipsis")
        second.append(info["branch"], style("session-header--branch"))
        second.append(" ← ", label)
        second.append(info["base"])
        parts: list[tuple[str, Style | None]] = [
            (info["agent"], None),
            (f"{STATUS_ICONS.get(status, '?')} {status}", status_style),
        ]
        if status == Activity.EXITED and info["exit_code"] is not None:
            parts[-1] = (f"{parts[-1][0]} ({info['exit_code']})", status_style)
        if status == Activity.LIMITED and info.get("limited_until"):
            parts[-1] = (f"{parts[-1][0]} until {info['limited_until']}", status_style)
        if summary is not None:
            parts.append((f"↑{summary['ahead']} ↓{summary['behind']}", None))
            if summary["dirty"]:
                parts.append((f"{summary['dirty']} dirty", style("session-header--warning")))
            if summary["test_running"]:
                parts.append(("tests running", None))
            elif summary["test_exit"] not in (None, 0):
                failed = f"tests failed ({summary['test_exit']})"
                parts.append((failed, style("session-header--exited")))
        if info["port"]:
            parts.append((f":{info['port']}", None))
        for text, part_style in parts:
            second.append(" · ", label)
            second.append(text, part_style)

        task = " ".join(str(info.get("task", "")).split()) or "(no task)"
        third = Text(task, style("session-header--task"), no_wrap=True, overflow="ellipsis")
        return Text("\n").join([first, second, third])
