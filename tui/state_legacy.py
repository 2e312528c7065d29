"""Reading the `state.toml` of ptui before schema 2, once.

`tui.state.StateStore` imports its records when it creates `state.db`, and leaves
the file in place.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

from tui.errors import DOCTOR_HINT, StateError
from tui.naming import show
from tui.session_record import SessionRecord

LEGACY_SCHEMA = 1
"""The `schema` of the `state.toml` files that are imported."""


def decode_toml(path: Path, data: bytes) -> list[SessionRecord]:
    """The records of a `state.toml` (schema 1); StateError `path:line: ...` if unreadable."""

    def corrupt(line: int, why: str) -> StateError:
        flat = " ".join(why.split())
        return StateError(f"{path}:{line}: corrupt state file ({flat}){DOCTOR_HINT}")

    try:
        text = data.decode("utf-8")
        doc = tomllib.loads(text)
    except UnicodeDecodeError:
        raise corrupt(1, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)$", str(exc))
        line = int(match.group(1)) if match else 1
        raise corrupt(line, f"invalid TOML: {str(exc).split(' (at ')[0]}") from None
    schema = doc.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise corrupt(_line_of(text, "schema"), "no schema number")
    if schema > LEGACY_SCHEMA:
        raise StateError(
            f"{path}:{_line_of(text, 'schema')}: written by a newer ptui "
            f"(schema {schema} > {LEGACY_SCHEMA}); upgrade ptui"
        )
    sessions = doc.get("sessions", [])
    if not isinstance(sessions, list):
        raise corrupt(_line_of(text, "sessions"), "sessions is not an array of tables")
    records: list[SessionRecord] = []
    seen: set[str] = set()
    for index, item in enumerate(sessions):
        try:
            if not isinstance(item, dict):
                raise ValueError("not a table")
            record = SessionRecord.from_dict(_plain(item))
            if record.id in seen:
                raise ValueError(f"id: {show(record.id)} appears twice")
        except ValueError as exc:
            line = _session_line(text, index, str(exc).split(":")[0])
            raise corrupt(line, f"session {index + 1}: {exc}") from None
        seen.add(record.id)
        records.append(record)
    return records


def _plain(value: Any) -> Any:
    """TOML values as JSON ones: dates and times (only in unknown keys) become ISO strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def _line_of(text: str, key: str, start: int = 0) -> int:
    """1-based line of `key =` in the table starting at line index `start` (else start+1)."""
    lines = text.splitlines()
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number in range(start, len(lines)):
        if number > start and lines[number].lstrip().startswith("["):
            break  # the next table
        if pattern.match(lines[number]):
            return number + 1
    return start + 1


def _session_line(text: str, index: int, key: str) -> int:
    """Line of `key` in the index-th `[[sessions]]` table (or of its header)."""
    headers = [n for n, line in enumerate(text.splitlines()) if line.strip() == "[[sessions]]"]
    if index >= len(headers):
        return 1
    return _line_of(text, key, headers[index]) if key else headers[index] + 1
