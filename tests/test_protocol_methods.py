"""Method names are defined once (`tui.protocol.Method`) and the server answers each."""

from __future__ import annotations

import pytest

from tui.protocol import (
    BAD_FRAME,
    Activity,
    LifecycleState,
    Method,
    ProtocolError,
    ShapeError,
    decode_session_info,
    messages,
)
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
    "worktree_missing": False, "reason": "", "limited_until": "", "agent_session": "",
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


def test_an_unknown_activity_or_lifecycle_is_a_bad_frame() -> None:
    decoded = decode_session_info(GOOD)
    assert decoded["status"] is Activity.BUSY and decoded["lifecycle"] is LifecycleState.READY
    for field in ("status", "lifecycle"):
        with pytest.raises(ProtocolError) as info:
            decode_session_info({**GOOD, field: "dancing"})
        assert info.value.code == BAD_FRAME


# ------------------------------------------------------------------- messages
def test_every_method_has_one_request_type() -> None:
    assert set(messages.REQUESTS) == set(Method)
    assert all(cls.METHOD is method for method, cls in messages.REQUESTS.items())


def test_a_request_decodes_its_params_once_with_the_field_rules() -> None:
    create = messages.SessionCreate.decode(
        {"task": "fix", "base": "", "count": 2, "newer_param": 1}
    )
    # "" is no base; a param the request does not define is ignored.
    assert create == messages.SessionCreate(task="fix", count=2)
    assert create.params() == {"task": "fix", "repo": ".", "count": 2, "cols": 120, "rows": 36}
    assert messages.SessionScreen.decode({"id": "s", "tab": ""}).tab == "agent"
    assert messages.Doctor.decode({}).repos is None
    with pytest.raises(ShapeError, match=r"^count must be an integer, not True$"):
        messages.SessionCreate.decode({"count": True})
    with pytest.raises(ShapeError, match=r"^message is required$"):
        messages.SessionCommit.decode({"id": "s"})
    with pytest.raises(messages.NoSessionGiven, match="a session id is required"):
        messages.SessionStop.decode({"id": ""})
    with pytest.raises(ShapeError, match=r"^repos\[1\] must be a string"):
        messages.Doctor.decode({"repos": ["/a", 3]})


def test_an_answer_is_checked_against_its_type() -> None:
    branches = messages.RepoBranches()
    answer = {"repo": "/r", "current": None, "branches": ["main"], "newer_field": 1}
    assert branches.result(answer) == answer
    with pytest.raises(ShapeError, match=r"^result: missing 'branches'$"):
        branches.result({"repo": "/r", "current": "main"})
    with pytest.raises(ShapeError, match=r"^result.current must be a string, not 3$"):
        branches.result({**answer, "current": 3})
    summary = messages.SessionSummary()
    entry = {"added": 1, "removed": 0, "files": 1, "ahead": 1, "behind": 0, "dirty": 0,
             "overlaps": [], "test_running": False, "test_exit": None}  # fmt: skip
    assert summary.result({"s": entry}) == {"s": entry}
    with pytest.raises(ShapeError, match=r"^result.s.overlaps\[0\] must be a string"):
        summary.result({"s": {**entry, "overlaps": [1]}})
    [info] = messages.SessionList().result([GOOD])
    assert info["status"] is Activity.BUSY
    with pytest.raises(ProtocolError):
        messages.SessionList().result([{**GOOD, "port": "x"}])


def test_the_app_and_the_cli_send_typed_requests_only() -> None:
    """`Client.call` (any method, raw answer) is for tests of the wire: the app, the CLI,
    the benches and the demo go through `request`/`notify` with a messages type."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "tui"
    found = []
    for package in ("app", "cli", "bench", "demo"):
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("call", "_call")
                ):
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    assert found == []


def test_a_request_is_a_frozen_keyword_only_record() -> None:
    stop = messages.SessionStop(id="s")
    assert stop == messages.SessionStop(id="s") != messages.SessionRestore(id="s")
    assert hash(stop) == hash(messages.SessionStop(id="s"))
    assert repr(messages.SessionScreen(id="s")) == "SessionScreen(id='s', tab='agent', ansi=False)"
    with pytest.raises(AttributeError, match="frozen"):
        stop.id = "t"  # type: ignore[misc]
    with pytest.raises(TypeError, match=r"needs id"):
        messages.SessionStop()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"has no colour"):
        messages.SessionStop(id="s", colour="red")  # type: ignore[call-arg]
