"""Port blocks: each live session owns `PORTS_PER_SESSION` ports starting at `PTUI_PORT`.

Blocks start at `server.port_base` and step by the block size. A block is handed
out only if no other session holds it and every port in it can be bound on the
loopback interface right now (another program may be using one).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

from tui.config import PORTS_PER_SESSION
from tui.errors import PtuiError

_MAX_PORT = 65535


def _block_free(first: int) -> bool:
    """Whether every port of the block starting at `first` can be bound now."""
    for port in range(first, first + PORTS_PER_SESSION):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def allocate_port(base: int, taken: Iterable[int]) -> int:
    """The first port of the lowest free block at or above `base`.

    `taken` are the first ports of blocks other sessions hold; they are never
    given out again while those sessions live, whatever the probe says.
    """
    used = set(taken)
    first = base
    while first + PORTS_PER_SESSION - 1 <= _MAX_PORT:
        overlaps = any(abs(first - other) < PORTS_PER_SESSION for other in used if other)
        if not overlaps and _block_free(first):
            return first
        first += PORTS_PER_SESSION
    raise PtuiError(f"no free block of {PORTS_PER_SESSION} ports at or above {base}")
