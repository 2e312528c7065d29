"""What the server owes one client and could not write yet: bounded by coalescing.

A client's transport takes frames until its buffer passes the high-water mark;
from then on everything for that client waits here, in order, until the client
reads again. Waiting events are merged by what they say, so a client that stops
reading costs the server a few entries per session, not one per event:

| event | kept while waiting |
|---|---|
| `bell` | one per (session, tab), carrying how many rang (`count`) |
| `title`, `notification`, `cwd`, `progress` | the latest per (session, tab) |
| `clipboard` | the latest one (there is one clipboard) |
| `status-changed` | the latest per session |
| `sessions-changed` | the latest |
| responses, `error` events | every one, never merged or dropped |

An entry that is replaced moves to the end: the client sees each kind's last
word in the order the last words were said. Screen updates never wait here (the
connection drops them while the client is behind and sends a full screen when it
has caught up). `Outbox` only keeps and counts; the connection decides when to
write and when to give up on a client.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Final

from tui import protocol
from tui.protocol import Event

MAX_CLIPBOARD: Final = 1 << 20
"""Largest clipboard event sent, in bytes of frame (an OSC 52 string is at most 1 MiB)."""

_PER_TAB: Final = frozenset({Event.TITLE, Event.NOTIFICATION, Event.CWD, Event.PROGRESS})


def merge_key(event: Event, data: Mapping[str, object]) -> Hashable | None:
    """What a waiting `event` replaces (None: it is kept whatever else waits)."""
    if event in _PER_TAB or event == Event.BELL:
        return (event, data.get("session"), data.get("tab"))
    if event == Event.STATUS_CHANGED:
        return (event, data.get("session"))
    if event in (Event.SESSIONS_CHANGED, Event.CLIPBOARD):
        return (event,)
    return None


class _Bells:
    """Bells rung in one tab while the client was not reading: one event with a count."""

    __slots__ = ("count", "data")

    def __init__(self, data: Mapping[str, object]) -> None:
        self.data = data
        self.count = 0

    def frame(self) -> bytes:
        data = {**self.data, "count": self.count}
        return protocol.encode({"event": Event.BELL.value, "data": data})


_BELLS_SIZE: Final = 128
"""What a waiting bell entry is counted as, in bytes (its frame is made when sent)."""


class Outbox:
    """Frames waiting for one client, merged as the module docstring says."""

    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, bytes | _Bells] = OrderedDict()
        self._next = 0
        self.size = 0
        """Bytes waiting (bells at a nominal size)."""

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, frame: bytes) -> None:
        """A frame that is never merged or dropped (a response, an error event)."""
        self._next += 1
        self._entries[self._next] = frame
        self.size += len(frame)

    def put_event(self, event: Event, data: Mapping[str, object], frame: bytes) -> None:
        """A published event; replaces (or, for a bell, adds to) what it makes stale."""
        key = merge_key(event, data)
        if key is None:
            self.put(frame)
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= _BELLS_SIZE if isinstance(old, _Bells) else len(old)
        if event == Event.BELL:
            bells = old if isinstance(old, _Bells) else _Bells(data)
            count = data.get("count", 1)
            bells.count += count if isinstance(count, int) else 1
            self._entries[key] = bells
            self.size += _BELLS_SIZE
        else:
            self._entries[key] = frame
            self.size += len(frame)

    def pop(self) -> bytes:
        """The oldest waiting frame (IndexError when none waits)."""
        if not self._entries:
            raise IndexError("pop from an empty outbox")
        _key, entry = self._entries.popitem(last=False)
        if isinstance(entry, _Bells):
            self.size -= _BELLS_SIZE
            return entry.frame()
        self.size -= len(entry)
        return entry

    def clear(self) -> None:
        """Forget everything waiting (the client is being disconnected)."""
        self._entries.clear()
        self.size = 0
