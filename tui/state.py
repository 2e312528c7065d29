"""Persisted session records: `state.toml`, written atomically under a file lock.

A `SessionRecord` is plain data (what survives a server restart), kept apart from
the live session that owns a PTY and an emulator. `StateStore` reads and writes the
list of records:

- every write goes to a temp file in the same directory, is fsynced, moved over
  the old file with `os.replace` and the directory is fsynced, so a crash (even
  kill -9) leaves either the old file or the new one, never half of one;
- writers take an `flock` on a separate lock file, so two processes cannot
  interleave a read-modify-write (`update`);
- a file from a newer ptui is refused with a one-line error, and a corrupt file is
  moved aside with a timestamp (never deleted) and reported as one line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import re
import secrets
import tomllib
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w

from tui.errors import PtuiError

SCHEMA = 1
"""Version of the file layout this ptui writes; bump it when old readers would misread."""


class StateError(PtuiError):
    """The state file cannot be used; the message is one line `path:line: message`."""


class _Corrupt(Exception):
    """Internal: the file is unreadable at `line` because of `why`."""

    def __init__(self, line: int, why: str) -> None:
        super().__init__(why)
        self.line = line
        self.why = why


def utc_now() -> str:
    """The current time as ISO-8601 UTC to the second: `2025-01-31T12:00:00Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SessionRecord:
    """What is remembered about one session.

    To add a field, give it a default: files written before it still load, and
    `None` values are left out of the file. Keys this version does not know are
    kept in `extra` and written back, so an older ptui does not drop a newer one's data.
    """

    id: str
    """Stable unique id (also used in refs and paths, so validated by the server)."""
    name: str
    """Short name shown in the sidebar and used in the branch name."""
    task: str = ""
    """The prompt the session was started with."""
    agent: str = ""
    """Agent profile name (`[agents.<name>]`)."""
    repo: Path = Path()
    """The main repository's working directory."""
    branch: str = ""
    """Session branch, e.g. `ptui/fix-login`."""
    base: str = ""
    """Base as the user gave it (branch, tag or commit)."""
    base_commit: str = ""
    """Commit id the session branched from."""
    worktree: Path = Path()
    """The session's checkout."""
    status: str = "stopped"
    """Last known status (busy, waiting, idle, exited, stopped)."""
    port: int = 0
    """First port of the session's block of 10 (`PTUI_PORT`)."""
    created: str = field(default_factory=utc_now)
    """When the session was created, ISO-8601 UTC."""
    archived: bool = False
    """Whether the session was archived (worktree removed, work kept)."""
    archive_ref: str = ""
    """Ref holding the archived snapshot."""
    exit_code: int | None = None
    """The agent's exit status once it exited; None while running or never run."""
    tabs: list[str] = field(default_factory=list)
    """Names of the session's extra terminal tabs."""
    last_screen: Path | None = None
    """File with the last screen and scrollback, shown while stopped."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys found in the file that this version does not know, written back unchanged."""

    def to_dict(self) -> dict[str, Any]:
        """Plain TOML/JSON-ready values: paths as strings, None left out."""
        out: dict[str, Any] = dict(self.extra)
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or value is None:
                continue
            out[f.name] = str(value) if isinstance(value, Path) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionRecord:
        """Build a record from `to_dict` output; raises ValueError naming a bad key."""
        known: dict[str, Any] = {}
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.name == "extra" or f.name not in data:
                continue
            known[f.name] = _convert(f.name, data[f.name], hints[f.name])
        missing = [f.name for f in dataclasses.fields(cls) if _required(f) and f.name not in known]
        if missing:
            raise ValueError(f"{missing[0]}: missing")
        extra = {k: v for k, v in data.items() if k not in known and k != "extra"}
        return cls(**known, extra=extra)


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _convert(name: str, value: Any, hint: Any) -> Any:
    """Check `value` against a field's type and turn strings into Paths."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for option in options:
        if option is type(None):
            continue  # None is never in the file: it is written by leaving the key out
        origin = typing.get_origin(option) or option
        if option is Path and isinstance(value, str):
            return Path(value)
        if origin is list and isinstance(value, list):
            (item,) = typing.get_args(option)
            if all(isinstance(v, item) for v in value):
                return list(value)
        elif origin is int and isinstance(value, bool):
            continue  # TOML booleans are not numbers
        elif isinstance(origin, type) and origin is not list and isinstance(value, origin):
            return value
    raise ValueError(f"{name}: expected {_type_name(hint)}, got {type(value).__name__}")


def _type_name(hint: Any) -> str:
    text = str(hint).replace("pathlib.", "").replace("<class '", "").replace("'>", "")
    return text.replace("Path", "path string")


class StateStore:
    """Reads and writes the session records in one state file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._locked():
            # A writer killed mid-write leaves its temp file; under the lock no
            # other writer is using one, so every temp file left is garbage.
            for leftover in path.parent.glob(f".{path.name}.*.tmp"):
                leftover.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the exclusive lock; the kernel releases it if the process dies."""
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the last descriptor releases the flock

    def load(self) -> list[SessionRecord]:
        """All records; [] if there is no state file yet."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        try:
            return self._decode(data)
        except _Corrupt:
            # Look again under the lock: a writer may have replaced the file since,
            # and only the file we judged corrupt may be moved aside.
            with self._locked():
                return self._read_locked()

    def save(self, records: list[SessionRecord]) -> None:
        """Replace every record with `records` (refuses to overwrite a newer ptui's file)."""
        with self._locked():
            self._read_locked()
            self._write_locked(records)

    def update(
        self, fn: Callable[[list[SessionRecord]], list[SessionRecord] | None]
    ) -> list[SessionRecord]:
        """Read, apply `fn`, write, all under the lock; returns the records written.

        `fn` may change the list in place and return None, or return a new list.
        """
        with self._locked():
            records = self._read_locked()
            result = fn(records)
            records = records if result is None else result
            self._write_locked(records)
            return records

    def _read_locked(self) -> list[SessionRecord]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        try:
            return self._decode(data)
        except _Corrupt as exc:
            raise self._move_aside(exc.line, exc.why) from None

    def _decode(self, data: bytes) -> list[SessionRecord]:
        """Parse the file's bytes; raises _Corrupt, or StateError for a newer schema."""
        try:
            text = data.decode("utf-8")
            doc = tomllib.loads(text)
        except UnicodeDecodeError:
            raise _Corrupt(1, "not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            match = re.search(r"\(at line (\d+), column \d+\)$", str(exc))
            line = int(match.group(1)) if match else 1
            raise _Corrupt(line, f"invalid TOML: {str(exc).split(' (at ')[0]}") from None
        schema = doc.get("schema")
        if not isinstance(schema, int) or isinstance(schema, bool):
            raise _Corrupt(_line_of(text, "schema"), "no schema number")
        if schema > SCHEMA:
            raise StateError(
                f"{self.path}:{_line_of(text, 'schema')}: {self.path.name} was written by a "
                f"newer ptui (schema {schema} > {SCHEMA}); upgrade ptui"
            )
        sessions = doc.get("sessions", [])
        if not isinstance(sessions, list):
            raise _Corrupt(_line_of(text, "sessions"), "sessions is not an array of tables")
        records = []
        for index, item in enumerate(sessions):
            try:
                if not isinstance(item, dict):
                    raise ValueError("not a table")
                records.append(SessionRecord.from_dict(item))
            except ValueError as exc:
                line = _session_line(text, index, str(exc).split(":")[0])
                raise _Corrupt(line, f"session {index + 1}: {exc}") from None
        return records

    def _move_aside(self, line: int, why: str) -> StateError:
        """Keep the unreadable file under a timestamped name; describe it in one line.

        Called with the lock held, so no writer is replacing the file meanwhile.
        """
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        os.replace(self.path, aside)
        flat = " ".join(why.split())
        return StateError(f"{self.path}:{line}: corrupt state file ({flat}); moved to {aside}")

    def _write_locked(self, records: list[SessionRecord]) -> None:
        doc = {"schema": SCHEMA, "sessions": [r.to_dict() for r in records]}
        data = tomli_w.dumps(doc).encode("utf-8")
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        # The rename is durable only once the directory entry is on disk.
        dir_fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


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
