"""The two things a session's description says about it, as two separate fields.

- `LifecycleState` (`SessionInfo.lifecycle`): where the session's work is and what
  ptui is doing with it. Persisted, and changed only by journaled operations.
- `Activity` (`SessionInfo.status`): what its agent is doing. Derived from the
  running program and never trusted after a restart.

Both are `StrEnum`s: they travel as their value and compare equal to it, so a
client names a state only through these tables, never as a literal.
"""

from __future__ import annotations

import enum
from typing import Final


class LifecycleState(enum.StrEnum):
    """The lifecycle state of a session (see `tui.server.lifecycle` for its verbs)."""

    CREATING = "creating"
    SETTING_UP = "setting-up"
    READY = "ready"
    ARCHIVING = "archiving"
    ARCHIVED = "archived"
    RESTORING = "restoring"
    MERGING = "merging"
    REMOVING = "removing"
    DAMAGED = "damaged"


class Activity(enum.StrEnum):
    """What a session's agent is doing, as the server reports it.

    The first six are the status engine's (`tui.server.status`); STOPPED and
    ARCHIVED describe a session whose agent does not run.
    """

    STARTING = "starting"
    """Launched; nothing usable on screen yet."""
    BUSY = "busy"
    WAITING = "waiting"
    """A question, menu, permission or sign-in needs the user."""
    IDLE = "idle"
    """Done, its prompt empty."""
    LIMITED = "limited"
    """A usage limit was reached; `SessionInfo.limited_until` says until when, if shown."""
    EXITED = "exited"
    STOPPED = "stopped"
    ARCHIVED = "archived"


LIVE: Final = frozenset(
    {Activity.STARTING, Activity.BUSY, Activity.WAITING, Activity.IDLE, Activity.LIMITED}
)
"""Activities of an agent that runs."""
