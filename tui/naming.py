"""The session-name rule, shared by the state store and the git layer.

A session name becomes a directory name, part of a branch name, part of a
worktree admin name (`ptui-<name>`) and of an archive ref, so it is held to a
narrow, portable alphabet: `[a-z0-9][a-z0-9._-]{0,48}`, without `..` and not
ending in `.` or `.lock`. It lives here, below `tui.git`, so that `tui.state` can
check persisted ids and names without importing pygit2.
"""

from __future__ import annotations

import re

NAME_MAX = 49
"""Longest session name accepted (1 leading character + 48)."""

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,48}")


def show(text: str, limit: int = 40) -> str:
    """Quote user text for an error message, shortened and with control chars escaped."""
    shown = text if len(text) <= limit else text[:limit] + "..."
    return repr(shown)


def name_problem(name: str) -> str | None:
    """Why `name` is not a valid session name, as one line; None when it is valid."""
    label = f"session name {show(name)}"
    if not name:
        return "session name is empty"
    if len(name) > NAME_MAX:
        return f"{label} is too long ({len(name)} characters, at most {NAME_MAX})"
    if name.startswith("-"):
        return f"{label} must not start with '-'"
    if ".." in name:
        return f"{label} must not contain '..'"
    for char in name:
        if char.isspace():
            return f"{label} must not contain spaces"
        if not char.isascii():
            return f"{label} must be ASCII (found {char!r})"
    if not _NAME_RE.fullmatch(name):
        return (
            f"{label} may only use a-z, 0-9, '.', '_' and '-' and must start with a letter or digit"
        )
    if name.endswith(".") or name.endswith(".lock"):
        return f"{label} must not end with '.' or '.lock'"
    return None
