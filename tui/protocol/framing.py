"""The wire protocol between ptui clients and the session host (see docs/protocol.md).

Every message is a *frame*: a 4-byte big-endian length, then that many bytes of
UTF-8 JSON holding one object. Three kinds of object travel:

- request (client → server): `{"id": 7, "method": "session.list", "params": {...}}`
- response (server → client): `{"id": 7, "result": ...}` or
  `{"id": 7, "error": {"code": "not-found", "message": "..."}}`
- event (server → client, unasked): `{"event": "screen", "data": {...}}`

The first request on a connection must be `hello` with the client's protocol
version. A frame the server cannot use (bad length, truncated, nested too deep,
not JSON, not a request, unknown method) is answered with an error whose `id` is
null when the request id is unknown, and the connection is closed; other clients
are unaffected.

This module is pure: framing, limits, error codes, the table of published
events and the style-run encoding, shared by the server and the client library.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Final

from tui.errors import PtuiError
from tui.term.lines import Line
from tui.term.style import DEFAULT, Style

VERSION: Final = 1
"""Protocol version; the handshake refuses a client speaking another."""

MAX_FRAME: Final = 16 * 1024 * 1024
"""Largest frame body accepted, in bytes (a 10k-line scrollback page fits easily)."""

MAX_DEPTH: Final = 64
"""Deepest nesting of arrays and objects the server accepts in a frame (a request needs 3)."""

MAX_ITEMS: Final = 100_000
"""Most strings, arrays and objects in one request (a paste is one string)."""

MAX_PARTIAL_TOTAL: Final = 64 * 1024 * 1024
"""Bytes of unfinished frames the server holds for all its connections together."""

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
STALLED: Final = "stalled"  # the client stopped reading; connection closes

FATAL_CODES: Final = frozenset(
    {BAD_FRAME, TOO_LARGE, BAD_REQUEST, UNKNOWN_METHOD, VERSION_MISMATCH, DENIED, STALLED}
)
"""Codes after which the server closes the connection."""


class Event(StrEnum):
    """The events the server publishes (docs/protocol.md, "Events"); no other kind is sent."""

    SCREEN = "screen"
    SESSIONS_CHANGED = "sessions-changed"
    STATUS_CHANGED = "status-changed"
    BELL = "bell"
    TITLE = "title"
    NOTIFICATION = "notification"
    CLIPBOARD = "clipboard"
    CWD = "cwd"
    PROGRESS = "progress"
    ERROR = "error"


PUBLISHED_EVENTS: Final = frozenset(kind.value for kind in Event)
"""Event kinds a client may receive; the emulator's internal ones (modify-other-keys,
scrollback-cleared ...) are kept from clients at the broadcast."""


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

    @classmethod
    def from_frame(cls, error: object) -> RemoteError:
        """The error of an answer frame (`{"code": ..., "message": ...}`), as sent."""
        fields = error if isinstance(error, dict) else {}
        return cls(str(fields.get("code")), str(fields.get("message")))


def encode(message: Mapping[str, object]) -> bytes:
    """One frame holding `message` (compact JSON, non-ASCII kept as UTF-8)."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )
    if len(body) > MAX_FRAME:
        raise ProtocolError(TOO_LARGE, f"message of {len(body)} bytes exceeds {MAX_FRAME}")
    return HEADER.pack(len(body)) + body


def error_frame(request_id: object, code: str, message: str) -> bytes:
    """A response frame carrying an error."""
    return encode({"id": request_id, "error": {"code": code, "message": message}})


class PartialBudget:
    """Bytes of unfinished frames held across connections, with a ceiling.

    Each connection may hold one frame of up to MAX_FRAME while it arrives; many
    connections each sending most of one (and never the rest) would hold that
    many times over. A decoder reserves a frame's declared length here when its
    header has come but not all of its body, and gives it back when the frame is
    complete or the connection goes.
    """

    def __init__(self, limit: int = MAX_PARTIAL_TOTAL) -> None:
        self.limit = limit
        self.used = 0

    def reserve(self, size: int) -> bool:
        """Take `size` bytes of the budget; False (nothing taken) when that would exceed it."""
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def release(self, size: int) -> None:
        self.used = max(0, self.used - size)


# The tokens that matter for nesting: a whole JSON string (escapes included, so a
# bracket inside one is skipped) or a bracket. Possessive, so a string without its
# closing quote costs linear time.
_NESTING_TOKEN: Final = re.compile(rb'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')
_OPEN: Final = frozenset(b"[{")
_CLOSE: Final = frozenset(b"]}")


