"""`SessionInfo`: one session as the server describes it (session.list, session.info,
session.create, the sessions-changed event), and its check at the client's edge.

A TypedDict, so mypy holds every reader to the field names: a renamed field breaks
the build, not the sidebar. `decode_session_info` checks a received object once,
where it enters a client, and raises `ProtocolError` (bad-frame) when it does not fit.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict, cast

from tui.protocol.framing import BAD_FRAME, ProtocolError
from tui.protocol.states import Activity, LifecycleState


class SessionInfo(TypedDict):
    """What `ptui ls` and the app's sidebar show of one session."""

    id: str
    name: str
    task: str
    agent: str
    repo: str
    branch: str
    base: str
    worktree: str
    status: Activity
    """What the agent is doing."""
    reason: str
    """Why the status engine chose `status`, in one line ("" when it does not run)."""
    limited_until: str
    """With `status` limited: the reset time as the agent showed it ("" if none)."""
    agent_session: str
    """The agent's own conversation id, which `resume` continues ("" when unknown)."""
    port: int
    created: str
    archived: bool
    lifecycle: LifecycleState
    """Where the session's work is."""
    damage: str
    exit_code: int | None
    tabs: list[str]
    worktree_missing: bool
    warnings: NotRequired[list[str]]
    """Only in `session.create`'s and `session.resume`'s answers: what the user should
    know (a setup not run, a conversation resumed without its id)."""


_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "name": (str,),
    "task": (str,),
    "agent": (str,),
    "repo": (str,),
    "branch": (str,),
    "base": (str,),
    "worktree": (str,),
    "status": (str,),
    "reason": (str,),
    "limited_until": (str,),
    "agent_session": (str,),
    "port": (int,),
    "created": (str,),
    "archived": (bool,),
    "lifecycle": (str,),
    "damage": (str,),
    "exit_code": (int, type(None)),
    "tabs": (list,),
    "worktree_missing": (bool,),
}


_ADDED_LATER: dict[str, object] = {
    "lifecycle": "ready",
    "damage": "",
    "worktree_missing": False,
    "reason": "",
    "limited_until": "",
    "agent_session": "",
}
"""Fields a server of an earlier ptui release (same protocol version) leaves out, and
what their absence means."""


def decode_session_info(value: object) -> SessionInfo:
    """`value` as a SessionInfo, or ProtocolError naming the first field that is wrong."""
    if not isinstance(value, dict):
        kind = type(value).__name__
        raise ProtocolError(BAD_FRAME, f"session info must be an object, not {kind}")
    info = dict(value)  # the server's field order, kept for `--json`
    for name, absent in _ADDED_LATER.items():
        info.setdefault(name, absent)
    for name, kinds in _FIELDS.items():
        field = info.get(name)
        # bool is an int to isinstance: `port: true` is no port.
        if not isinstance(field, kinds) or (bool not in kinds and isinstance(field, bool)):
            raise ProtocolError(BAD_FRAME, f"session info field {name!r}: {field!r:.40}")
    if not all(isinstance(tab, str) for tab in info["tabs"]):
        raise ProtocolError(BAD_FRAME, "session info field 'tabs' must hold names")
    try:
        # As the enums, so `info["status"]` is what its type says it is.
        info["status"] = Activity(info["status"])
        info["lifecycle"] = LifecycleState(info["lifecycle"])
    except ValueError as exc:
        raise ProtocolError(BAD_FRAME, f"session info: {exc}") from None
    return cast(SessionInfo, info)
