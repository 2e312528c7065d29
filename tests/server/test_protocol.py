"""Framing and line-run encoding, without a server."""

from __future__ import annotations

import struct

import pytest

from tui.server import protocol
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
