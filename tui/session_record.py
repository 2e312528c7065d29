"""The plain data that survives a restart: `SessionRecord` and `JournalEntry`.

A record's lifecycle state is the wire's `tui.protocol.LifecycleState`: one
vocabulary for what is stored and what clients are told.

A `SessionRecord` is kept apart from the live session that owns a PTY and an
emulator (tui/server/session.py); `tui.state.StateStore` writes both kinds of
record to disk.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.naming import name_problem, show
from tui.protocol.states import LifecycleState

_ARCHIVE_REF_PREFIX = "refs/ptui/archive/"
_PATH_FIELDS = ("repo", "worktree", "last_screen")
_TEXT_FIELDS = ("task", "agent", "base", "status", "created", "damage", "agent_session")
_COMMIT_RE = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def utc_now() -> str:
    """The current time as ISO-8601 UTC to the second: `2025-01-31T12:00:00Z`."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SessionRecord:
    """What is remembered about one session.

    To add a field, give it a default: rows written before it still load, and
    `None` values are left out. Keys this version does not know are kept in
    `extra` and written back, so an older ptui does not drop a newer one's data.
    """

    id: str
    """Stable unique id (also used in refs and paths): follows the session-name rule."""
    name: str
    """Short name shown in the sidebar and used in the branch name."""
    task: str = ""
    """The prompt the session was started with."""
    agent: str = ""
    """Agent profile name (`[agents.<name>]`)."""
    repo: Path = Path()
    """The main repository's working directory (absolute)."""
    branch: str = ""
    """Session branch, e.g. `ptui/fix-login`."""
    base: str = ""
    """Base as the user gave it (branch, tag or commit)."""
    base_commit: str = ""
    """Commit id the session branched from."""
    worktree: Path = Path()
    """The session's checkout (absolute)."""
    status: str = "stopped"
    """Last known activity (busy, waiting, idle, exited, stopped); never trusted after a restart."""
    port: int = 0
    """First port of the session's block of 10 (`PTUI_PORT`); 0 when it holds none."""
    created: str = field(default_factory=utc_now)
    """When the session was created, ISO-8601 UTC."""
    lifecycle: LifecycleState = LifecycleState.READY
    """Where the session's work is and what ptui is doing with it."""
    damage: str = ""
    """Why the session is `damaged` (done outside ptui); empty otherwise."""
    archive_ref: str = ""
    """Ref holding the archived snapshot: `refs/ptui/archive/<name>`, or empty."""
    exit_code: int | None = None
    """The agent's exit status once it exited; None while running or never run."""
    tabs: list[str] = field(default_factory=list)
    """Names of the session's extra terminal tabs."""
    last_screen: Path | None = None
    """File with the last screen and scrollback, shown while stopped."""
    agent_session: str = ""
    """The agent's own id of the session's conversation, which resume continues
    (`claude --resume <id>`); empty while unknown. Checked again before use."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys found in the row that this version does not know, written back unchanged."""

    @property
    def archived(self) -> bool:
        """Whether the session is archived (worktree removed, work kept in `archive_ref`)."""
        return self.lifecycle is LifecycleState.ARCHIVED

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values: paths and the lifecycle as strings, None left out."""
        out: dict[str, Any] = dict(self.extra)
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or value is None:
                continue
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, enum.Enum):
                value = value.value
            elif isinstance(value, list):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionRecord:
        """Build and validate a record from `to_dict` output; raises ValueError("field: ...").

        An older ptui's `archived = true/false` becomes the `archived`/`ready` lifecycle.
        """
        names = [f.name for f in dataclasses.fields(cls) if f.name != "extra"]
        known: dict[str, Any] = {}
        for name in names:
            if name not in data:
                continue
            value = data[name]
            # Convert what converts; anything else stays as it is for validate() to name.
            if name in _PATH_FIELDS and isinstance(value, str):
                value = Path(value)
            elif name == "lifecycle" and value in _LIFECYCLE_VALUES:
                value = LifecycleState(value)
            elif name == "tabs" and isinstance(value, list):
                value = list(value)
            known[name] = value
        for name in ("id", "name"):
            if name not in known:
                raise ValueError(f"{name}: missing")
        if "lifecycle" not in known and "archived" in data:
            archived = data["archived"]
            if not isinstance(archived, bool):
                raise ValueError("archived: expected true or false")
            known["lifecycle"] = LifecycleState.ARCHIVED if archived else LifecycleState.READY
        extra = {k: v for k, v in data.items() if k not in names and k not in ("extra", "archived")}
        record = cls(**known, extra=extra)
        record.validate()
        return record

    def validate(self) -> None:
        """Raise ValueError("field: problem") for the first field that is not acceptable."""
        for name in ("id", "name"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise ValueError(f"{name}: expected a string, got {type(value).__name__}")
            problem = name_problem(value)
            if problem is not None:
                raise ValueError(f"{name}: {problem}")
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, str):
                raise ValueError(f"{name}: expected a string, got {type(value).__name__}")
        if type(self.port) is not int or not 0 <= self.port <= 65535:
            raise ValueError("port: expected an int from 0 to 65535")
        _check_path("repo", self.repo)
        _check_path("worktree", self.worktree)
        if self.last_screen is not None:
            _check_path("last_screen", self.last_screen)
        branch = self.branch
        if (
            not isinstance(branch, str)
            or not branch
            or not branch.isprintable()
            or any(c.isspace() for c in branch)
            or ".." in branch
        ):
            raise ValueError("branch: expected a non-empty branch name without spaces or '..'")
        if not isinstance(self.base_commit, str) or not (
            self.base_commit == "" or _COMMIT_RE.fullmatch(self.base_commit)
        ):
            raise ValueError("base_commit: expected a commit id (40 or 64 hex digits) or nothing")
        if self.archive_ref not in ("", f"{_ARCHIVE_REF_PREFIX}{self.name}"):
            raise ValueError(f"archive_ref: expected '' or '{_ARCHIVE_REF_PREFIX}{self.name}'")
        if not isinstance(self.lifecycle, LifecycleState):
            raise ValueError(
                f"lifecycle: expected one of {', '.join(_LIFECYCLE_VALUES)}, "
                f"got {show(str(self.lifecycle))}"
            )
        if self.lifecycle is LifecycleState.DAMAGED and not self.damage:
            raise ValueError("damage: a damaged session needs a reason")
        if self.exit_code is not None and type(self.exit_code) is not int:
            raise ValueError("exit_code: expected an int or nothing")
        if not isinstance(self.tabs, list) or not all(isinstance(t, str) for t in self.tabs):
            raise ValueError("tabs: expected a list of strings")
        if not isinstance(self.extra, dict) or not all(isinstance(k, str) for k in self.extra):
            raise ValueError("extra: expected a table with string keys")


_LIFECYCLE_VALUES = tuple(state.value for state in LifecycleState)


def _check_path(name: str, value: object) -> None:
    if not isinstance(value, Path) or not value.is_absolute() or "\0" in str(value):
        shown = show(str(value)) if isinstance(value, Path) else type(value).__name__
        raise ValueError(f"{name}: expected an absolute path, got {shown}")


@dataclass
class JournalEntry:
    """One operation in progress: the steps `done` so far and what they need to know."""

    id: int
    """Row id; also the order the operations began in."""
    op: str
    """Operation name (`new`, `archive`, ...; see tui/server/journal.py)."""
    session: str
    """Id of the session the operation works on."""
    params: dict[str, Any]
    """JSON data the operation's steps need, added to by `step(data=...)`."""
    done: list[str]
    """Names of the steps completed, in order, each once."""
    started: str
    """When the operation began, ISO-8601 UTC."""
