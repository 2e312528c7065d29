"""Method names are defined once (`tui.protocol.Method`) and the server answers each."""

from __future__ import annotations

from tui.protocol import Method
from tui.server import host


def test_every_method_has_one_handler_and_every_handler_a_method() -> None:
    handled = set(host.HANDLERS)
    assert handled | {Method.HELLO} == set(Method)  # hello is the connection's own
    assert all(isinstance(name, Method) for name in host.HANDLERS)


def test_a_method_is_its_name_on_the_wire() -> None:
    import json

    assert json.dumps({"method": Method.SESSION_LIST}) == '{"method": "session.list"}'
    assert Method("session.list") is Method.SESSION_LIST
