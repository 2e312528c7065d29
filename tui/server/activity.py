"""What an agent is doing, as the server reports it: the status values alone.

Apart from `tui.server.status` (which tracks them, with asyncio and RE2) so that
the CLI can name them without importing either: every verb module is imported
when `ptui` builds its parser, and those imports are most of a `ptui ls`.
"""

from __future__ import annotations

from typing import Final

BUSY: Final = "busy"
WAITING: Final = "waiting"
IDLE: Final = "idle"
EXITED: Final = "exited"
STOPPED: Final = "stopped"
ARCHIVED: Final = "archived"
STATUSES: Final = (BUSY, WAITING, IDLE, EXITED, STOPPED, ARCHIVED)
LIVE: Final = frozenset({BUSY, WAITING, IDLE})
"""Statuses of an agent that runs."""
