"""Framing and line-run encoding, without a server."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.server.conftest import Runner
from tui import protocol
from tui.client.connection import Client
from tui.protocol import Method, SessionInfo, decode_session_info
from tui.term.lines import Line
from tui.term.style import BOLD, Style, rgb


def test_frames_round_trip_in_any_split() -> None:
    messages = [{"id": 1, "method": "x", "params": {"text": "héllo ✓ 中"}}, {"event": "e"}]
    data = b"".join(protocol.encode(m) for m in messages)
    for cut in range(len(data) + 1):
        decoder = protocol.FrameDecoder()
        got = decoder.feed(data[:cut]) + decoder.feed(data[cut:])
        assert got == messages and decoder.pending == 0


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (struct.pack(">I", 0), protocol.BAD_FRAME),
        (struct.pack(">I", protocol.MAX_FRAME + 1), protocol.TOO_LARGE),
        (struct.pack(">I", 3) + b"[1]", protocol.BAD_REQUEST),
        (struct.pack(">I", 3) + b"{x}", protocol.BAD_FRAME),
    ],
)
def test_bad_frames_raise_with_a_code(data: bytes, code: str) -> None:
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.FrameDecoder().feed(data)
    assert info.value.code == code


def test_runs_are_compact_and_round_trip() -> None:
    line = Line(
        (
            ("plain ", Style()),
            ("bold red", Style(fg=1, flags=BOLD)),
            ("link", Style(fg=rgb(1, 2, 3), link="https://example.com")),
        )
    )
    runs = protocol.encode_runs(line)
    assert runs[0] == ["plain "] and runs[1] == ["bold red", 1, -1, BOLD]
    assert protocol.decode_runs(runs) == line
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_runs([[1, 2]])


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        (b'{"id": 1, "method": "x", "params": {}}', False),
        (b"[" * 64 + b"]" * 64, False),
        (b"[" * 65 + b"]" * 65, True),
        (b"[{" * 33 + b"}]" * 33, True),
        (b'{"text": "' + b"[" * 10_000 + b'"}', False),  # brackets in a string do not nest
        (b'{"text": "\\"[[[' + b"[" * 100 + b'"}', False),  # nor after an escaped quote
        (b"[" + b"1," * 500_000 + b"1]", False),  # numbers are not items
        (b"[" + b'"",' * 100_000 + b'""]', True),
        (b"[" + b"[]," * 100_000 + b"[]]", True),
    ],
)
def test_structure_is_checked_before_parsing(text: bytes, refused: bool) -> None:
    """Failing, a frame could make the server recurse until it crashes the
    connection's handler, or build millions of objects from 16 MiB of `[],`."""
    if refused:
        with pytest.raises(protocol.ProtocolError) as info:
            protocol.check_structure(text)
        assert info.value.code == protocol.BAD_FRAME
    else:
        protocol.check_structure(text)


def test_deep_nesting_is_a_bad_frame_for_strict_and_lenient_decoders() -> None:
    """Failing, a RecursionError would escape the decoder: a hostile server (through
    ssh) could crash a client, a hostile client the server's handler."""
    frame = struct.pack(">I", 200_000) + b"[" * 200_000
    for strict in (True, False):  # lenient: json's RecursionError, caught
        with pytest.raises(protocol.ProtocolError) as info:
            protocol.FrameDecoder(strict=strict).feed(frame)
        assert info.value.code == protocol.BAD_FRAME


def test_unfinished_frames_share_one_budget() -> None:
    """Failing, many connections each sending most of a big frame would hold memory
    without limit; and a finished frame that kept its share would lock others out."""
    budget = protocol.PartialBudget(limit=100)
    first, second = (protocol.FrameDecoder(budget=budget) for _ in range(2))
    assert first.feed(struct.pack(">I", 60) + b"{") == []
    assert budget.used == 60
    with pytest.raises(protocol.ProtocolError) as info:
        second.feed(struct.pack(">I", 60) + b"{")
    assert info.value.code == protocol.TOO_LARGE
    body = b'{"x": "' + b"y" * 51 + b'"}'
    assert len(body) == 60 and first.feed(body[1:]) == [{"x": "y" * 51}]
    assert budget.used == 0  # a finished frame gives its share back
    assert second.feed(struct.pack(">I", 60) + b"{") == []
    second.close()
    assert budget.used == 0


@pytest.mark.parametrize(
    ("value", "ok"),
    [(None, True), (0, True), (7, True), (True, False), (False, False), (-1, False),
     (1.0, False), ("7", False), (1 << 63, False)],
)  # fmt: skip
def test_request_ids_are_integers_not_bools(value: object, ok: bool) -> None:
    """Failing, `true` would pass for the id 1 and answers could not be matched."""
    assert protocol.request_id_ok(value) is ok


def test_every_session_the_server_describes_decodes_as_session_info(
    ptui: Runner, repo: Path
) -> None:
    """What Session.info() builds must pass the client's edge check, field for field."""
    ptui("new", "one", "--agent", "cat")
    ptui("new", "two", "--agent", "cat")
    ptui("archive", "two")
    with Client(start=False) as client:
        listed = client.call(Method.SESSION_LIST, all=True)
    assert len(listed) == 2
    for info in listed:
        assert decode_session_info(info) == {**info}
        assert set(info) == set(SessionInfo.__annotations__) - {"warnings"}