def check_structure(body: bytes, max_depth: int = MAX_DEPTH, max_items: int = MAX_ITEMS) -> None:
    """Refuse JSON text whose arrays and objects nest deeper than `max_depth`, or
    which holds more than `max_items` strings, arrays and objects; before parsing.

    `json.loads` recurses once per level (`[` x 200,000 hits Python's recursion
    limit) and builds every item (a 16 MiB frame of `[],` is 5 million lists).
    Usual requests cost two counts here: few brackets and quotes cannot break
    either limit. Others are scanned a token at a time, at most `max_items` of them.
    """
    opens = body.count(b"[") + body.count(b"{")
    if opens <= max_depth and body.count(b'"') <= 2 * (max_items - max_depth):
        return
    depth = items = 0
    for token in _NESTING_TOKEN.finditer(body):
        first = body[token.start()]
        if first in _CLOSE:
            depth -= 1
            continue
        items += 1
        if items > max_items:
            raise ProtocolError(
                BAD_FRAME, f"frame holds more than {max_items} strings, arrays and objects"
            )
        if first in _OPEN:
            depth += 1
            if depth > max_depth:
                raise ProtocolError(
                    BAD_FRAME, f"frame nests arrays and objects deeper than {max_depth}"
                )


class FrameDecoder:
    """Incremental frame reader: feed bytes as they arrive, get whole messages out.

    The server's decoder is `strict`: frames nested too deep or holding too many
    items are refused before they are parsed (`check_structure`); a client trusts
    its server's larger answers (a scrollback page is many lists). With a
    `budget` (the server's), an unfinished frame reserves its declared length
    there; call `close` when the connection ends to give it back.
    """

    def __init__(
        self,
        max_frame: int = MAX_FRAME,
        *,
        budget: PartialBudget | None = None,
        strict: bool = False,
    ) -> None:
        self._buffer = bytearray()
        self._max = max_frame
        self._budget = budget
        self._reserved = 0
        self._strict = strict

    def feed(self, data: bytes) -> list[dict[str, object]]:
        """Messages completed by `data`; raises ProtocolError on an unusable frame."""
        buffer = self._buffer
        buffer += data
        out: list[dict[str, object]] = []
        while len(buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(buffer)
            if length > self._max:
                raise ProtocolError(TOO_LARGE, f"frame of {length} bytes exceeds {self._max}")
            if length == 0:
                raise ProtocolError(BAD_FRAME, "empty frame")
            end = HEADER.size + length
            if len(buffer) < end:
                self._reserve(length)
                break
            body = bytes(buffer[HEADER.size : end])
            del buffer[:end]
            self.close()
            out.append(self._decode(body))
        return out

    def _reserve(self, length: int) -> None:
        budget = self._budget
        if budget is None or self._reserved:
            return
        if not budget.reserve(length):
            raise ProtocolError(
                TOO_LARGE,
                f"frame of {length} bytes refused: the server already holds {budget.used} "
                f"bytes of unfinished frames (limit {budget.limit})",
            )
        self._reserved = length

    def _decode(self, body: bytes) -> dict[str, object]:
        if self._strict:
            check_structure(body)
        try:
            message = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise ProtocolError(BAD_FRAME, "frame is not UTF-8") from None
        except RecursionError:  # a decoder that is not strict meets deep nesting here
            raise ProtocolError(BAD_FRAME, "frame nests arrays and objects too deep") from None
        except ValueError as exc:
            raise ProtocolError(BAD_FRAME, f"frame is not JSON: {exc}") from None
        if not isinstance(message, dict):
            raise ProtocolError(BAD_REQUEST, "frame is not a JSON object")
        return message

    def close(self) -> None:
        """Give back the budget this decoder's unfinished frame holds (idempotent)."""
        if self._reserved and self._budget is not None:
            self._budget.release(self._reserved)
        self._reserved = 0

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back (non-zero at EOF means truncated)."""
        return len(self._buffer)


def request_id_ok(value: object) -> bool:
    """Whether `value` is a usable request id: a non-negative integer (not a bool) or null."""
    return value is None or (type(value) is int and 0 <= value < 1 << 63)


# ------------------------------------------------------------------ line runs
_STYLE_DEFAULTS: Final = (DEFAULT, DEFAULT, 0, 0, DEFAULT, None)


def encode_runs(line: Line) -> list[list[object]]:
    """A line's runs as JSON lists: `[text, fg, bg, flags, underline, ul_color, link]`.

    Trailing fields equal to the default are left out, so a plain run is `[text]`.
    """
    out: list[list[object]] = []
    for text, style in line.runs:
        fields = list(style)
        end = len(fields)
        while end and fields[end - 1] == _STYLE_DEFAULTS[end - 1]:
            end -= 1
        out.append([text, *fields[:end]])
    return out


def decode_runs(runs: Sequence[Sequence[object]]) -> Line:
    """The inverse of `encode_runs`; malformed runs raise ProtocolError."""
    out: list[tuple[str, Style]] = []
    try:
        for run in runs:
            text = run[0]
            fields = list(run[1:]) + list(_STYLE_DEFAULTS[len(run) - 1 :])
            if not isinstance(text, str):
                raise TypeError("run text")
            out.append((text, Style._make(fields)))
    except (TypeError, IndexError, ValueError) as exc:
        raise ProtocolError(BAD_FRAME, f"malformed line runs: {exc}") from None
    return Line(tuple(out))
