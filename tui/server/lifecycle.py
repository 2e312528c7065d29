"""Which verbs each lifecycle state accepts, declared in one table.

A session's lifecycle state (`tui.protocol.LifecycleState`) says where its work is and
what ptui is doing with it. A verb that does not fit the state is refused by
`require` before anything changes: no process stopped, no file moved, no record
written. The transitional states (creating, archiving, restoring, merging,
removing) accept nothing but looking: their operation finishes first, or is
rolled forward or back by the journal.
"""

from __future__ import annotations

from typing import Final

from tui.errors import PtuiError
from tui.state import LifecycleState, SessionRecord

__all__ = ["ALLOWED", "LifecycleError", "require"]

_WORKING: Final = frozenset({"stop", "resume", "archive", "rm", "merge", "commit", "run", "shell"})

ALLOWED: Final[dict[LifecycleState, frozenset[str]]] = {
    LifecycleState.CREATING: frozenset(),
    # Setup runs: it may be stopped, the session archived (the agent then never
    # starts) or removed; `resume` only once setup is no longer running (checked
    # by the manager), and then it runs setup again first.
    LifecycleState.SETTING_UP: frozenset({"stop", "resume", "archive", "rm", "run", "shell"}),
    LifecycleState.READY: _WORKING,
    LifecycleState.ARCHIVING: frozenset(),
    LifecycleState.ARCHIVED: frozenset({"restore", "rm"}),
    LifecycleState.RESTORING: frozenset(),
    LifecycleState.MERGING: frozenset(),
    LifecycleState.REMOVING: frozenset(),
    # Damage done outside ptui (the worktree deleted by hand): keep nothing
    # running there; the user removes the session or repairs it (`ptui doctor`).
    LifecycleState.DAMAGED: frozenset({"stop", "rm"}),
}
"""Lifecycle state -> the verbs it accepts."""

_HINT: Final[dict[LifecycleState, str]] = {
    LifecycleState.CREATING: "it is being created",
    LifecycleState.SETTING_UP: "its setup script is running",
    LifecycleState.ARCHIVING: "it is being archived",
    LifecycleState.ARCHIVED: "it is archived; `ptui restore` it first",
    LifecycleState.RESTORING: "it is being restored",
    LifecycleState.MERGING: "it is being merged",
    LifecycleState.REMOVING: "it is being removed",
}


class LifecycleError(PtuiError):
    """A verb does not fit the session's lifecycle state; nothing was changed."""


def require(record: SessionRecord, verb: str) -> None:
    """Refuse `verb` unless the session's lifecycle state accepts it."""
    state = record.lifecycle
    if verb in ALLOWED[state]:
        return
    if state is LifecycleState.DAMAGED:
        why = f"it is damaged ({record.damage or 'see ptui doctor'})"
    elif state is LifecycleState.READY:
        why = "it is ready"
    else:
        why = _HINT[state]
    raise LifecycleError(f"session {record.id!r}: cannot {verb}: {why}")
