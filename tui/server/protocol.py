"""The wire protocol between ptui clients and the session host (see docs/protocol.md).

Every message is a *frame*: a 4-byte big-endian length, then that many bytes of
UTF-8 JSON holding one object. Three kinds of object travel:

- request (client → server): `{"id": 7, "method": "session.list", "params": {...}}`
- response (server → client): `{"id": 7, "result": ...}` or
  `{"id": 7, "error": {"code": "not-found", "message": "..."}}`
- event (server → client, unasked): `{"event": "screen", "data": {...}}`

The first request on a connection must be `hello` with the client's protocol
version. A frame the server cannot use (bad length, truncated, not JSON, not a
request, unknown method) is answered with an error whose `id` is null when the
request id is unknown, and the connection is closed; other clients are unaffected.

This module is pure: framing, limits, error codes and the style-run encoding,
shared by the server and the client library.
"""

from __future__ import annotations

import json
import struct
from typing import Any, Final

from tui.errors import PtuiError
from tui.term.lines import Line
from tui.term.style import DEFAULT, Style

VERSION: Final = 1
"""Protocol version; the handshake refuses a client speaking another."""

MAX_FRAME: Final = 16 * 1024 * 1024
"""Largest frame body accepted, in bytes (a 10k-line scrollback page fits easily)."""

HEADER: Final = struct.Struct(">I")

# Error codes (the `code` of an error object).
BAD_FRAME: Final = "bad-frame"  # length, encoding or JSON unusable; connection closes
TOO_LARGE: Final = "too-large"  # length over MAX_FRAME; connection closes
BAD_REQUEST: Final = "bad-request"  # JSON but not a request object; connection closes
UNKNOWN_METHOD: Final = "unknown-method"  # connection closes
VERSION_MISMATCH: Final = "version"  # handshake refused; connection closes
NOT_FOUND: Final = "not-found"  # no such session / tab / script
FAILED: Final = "failed"  # the operation was refused; message says why
DENIED: Final = "denied"  # peer is another user
INTERNAL: Final = "internal"  # a bug in the server; the message names it

FATAL_CODES: Final = frozenset(
    {BAD_FRAME, TOO_LARGE, BAD_REQUEST, UNKNOWN_METHOD, VERSION_MISMATCH, DENIED}
)
"""Codes after which the server closes the connection."""


class ProtocolError(PtuiError):
    """A frame could not be used; `code` is one of the error codes above."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class RemoteError(PtuiError):
    """The server answered a request with an error (its message is shown as is)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def encode(message: dict[str, Any]) -> bytes:
    """One frame holding `message` (compact JSON, non-ASCII kept as UTF-8)."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )
    if len(body) > MAX_FRAME:
        raise ProtocolError(TOO_LARGE, f"message of {len(body)} bytes exceeds {MAX_FRAME}")
    return HEADER.pack(len(body)) + body


def error_frame(request_id: Any, code: str, message: str) -> bytes:
    """A response frame carrying an error."""
    return encode({"id": request_id, "error": {"code": code, "message": message}})


class FrameDecoder:
    """Incremental frame reader: feed bytes as they arrive, get whole messages out."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._buffer = bytearray()
        self._max = max_frame

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Messages completed by `data`; raises ProtocolError on an unusable frame."""
        buffer = self._buffer
        buffer += data
        out: list[dict[str, Any]] = []
        while len(buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(buffer)
            if length > self._max:
                raise ProtocolError(TOO_LARGE, f"frame of {length} bytes exceeds {self._max}")
            if length == 0:
                raise ProtocolError(BAD_FRAME, "empty frame")
            end = HEADER.size + length
            if len(buffer) < end:
                break
            body = bytes(buffer[HEADER.size : end])
            del buffer[:end]
            try:
                message = json.loads(body.decode("utf-8"))
            except UnicodeDecodeError:
                raise ProtocolError(BAD_FRAME, "frame is not UTF-8") from None
            except ValueError as exc:
                raise ProtocolError(BAD_FRAME, f"frame is not JSON: {exc}") from None
            if not isinstance(message, dict):
                raise ProtocolError(BAD_REQUEST, "frame is not a JSON object")
            out.append(message)
        return out

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back (non-zero at EOF means truncated)."""
        return len(self._buffer)


# ------------------------------------------------------------------ line runs
_STYLE_DEFAULTS: Final = (DEFAULT, DEFAULT, 0, 0, DEFAULT, None)


def encode_runs(line: Line) -> list[list[Any]]:
    """A line's runs as JSON lists: `[text, fg, bg, flags, underline, ul_color, link]`.

    Trailing fields equal to the default are left out, so a plain run is `[text]`.
    """
    out: list[list[Any]] = []
    for text, style in line.runs:
        fields = list(style)
        end = len(fields)
        while end and fields[end - 1] == _STYLE_DEFAULTS[end - 1]:
            end -= 1
        out.append([text, *fields[:end]])
    return out


def decode_runs(runs: list[list[Any]]) -> Line:
    """The inverse of `encode_runs`; malformed runs raise ProtocolError."""
    out: list[tuple[str, Style]] = []
    try:
        for run in runs:
            text = run[0]
            fields = list(run[1:]) + list(_STYLE_DEFAULTS[len(run) - 1 :])
            if not isinstance(text, str):
                raise TypeError("run text")
            out.append((text, Style(*fields)))
    except (TypeError, IndexError, ValueError) as exc:
        raise ProtocolError(BAD_FRAME, f"malformed line runs: {exc}") from None
    return Line(tuple(out))
