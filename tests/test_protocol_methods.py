"""Method names are defined once (`tui.protocol.Method`) and the server answers each."""

from __future__ import annotations

import pytest

from tui.protocol import BAD_FRAME, Method, ProtocolError, decode_session_info
from tui.server import host


def test_every_method_has_one_handler_and_every_handler_a_method() -> None:
    handled = set(host.HANDLERS)
    assert handled | {Method.HELLO} == set(Method)  # hello is the connection's own
    assert all(isinstance(name, Method) for name in host.HANDLERS)


def test_a_method_is_its_name_on_the_wire() -> None:
    import json

    assert json.dumps({"method": Method.SESSION_LIST}) == '{"method": "session.list"}'
    assert Method("session.list") is Method.SESSION_LIST


# ------------------------------------------------------------------ SessionInfo
GOOD = {
    "id": "fix", "name": "fix", "task": "fix it", "agent": "claude", "repo": "/r",
    "branch": "ptui/fix", "base": "main", "worktree": "/w/fix", "status": "busy",
    "port": 41000, "created": "2026-12-07T10:00:00Z", "archived": False,
    "lifecycle": "ready", "damage": "", "exit_code": None, "tabs": ["agent"],
    "worktree_missing": False,
}  # fmt: skip


def test_session_info_is_checked_once_at_the_edge() -> None:
    assert decode_session_info(GOOD) == GOOD
    # Fields a server of an earlier release leaves out get what their absence meant.
    older = {k: v for k, v in GOOD.items() if k not in ("lifecycle", "damage")}
    assert decode_session_info(older)["lifecycle"] == "ready"
    for field, bad in [("port", True), ("port", "41000"), ("id", None), ("tabs", [1]),
                       ("archived", 0), ("exit_code", "1")]:  # fmt: skip
        with pytest.raises(ProtocolError) as info:
            decode_session_info({**GOOD, field: bad})
        assert info.value.code == BAD_FRAME
    with pytest.raises(ProtocolError):
        decode_session_info(["not", "an", "object"])
