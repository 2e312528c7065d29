"""Screen snapshots: a session's last screen and recent scrollback, kept on disk.

Saved as JSON (`<state dir>/screens/<id>.json`) when a program stops or exits, at
server shutdown, and a few seconds after the screen changed, so a server killed
outright still brings sessions back with the screen they last showed. Loading
rebuilds an `Emulator` holding that text, so a stopped session is shown, listed
and scrolled exactly like a live one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TypedDict

from tui import paths
from tui.protocol import decode_runs, encode_runs
from tui.term.emulator import Emulator
from tui.term.lines import Line, line_to_ansi

HISTORY_KEPT = 500
"""Scrollback lines saved with a snapshot."""


class Snapshot(TypedDict):
    """A screen as saved: its size, cursor and title, its lines and the end of its
    scrollback, each line as style runs (`tui.protocol.encode_runs`)."""

    cols: int
    rows: int
    cursor: list[int]
    title: str
    lines: list[list[list[object]]]
    history: list[list[list[object]]]


def snapshot_path(session_id: str) -> Path:
    """Where session `session_id`'s snapshot lives."""
    return paths.state_dir() / "screens" / f"{session_id}.json"


def snapshot_data(emulator: Emulator, title: str = "") -> Snapshot:
    """The emulator's screen and the end of its scrollback as JSON-ready data."""
    total = emulator.history_size
    history = emulator.history_lines(max(0, total - HISTORY_KEPT), total)
    return {
        "cols": emulator.cols,
        "rows": emulator.rows,
        "cursor": list(emulator.cursor),
        "title": title or emulator.title,
        "lines": [encode_runs(line) for line in emulator.visible_lines()],
        "history": [encode_runs(line) for line in history],
    }


def save_snapshot(path: Path, data: Snapshot) -> None:
    """Write `data` atomically (temp file + rename; a crash leaves old or new)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    os.replace(tmp, path)


def load_snapshot(path: Path) -> Mapping[str, object] | None:
    """The saved data, or None when missing or unreadable (a stopped session then shows
    blank). Not checked here: `prefill` checks what it draws."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def prefill(emulator: Emulator, data: Mapping[str, object], *, as_history: bool = False) -> None:
    """Draw a snapshot into `emulator`: its scrollback, then its screen and cursor.

    With `as_history` the saved screen goes into the scrollback too and the
    screen is left blank (for a program that is about to start drawing afresh).
    """
    try:
        history = _lines(data.get("history", []))
        screen = _lines(data.get("lines", []))
        cursor = data.get("cursor", [0, 0])
        if not (isinstance(cursor, list) and all(type(v) is int for v in cursor)):
            raise ValueError(f"cursor: {cursor!r:.40}")
        cursor = cursor[:2]
    except Exception:  # a damaged file shows blank, never fails
        return
    # Lines fed one after another scroll the earliest into the scrollback, so the
    # last `rows` lines end up on screen, exactly as they were.
    text = "\r\n".join(line_to_ansi(line) for line in history + screen)
    emulator.feed(b"\x1b[0m" + text.encode("utf-8", "replace") + b"\x1b[0m")
    if as_history:
        emulator.feed(b"\r\n" * emulator.rows + b"\x1b[H")
    elif len(cursor) == 2:
        emulator.feed(f"\x1b[{cursor[1] + 1};{cursor[0] + 1}H".encode())
    emulator.take_changes(force=True)


def _lines(value: object) -> list[Line]:
    """Saved lines read back (ProtocolError, ValueError ... when damaged)."""
    if not isinstance(value, list):
        raise ValueError(f"expected a list of lines, not {type(value).__name__}")
    return [decode_runs(runs) for runs in value]
